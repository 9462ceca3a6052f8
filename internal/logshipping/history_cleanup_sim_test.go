package logshipping

import (
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// After prune, the members' msdb history of what it deleted goes (sp_delete_backuphistory), the
// history of what stays is kept, the standby keeps its redo point (its last restore, in STANDBY),
// and shipping and a planned switchover carry on, with the catalogue read from msdb.
func TestHistoryCleanupAfterPrune(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroupSeeing(t, false)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	settings := standbySettings(t.TempDir())
	ctx := testContext(t)
	for range 5 { // ten days ago: a full backup and 5 log backups, all restored
		insert(t, primary, "sales", 1)
		g.backup(t, primary, dbs, nil)
		g.restore(t, primary, standby, dbs, settings, time.Now())
	}
	for _, m := range []*member{primary, standby} {
		if err := m.srv.AgeHistory(10 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	insert(t, primary, "sales", 1)
	g.backup(t, primary, dbs, map[string]bool{"sales": true}) // today's full backup and a log backup
	g.restore(t, primary, standby, dbs, settings, time.Now())
	rs, err := standby.client.RestoreState(ctx, "sales")
	if err != nil || rs.RedoSource != sqlserver.RedoFromRestoreHistory {
		t.Fatalf("standby's position: %+v, %v", rs, err)
	}
	files := g.files(t, primary, dbs)
	needed := map[string]sqlserver.LSN{"sales": rs.RedoLSN}
	pruned := PrunablePaths(Prune(files, time.Now(), 24*time.Hour, needed))
	if len(pruned) != 6 {
		t.Fatalf("prunable: %v, want the 6 old files", pruned)
	}
	floors := HistoryFloors(files, time.Now(), 24*time.Hour, needed)
	cutoff, ok := HistoryCutoff(floors, dbs)
	if !ok {
		t.Fatalf("no cutoff from %v", floors)
	}
	sets, _, restores := primary.srv.HistoryRows()
	standbySets, _, standbyRestores := standby.srv.HistoryRows()
	if sets != 8 || standbySets != 7 || standbyRestores != 7 { // the standby restored today's log backup only
		t.Fatalf("history before: primary %d sets, %d restores; standby %d sets, %d restores", sets, restores, standbySets, standbyRestores)
	}
	members := []HistoryMember{{"primary", primary.client}, {"standby", standby.client}}
	done, err := g.shipper.CleanHistory(ctx, members, cutoff)
	if err != nil || len(done) != 2 || done[0].Before.IsZero() || done[1].Before.IsZero() {
		t.Fatalf("clean history: %+v, %v", done, err)
	}
	if sets, _, _ := primary.srv.HistoryRows(); sets != 2 {
		t.Fatalf("primary's history after: %d sets, want today's full and log backups", sets)
	}
	if sets, _, restores := standby.srv.HistoryRows(); sets != 1 || restores != 1 {
		t.Fatalf("standby's history after: %d sets, %d restores; want today's log backup and its restore", sets, restores)
	}
	if again, err := g.shipper.CleanHistory(ctx, members, cutoff); err != nil || !again[0].Before.IsZero() || !again[1].Before.IsZero() {
		t.Fatalf("a second cleanup up to the same date ran again: %+v, %v", again, err)
	}
	after, err := standby.client.RestoreState(ctx, "sales")
	if err != nil || !after.RedoLSN.Equal(rs.RedoLSN) || after.RedoSource != sqlserver.RedoFromRestoreHistory {
		t.Fatalf("standby's position after the cleanup: %+v, %v (was %s)", after, err, rs.RedoLSN)
	}
	// Shipping continues from the bounded catalogue, and the primary role moves.
	if err := g.shipper.Catalogue.KeepHistoryFrom(g.shipper.Target, "sales", floors["sales"]); err != nil {
		t.Fatal(err)
	}
	insert(t, primary, "sales", 2)
	g.backup(t, primary, dbs, nil)
	if r := g.restore(t, primary, standby, dbs, settings, time.Now()); len(r[0].Applied) != 1 {
		t.Fatalf("restore after the cleanup: %+v", r[0])
	}
	want := count(t, primary, "sales")
	if _, err := g.shipper.PlannedSwitchover(ctx, primary.client, standby.client, dbs, time.Now()); err != nil {
		t.Fatalf("switchover after the cleanup: %v", err)
	}
	if got := count(t, standby, "sales"); got != want {
		t.Fatalf("new primary has %d rows, want %d", got, want)
	}
}

// Whatever the date asked for, a member keeps the history of the backup set each restoring
// database restored last: a lagging standby (here, one whose last restore is ten days old) keeps
// its redo point.
func TestHistoryCleanupKeepsEveryStandbysLastRestore(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	settings := standbySettings(t.TempDir())
	for range 3 {
		insert(t, primary, "sales", 1)
		g.backup(t, primary, dbs, nil)
		g.restore(t, primary, standby, dbs, settings, time.Now())
	}
	if err := standby.srv.AgeHistory(10 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	rs, err := standby.client.RestoreState(ctx, "sales")
	if err != nil || rs.RedoLSN.IsZero() {
		t.Fatalf("standby's position: %+v, %v", rs, err)
	}
	done, err := g.shipper.CleanHistory(ctx, []HistoryMember{{"standby", standby.client}}, time.Now())
	if err != nil || len(done) != 1 {
		t.Fatalf("clean history: %+v, %v", done, err)
	}
	after, err := standby.client.RestoreState(ctx, "sales")
	if err != nil || !after.RedoLSN.Equal(rs.RedoLSN) {
		t.Fatalf("standby's position after the cleanup: %+v, %v (was %s)", after, err, rs.RedoLSN)
	}
	if limit := rs.LastRestoredBackupFinishedAt.Add(-historyDeleteMargin).Add(time.Second); !done[0].Before.Before(limit) {
		t.Fatalf("cleaned before %s, want before the last restored set (%s) less the margin", done[0].Before, rs.LastRestoredBackupFinishedAt)
	}
	insert(t, primary, "sales", 1)
	g.backup(t, primary, dbs, nil)
	if r := g.restore(t, primary, standby, dbs, settings, time.Now()); len(r[0].Applied) != 1 {
		t.Fatalf("restore after the cleanup: %+v", r[0])
	}
}
