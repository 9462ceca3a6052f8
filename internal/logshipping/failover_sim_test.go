package logshipping

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// TestUnplannedFailoverLosesOnlyWritesAfterTheLastShippedLog crashes the
// primary under a steady writer and promotes the standby: the rows lost must
// be exactly the acknowledged writes after the last shipped log backup.
func TestUnplannedFailoverLosesOnlyWritesAfterTheLastShippedLog(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	g.backup(t, primary, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, primary, standby, dbs, settings, time.Now())

	w := startWriter(t, primary, "sales")
	var ackedBeforeLastBackup, ackedAfterLastBackup int
	for cycle := 1; cycle <= 3; cycle++ {
		target := w.count() + 20
		eventually(t, "20 more acknowledged writes", 10*time.Second, func() bool { return w.count() >= target })
		ackedBeforeLastBackup = w.count()
		g.backup(t, primary, dbs, nil)
		ackedAfterLastBackup = w.count()
		g.restore(t, primary, standby, dbs, settings, time.Now())
	}
	// More writes after the last log backup, then the primary dies.
	target := ackedAfterLastBackup + 25
	eventually(t, "writes after the last log backup", 10*time.Second, func() bool { return w.count() >= target })
	primary.srv.Crash()
	crashedAt := time.Now()
	w.halt()
	acked := w.count()

	// The operator lists the backups through the standby (the primary is
	// gone) and promotes it.
	files := g.files(t, standby, dbs)
	ctx := testContext(t)
	pr, err := Promote(ctx, standby.client, files, dbs, crashedAt)
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if !pr.Known || pr.EstimatedDataLoss <= 0 || pr.Databases[0].Gap != nil || pr.Databases[0].DataLoss.NotRestored != 0 {
		t.Fatalf("promote result: %+v", pr)
	}
	if err := standby.client.HealthCheck(ctx, dbs, sqlserver.RolePrimary); err != nil {
		t.Fatalf("promoted standby is not a primary: %v", err)
	}
	present := sequences(t, standby, "sales")
	// Every row present was acknowledged, in order, without holes: the
	// loss is a suffix of the acknowledged writes.
	for i, n := range present {
		if n != i+1 {
			t.Fatalf("row %d has sequence %d: the promoted database lost or reordered acknowledged writes", i, n)
		}
	}
	if len(present) < ackedBeforeLastBackup || len(present) > ackedAfterLastBackup {
		t.Fatalf("present %d rows; the last shipped log backup holds between %d and %d", len(present), ackedBeforeLastBackup, ackedAfterLastBackup)
	}
	lost := acked - len(present)
	t.Logf("unplanned failover: %d writes acknowledged, %d present after promotion, %d lost (all acknowledged after the last shipped log backup began; it holds between %d and %d writes); estimated data loss %v",
		acked, len(present), lost, ackedBeforeLastBackup, ackedAfterLastBackup, pr.EstimatedDataLoss)

	// Promote is idempotent.
	again, err := Promote(ctx, standby.client, files, dbs, time.Now())
	if err != nil || !again.Databases[0].AlreadyRecovered {
		t.Fatalf("second promote: %+v, %v", again, err)
	}
	mustExec(t, standby.app(t, ""), "INSERT INTO sales.dbo.orders (n) VALUES (0)")
}

func TestPlannedSwitchoverLosesNothingAndOldPrimaryFollows(t *testing.T) {
	// The tail-log backup is recorded in the old primary's msdb only: when the operator cannot list
	// the backup directory itself, the new primary must still find it (the e2e suite found this).
	for _, tc := range []struct {
		name      string
		localView bool
	}{{"operator sees the backup directory", true}, {"catalogue from msdb history", false}} {
		t.Run(tc.name, func(t *testing.T) { testPlannedSwitchover(t, tc.localView) })
	}
}

