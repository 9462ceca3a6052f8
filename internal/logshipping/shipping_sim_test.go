package logshipping

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestSeedingAndSteadyShippingKeepRowCountsEqual(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales", "stock"}
	for _, db := range dbs {
		createDB(t, primary, db)
		insert(t, primary, db, 3)
	}
	ctx := testContext(t)
	ready, err := g.shipper.EnsureReady(ctx, primary.client, dbs)
	if err != nil || len(ready) != 2 || ready[0].SwitchedFrom != "" {
		t.Fatalf("ensure ready: %+v, %v", ready, err)
	}

	// First cycle: a full backup (none exists) and a first log backup.
	res := g.backup(t, primary, dbs, nil)
	if len(res) != 4 || res[0].Type != sqlserver.BackupFull || res[0].Reason != ReasonFirstFull || res[1].Type != sqlserver.BackupLog {
		t.Fatalf("first backups: %+v", res)
	}
	for _, r := range res {
		if r.LastLSN.IsZero() || !r.FirstLSN.Less(r.LastLSN) || r.FinishedAt.IsZero() {
			t.Fatalf("backup without header data: %+v", r)
		}
		if _, _, typ, err := sqlserver.ParseBackupFileName(r.Path); err != nil || typ != r.Type ||
			filepath.Dir(r.Path) != filepath.Join(g.dir, "ns", "orders", r.Database) {
			t.Fatalf("backup file %s: type %v, %v", r.Path, typ, err)
		}
	}
	settings := standbySettings(g.dir)
	seeded := g.restore(t, primary, standby, dbs, settings, time.Now())
	for _, r := range seeded {
		if !r.Seeded || r.Err != nil || r.NeedsFullBackup || len(r.Applied) != 2 || r.State != "ONLINE (STANDBY)" {
			t.Fatalf("seeding: %+v", r)
		}
		if got := count(t, standby, r.Database); got != 3 {
			t.Fatalf("standby %s after seeding: %d rows, want 3", r.Database, got)
		}
	}

	for cycle := 1; cycle <= 3; cycle++ {
		for _, db := range dbs {
			insert(t, primary, db, cycle)
		}
		res := g.backup(t, primary, dbs, nil)
		if len(res) != 2 || res[0].Type != sqlserver.BackupLog || res[0].Reason != ReasonLogDue {
			t.Fatalf("cycle %d backups: %+v", cycle, res)
		}
		restored := g.restore(t, primary, standby, dbs, settings, time.Now())
		for i, r := range restored {
			db := dbs[i]
			if r.Seeded || r.Reseeded || len(r.Applied) != 1 || r.Applied[0] != res[i].Path || r.LastRestoredFile != res[i].Path {
				t.Fatalf("cycle %d restore of %s: %+v", cycle, db, r)
			}
			if !r.RedoLSN.Equal(state(t, primary, db).LastLogBackupLSN) || r.Lag != 0 || r.Pending != 0 || r.LastRestoreTime.IsZero() {
				t.Fatalf("cycle %d %s position: redo %s, primary's last log backup %s, lag %v, pending %d",
					cycle, db, r.RedoLSN, state(t, primary, db).LastLogBackupLSN, r.Lag, r.Pending)
			}
			if p, s := count(t, primary, db), count(t, standby, db); p != s {
				t.Fatalf("cycle %d %s: primary %d rows, standby %d", cycle, db, p, s)
			}
		}
	}
	// A run with nothing new applies nothing and changes nothing.
	again := g.restore(t, primary, standby, dbs, settings, time.Now())
	if len(again[0].Applied) != 0 || again[0].Err != nil {
		t.Fatalf("idle restore: %+v", again[0])
	}
	// The STANDBY database is readable, not writable.
	_, err = standby.app(t, "").ExecContext(ctx, "INSERT INTO sales.dbo.orders (n) VALUES (1)")
	wantKind(t, err, sqlserver.KindReadOnly)
	if err := standby.client.HealthCheck(ctx, dbs, sqlserver.RoleStandby); err != nil {
		t.Fatalf("standby health: %v", err)
	}
	// Each header was read once: the catalogue answers from its cache.
	if n := len(g.shipper.Catalogue.headers); n != 10 {
		t.Fatalf("catalogue caches %d headers, want 10", n)
	}
}

