package sqlserver

import (
	"strings"
	"testing"
)

func TestQuoteName(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "shop", want: "[shop]"},
		{in: "a]b", want: "[a]]b]"},
		{in: "]]", want: "[]]]]]"},
		{in: "[x]", want: "[[x]]]"},
		{in: "x'; DROP DATABASE y; --", want: "[x'; DROP DATABASE y; --]"},
		{in: "with space", want: "[with space]"},
		{in: "日本", want: "[日本]"},
		{in: strings.Repeat("a", 128), want: "[" + strings.Repeat("a", 128) + "]"},
		{in: strings.Repeat("é", 128), want: "[" + strings.Repeat("é", 128) + "]"}, // 128 characters, 256 bytes
		{in: strings.Repeat("a", 129), wantErr: true},
		{in: "", wantErr: true},
		{in: "a\x00b", wantErr: true},
		{in: "a\nb", wantErr: true},
		{in: "a\tb", wantErr: true},
		{in: "a\u0085b", wantErr: true}, // C1 control
		{in: "a\xffb", wantErr: true},   // invalid UTF-8
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := QuoteName(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("QuoteName(%q) = %q, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("QuoteName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestValidateDatabaseName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"shop", true},
		{"_x", true},
		{"Shop_2024-prod", true},
		{"a@b$c#d", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"1shop", false},
		{"-shop", false},
		{"sh op", false},
		{"shop]", false},
		{"shop;", false},
		{"shop'", false},
		{"sh.op", false},
		{"master", false},
		{"MASTER", false},
		{"Model", false},
		{"msdb", false},
		{"tempdb", false},
		{"distribution", false},
		{"mssqlsystemresource", false},
		{"masters", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateDatabaseName(tc.name)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateDatabaseName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
		})
	}
}
