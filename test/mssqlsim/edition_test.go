package mssqlsim

import (
	"database/sql"
	"errors"
	"testing"

	mssql "github.com/microsoft/go-mssqldb"
)

// TestEditionCompression: Express and Web refuse WITH COMPRESSION with error 1844 followed by
// 3013, as SQL Server does; the other editions compress; every edition reports itself through
// SERVERPROPERTY('Edition') and SERVERPROPERTY('EngineEdition').
func TestEditionCompression(t *testing.T) {
	cases := []struct {
		pid      string
		name     string
		engine   int64
		compress bool
	}{
		{"", "Developer Edition (64-bit)", 3, true},
		{"Enterprise", "Enterprise Edition (64-bit)", 3, true},
		{"Standard", "Standard Edition (64-bit)", 2, true},
		{"Web", "Web Edition (64-bit)", 2, false},
		{"express", "Express Edition (64-bit)", 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := Start(Options{DataDir: t.TempDir(), Edition: tc.pid})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			db, err := sql.Open("sqlserver", srv.SADSN(""))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			var name string
			var engine int64
			if err := db.QueryRow("SELECT CAST(SERVERPROPERTY('Edition') AS nvarchar(128)), CAST(SERVERPROPERTY('EngineEdition') AS int)").Scan(&name, &engine); err != nil {
				t.Fatal(err)
			}
			if name != tc.name || engine != tc.engine {
				t.Fatalf("Edition, EngineEdition = %q, %d; want %q, %d", name, engine, tc.name, tc.engine)
			}
			mustExec(t, db, "CREATE DATABASE [shop]")
			dir := t.TempDir()
			_, err = db.Exec("BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT, COMPRESSION", dir+"/c.bak")
			if tc.compress {
				if err != nil {
					t.Fatalf("compressed backup on %s: %v", tc.name, err)
				}
			} else {
				var e mssql.Error
				if !errors.As(err, &e) {
					t.Fatalf("compressed backup on %s: got %v, want SQL errors 1844 and 3013", tc.name, err)
				}
				if nums := errorNumbers(e); len(nums) != 2 || nums[0] != 1844 || nums[1] != 3013 || e.All[0].Class != 16 {
					t.Fatalf("compressed backup on %s: errors %v (class %d), want 1844 (class 16) then 3013", tc.name, nums, e.All[0].Class)
				}
			}
			mustExec(t, db, "BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT, NO_COMPRESSION", dir+"/n.bak")
		})
	}
	if _, err := Start(Options{DataDir: t.TempDir(), Edition: "Datacenter"}); err == nil {
		t.Fatal("unknown edition accepted")
	}
}