func testPlannedSwitchover(t *testing.T, localView bool) {
	a, b := startMember(t, "A"), startMember(t, "B")
	g := newGroupSeeing(t, localView)
	dbs := []string{"sales", "stock"}
	for _, db := range dbs {
		createDB(t, a, db)
		insert(t, a, db, 3)
	}
	g.backup(t, a, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, a, b, dbs, settings, time.Now())
	for _, db := range dbs {
		insert(t, a, db, 4) // shipped by nobody yet
	}
	want := map[string]int64{"sales": count(t, a, "sales"), "stock": count(t, a, "stock")}
	// An application is connected to the old primary's database.
	appConn, err := a.app(t, "sales").Conn(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	defer appConn.Close()
	if _, err := appConn.ExecContext(testContext(t), "SELECT 1"); err != nil {
		t.Fatal(err)
	}

	// A writer keeps inserting into stock until the switchover stops it.
	w := startWriter(t, a, "stock")
	eventually(t, "the writer to start", 10*time.Second, func() bool { return w.count() >= 10 })

	ctx := testContext(t)
	out, err := g.shipper.PlannedSwitchover(ctx, a.client, b.client, dbs, time.Now())
	if err != nil {
		t.Fatalf("switchover: %v", err)
	}
	w.halt()
	acked := w.count()
	want["stock"] += int64(acked)
	for _, sd := range out {
		if sd.AlreadyDone || sd.TailLog == "" || sd.FinalLSN.IsZero() || len(sd.Applied) != 2 {
			t.Fatalf("switchover of %s: %+v", sd.Database, sd)
		}
	}
	if out[0].DisconnectedSessions != 1 {
		t.Fatalf("disconnected %d sessions of sales, want 1", out[0].DisconnectedSessions)
	}
	for _, db := range dbs {
		if got := count(t, b, db); got != want[db] {
			t.Fatalf("switchover lost rows of %s: new primary has %d, old had %d", db, got, want[db])
		}
		if st := state(t, a, db); st.State != sqlserver.StateRestoring {
			t.Fatalf("old primary's %s is %s, want RESTORING", db, st.Describe())
		}
	}
	if !slices.Equal(sequences(t, b, "stock"), seqRange(1, acked)) {
		t.Fatal("the writer's acknowledged rows are not all on the new primary")
	}
	t.Logf("planned switchover: %d writes acknowledged by the old primary to a concurrent writer, all present on the new one; rows old/new primary: sales %d/%d, stock %d/%d: 0 lost",
		acked, want["sales"], count(t, b, "sales"), want["stock"], count(t, b, "stock"))
	if err := b.client.HealthCheck(ctx, dbs, sqlserver.RolePrimary); err != nil {
		t.Fatal(err)
	}
	// Repeating it is harmless.
	again, err := g.shipper.PlannedSwitchover(ctx, a.client, b.client, dbs, time.Now())
	if err != nil || !again[0].AlreadyDone || !again[1].AlreadyDone {
		t.Fatalf("repeated switchover: %+v, %v", again, err)
	}

	// The old primary continues as a standby of the new one, no reseed.
	for _, db := range dbs {
		insert(t, b, db, 5)
	}
	res := g.backup(t, b, dbs, nil)
	if len(res) != 4 { // the new primary's first full backup, and a log backup
		t.Fatalf("backups on the new primary: %+v", res)
	}
	restored := g.restore(t, b, a, dbs, settings, time.Now())
	for _, r := range restored {
		if r.Seeded || r.Reseeded || r.NeedsFullBackup || len(r.Applied) != 1 || r.State != "ONLINE (STANDBY)" {
			t.Fatalf("old primary as standby, %s: %+v", r.Database, r)
		}
		if p, s := count(t, b, r.Database), count(t, a, r.Database); p != s || p != want[r.Database]+5 {
			t.Fatalf("%s: new primary %d rows, old primary %d, want %d", r.Database, p, s, want[r.Database]+5)
		}
	}
}

func TestPlannedSwitchoverResumesAfterAnInterruption(t *testing.T) {
	a, b := startMember(t, "A"), startMember(t, "B")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, a, "sales")
	insert(t, a, "sales", 2)
	g.backup(t, a, dbs, nil)
	c := startMember(t, "C") // a third member, seeded like b
	g.restore(t, a, b, dbs, RestoreSettings{Mode: sqlserver.RestoreNoRecovery}, time.Now())
	g.restore(t, a, c, dbs, RestoreSettings{Mode: sqlserver.RestoreNoRecovery}, time.Now())
	insert(t, a, "sales", 3)
	want := count(t, a, "sales")

	// The operator crashed right after the tail-log backup: the old primary
	// is RESTORING, the new one has not restored the tail.
	ctx := testContext(t)
	tail, _, err := g.shipper.tailLog(ctx, a.client, "sales", time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if st := state(t, a, "sales"); st.State != sqlserver.StateRestoring {
		t.Fatalf("old primary after the tail-log backup: %s", st.Describe())
	}
	out, err := g.shipper.PlannedSwitchover(ctx, a.client, b.client, dbs, time.Now())
	if err != nil {
		t.Fatalf("resumed switchover: %v", err)
	}
	if out[0].TailLog != "" || len(out[0].Applied) != 1 || out[0].Applied[0] != tail.Path || !out[0].FinalLSN.Equal(tail.LastLSN) {
		t.Fatalf("resumed switchover: %+v (tail %s)", out[0], tail.Path)
	}
	if got := count(t, b, "sales"); got != want {
		t.Fatalf("resumed switchover: %d rows, want %d", got, want)
	}

	// A new primary that misses the tail is never recovered.
	if err := os.Remove(tail.Path); err != nil {
		t.Fatal(err)
	}
	cst := state(t, c, "sales")
	_, err = g.shipper.PlannedSwitchover(ctx, a.client, c.client, dbs, time.Now())
	if !errors.Is(err, ErrBehind) {
		t.Fatalf("switchover to a member without the tail: %v", err)
	}
	if st := state(t, c, "sales"); st.State != cst.State || st.Writable() {
		t.Fatalf("member without the tail was changed: %s", st.Describe())
	}
}

func TestSalvageKeepsTheOldPrimarysTailAndReseedMakesItAStandby(t *testing.T) {
	a, b := startMember(t, "A"), startMember(t, "B")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, a, "sales")
	insert(t, a, "sales", 3)
	g.backup(t, a, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, a, b, dbs, settings, time.Now())
	insert(t, a, "sales", 4) // never shipped
	oldRows := count(t, a, "sales")
	chain := g.files(t, b, dbs) // the old primary's chain, for the proof below

	// Unplanned failover: A dies, B is promoted and takes writes.
	a.srv.Crash()
	failoverAt := time.Now()
	ctx := testContext(t)
	if _, err := Promote(ctx, b.client, g.files(t, b, dbs), dbs, failoverAt); err != nil {
		t.Fatal(err)
	}
	insert(t, b, "sales", 2)
	clockPast(t, failoverAt)
	g.backup(t, b, dbs, nil) // the new primary's first full backup and a log

	// A comes back, ONLINE and diverged.
	a = startMemberIn(t, "A", a.srv.DataDir())
	if got := count(t, a, "sales"); got != oldRows {
		t.Fatalf("restarted old primary: %d rows, want %d", got, oldRows)
	}
	salvaged, err := g.shipper.Salvage(ctx, a.client, dbs, time.Now())
	if err != nil {
		t.Fatalf("salvage: %v", err)
	}
	file := salvaged[0].File
	if salvaged[0].AlreadyRestoring || file.Path == "" || file.Reason != ReasonSalvageLog ||
		filepath.Dir(file.Path) != filepath.Join(g.dir, "ns", "orders", "salvage", "sales") {
		t.Fatalf("salvage result: %+v", salvaged[0])
	}
	if _, err := os.Stat(file.Path); err != nil {
		t.Fatalf("salvage file: %v", err)
	}
	if st := state(t, a, "sales"); st.State != sqlserver.StateRestoring {
		t.Fatalf("old primary after salvage: %s, want RESTORING", st.Describe())
	}
	// Salvage files are not part of the chain.
	for _, f := range g.files(t, b, dbs)["sales"] {
		if strings.Contains(f.Path, "salvage") {
			t.Fatalf("salvage file in the catalogue: %s", f.Path)
		}
	}
	again, err := g.shipper.Salvage(ctx, a.client, dbs, time.Now())
	if err != nil || !again[0].AlreadyRestoring || again[0].File.Path != "" {
		t.Fatalf("second salvage: %+v, %v", again, err)
	}

	// Proof: the old chain plus the salvage file on a scratch instance
	// gives back every row the old primary had.
	scratch := startMember(t, "SCRATCH")
	if _, err := RestoreStandby(ctx, scratch.client, chain, dbs, RestoreSettings{Mode: sqlserver.RestoreNoRecovery}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := scratch.client.RestoreLog(ctx, "sales", file.Path, sqlserver.RestoreOptions{}); err != nil {
		t.Fatalf("restore the salvage file: %v", err)
	}
	if err := scratch.client.Recover(ctx, "sales"); err != nil {
		t.Fatal(err)
	}
	if got := count(t, scratch, "sales"); got != oldRows {
		t.Fatalf("chain + salvage on a scratch instance: %d rows, the old primary had %d", got, oldRows)
	}
	t.Logf("salvage: %d rows written on the old primary after its last shipped log backup recovered from %s", oldRows-3, filepath.Base(file.Path))

	// Reseed makes the old primary a standby of the new one.
	files := g.files(t, b, dbs)
	rs, err := Reseed(ctx, a.client, files, dbs, settings, failoverAt, time.Now())
	if err != nil {
		t.Fatalf("reseed: %v", err)
	}
	if !rs[0].Reseeded || rs[0].State != "ONLINE (STANDBY)" || !slices.Contains(rs[0].Applied, files.newestOf(t, "sales", sqlserver.BackupLog)) {
		t.Fatalf("reseed: %+v", rs[0])
	}
	if p, s := count(t, b, "sales"), count(t, a, "sales"); p != s {
		t.Fatalf("after reseed: new primary %d rows, old primary %d", p, s)
	}
	insert(t, b, "sales", 1)
	g.backup(t, b, dbs, nil)
	r := g.restore(t, b, a, dbs, settings, time.Now())[0]
	if r.Reseeded || len(r.Applied) != 1 || count(t, a, "sales") != count(t, b, "sales") {
		t.Fatalf("shipping to the reseeded member: %+v", r)
	}
	// Reseed refuses a database that is ONLINE read-write.
	if _, err := Reseed(ctx, b.client, files, dbs, settings, failoverAt, time.Now()); err == nil || !strings.Contains(err.Error(), "salvage it first") {
		t.Fatalf("reseed of the primary: %v", err)
	}
}

// newestOf returns the path of db's newest backup of type typ.
func (f Files) newestOf(t *testing.T, db string, typ sqlserver.BackupType) string {
	t.Helper()
	var newest sqlserver.BackupFile
	for _, b := range f[db] {
		if b.Type == typ && (newest.Path == "" || b.LastLSN.Cmp(newest.LastLSN) > 0) {
			newest = b
		}
	}
	if newest.Path == "" {
		t.Fatalf("no %s backup of %s", typ, db)
	}
	return newest.Path
}

// TestStandbyAheadOfThePromotedMemberIsReseeded: a third member had
// restored a log backup the promoted member never saw, so the new
// primary's log backups belong to a fork it is past (4330). It reseeds
// from the new primary's full backup by itself.
func TestStandbyAheadOfThePromotedMemberIsReseeded(t *testing.T) {
	a, b, c := startMember(t, "A"), startMember(t, "B"), startMember(t, "C")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, a, "sales")
	insert(t, a, "sales", 2)
	g.backup(t, a, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, a, b, dbs, settings, time.Now())
	g.restore(t, a, c, dbs, settings, time.Now())
	insert(t, a, "sales", 2)
	late := g.backup(t, a, dbs, nil)[0] // C restores it, B never sees it
	g.restore(t, a, c, dbs, settings, time.Now())
	a.srv.Crash()

	ctx := testContext(t)
	seen := Files{}
	for _, f := range g.files(t, b, dbs)["sales"] {
		if f.Path != late.Path {
			seen["sales"] = append(seen["sales"], f)
		}
	}
	failoverAt := time.Now()
	if _, err := Promote(ctx, b.client, seen, dbs, failoverAt); err != nil {
		t.Fatal(err)
	}
	insert(t, b, "sales", 10)
	clockPast(t, failoverAt)
	g.backup(t, b, dbs, nil)

	// Without a newer full backup than C's last restore, it would report
	// NeedsFullBackup; here the new primary's first full backup repairs it.
	r := g.restore(t, b, c, dbs, settings, time.Now())[0]
	if !r.Reseeded || r.NeedsFullBackup || r.Err != nil || len(r.Applied) != 2 {
		t.Fatalf("standby ahead of the new primary: %+v", r)
	}
	t.Logf("standby ahead of the promoted member: %v", r.Applied)
	if p, s := count(t, b, "sales"), count(t, c, "sales"); p != s || p != 12 {
		t.Fatalf("new primary %d rows, standby %d, want 12", p, s)
	}
}

