package logshipping

import (
	"testing"
	"time"
)

// TestLogWaitingForABackupIsReported: after writes, the primary's log waits for a log backup
// (sys.databases.log_reuse_wait_desc LOG_BACKUP). Reported once the newest log backup is more than
// two intervals old; a log backup truncates it and the report goes away.
func TestLogWaitingForABackupIsReported(t *testing.T) {
	a := startMember(t, "A")
	g := newGroup(t)
	g.shipper.Schedule.logInterval = time.Minute
	dbs := []string{"sales"}
	createDB(t, a, "sales")
	ctx := testContext(t)
	g.backup(t, a, dbs, nil) // full, then log
	insert(t, a, "sales", 2)
	if got, err := g.shipper.InspectLogs(ctx, a.client, dbs, time.Now()); err != nil || len(got.Growing) != 0 {
		t.Fatalf("right after a log backup: %+v, %v", got, err)
	}
	later := time.Now().Add(3 * time.Minute)
	got, err := g.shipper.InspectLogs(ctx, a.client, dbs, later)
	if err != nil || len(got.Growing) != 1 || got.Growing[0].Database != "sales" {
		t.Fatalf("three intervals later without a log backup: %+v, %v", got, err)
	}
	if st := state(t, a, "sales"); st.LogReuseWait != "LOG_BACKUP" {
		t.Fatalf("log_reuse_wait_desc = %q, want LOG_BACKUP", st.LogReuseWait)
	}
	if _, err := g.shipper.RunBackups(ctx, a.client, dbs, later, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := g.shipper.InspectLogs(ctx, a.client, dbs, later); err != nil || len(got.Growing) != 0 {
		t.Fatalf("after the log backup: %+v, %v", got, err)
	}
}
