package mssqlsim

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
)

// sp_delete_backuphistory deletes the backup sets that finished before @oldest_date, the restore
// history of those sets whatever its restore_date, and media families no set refers to any more.
func TestDeleteBackupHistory(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	dir := t.TempDir()
	mustExec(t, db, "CREATE DATABASE shop")
	mustExec(t, db, "ALTER DATABASE shop SET RECOVERY FULL")
	full, shared := filepath.Join(dir, "full.bak"), filepath.Join(dir, "logs.trn")
	mustExec(t, db, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", full)
	mustExec(t, db, "BACKUP LOG shop TO DISK = @p1 WITH INIT", shared)
	// The restore of the full backup is recorded (a backupset row for the restored set, a
	// restorehistory row); restored now, it is still history of a set that finished long ago.
	mustExec(t, db, "RESTORE DATABASE shopcopy FROM DISK = @p1 WITH NORECOVERY, MOVE 'shop' TO @p2, MOVE 'shop_log' TO @p3",
		full, filepath.Join(dir, "c.mdf"), filepath.Join(dir, "c.ldf"))
	if err := srv.AgeHistory(10 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	// A second set in the media of the log backup, written now: the media family stays.
	mustExec(t, db, "BACKUP LOG shop TO DISK = @p1", shared)
	if sets, families, restores := srv.HistoryRows(); sets != 4 || families != 3 || restores != 1 {
		t.Fatalf("history before: %d sets, %d media families, %d restores", sets, families, restores)
	}
	cutoff := mssql.DateTime1(time.Now().UTC().Add(-24 * time.Hour))
	for _, call := range []string{
		"EXEC msdb.dbo.sp_delete_backuphistory @oldest_date = @p1",
		"EXECUTE msdb..sp_delete_backuphistory @p1", // positional, and repeated: nothing left to delete
	} {
		mustExec(t, db, call, cutoff)
	}
	if sets, families, restores := srv.HistoryRows(); sets != 1 || families != 1 || restores != 0 {
		t.Fatalf("history after: %d sets, %d media families, %d restores; want 1, 1, 0", sets, families, restores)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM msdb.dbo.backupset WHERE position = 2"); n != 1 {
		t.Fatalf("the appended set is gone: %d sets at position 2", n)
	}
	if n := queryString(t, db, "SELECT physical_device_name FROM msdb.dbo.backupmediafamily"); n != shared {
		t.Fatalf("media family left: %s, want %s", n, shared)
	}
}

// The procedure compares local times: in New York, a set that finished two hours ago is older
// than New York's wall clock an hour ago (read as UTC, that date is five hours ago or more).
func TestDeleteBackupHistoryComparesLocalTimes(t *testing.T) {
	srv, err := Start(Options{DataDir: t.TempDir(), SAPassword: testPassword, TimeZone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE shop")
	mustExec(t, db, "BACKUP DATABASE shop TO DISK = @p1", filepath.Join(t.TempDir(), "full.bak"))
	if err := srv.AgeHistory(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	nyWallClock := func(t time.Time) mssql.DateTime1 {
		l := t.In(ny)
		return mssql.DateTime1(time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC))
	}
	mustExec(t, db, "EXEC msdb.dbo.sp_delete_backuphistory @oldest_date = @p1", nyWallClock(time.Now().Add(-3*time.Hour)))
	if sets, _, _ := srv.HistoryRows(); sets != 1 {
		t.Fatalf("New York's time 3 h ago deleted a set that finished 2 h ago: %d sets", sets)
	}
	mustExec(t, db, "EXEC msdb.dbo.sp_delete_backuphistory @oldest_date = @p1", nyWallClock(time.Now().Add(-time.Hour)))
	if sets, _, _ := srv.HistoryRows(); sets != 0 {
		t.Fatalf("New York's time an hour ago kept a set that finished 2 h ago: %d sets", sets)
	}
}

func TestDeleteBackupHistoryErrors(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	for _, tc := range []struct {
		query string
		args  []any
		want  int32
	}{
		{"EXEC sp_delete_backuphistory @p1", []any{"2000-01-01"}, 2812}, // from master: not found
		{"EXEC msdb.other.sp_delete_backuphistory @p1", []any{"2000-01-01"}, 2812},
		{"EXEC msdb.dbo.sp_delete_backuphistory", nil, 201},
		{"EXEC msdb.dbo.sp_delete_backuphistory @oldest = @p1", []any{"2000-01-01"}, 8145},
		{"EXEC msdb.dbo.sp_delete_backuphistory @p1, @p1", []any{"2000-01-01"}, 8144},
		{"EXEC msdb.dbo.sp_delete_backuphistory @p1", []any{"yesterday"}, 241},
	} {
		_, err := db.Exec(tc.query, tc.args...)
		if e := sqlError(t, err); e.Number != tc.want {
			t.Errorf("%s: error %d (%v), want %d", tc.query, e.Number, e, tc.want)
		}
	}
	// In msdb the short name resolves.
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec(t, conn, "USE msdb")
	mustExec(t, conn, "EXEC sp_delete_backuphistory @oldest_date = @p1", sql.NullTime{})
	mustExec(t, conn, "EXEC dbo.sp_delete_backuphistory '2000-01-01'")
}