func TestNoRecoveryStandbyIsNotReadable(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 2)
	g.backup(t, primary, dbs, nil)
	settings := RestoreSettings{Mode: sqlserver.RestoreNoRecovery, Checksum: true}
	r := g.restore(t, primary, standby, dbs, settings, time.Now())[0]
	if !r.Seeded || r.State != sqlserver.StateRestoring {
		t.Fatalf("seeding WITH NORECOVERY: %+v", r)
	}
	insert(t, primary, "sales", 2)
	g.backup(t, primary, dbs, nil)
	r = g.restore(t, primary, standby, dbs, settings, time.Now())[0]
	if len(r.Applied) != 1 || r.State != sqlserver.StateRestoring || !r.RedoLSN.Equal(state(t, primary, "sales").LastLogBackupLSN) {
		t.Fatalf("log restore WITH NORECOVERY: %+v", r)
	}
	_, err := countErr(testContext(t), standby.app(t, ""), "sales")
	wantKind(t, err, sqlserver.KindDatabaseUnavailable)
	// Promoting shows the rows were there all along.
	pr, err := Promote(testContext(t), standby.client, g.files(t, primary, dbs), dbs, time.Now())
	if err != nil || len(pr.Databases) != 1 || len(pr.Databases[0].Applied) != 0 {
		t.Fatalf("promote: %+v, %v", pr, err)
	}
	if got := count(t, standby, "sales"); got != 4 {
		t.Fatalf("promoted standby: %d rows, want 4", got)
	}
}

func TestDelayedStandbyAppliesOnlyOldEnoughBackups(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 1)
	first := g.backup(t, primary, dbs, nil) // full + log 1
	full, log1 := first[0], first[1]
	clockPast(t, log1.FinishedAt)
	insert(t, primary, "sales", 2)
	log2 := g.backup(t, primary, dbs, nil)[0]
	if !log2.FinishedAt.After(log1.FinishedAt) {
		t.Fatalf("log 2 finished at %v, not after log 1 at %v", log2.FinishedAt, log1.FinishedAt)
	}
	const delay = time.Hour
	settings := standbySettings(g.dir)
	settings.Delay = delay

	// At full+delay-1s even the full backup is too young: nothing happens.
	r := g.restore(t, primary, standby, dbs, settings, full.FinishedAt.Add(delay-time.Second))[0]
	if r.Seeded || r.NeedsFullBackup || r.Err != nil || state(t, standby, "sales").Exists {
		t.Fatalf("restore before the delay: %+v", r)
	}
	// At log1+delay: the full backup and log 1, not log 2.
	r = g.restore(t, primary, standby, dbs, settings, log1.FinishedAt.Add(delay))[0]
	if !r.Seeded || len(r.Applied) != 2 || r.Applied[1] != log1.Path || r.Pending != 1 || r.Lag <= 0 || r.Message == "" {
		t.Fatalf("delayed restore: %+v", r)
	}
	if got := count(t, standby, "sales"); got != 1 {
		t.Fatalf("delayed standby: %d rows, want 1", got)
	}
	// Once log 2 is old enough it is applied.
	r = g.restore(t, primary, standby, dbs, settings, log2.FinishedAt.Add(delay))[0]
	if len(r.Applied) != 1 || r.Applied[0] != log2.Path || r.Pending != 0 || r.Lag != 0 {
		t.Fatalf("restore after the delay: %+v", r)
	}
	if got := count(t, standby, "sales"); got != 3 {
		t.Fatalf("standby after the delay: %d rows, want 3", got)
	}
}

func TestChainGapForcesFullBackupAndReseed(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 2)
	g.backup(t, primary, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, primary, standby, dbs, settings, time.Now())

	insert(t, primary, "sales", 3)
	lost := g.backup(t, primary, dbs, nil)[0]
	insert(t, primary, "sales", 4)
	g.backup(t, primary, dbs, nil)
	// The log backup disappears before the standby restored it.
	if err := removeFile(lost.Path); err != nil {
		t.Fatal(err)
	}
	before := count(t, standby, "sales")
	r := g.restore(t, primary, standby, dbs, settings, time.Now())[0]
	if !r.NeedsFullBackup || r.Err != nil || len(r.Applied) != 0 || r.Message == "" {
		t.Fatalf("restore across a gap: %+v", r)
	}
	if got := count(t, standby, "sales"); got != before {
		t.Fatalf("standby changed across a gap: %d rows, had %d", got, before)
	}
	// The controller forces a full backup on the primary...
	res := g.backup(t, primary, dbs, map[string]bool{"sales": r.NeedsFullBackup})
	if res[0].Type != sqlserver.BackupFull || res[0].Reason != ReasonForced {
		t.Fatalf("forced backups: %+v", res)
	}
	insert(t, primary, "sales", 1)
	g.backup(t, primary, dbs, nil)
	// ...and the next run reseeds WITH REPLACE and catches up.
	r = g.restore(t, primary, standby, dbs, settings, time.Now())[0]
	if !r.Reseeded || r.NeedsFullBackup || r.Err != nil || r.Applied[0] != res[0].Path || len(r.Applied) != 3 {
		t.Fatalf("reseed: %+v", r)
	}
	if p, s := count(t, primary, "sales"), count(t, standby, "sales"); p != s || p != 10 {
		t.Fatalf("after reseed: primary %d rows, standby %d, want 10", p, s)
	}
	if st := state(t, standby, "sales"); !st.IsInStandby || st.UserAccess != sqlserver.UserAccessMulti {
		t.Fatalf("standby after reseed: %+v", st)
	}
}