// seqRange returns from, from+1, ..., to.
func seqRange(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// When the operator cannot list the backup directory, a standby's own msdb history does not hold the
// old primary's log backups: a log backup shipped after the standby's last restore must still be
// applied at promotion (from what the operator read through the old primary), not lost.
func TestUnplannedFailoverAppliesShippedLogsKnownOnlyFromTheOldPrimarysHistory(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroupSeeing(t, false)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 3)
	g.backup(t, primary, dbs, nil)
	g.restore(t, primary, standby, dbs, standbySettings(g.dir), time.Now())
	restored := count(t, standby, "sales")
	insert(t, primary, "sales", 7)
	res := g.backup(t, primary, dbs, nil) // shipped; the standby's schedule has not restored it yet
	if len(res) != 1 || res[0].Type != sqlserver.BackupLog {
		t.Fatalf("backups: %+v", res)
	}
	shipped := count(t, primary, "sales")
	primary.srv.Crash()

	ctx := testContext(t)
	own, _, err := NewCatalogue().ListAll(ctx, standby.client, g.shipper.Target, dbs)
	if err != nil {
		t.Fatal(err)
	}
	if len(own["sales"]) != 0 {
		t.Fatalf("the standby's own history lists %d backups of the old primary; the test needs none", len(own["sales"]))
	}
	files, _, err := g.shipper.Catalogue.ForPromotion(ctx, standby.client, g.shipper.Target, dbs)
	if err != nil {
		t.Fatal(err)
	}
	if len(files["sales"]) < 2 {
		t.Fatalf("catalogue for promotion: %+v", files)
	}
	pr, err := Promote(ctx, standby.client, files, dbs, time.Now())
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if got := count(t, standby, "sales"); got != shipped {
		t.Fatalf("promoted standby has %d rows; %d were in the shipped log backups (%d restored before the crash)", got, shipped, restored)
	}
	if len(pr.Databases) != 1 || len(pr.Databases[0].Applied) != 1 {
		t.Fatalf("promote applied %+v, want the one shipped but unrestored log backup", pr.Databases)
	}
	t.Logf("history-only catalogue: %d rows restored before the crash, %d after promotion (the shipped log backup applied)", restored, shipped)
}
