package sqlserver

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// shipLogs backs up the log of db on primary into dir, plans the restores
// for standby from the primary's backup history and the standby's redo
// point, and applies them in mode. It returns the files applied.
func shipLogs(t *testing.T, primary, standby *simInstance, db, dir string, opts RestoreOptions) []BackupFile {
	t.Helper()
	ctx := testContext(t)
	st, err := primary.client.Database(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	path, err := BackupPath(dir, "ns", "group", db, time.Now(), st.LastLogBackupLSN, BackupLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := primary.client.BackupLog(ctx, db, path, BackupOptions{Compression: true, Checksum: true}); err != nil {
		t.Fatalf("backup log: %v", err)
	}
	history, err := primary.client.BackupHistory(ctx, db, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := standby.client.RestoreState(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if rs.RedoLSN.IsZero() {
		t.Fatalf("standby %s has no redo point: %+v", db, rs)
	}
	files := make([]BackupFile, len(history))
	for i, h := range history {
		files[i] = h.BackupFile
	}
	apply, gap := PlanLogRestores(rs.RedoLSN, files, time.Time{})
	if gap != nil {
		t.Fatalf("unexpected gap: %v", gap)
	}
	for _, f := range apply {
		if err := standby.client.RestoreLog(ctx, db, f.Path, opts); err != nil {
			t.Fatalf("restore %s: %v", f.Path, err)
		}
	}
	return apply
}

// seedStandby takes a full backup of db on primary into dir and restores it
// on standby in opts' mode, with files moved to the standby's default
// paths. It returns the full backup's path.
func seedStandby(t *testing.T, primary, standby *simInstance, db, dir string, opts RestoreOptions) string {
	t.Helper()
	ctx := testContext(t)
	dbDir, err := BackupDir(dir, "ns", "group", db)
	if err != nil {
		t.Fatal(err)
	}
	// The server creates the directory: the operator cannot reach its
	// volume.
	if err := primary.client.EnsureDirectory(ctx, dbDir); err != nil {
		t.Fatalf("ensure directory: %v", err)
	}
	path, err := BackupPath(dir, "ns", "group", db, time.Now(), LSN{}, BackupFull)
	if err != nil {
		t.Fatal(err)
	}
	if err := primary.client.BackupDatabase(ctx, db, path, BackupOptions{Compression: true, Checksum: true}); err != nil {
		t.Fatalf("backup database: %v", err)
	}
	moves, err := standby.client.MoveToDefaultPaths(ctx, db, path)
	if err != nil {
		t.Fatalf("move to default paths: %v", err)
	}
	opts.Move = moves
	if err := standby.client.RestoreDatabase(ctx, db, path, opts); err != nil {
		t.Fatalf("restore database: %v", err)
	}
	return path
}

func TestLogShippingWithStandbyKeepsRowCountsEqual(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	s.insert(t, 3)
	undo := filepath.Join(dir, "shop.tuf")
	standbyOpts := RestoreOptions{Mode: RestoreStandby, UndoFile: undo, Checksum: true}
	seedStandby(t, primary, standby, "shop", dir, standbyOpts)

	reader := openApp(t, standby.srv, "")
	if got := s.count(t, reader); got != 3 {
		t.Fatalf("standby after seeding: %d rows, want 3", got)
	}
	ctx := testContext(t)
	if err := standby.client.HealthCheck(ctx, []string{"shop"}, RoleStandby); err != nil {
		t.Fatalf("standby health: %v", err)
	}
	for round := 1; round <= 3; round++ {
		s.insert(t, round)
		// Readers must leave the standby database for a restore.
		applied := shipLogs(t, primary, standby, "shop", dir, standbyOpts)
		if len(applied) != 1 {
			t.Fatalf("round %d: applied %d files, want 1", round, len(applied))
		}
		if got, want := s.count(t, reader), s.count(t, primary.client.db); got != want {
			t.Fatalf("round %d: standby has %d rows, primary %d", round, got, want)
		}
	}
	// The standby database is read-only: writes fail with KindReadOnly.
	_, err := reader.ExecContext(ctx, "INSERT INTO shop.dbo.orders (item) VALUES (N'x')")
	wantKind(t, err, KindReadOnly)

	rs, err := standby.client.RestoreState(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	pst, err := primary.client.Database(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if !rs.RedoLSN.Equal(pst.LastLogBackupLSN) {
		t.Fatalf("standby redo %s != primary last_log_backup_lsn %s", rs.RedoLSN, pst.LastLogBackupLSN)
	}
	if rs.LastRestoredType != BackupLog || filepath.Ext(rs.LastRestoredFile) != ".trn" || rs.LastRestoredAt.IsZero() {
		t.Fatalf("last restore not recorded: %+v", rs)
	}
	if !rs.Database.IsInStandby || rs.Database.State != StateOnline {
		t.Fatalf("standby state: %+v", rs.Database)
	}
	// msdb on the standby records the restored sets too; they are not
	// backups taken there.
	restored, err := standby.client.BackupHistory(ctx, "shop", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(restored) != 0 {
		t.Fatalf("standby backup history lists restored sets: %+v", restored)
	}
	taken, err := primary.client.BackupHistory(ctx, "shop", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(taken) != 4 || taken[0].Type != BackupFull || taken[0].ServerName != "PRIMARY" {
		t.Fatalf("primary backup history: %+v", taken)
	}
}

func TestNoRecoveryStandbyIsNotReadable(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	s.insert(t, 2)
	seedStandby(t, primary, standby, "shop", dir, RestoreOptions{Mode: RestoreNoRecovery})
	s.insert(t, 2)
	shipLogs(t, primary, standby, "shop", dir, RestoreOptions{Mode: RestoreNoRecovery})

	ctx := testContext(t)
	st, err := standby.client.Database(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateRestoring || !st.Restoring() || st.Writable() {
		t.Fatalf("state after NORECOVERY restores: %+v", st)
	}
	reader := openApp(t, standby.srv, "")
	_, err = reader.ExecContext(ctx, "SELECT COUNT(*) FROM shop.dbo.orders")
	wantKind(t, err, KindDatabaseUnavailable)
	// Connecting to the database directly fails as well (927 behind 18456).
	direct, err := Open(Config{Host: standby.srv.Host(), Port: standby.srv.Port(), Username: "sa", Password: simPassword,
		Encrypt: EncryptDisable, Database: "shop", ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	wantKind(t, direct.Ping(ctx), KindDatabaseUnavailable)

	rs, err := standby.client.RestoreState(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if rs.RedoSource != RedoFromMasterFiles || rs.RedoLSN.IsZero() || !rs.RedoLSN.Equal(rs.LastRestoredLastLSN) {
		t.Fatalf("restore state: %+v", rs)
	}
}

func TestSkippedAndReplayedLogsAreClassified(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	seedStandby(t, primary, standby, "shop", dir, RestoreOptions{Mode: RestoreNoRecovery})
	ctx := testContext(t)
	var logs []string
	for i := 1; i <= 3; i++ {
		s.insert(t, 1)
		p := filepath.Join(dir, fmt.Sprintf("log%d.trn", i))
		if err := primary.client.BackupLog(ctx, "shop", p, BackupOptions{}); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, p)
	}
	if err := standby.client.RestoreLog(ctx, "shop", logs[0], RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	// Skipping log2: 4305 behind 3013.
	err := standby.client.RestoreLog(ctx, "shop", logs[2], RestoreOptions{})
	wantKind(t, err, KindLogTooRecent)
	if !HasErrorNumber(err, ErrNumTerminating) || !HasErrorNumber(err, ErrNumLogTooRecent) {
		t.Fatalf("numbers %v, want 4305 and 3013", ErrorNumbers(err))
	}
	// The planner sees the same gap from the headers.
	var files []BackupFile
	for _, p := range []string{logs[0], logs[2]} {
		hs, err := standby.client.ReadHeader(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, hs[0].File(p))
	}
	rs, err := standby.client.RestoreState(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	apply, gap := PlanLogRestores(rs.RedoLSN, files, time.Time{})
	if len(apply) != 0 || gap == nil || gap.NextFile != logs[2] || !gap.Redo.Equal(rs.RedoLSN) {
		t.Fatalf("plan after skipped file: apply=%v gap=%v", apply, gap)
	}
	// Replaying log1: 4326.
	wantKind(t, standby.client.RestoreLog(ctx, "shop", logs[0], RestoreOptions{}), KindLogTooEarly)
	for _, p := range logs[1:] {
		if err := standby.client.RestoreLog(ctx, "shop", p, RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := standby.client.Recover(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	// Recover is idempotent.
	if err := standby.client.Recover(ctx, "shop"); err != nil {
		t.Fatalf("second Recover: %v", err)
	}
	// A recovered database takes no more logs: 3117.
	wantKind(t, standby.client.RestoreLog(ctx, "shop", logs[2], RestoreOptions{}), KindNotRestoring)
}

func TestReadHeaderDescribesFullAndLogBackups(t *testing.T) {
	primary := startInstance(t, "PRIMARY")
	dir := backupDir(t)
	s := createShop(t, primary, "shop")
	s.insert(t, 1)
	ctx := testContext(t)
	full := filepath.Join(dir, "full.bak")
	if err := primary.client.BackupDatabase(ctx, "shop", full, BackupOptions{Checksum: true, Compression: true}); err != nil {
		t.Fatal(err)
	}
	s.insert(t, 1)
	log := filepath.Join(dir, "log.trn")
	if err := primary.client.BackupLog(ctx, "shop", log, BackupOptions{CopyOnly: true}); err != nil {
		t.Fatal(err)
	}
	fh, err := primary.client.ReadHeader(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	lh, err := primary.client.ReadHeader(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(fh) != 1 || len(lh) != 1 {
		t.Fatalf("sets: full %d, log %d", len(fh), len(lh))
	}
	f, l := fh[0], lh[0]
	if f.Type != BackupFull || f.DatabaseName != "shop" || f.Position != 1 || !f.HasBackupChecksums || !f.Compressed || f.IsCopyOnly {
		t.Fatalf("full header: %+v", f)
	}
	if l.Type != BackupLog || !l.IsCopyOnly || l.IsForceOffline {
		t.Fatalf("log header: %+v", l)
	}
	if !f.FirstLSN.Less(f.LastLSN) || !l.FirstLSN.Less(l.LastLSN) || !f.LastLSN.Less(l.LastLSN) {
		t.Fatalf("LSN ranges: full [%s,%s) log [%s,%s)", f.FirstLSN, f.LastLSN, l.FirstLSN, l.LastLSN)
	}
	if f.BackupFinishDate.IsZero() || f.BackupFinishDate.Before(f.BackupStartDate) {
		t.Fatalf("full dates: %v .. %v", f.BackupStartDate, f.BackupFinishDate)
	}
	// A COPY_ONLY log backup does not move last_log_backup_lsn.
	st, err := primary.client.Database(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if !st.LastLogBackupLSN.IsZero() {
		t.Fatalf("last_log_backup_lsn after copy-only log backup: %s", st.LastLogBackupLSN)
	}
	history, err := primary.client.BackupHistory(ctx, "shop", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[0].Type != BackupFull || history[0].Path != full || history[1].Path != log || !history[1].IsCopyOnly {
		t.Fatalf("history: %+v", history)
	}
	if !history[0].LastLSN.Equal(f.LastLSN) || history[0].FinishedAt.IsZero() {
		t.Fatalf("history LSN %s vs header %s", history[0].LastLSN, f.LastLSN)
	}
	// A zero since means the whole history.
	all, err := primary.client.BackupHistory(ctx, "shop", time.Time{})
	if err != nil || len(all) != 2 {
		t.Fatalf("whole history: %d records, %v", len(all), err)
	}
	// Backups that finished before since are left out.
	later, err := primary.client.BackupHistory(ctx, "shop", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(later) != 0 {
		t.Fatalf("history since the future: %+v", later)
	}
}
