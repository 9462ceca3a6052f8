package sqlserver

import (
	"testing"
	"time"
)

func TestBackupPath(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 999, time.FixedZone("CET", 3600))
	lsn := MustParseLSN("37000000001600001")
	tests := []struct {
		name    string
		root    string
		ns, grp string
		db      string
		kind    BackupType
		want    string
		wantErr bool
	}{
		{name: "full", root: "/backups", ns: "prod", grp: "orders", db: "shop", kind: BackupFull,
			want: "/backups/prod/orders/shop/20260102T020405Z_37000000001600001.bak"},
		{name: "log", root: "/backups/", ns: "prod", grp: "orders", db: "shop", kind: BackupLog,
			want: "/backups/prod/orders/shop/20260102T020405Z_37000000001600001.trn"},
		{name: "nested root", root: "/mnt/a/b", ns: "n", grp: "g", db: "d", kind: BackupLog,
			want: "/mnt/a/b/n/g/d/20260102T020405Z_37000000001600001.trn"},
		{name: "relative root", root: "backups", ns: "n", grp: "g", db: "d", kind: BackupFull, wantErr: true},
		{name: "root climbs", root: "/a/../etc", ns: "n", grp: "g", db: "d", kind: BackupFull, wantErr: true},
		{name: "root with quote", root: "/a'b", ns: "n", grp: "g", db: "d", kind: BackupFull, wantErr: true},
		{name: "namespace with slash", root: "/b", ns: "a/b", grp: "g", db: "d", kind: BackupFull, wantErr: true},
		{name: "group dot-dot", root: "/b", ns: "n", grp: "..", db: "d", kind: BackupFull, wantErr: true},
		{name: "empty database", root: "/b", ns: "n", grp: "g", db: "", kind: BackupFull, wantErr: true},
		{name: "database with backslash", root: "/b", ns: "n", grp: "g", db: `a\b`, kind: BackupFull, wantErr: true},
		{name: "database with control char", root: "/b", ns: "n", grp: "g", db: "a\nb", kind: BackupFull, wantErr: true},
		{name: "other type", root: "/b", ns: "n", grp: "g", db: "d", kind: BackupOther, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BackupPath(tc.root, tc.ns, tc.grp, tc.db, at, lsn, tc.kind)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("BackupPath = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("BackupPath = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := BackupPath("/b", "n", "g", "d", time.Time{}, lsn, BackupFull); err == nil {
		t.Fatal("zero time accepted")
	}
}

func TestSalvagePath(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got, err := SalvagePath("/backups", "prod", "orders", "shop", at, MustParseLSN("42"), BackupLog)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/backups/prod/orders/salvage/shop/20260102T030405Z_42.trn"; got != want {
		t.Fatalf("SalvagePath = %q, want %q", got, want)
	}
	if _, err := SalvagePath("/backups", "prod", "orders", "../x", at, LSN{}, BackupLog); err == nil {
		t.Fatal("database climbing out of the salvage directory accepted")
	}
	dir, err := SalvageDir("/backups", "prod", "orders", "shop")
	if err != nil || dir != "/backups/prod/orders/salvage/shop" {
		t.Fatalf("SalvageDir = %q, %v", dir, err)
	}
}

func TestParseBackupFileName(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)
	for _, kind := range []BackupType{BackupFull, BackupLog} {
		p, err := BackupPath("/b", "n", "g", "d", at, MustParseLSN("9999999999999999999999999"), kind)
		if err != nil {
			t.Fatal(err)
		}
		gotTime, gotLSN, gotKind, err := ParseBackupFileName(p)
		if err != nil {
			t.Fatal(err)
		}
		if !gotTime.Equal(at) || gotLSN.String() != "9999999999999999999999999" || gotKind != kind {
			t.Fatalf("round trip of %s: %v %s %s", p, gotTime, gotLSN, gotKind)
		}
	}
	for _, bad := range []string{"x.bak", "20260102T030405Z.trn", "20260102_42.trn", "20260102T030405Z_x.trn", "20260102T030405Z_42.bak.gz", ""} {
		if _, _, _, err := ParseBackupFileName(bad); err == nil {
			t.Errorf("ParseBackupFileName(%q) accepted", bad)
		}
	}
}
