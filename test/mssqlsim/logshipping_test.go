package mssqlsim

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// shippingPair is a primary and a secondary simulator with a workload
// database on the primary.
type shippingPair struct {
	src, dst     *Server
	srcDB, dstDB *sql.DB // connected to master
	app          *sql.DB // connected to the workload database on src
	dir          string
}

func newShippingPair(t *testing.T) *shippingPair {
	t.Helper()
	p := &shippingPair{src: startSim(t), dst: startSim(t), dir: t.TempDir()}
	p.srcDB = openDB(t, p.src, "")
	p.dstDB = openDB(t, p.dst, "")
	mustExec(t, p.srcDB, "CREATE DATABASE [shop]; ALTER DATABASE [shop] SET RECOVERY FULL")
	p.app = openDB(t, p.src, "shop")
	mustExec(t, p.app, "CREATE TABLE dbo.orders (id INT IDENTITY(1,1) PRIMARY KEY, item NVARCHAR(100) NOT NULL, created DATETIME2 DEFAULT SYSUTCDATETIME())")
	mustExec(t, p.app, "CREATE TABLE dbo.heartbeat (id INT PRIMARY KEY, beat BIGINT NOT NULL)")
	mustExec(t, p.app, "INSERT INTO dbo.heartbeat (id, beat) VALUES (1, 0)")
	return p
}

func (p *shippingPair) path(name string) string { return filepath.Join(p.dir, name) }

func (p *shippingPair) insert(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		mustExec(t, p.app, "INSERT INTO dbo.orders (item) VALUES (@p1)", fmt.Sprintf("item-%d", i))
	}
	mustExec(t, p.app, "UPDATE dbo.heartbeat SET beat = beat + 1 WHERE id = 1")
}

func (p *shippingPair) count(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	return queryInt(t, db, "SELECT COUNT(*) FROM shop.dbo.orders")
}

