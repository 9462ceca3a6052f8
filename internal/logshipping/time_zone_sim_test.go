package logshipping

import (
	"testing"
	"time"

	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// TestServerTimeZoneDoesNotShiftTimes: SQL Server writes msdb's and the backup headers' dates in
// its container's TZ. With the members in New York (behind UTC) or Kolkata (ahead, by a
// half-hour offset), the times the operator works with (backup finish times in the catalogue,
// from headers or from msdb, the history window, the last restore) are still the real instants,
// so lag, the restore delay and reseed's "full backups after the failover" are right.
func TestServerTimeZoneDoesNotShiftTimes(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Asia/Kolkata"} {
		for _, localView := range []bool{true, false} {
			name := zone + "/history"
			if localView {
				name = zone + "/headers"
			}
			t.Run(name, func(t *testing.T) {
				if _, err := time.LoadLocation(zone); err != nil {
					t.Skipf("no time zone database: %v", err)
				}
				ctx := testContext(t)
				a := startMemberWith(t, "A", mssqlsim.Options{TimeZone: zone})
				b := startMemberWith(t, "B", mssqlsim.Options{TimeZone: zone})
				g := newGroupSeeing(t, localView)
				dbs := []string{"sales"}
				createDB(t, a, "sales")
				start := time.Now().Add(-time.Second)
				g.backup(t, a, dbs, nil)
				within := func(what string, got time.Time) {
					t.Helper()
					if got.Before(start) || got.After(time.Now().Add(time.Second)) {
						t.Fatalf("%s = %v, want between %v and now: read in the wrong time zone", what, got.UTC(), start.UTC())
					}
				}
				files := g.files(t, a, dbs)["sales"]
				if len(files) == 0 {
					t.Fatal("no backup in the catalogue")
				}
				for _, f := range files {
					within("catalogue FinishedAt of "+f.Path, f.FinishedAt)
				}
				// The history window: a backup that finished a moment ago is inside "the last hour".
				history, err := a.client.BackupHistory(ctx, "sales", time.Now().Add(-time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if len(history) == 0 {
					t.Fatal("BackupHistory(last hour) is empty: since was compared in the wrong time zone")
				}
				within("BackupHistory FinishedAt", history[0].FinishedAt)
				g.restore(t, a, b, dbs, standbySettings(t.TempDir()), time.Now())
				rs, err := b.client.RestoreState(ctx, "sales")
				if err != nil {
					t.Fatal(err)
				}
				within("LastRestoredAt", rs.LastRestoredAt)
				within("LastRestoredBackupFinishedAt", rs.LastRestoredBackupFinishedAt)
				// A full backup taken after a failover at start is not dropped by reseed's filter.
				if kept := withoutFullsBefore(files, start); len(kept) != len(files) {
					t.Fatalf("withoutFullsBefore(start) kept %d of %d files", len(kept), len(files))
				}
			})
		}
	}
}
