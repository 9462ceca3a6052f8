package sqlserver

import "testing"

func TestCanCompressBackups(t *testing.T) {
	tests := []struct {
		edition string
		engine  int
		want    bool
	}{
		{"Developer Edition (64-bit)", 3, true},
		{"Enterprise Edition: Core-based Licensing (64-bit)", 3, true},
		{"Standard Edition (64-bit)", 2, true},
		{"Web Edition (64-bit)", 2, false},
		{"Express Edition (64-bit)", 4, false},
		{"Express Edition with Advanced Services (64-bit)", 4, false},
		{"", 0, true}, // unknown: ask, and let the server answer
	}
	for _, tt := range tests {
		if got := (ServerInfo{Edition: tt.edition, EngineEdition: tt.engine}).CanCompressBackups(); got != tt.want {
			t.Errorf("%q (%d): CanCompressBackups = %t, want %t", tt.edition, tt.engine, got, tt.want)
		}
	}
}