func TestLogShippingWithStandby(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 5)
	mustExec(t, p.srcDB, "BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT, COMPRESSION, CHECKSUM, STATS = 10", p.path("full.bak"))
	undo := p.path("shop_undo.tuf")
	mustExec(t, p.dstDB, "RESTORE DATABASE [shop] FROM DISK = @p1 WITH STANDBY = @p2, REPLACE", p.path("full.bak"), undo)
	if got, want := p.count(t, p.dstDB), p.count(t, p.srcDB); got != want || got != 5 {
		t.Fatalf("after full restore: secondary %d rows, primary %d", got, want)
	}
	var standby, readOnly bool
	var state string
	if err := p.dstDB.QueryRow("SELECT state_desc, is_in_standby, is_read_only FROM sys.databases WHERE name = @p1", "shop").Scan(&state, &standby, &readOnly); err != nil {
		t.Fatal(err)
	}
	if state != "ONLINE" || !standby || !readOnly {
		t.Fatalf("secondary state=%s standby=%v readOnly=%v", state, standby, readOnly)
	}
	// Writes through a STANDBY database fail with 3906.
	_, err := p.dstDB.Exec("INSERT INTO shop.dbo.orders (item) VALUES (N'x')")
	if me := sqlError(t, err); me.Number != 3906 {
		t.Fatalf("write to standby: got %d, want 3906", me.Number)
	}
	for i := 1; i <= 3; i++ {
		p.insert(t, i)
		file := p.path(fmt.Sprintf("log%d.trn", i))
		mustExec(t, p.srcDB, "BACKUP LOG [shop] TO DISK = @p1 WITH INIT, COMPRESSION", file)
		mustExec(t, p.dstDB, "RESTORE LOG [shop] FROM DISK = @p1 WITH STANDBY = @p2", file, undo)
		if got, want := p.count(t, p.dstDB), p.count(t, p.srcDB); got != want {
			t.Fatalf("after log %d: secondary %d rows, primary %d", i, got, want)
		}
		if got := queryInt(t, p.dstDB, "SELECT beat FROM shop.dbo.heartbeat WHERE id = 1"); got != int64(i+1) {
			t.Fatalf("after log %d: heartbeat %d", i, got)
		}
	}
	// A STANDBY database is ONLINE (read-only): sys.master_files.redo_start_lsn is NULL there, as
	// Microsoft documents it for every state but RESTORING and RECOVERY_PENDING. Its position is the
	// last_lsn of the newest set in msdb.restorehistory, as numeric(25,0) strings.
	var lastLSN, restored string
	var redo sql.NullString
	if err := p.srcDB.QueryRow("SELECT TOP 1 bs.last_lsn FROM msdb.dbo.backupset bs JOIN msdb.dbo.backupmediafamily bmf ON bs.media_set_id = bmf.media_set_id WHERE bs.database_name = @p1 AND bs.type = 'L' ORDER BY bs.backup_finish_date DESC, bs.backup_set_id DESC", "shop").Scan(&lastLSN); err != nil {
		t.Fatal(err)
	}
	if err := p.dstDB.QueryRow("SELECT mf.redo_start_lsn FROM sys.master_files mf WHERE mf.database_id = DB_ID(@p1) AND mf.file_id = 1", "shop").Scan(&redo); err != nil {
		t.Fatal(err)
	}
	if redo.Valid {
		t.Fatalf("redo_start_lsn of a STANDBY database = %s, want NULL", redo.String)
	}
	if err := p.dstDB.QueryRow(`SELECT TOP 1 bs.last_lsn FROM msdb.dbo.restorehistory rh
		JOIN msdb.dbo.backupset bs ON rh.backup_set_id = bs.backup_set_id
		WHERE rh.destination_database_name = @p1 ORDER BY rh.restore_history_id DESC`, "shop").Scan(&restored); err != nil {
		t.Fatal(err)
	}
	if restored != lastLSN {
		t.Fatalf("restorehistory's newest last_lsn %s != last log backup last_lsn %s", restored, lastLSN)
	}
	var recStatus string
	if err := p.srcDB.QueryRow("SELECT CAST(last_log_backup_lsn AS NVARCHAR(40)) FROM sys.database_recovery_status WHERE database_id = DB_ID('shop')").Scan(&recStatus); err != nil {
		t.Fatal(err)
	}
	if recStatus != lastLSN {
		t.Fatalf("last_log_backup_lsn %s != backupset last_lsn %s", recStatus, lastLSN)
	}
	// restorehistory on the secondary names the restored files.
	var n int64
	if err := p.dstDB.QueryRow(`SELECT COUNT(*) FROM msdb.dbo.restorehistory rh
		JOIN msdb.dbo.backupset bs ON rh.backup_set_id = bs.backup_set_id
		JOIN msdb.dbo.backupmediafamily bmf ON bmf.media_set_id = bs.media_set_id
		WHERE rh.destination_database_name = N'shop' AND bmf.physical_device_name LIKE '%.trn'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("restorehistory log restores = %d, want 3", n)
	}
}

func TestLogRestoreLSNRules(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 2)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("full.bak"))
	for i := 1; i <= 3; i++ {
		p.insert(t, 1)
		mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path(fmt.Sprintf("log%d.trn", i)))
	}
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY", p.path("full.bak"))
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("log1.trn"))

	// Skipping log2: log3 is too recent.
	_, err := p.dstDB.Exec("RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("log3.trn"))
	me := sqlError(t, err)
	if me.Number != 3013 || !containsNumber(me, 4305) {
		t.Fatalf("skipped log: Number=%d All=%v, want 3013 with 4305", me.Number, errorNumbers(me))
	}
	if errorNumbers(me)[0] != 4305 {
		t.Fatalf("cause must come first: %v", errorNumbers(me))
	}
	// Replaying log1: too early.
	_, err = p.dstDB.Exec("RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("log1.trn"))
	me = sqlError(t, err)
	if me.Number != 3013 || !containsNumber(me, 4326) {
		t.Fatalf("replayed log: Number=%d All=%v, want 3013 with 4326", me.Number, errorNumbers(me))
	}
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("log2.trn"))
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("log3.trn"))
	mustExec(t, p.dstDB, "RESTORE DATABASE shop WITH RECOVERY")
	if got, want := p.count(t, p.dstDB), p.count(t, p.srcDB); got != want {
		t.Fatalf("after recovery: %d rows, want %d", got, want)
	}
	// Not restoring any more: 3117.
	_, err = p.dstDB.Exec("RESTORE LOG shop FROM DISK = @p1", p.path("log3.trn"))
	if me := sqlError(t, err); me.Number != 3013 || !containsNumber(me, 3117) {
		t.Fatalf("log restore on recovered db: %v", errorNumbers(me))
	}
}

func TestTailLogBackupAndFailover(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 3)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("full.bak"))
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH NORECOVERY", p.path("full.bak"))
	p.insert(t, 4)
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("log1.trn"))
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("log1.trn"))
	p.insert(t, 2) // not yet shipped
	want := p.count(t, p.srcDB)
	p.app.Close() // the application disconnects before the planned failover
	waitNoUsers(t, p.srcDB, "shop")

	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT, NORECOVERY", p.path("tail.trn"))
	if got := queryString(t, p.srcDB, "SELECT state_desc FROM sys.databases WHERE name = 'shop'"); got != "RESTORING" {
		t.Fatalf("source after tail-log backup: %s, want RESTORING", got)
	}
	var forceOffline bool
	if err := p.dstDB.QueryRow("SELECT 1").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	rows, err := p.dstDB.Query("RESTORE HEADERONLY FROM DISK = @p1", p.path("tail.trn"))
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatal("HEADERONLY returned no row")
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for i, c := range cols {
		if c == "IsForceOffline" {
			forceOffline = vals[i].(bool)
		}
		if c == "BackupType" && vals[i].(int64) != 2 {
			t.Fatalf("BackupType = %v, want 2", vals[i])
		}
	}
	if !forceOffline {
		t.Fatal("tail-log backup WITH NORECOVERY must have IsForceOffline = 1")
	}
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH NORECOVERY", p.path("tail.trn"))
	mustExec(t, p.dstDB, "RESTORE DATABASE shop WITH RECOVERY")
	if got := p.count(t, p.dstDB); got != want {
		t.Fatalf("rows lost in failover: secondary has %d, primary had %d", got, want)
	}
	// The new primary accepts writes.
	newApp := openDB(t, p.dst, "shop")
	mustExec(t, newApp, "INSERT INTO dbo.orders (item) VALUES (N'after failover')")
	if got := queryInt(t, newApp, "SELECT COUNT(*) FROM dbo.orders"); got != want+1 {
		t.Fatalf("after write on new primary: %d", got)
	}
}

func TestRestoreNeedsExclusiveAccess(t *testing.T) {
	p := newShippingPair(t)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("full.bak"))
	p.insert(t, 1)
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("log1.trn"))
	undo := p.path("undo.tuf")
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH STANDBY = @p2", p.path("full.bak"), undo)
	reader := openDB(t, p.dst, "shop")
	if n := queryInt(t, reader, "SELECT COUNT(*) FROM dbo.orders"); n != 0 {
		t.Fatalf("reader sees %d rows", n)
	}
	_, err := p.dstDB.Exec("RESTORE LOG shop FROM DISK = @p1 WITH STANDBY = @p2", p.path("log1.trn"), undo)
	me := sqlError(t, err)
	if me.Number != 3013 || !containsNumber(me, 3101) {
		t.Fatalf("restore with a reader connected: %v, want 3101 then 3013", errorNumbers(me))
	}
	// The restoring session itself must not use the database (3102).
	rconn, err := reader.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = rconn.ExecContext(t.Context(), "RESTORE LOG shop FROM DISK = @p1 WITH STANDBY = @p2", p.path("log1.trn"), undo)
	if me := sqlError(t, err); !containsNumber(me, 3102) {
		t.Fatalf("restore from a session in the database: %v, want 3102", errorNumbers(me))
	}
	rconn.Close()
	// Kicking readers out (as the operator does) lets the restore proceed.
	mustExec(t, p.dstDB, "ALTER DATABASE shop SET SINGLE_USER WITH ROLLBACK IMMEDIATE")
	mustExec(t, p.dstDB, "RESTORE LOG shop FROM DISK = @p1 WITH STANDBY = @p2", p.path("log1.trn"), undo)
	mustExec(t, p.dstDB, "ALTER DATABASE shop SET MULTI_USER")
	if got := p.count(t, p.dstDB); got != 1 {
		t.Fatalf("after restore: %d rows", got)
	}
}

func TestStandbyUndoFileMustExist(t *testing.T) {
	p := newShippingPair(t)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("full.bak"))
	mustExec(t, p.srcDB, "BACKUP LOG shop TO DISK = @p1 WITH INIT", p.path("log1.trn"))
	undo := p.path("undo.tuf")
	mustExec(t, p.dstDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH STANDBY = @p2", p.path("full.bak"), undo)
	if err := os.Remove(undo); err != nil {
		t.Fatal(err)
	}
	_, err := p.dstDB.Exec("RESTORE LOG shop FROM DISK = @p1 WITH STANDBY = @p2", p.path("log1.trn"), undo)
	if me := sqlError(t, err); me.Number != 3013 || !containsNumber(me, 3441) {
		t.Fatalf("missing undo file: %v, want 3441 then 3013", errorNumbers(me))
	}
}

func TestBackupErrors(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	dir := t.TempDir()
	mustExec(t, db, "CREATE DATABASE fulldb; CREATE DATABASE simpledb; ALTER DATABASE simpledb SET RECOVERY SIMPLE")
	tests := []struct {
		name  string
		setup string
		query string
		args  []any
		cause int32
		op    string
	}{
		{name: "no full backup", query: "BACKUP LOG fulldb TO DISK = @p1", args: []any{dir + "/a.trn"}, cause: 4214},
		{name: "simple recovery", query: "BACKUP LOG simpledb TO DISK = @p1", args: []any{dir + "/b.trn"}, cause: 4208},
		{name: "bad path", query: "BACKUP DATABASE fulldb TO DISK = @p1", args: []any{dir + "/missing/dir/c.bak"}, cause: 3201},
		{name: "in transaction", query: "BEGIN TRAN; BACKUP DATABASE fulldb TO DISK = @p1", args: []any{dir + "/d.bak"}, cause: 3021},
		{name: "no such database", query: "BACKUP DATABASE nosuch TO DISK = @p1", args: []any{dir + "/e.bak"}, cause: 911},
		{name: "url", query: "BACKUP DATABASE fulldb TO URL = 'https://example/x.bak'", cause: 3201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, err = conn.ExecContext(t.Context(), tc.query, tc.args...)
			me := sqlError(t, err)
			if me.Number != 3013 || !containsNumber(me, tc.cause) {
				t.Fatalf("%s: Number=%d All=%v, want %d then 3013", tc.query, me.Number, errorNumbers(me), tc.cause)
			}
		})
	}
}

func TestRestoreReplaceRules(t *testing.T) {
	p := newShippingPair(t)
	p.insert(t, 2)
	mustExec(t, p.srcDB, "BACKUP DATABASE shop TO DISK = @p1 WITH INIT", p.path("full.bak"))
	// 3159: restoring over an ONLINE FULL-recovery database whose tail was
	// not backed up.
	p.insert(t, 1)
	p.app.Close()
	waitNoUsers(t, p.srcDB, "shop")
	_, err := p.srcDB.Exec("RESTORE DATABASE shop FROM DISK = @p1", p.path("full.bak"))
	if me := sqlError(t, err); !containsNumber(me, 3159) || me.Number != 3013 {
		t.Fatalf("restore over live db: %v, want 3159", errorNumbers(me))
	}
	// 3154: the backup holds another database.
	mustExec(t, p.srcDB, "CREATE DATABASE other")
	_, err = p.srcDB.Exec("RESTORE DATABASE other FROM DISK = @p1", p.path("full.bak"))
	if me := sqlError(t, err); !containsNumber(me, 3154) {
		t.Fatalf("restore of another database's backup: %v, want 3154", errorNumbers(me))
	}
	// WITH REPLACE overrides both.
	mustExec(t, p.srcDB, "RESTORE DATABASE shop FROM DISK = @p1 WITH REPLACE", p.path("full.bak"))
	if got := p.count(t, p.srcDB); got != 2 {
		t.Fatalf("after REPLACE: %d rows, want 2", got)
	}
	mustExec(t, p.srcDB, "RESTORE DATABASE other FROM DISK = @p1 WITH REPLACE, MOVE N'shop' TO @p2, MOVE N'shop_log' TO @p3",
		p.path("full.bak"), p.path("other.mdf"), p.path("other_log.ldf"))
	if got := queryString(t, p.srcDB, "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('other') AND type_desc = 'ROWS'"); got != p.path("other.mdf") {
		t.Fatalf("MOVE: physical_name %q", got)
	}
}

func TestLoginsCopiedWithSameSID(t *testing.T) {
	p := newShippingPair(t)
	mustExec(t, p.srcDB, "CREATE LOGIN [app_user] WITH PASSWORD = N'App-Passw0rd!', CHECK_POLICY = OFF")
	var sid, hash []byte
	if err := p.srcDB.QueryRow("SELECT sid, password_hash FROM sys.sql_logins WHERE name = @p1", "app_user").Scan(&sid, &hash); err != nil {
		t.Fatal(err)
	}
	stmt := fmt.Sprintf("CREATE LOGIN [app_user] WITH PASSWORD = 0x%X HASHED, SID = 0x%X, CHECK_POLICY = OFF", hash, sid)
	mustExec(t, p.dstDB, stmt)
	var dstSID []byte
	if err := p.dstDB.QueryRow("SELECT sid FROM sys.sql_logins WHERE name = 'app_user'").Scan(&dstSID); err != nil {
		t.Fatal(err)
	}
	if string(dstSID) != string(sid) {
		t.Fatalf("SID differs: %x vs %x", dstSID, sid)
	}
	// The copied hash authenticates the same password on the secondary.
	db, err := sql.Open("sqlserver", p.dst.DSN("app_user", "App-Passw0rd!", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := queryString(t, db, "SELECT SUSER_SNAME()"); got != "app_user" {
		t.Fatalf("SUSER_SNAME() = %q", got)
	}
	_, err = p.dstDB.Exec(stmt)
	if me := sqlError(t, err); me.Number != 15025 {
		t.Fatalf("duplicate login: %d", me.Number)
	}
}
