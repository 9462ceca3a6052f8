package sqlserver

import "testing"

func TestChooseRedo(t *testing.T) {
	tests := []struct {
		name              string
		masterFiles, last string
		wantLSN           string
		wantSource        RedoSource
	}{
		{"redo_start_lsn wins", "500", "400", "500", RedoFromMasterFiles},
		{"STANDBY with NULL redo_start_lsn uses restorehistory", "0", "400", "400", RedoFromRestoreHistory},
		{"nothing known", "0", "0", "0", RedoUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lsn, source := chooseRedo(MustParseLSN(tc.masterFiles), MustParseLSN(tc.last))
			if lsn.String() != tc.wantLSN || source != tc.wantSource {
				t.Fatalf("chooseRedo = %s from %q, want %s from %q", lsn, source, tc.wantLSN, tc.wantSource)
			}
		})
	}
}
