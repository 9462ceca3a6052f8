package sqlserver

import (
	"testing"
	"time"
)

func TestRoleExpectations(t *testing.T) {
	online := DatabaseState{Exists: true, State: StateOnline}
	tests := []struct {
		name         string
		st           DatabaseState
		wantDescribe string
		primaryOK    bool
		standbyOK    bool
	}{
		{"online read-write", online, "ONLINE", true, false},
		{"restoring", DatabaseState{Exists: true, State: StateRestoring}, "RESTORING", false, true},
		{"standby", DatabaseState{Exists: true, State: StateOnline, IsInStandby: true, IsReadOnly: true}, "ONLINE (STANDBY)", false, true},
		{"read-only", DatabaseState{Exists: true, State: StateOnline, IsReadOnly: true}, "ONLINE (READ_ONLY)", false, false},
		{"offline", DatabaseState{Exists: true, State: StateOffline}, "OFFLINE", false, false},
		{"recovering", DatabaseState{Exists: true, State: StateRecovering}, "RECOVERING", false, false},
		{"missing", DatabaseState{Name: "x"}, "MISSING", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.st.Describe(); got != tc.wantDescribe {
				t.Fatalf("Describe = %q, want %q", got, tc.wantDescribe)
			}
			if ok, want := RolePrimary.expectation(tc.st); ok != tc.primaryOK || want == "" {
				t.Fatalf("primary ok = %v, want %v", ok, tc.primaryOK)
			}
			if ok, want := RoleStandby.expectation(tc.st); ok != tc.standbyOK || want == "" {
				t.Fatalf("standby ok = %v, want %v", ok, tc.standbyOK)
			}
		})
	}
	if ok, _ := Role(0).expectation(online); ok {
		t.Fatal("an unknown role accepts a state")
	}
	for r, want := range map[Role]string{RolePrimary: "Primary", RoleStandby: "Standby", 0: "Role(0)"} {
		if r.String() != want {
			t.Errorf("Role(%d) = %q, want %q", int(r), r.String(), want)
		}
	}
	err := &DatabaseStateError{Database: "shop", Role: RolePrimary, Got: "RESTORING", Want: "ONLINE"}
	if got := err.Error(); got != "database shop is RESTORING, a Primary needs ONLINE" {
		t.Fatalf("message %q", got)
	}
}

func TestHeaderFromRow(t *testing.T) {
	finished := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	row := rowMap{
		"position": int64(1), "backuptype": int64(2), "databasename": "shop", "servername": "A",
		"firstlsn": []byte("100"), "lastlsn": []byte("9999999999999999999999999"), "checkpointlsn": []byte("90"),
		"databasebackuplsn": []byte("0"), "backupfinishdate": finished, "iscopyonly": true, "isforceoffline": true,
		"hasbackupchecksums": false, "compressed": true, "recoverymodel": "FULL",
	}
	h, err := headerFromRow(row)
	if err != nil {
		t.Fatal(err)
	}
	if h.Type != BackupLog || h.Position != 1 || h.DatabaseName != "shop" || h.LastLSN.String() != "9999999999999999999999999" ||
		!h.DatabaseBackupLSN.IsZero() || !h.BackupFinishDate.Equal(finished) || !h.IsCopyOnly || !h.IsForceOffline || !h.Compressed {
		t.Fatalf("header %+v", h)
	}
	f := h.File("/b/x.trn")
	if f.Path != "/b/x.trn" || f.Type != BackupLog || !f.FirstLSN.Equal(h.FirstLSN) || !f.FinishedAt.Equal(finished) || !f.IsCopyOnly {
		t.Fatalf("file %+v", f)
	}
	for code, want := range map[int64]BackupType{1: BackupFull, 2: BackupLog, 5: BackupOther} {
		row["backuptype"] = code
		if h, err := headerFromRow(row); err != nil || h.Type != want {
			t.Errorf("BackupType %d = %s, %v; want %s", code, h.Type, err, want)
		}
	}
	row["firstlsn"] = []byte("-1")
	if _, err := headerFromRow(row); err == nil {
		t.Fatal("malformed LSN accepted")
	}
}

func TestServerInfoMajorVersion(t *testing.T) {
	for version, want := range map[string]int{"16.0.4135.4": 16, "15.0.2000.5": 15, "": 0, "x.1": 0, "17": 17} {
		if got := (ServerInfo{ProductVersion: version}).MajorVersion(); got != want {
			t.Errorf("MajorVersion(%q) = %d, want %d", version, got, want)
		}
	}
}