func TestReadersAreDisconnectedOrWaitedFor(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 1)
	g.backup(t, primary, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, primary, standby, dbs, settings, time.Now())

	ctx := testContext(t)
	conn, err := standby.app(t, "sales").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	read := func() (int64, error) {
		var n int64
		err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM dbo.orders").Scan(&n)
		return n, err
	}
	if n, err := read(); err != nil || n != 1 {
		t.Fatalf("reader: %d rows, %v", n, err)
	}
	insert(t, primary, "sales", 2)
	g.backup(t, primary, dbs, nil)

	// Without DisconnectUsers the reader wins: retry next run, chain intact.
	polite := settings
	polite.DisconnectUsers = false
	r := g.restore(t, primary, standby, dbs, polite, time.Now())[0]
	if !r.RetryLater || r.NeedsFullBackup || r.Err != nil || len(r.Applied) != 0 || r.Pending != 1 {
		t.Fatalf("restore with a reader, not disconnecting: %+v", r)
	}
	if n, err := read(); err != nil || n != 1 {
		t.Fatalf("reader after the polite run: %d rows, %v", n, err)
	}
	// With DisconnectUsers the restore goes through and the reader is cut.
	r = g.restore(t, primary, standby, dbs, settings, time.Now())[0]
	if r.RetryLater || r.Err != nil || len(r.Applied) != 1 {
		t.Fatalf("restore disconnecting readers: %+v", r)
	}
	if _, err := read(); err == nil {
		t.Fatal("the reader's session survived SINGLE_USER WITH ROLLBACK IMMEDIATE")
	}
	if st := state(t, standby, "sales"); st.UserAccess != sqlserver.UserAccessMulti || !st.IsInStandby {
		t.Fatalf("standby after the restore: %+v", st)
	}
	if got := count(t, standby, "sales"); got != 3 {
		t.Fatalf("standby: %d rows, want 3", got)
	}
}

func TestCopyLoginsKeepsSIDAndPassword(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	mustExec(t, primary.app(t, ""), "CREATE LOGIN [app_user] WITH PASSWORD = N'App-Passw0rd!', CHECK_POLICY = OFF")
	ctx := testContext(t)
	copies, err := CopyLogins(ctx, primary.client, standby.client)
	if err != nil || len(copies) != 1 || copies[0].Name != "app_user" || copies[0].Change != sqlserver.LoginCreated {
		t.Fatalf("copy logins: %+v, %v", copies, err)
	}
	again, err := CopyLogins(ctx, primary.client, standby.client)
	if err != nil || again[0].Change != sqlserver.LoginUnchanged {
		t.Fatalf("second copy: %+v, %v", again, err)
	}
	app, err := sqlserver.Open(simConfig(standby.srv, "app_user", "App-Passw0rd!"))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := app.Ping(ctx); err != nil {
		t.Fatalf("the copied login does not authenticate with its password: %v", err)
	}
	p, _ := primary.client.Logins(ctx)
	s, _ := standby.client.Logins(ctx)
	if len(p) != 1 || len(s) != 1 || string(p[0].SID) != string(s[0].SID) {
		t.Fatalf("SIDs differ: %v vs %v", p, s)
	}
}

func TestCandidatePositionRanksStandbysByData(t *testing.T) {
	primary, ahead, behind := startMember(t, "PRIMARY"), startMember(t, "AHEAD"), startMember(t, "BEHIND")
	g := newGroup(t)
	dbs := []string{"sales", "stock"}
	for _, db := range dbs {
		createDB(t, primary, db)
	}
	g.backup(t, primary, dbs, nil)
	settings := RestoreSettings{Mode: sqlserver.RestoreNoRecovery}
	g.restore(t, primary, ahead, dbs, settings, time.Now())
	g.restore(t, primary, behind, dbs, settings, time.Now())
	insert(t, primary, "stock", 1)
	g.backup(t, primary, dbs, nil)
	g.restore(t, primary, ahead, dbs, settings, time.Now())
	// behind restores only one database further: its position is the
	// lowest of its databases.
	g.restore(t, primary, behind, []string{"sales"}, settings, time.Now())

	ctx := testContext(t)
	pa, err := CandidatePosition(ctx, ahead.client, dbs)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := CandidatePosition(ctx, behind.client, dbs)
	if err != nil {
		t.Fatal(err)
	}
	if !pb.Less(pa) {
		t.Fatalf("positions: ahead %s, behind %s", pa, pb)
	}
	stock, _ := behind.client.RestoreState(ctx, "stock")
	if !pb.Equal(stock.RedoLSN) {
		t.Fatalf("behind's position %s is not its lowest redo point %s", pb, stock.RedoLSN)
	}
	// The primary has no position: its databases are not restoring.
	if _, err := CandidatePosition(ctx, primary.client, dbs); !errors.Is(err, ErrNotRestoring) {
		t.Fatalf("position of the primary: %v", err)
	}
}
