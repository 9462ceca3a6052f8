package sqlserver

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestTailLogBackupFailoverLosesNoRows(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	s.insert(t, 3)
	seedStandby(t, primary, standby, "shop", dir, RestoreOptions{Mode: RestoreNoRecovery})
	s.insert(t, 2)
	shipLogs(t, primary, standby, "shop", dir, RestoreOptions{Mode: RestoreNoRecovery})
	s.insert(t, 4) // written after the last shipped log backup
	want := s.count(t, primary.client.db)

	ctx := testContext(t)
	// An application session inside the database blocks the tail-log
	// backup (it needs exclusive access) until it is disconnected.
	appInDB := openApp(t, primary.srv, "shop")
	if n := queryCount(t, appInDB, "SELECT COUNT(*) FROM dbo.orders"); n != want {
		t.Fatalf("app sees %d rows, want %d", n, want)
	}
	tail := filepath.Join(dir, "tail.trn")
	wantKind(t, primary.client.BackupLog(ctx, "shop", tail, BackupOptions{NoRecovery: true}), KindDatabaseInUse)
	killed, err := primary.client.DisconnectSessions(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("disconnected %d sessions, want 1", killed)
	}
	if err := primary.client.BackupLog(ctx, "shop", tail, BackupOptions{NoRecovery: true, Checksum: true}); err != nil {
		t.Fatalf("tail-log backup: %v", err)
	}
	st, err := primary.client.Database(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateRestoring {
		t.Fatalf("old primary after tail-log backup: %s, want RESTORING", st.Describe())
	}
	// The old primary now fails a primary health check, naming the state.
	err = primary.client.HealthCheck(ctx, []string{"shop"}, RolePrimary)
	var stateErr *DatabaseStateError
	if !errors.As(err, &stateErr) || stateErr.Database != "shop" || stateErr.Got != StateRestoring {
		t.Fatalf("old primary health: %v", err)
	}
	hs, err := standby.client.ReadHeader(ctx, tail)
	if err != nil {
		t.Fatal(err)
	}
	if !hs[0].IsForceOffline || hs[0].Type != BackupLog {
		t.Fatalf("tail header: %+v", hs[0])
	}
	rs, err := standby.client.RestoreState(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	apply, gap := PlanLogRestores(rs.RedoLSN, []BackupFile{hs[0].File(tail)}, time.Time{})
	if gap != nil || len(apply) != 1 {
		t.Fatalf("plan for tail: %v %v", apply, gap)
	}
	if err := standby.client.RestoreLog(ctx, "shop", tail, RestoreOptions{Mode: RestoreNoRecovery, Checksum: true}); err != nil {
		t.Fatal(err)
	}
	if err := standby.client.Recover(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := standby.client.HealthCheck(ctx, []string{"shop"}, RolePrimary); err != nil {
		t.Fatalf("new primary health: %v", err)
	}
	newApp := openApp(t, standby.srv, "")
	if got := s.count(t, newApp); got != want {
		t.Fatalf("new primary has %d rows, old primary had %d", got, want)
	}
	mustExec(t, newApp, "INSERT INTO shop.dbo.orders (item) VALUES (N'after failover')")
	if got := s.count(t, newApp); got != want+1 {
		t.Fatalf("after a write on the new primary: %d rows", got)
	}
}

func TestSingleUserDisconnectsReadersForRestore(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	s.insert(t, 1)
	undo := filepath.Join(dir, "shop.tuf")
	opts := RestoreOptions{Mode: RestoreStandby, UndoFile: undo}
	seedStandby(t, primary, standby, "shop", dir, opts)
	s.insert(t, 2)
	ctx := testContext(t)
	log := filepath.Join(dir, "log1.trn")
	if err := primary.client.BackupLog(ctx, "shop", log, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	// A reader inside the standby database, holding its connection.
	reader := openApp(t, standby.srv, "shop")
	conn, err := reader.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM dbo.orders").Scan(&n); err != nil || n != 1 {
		t.Fatalf("reader: %d rows, %v", n, err)
	}
	wantKind(t, standby.client.RestoreLog(ctx, "shop", log, opts), KindDatabaseInUse)

	if err := standby.client.SetSingleUser(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	// The reader's session was rolled back and closed.
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM dbo.orders").Scan(&n); err == nil {
		t.Fatal("reader still connected after SINGLE_USER WITH ROLLBACK IMMEDIATE")
	}
	st, err := standby.client.Database(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if st.UserAccess != UserAccessSingle {
		t.Fatalf("user access %s, want SINGLE_USER", st.UserAccess)
	}
	if err := standby.client.RestoreLog(ctx, "shop", log, opts); err != nil {
		t.Fatalf("restore after SINGLE_USER: %v", err)
	}
	if err := standby.client.SetMultiUser(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if st, err = standby.client.Database(ctx, "shop"); err != nil || st.UserAccess != UserAccessMulti {
		t.Fatalf("user access %s, %v; want MULTI_USER", st.UserAccess, err)
	}
	// Readers can come back.
	fresh := openApp(t, standby.srv, "shop")
	if got := queryCount(t, fresh, "SELECT COUNT(*) FROM dbo.orders"); got != 3 {
		t.Fatalf("reader after restore: %d rows, want 3", got)
	}
}

func TestSimpleRecoveryIsReportedAndFixed(t *testing.T) {
	primary := startInstance(t, "PRIMARY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	mustExec(t, s.app, "ALTER DATABASE shop SET RECOVERY SIMPLE")
	ctx := testContext(t)
	if err := primary.client.BackupDatabase(ctx, "shop", filepath.Join(dir, "full0.bak"), BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	err := primary.client.BackupLog(ctx, "shop", filepath.Join(dir, "log0.trn"), BackupOptions{})
	wantKind(t, err, KindSimpleRecovery)
	if !HasErrorNumber(err, ErrNumSimpleRecovery) {
		t.Fatalf("numbers %v, want 4208", ErrorNumbers(err))
	}
	previous, err := primary.client.EnsureFullRecovery(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if previous != RecoverySimple {
		t.Fatalf("previous recovery model %q, want SIMPLE", previous)
	}
	again, err := primary.client.EnsureFullRecovery(ctx, "shop")
	if err != nil || again != RecoveryFull {
		t.Fatalf("second EnsureFullRecovery: %q, %v; want FULL (no change)", again, err)
	}
	// The log chain starts with the next full backup.
	wantKind(t, primary.client.BackupLog(ctx, "shop", filepath.Join(dir, "log1.trn"), BackupOptions{}), KindNoFullBackup)
	if err := primary.client.BackupDatabase(ctx, "shop", filepath.Join(dir, "full1.bak"), BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := primary.client.BackupLog(ctx, "shop", filepath.Join(dir, "log2.trn"), BackupOptions{}); err != nil {
		t.Fatalf("log backup in FULL recovery: %v", err)
	}
}

func TestBackupToMissingDirectoryIsBackupDeviceKind(t *testing.T) {
	primary := startInstance(t, "PRIMARY")
	createShop(t, primary, "shop")
	ctx := testContext(t)
	dir := filepath.Join(backupDir(t), "missing", "deeper")
	err := primary.client.BackupDatabase(ctx, "shop", filepath.Join(dir, "full.bak"), BackupOptions{})
	wantKind(t, err, KindBackupDevice)
	// EnsureDirectory creates it (twice is fine), then the backup works.
	for i := 0; i < 2; i++ {
		if err := primary.client.EnsureDirectory(ctx, dir); err != nil {
			t.Fatalf("ensure directory (%d): %v", i, err)
		}
	}
	if err := primary.client.BackupDatabase(ctx, "shop", filepath.Join(dir, "full.bak"), BackupOptions{}); err != nil {
		t.Fatalf("backup after EnsureDirectory: %v", err)
	}
	wantKind(t, primary.client.EnsureDirectory(ctx, "relative/dir"), KindBackupDevice)
}

func TestRestoreReplaceRulesAreClassified(t *testing.T) {
	primary := startInstance(t, "PRIMARY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	s.insert(t, 2)
	ctx := testContext(t)
	full := filepath.Join(dir, "full.bak")
	if err := primary.client.BackupDatabase(ctx, "shop", full, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	s.insert(t, 1)
	// Over the live database whose tail was not backed up: 3159.
	wantKind(t, primary.client.RestoreDatabase(ctx, "shop", full, RestoreOptions{Mode: RestoreRecovery}), KindTailNotBackedUp)
	// Over another database: 3154.
	mustExec(t, s.app, "CREATE DATABASE other")
	wantKind(t, primary.client.RestoreDatabase(ctx, "other", full, RestoreOptions{Mode: RestoreRecovery}), KindBackupOfOtherDatabase)
	// WITH REPLACE and MOVE into the default paths.
	moves, err := primary.client.MoveToDefaultPaths(ctx, "other", full)
	if err != nil {
		t.Fatal(err)
	}
	if err := primary.client.RestoreDatabase(ctx, "other", full, RestoreOptions{Mode: RestoreRecovery, Replace: true, Move: moves}); err != nil {
		t.Fatal(err)
	}
	var physical string
	if err := s.app.QueryRowContext(ctx, "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('other') AND type_desc = 'ROWS'").Scan(&physical); err != nil {
		t.Fatal(err)
	}
	paths, err := primary.client.DefaultPaths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if physical != joinServerPath(paths.Data, "other.mdf") {
		t.Fatalf("data file moved to %q, want other.mdf in %q", physical, paths.Data)
	}
	if got := queryCount(t, s.app, "SELECT COUNT(*) FROM other.dbo.orders"); got != 2 {
		t.Fatalf("restored copy has %d rows, want 2", got)
	}
}

func TestHealthCheckRoles(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	dir := backupDir(t)
	createShop(t, primary, "shop")
	createShop(t, primary, "crm")
	seedStandby(t, primary, standby, "shop", dir, RestoreOptions{Mode: RestoreNoRecovery})
	seedStandby(t, primary, standby, "crm", dir, RestoreOptions{Mode: RestoreStandby, UndoFile: filepath.Join(dir, "crm.tuf")})
	ctx := testContext(t)
	dbs := []string{"shop", "crm"}
	if err := primary.client.HealthCheck(ctx, dbs, RolePrimary); err != nil {
		t.Fatalf("primary as primary: %v", err)
	}
	if err := standby.client.HealthCheck(ctx, dbs, RoleStandby); err != nil {
		t.Fatalf("standby as standby: %v", err)
	}
	tests := []struct {
		name     string
		client   *Client
		dbs      []string
		role     Role
		wantBad  map[string]string // database -> state reported
		wantKind Kind
	}{
		{name: "primary checked as standby", client: primary.client, dbs: dbs, role: RoleStandby,
			wantBad: map[string]string{"shop": StateOnline, "crm": StateOnline}, wantKind: KindUnexpectedState},
		{name: "standby checked as primary", client: standby.client, dbs: dbs, role: RolePrimary,
			wantBad: map[string]string{"shop": StateRestoring, "crm": "ONLINE (STANDBY)"}, wantKind: KindUnexpectedState},
		{name: "missing database", client: primary.client, dbs: []string{"shop", "nosuch"}, role: RolePrimary,
			wantBad: map[string]string{"nosuch": StateMissing}, wantKind: KindUnexpectedState},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.client.HealthCheck(ctx, tc.dbs, tc.role)
			wantKind(t, err, tc.wantKind)
			got := map[string]string{}
			for _, e := range flatten(err) {
				var se *DatabaseStateError
				if errors.As(e, &se) {
					got[se.Database] = se.Got
				}
			}
			if len(got) != len(tc.wantBad) {
				t.Fatalf("reported %v, want %v (error: %v)", got, tc.wantBad, err)
			}
			for db, state := range tc.wantBad {
				if got[db] != state {
					t.Fatalf("database %s reported as %q, want %q (error: %v)", db, got[db], state, err)
				}
			}
		})
	}
	// A stopped server is unreachable.
	standby.srv.Close()
	wantKind(t, standby.client.HealthCheck(ctx, dbs, RoleStandby), KindUnreachable)
}

// flatten returns the leaves of a tree of joined/wrapped errors.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range u.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			if _, ok := err.(*DatabaseStateError); !ok {
				return flatten(inner)
			}
		}
	}
	return []error{err}
}
