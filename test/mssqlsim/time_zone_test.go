package mssqlsim

import (
	"database/sql"
	"testing"
	"time"
)

// TestTimeZoneShowsLocalDates: an instance in America/New_York (UTC-5, UTC-4 in summer) shows
// GETDATE(), msdb's backup and restore dates and HEADERONLY's dates in local time, and records the
// offset in backupset.time_zone; GETUTCDATE() stays UTC.
func TestTimeZoneShowsLocalDates(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	srv, err := Start(Options{DataDir: t.TempDir(), TimeZone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	db, err := sql.Open("sqlserver", srv.SADSN(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	_, offset := time.Now().In(loc).Zone()
	want := time.Duration(offset) * time.Second // -5h or -4h

	var local, utc time.Time
	if err := db.QueryRow("SELECT GETDATE(), GETUTCDATE()").Scan(&local, &utc); err != nil {
		t.Fatal(err)
	}
	if got := local.Sub(utc).Round(time.Minute); got != want {
		t.Fatalf("GETDATE() - GETUTCDATE() = %v, want %v", got, want)
	}
	mustExec(t, db, "CREATE DATABASE [shop]")
	file := t.TempDir() + "/shop.bak"
	before := time.Now().UTC()
	mustExec(t, db, "BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT", file)

	var finished time.Time
	var zone int64
	if err := db.QueryRow("SELECT backup_finish_date, time_zone FROM msdb.dbo.backupset WHERE database_name = N'shop'").Scan(&finished, &zone); err != nil {
		t.Fatal(err)
	}
	if zone != int64(offset/900) {
		t.Fatalf("backupset.time_zone = %d, want %d (15-minute units)", zone, offset/900)
	}
	// The wall clock shown is local: as an instant labelled UTC it is offset hours from the
	// backup's real time.
	if d := finished.Sub(before.Add(want)); d < -time.Second || d > time.Minute {
		t.Fatalf("backup_finish_date %v is not local time (backup started %v UTC, offset %v)", finished, before, want)
	}
	var headerFinish time.Time
	rows, err := db.Query("RESTORE HEADERONLY FROM DISK = @p1", file)
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(any)
	}
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			if c == "BackupFinishDate" {
				headerFinish, _ = (*vals[i].(*any)).(time.Time)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close()
	if !headerFinish.Equal(finished) {
		t.Fatalf("HEADERONLY BackupFinishDate %v, backupset %v: both are the writer's local time", headerFinish, finished)
	}
	if _, err := Start(Options{DataDir: t.TempDir(), TimeZone: "Mars/Olympus"}); err == nil {
		t.Fatal("unknown time zone accepted")
	}
}
