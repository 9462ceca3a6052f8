package mssqlsim

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

const leastPassword = "Least-Passw0rd!"

// permFixture is a simulator with database Sales (a full backup taken),
// a restoring copy SalesCopy, an application login app and a sysadmin
// login dba.
type permFixture struct {
	srv     *Server
	sa      *sql.DB
	dir     string
	full    string
	session int64 // an application session another login may KILL
}

func newPermFixture(t *testing.T) *permFixture {
	t.Helper()
	srv := startSim(t)
	f := &permFixture{srv: srv, sa: openDB(t, srv, ""), dir: t.TempDir()}
	f.full = filepath.Join(f.dir, "sales.bak")
	mustExec(t, f.sa, "CREATE DATABASE Sales")
	mustExec(t, f.sa, "CREATE TABLE Sales.dbo.orders (id INT PRIMARY KEY)")
	mustExec(t, f.sa, "BACKUP DATABASE Sales TO DISK = @p1 WITH INIT", f.full)
	mustExec(t, f.sa, "RESTORE DATABASE SalesCopy FROM DISK = @p1 WITH NORECOVERY", f.full)
	mustExec(t, f.sa, "CREATE LOGIN app WITH PASSWORD = 'App-Passw0rd!'")
	mustExec(t, f.sa, "CREATE LOGIN dba WITH PASSWORD = 'Dba-Passw0rd!'")
	mustExec(t, f.sa, "ALTER SERVER ROLE sysadmin ADD MEMBER dba")
	app := openDBAs(t, srv, "app", "App-Passw0rd!", "Sales")
	f.session = queryInt(t, app, "SELECT @@SPID")
	return f
}

// openDBAs opens a pool logged in as user, with one connection so that
// @@SPID and USE are stable.
func openDBAs(t *testing.T, srv *Server, user, password, database string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlserver", srv.DSN(user, password, database))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("log in as %s: %v", user, err)
	}
	return db
}

// newLogin creates a login without any grant and returns a pool logged in as it.
func (f *permFixture) newLogin(t *testing.T, name string, setup []string) *sql.DB {
	t.Helper()
	mustExec(t, f.sa, fmt.Sprintf("CREATE LOGIN [%s] WITH PASSWORD = '%s', CHECK_POLICY = OFF", name, leastPassword))
	conn, err := f.sa.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range setup {
		mustExec(t, conn, fmt.Sprintf(s, name))
	}
	mustExec(t, conn, "USE master")
	return openDBAs(t, f.srv, name, leastPassword, "master")
}

// Each statement the operator sends, run by a login without the grant it
// needs (SQL Server's error) and by one with exactly that grant.
func TestPermissionsOfTheOperatorsStatements(t *testing.T) {
	f := newPermFixture(t)
	subdir := filepath.Join(f.dir, "made", "by", "xp")
	for i, tc := range []struct {
		name  string
		grant []string // %s is the login; run by sa in one session
		query string
		args  func() []any
		want  int32 // error number without the grant
	}{
		{"BACKUP DATABASE", []string{"USE Sales; CREATE USER [%[1]s] FOR LOGIN [%[1]s]", "ALTER ROLE db_backupoperator ADD MEMBER [%s]"},
			"BACKUP DATABASE Sales TO DISK = @p1 WITH INIT", func() []any { return []any{filepath.Join(f.dir, "full.bak")} }, 262},
		{"BACKUP LOG", []string{"USE Sales; CREATE USER [%[1]s] FOR LOGIN [%[1]s]", "ALTER ROLE db_owner ADD MEMBER [%s]"},
			"BACKUP LOG Sales TO DISK = @p1 WITH INIT", func() []any { return []any{filepath.Join(f.dir, "log.trn")} }, 262},
		{"RESTORE HEADERONLY", []string{"ALTER SERVER ROLE dbcreator ADD MEMBER [%s]"},
			"RESTORE HEADERONLY FROM DISK = @p1", func() []any { return []any{f.full} }, 262},
		{"RESTORE DATABASE over an existing database", []string{"ALTER SERVER ROLE dbcreator ADD MEMBER [%s]"},
			"RESTORE DATABASE SalesCopy FROM DISK = @p1 WITH NORECOVERY, REPLACE", func() []any { return []any{f.full} }, 3110},
		{"RESTORE DATABASE of a new database", []string{"GRANT CREATE ANY DATABASE TO [%s]"},
			"RESTORE DATABASE SalesNew FROM DISK = @p1 WITH NORECOVERY", func() []any { return []any{f.full} }, 262},
		{"ALTER DATABASE SET", []string{"GRANT ALTER ANY DATABASE TO [%s]"},
			"ALTER DATABASE Sales SET RECOVERY FULL", nil, 5011},
		{"KILL", []string{"GRANT ALTER ANY CONNECTION TO [%s]"},
			"KILL " + fmt.Sprint(f.session), nil, 6102},
		{"sys.dm_tran_locks", []string{"GRANT VIEW SERVER STATE TO [%s]"},
			"SELECT COUNT(*) FROM sys.dm_tran_locks", nil, 300},
		{"CREATE LOGIN", []string{"GRANT ALTER ANY LOGIN TO [%s]"},
			"CREATE LOGIN copied WITH PASSWORD = 0x0200" + fmt.Sprintf("%0136X", 1) + " HASHED, SID = 0x0A0B01, CHECK_POLICY = OFF", nil, 15247},
		{"ALTER LOGIN", []string{"GRANT ALTER ANY LOGIN TO [%s]"},
			"ALTER LOGIN app DISABLE", nil, 15151},
		{"ALTER LOGIN of a sysadmin login", []string{"GRANT ALTER ANY LOGIN TO [%s]", "GRANT CONTROL SERVER TO [%s]"},
			"ALTER LOGIN dba WITH PASSWORD = 0x0200" + fmt.Sprintf("%0136X", 2) + " HASHED", nil, 15247},
		{"xp_create_subdir", []string{"USE master; CREATE USER [%[1]s] FOR LOGIN [%[1]s]", "GRANT EXECUTE ON sys.xp_create_subdir TO [%s]"},
			"EXEC master.sys.xp_create_subdir @p1", func() []any { return []any{subdir} }, 229},
		{"msdb.dbo.backupset", []string{"USE msdb; CREATE USER [%[1]s] FOR LOGIN [%[1]s]", "GRANT SELECT ON dbo.backupset TO [%s]"},
			"SELECT COUNT(*) FROM msdb.dbo.backupset", nil, 229},
		{"sp_delete_backuphistory", []string{"USE msdb; CREATE USER [%[1]s] FOR LOGIN [%[1]s]", "GRANT EXECUTE ON dbo.sp_delete_backuphistory TO [%s]"},
			"EXEC msdb.dbo.sp_delete_backuphistory @oldest_date = @p1", func() []any { return []any{"2000-01-01"} }, 229},
		{"sp_delete_backuphistory as db_owner of msdb", []string{"USE msdb; CREATE USER [%[1]s] FOR LOGIN [%[1]s]", "ALTER ROLE db_owner ADD MEMBER [%s]"},
			"EXEC msdb.dbo.sp_delete_backuphistory @p1", func() []any { return []any{"2000-01-01"} }, 229},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query := tc.query
			var args []any
			if tc.args != nil {
				args = tc.args()
			}
			login := fmt.Sprintf("least%d", i)
			// The grant minus its last statement is the setup of the
			// login that lacks it (the user exists, the role does not).
			without := f.newLogin(t, login+"x", tc.grant[:len(tc.grant)-1])
			_, err := without.ExecContext(context.Background(), query, args...)
			if err == nil {
				t.Fatalf("%s without %q succeeded", tc.name, tc.grant[len(tc.grant)-1])
			}
			if e := sqlError(t, err); errorNumbers(e)[0] != tc.want {
				t.Fatalf("%s without the grant: errors %v (%v), want %d first", tc.name, errorNumbers(e), e, tc.want)
			}
			with := f.newLogin(t, login, tc.grant)
			if _, err := with.ExecContext(context.Background(), query, args...); err != nil {
				t.Fatalf("%s with %q: %v", tc.name, tc.grant, err)
			}
		})
	}
}

// Views the operator reads hide what the login may not see, as SQL
// Server does, instead of failing.
func TestPermissionsHideRowsAndHashes(t *testing.T) {
	f := newPermFixture(t)
	plain := f.newLogin(t, "plain", nil)
	if n := queryInt(t, plain, "SELECT COUNT(*) FROM sys.sql_logins"); n != 1 {
		t.Fatalf("a login without ALTER ANY LOGIN sees %d logins, want only its own", n)
	}
	if n := queryInt(t, plain, "SELECT COUNT(*) FROM sys.dm_exec_sessions"); n != 1 {
		t.Fatalf("a login without VIEW SERVER STATE sees %d sessions, want only its own", n)
	}
	if n := queryInt(t, plain, "SELECT COUNT(*) FROM sys.master_files"); n != 0 {
		t.Fatalf("a login without CREATE/ALTER ANY DATABASE sees %d rows of sys.master_files", n)
	}
	lister := f.newLogin(t, "lister", []string{"GRANT ALTER ANY LOGIN TO [%s]", "GRANT VIEW SERVER STATE TO [%s]", "ALTER SERVER ROLE dbcreator ADD MEMBER [%s]"})
	if n := queryInt(t, lister, "SELECT COUNT(*) FROM sys.sql_logins WHERE password_hash IS NULL"); n < 4 {
		t.Fatalf("without VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION, %d hashes are NULL, want all", n)
	}
	if n := queryInt(t, lister, "SELECT COUNT(*) FROM sys.dm_exec_sessions"); n < 2 {
		t.Fatalf("with VIEW SERVER STATE a login sees %d sessions, want every one", n)
	}
	if n := queryInt(t, lister, "SELECT COUNT(*) FROM sys.master_files WHERE database_id = DB_ID('Sales')"); n != 2 {
		t.Fatalf("a dbcreator sees %d files of Sales, want 2", n)
	}
	reader := f.newLogin(t, "reader", []string{"GRANT ALTER ANY LOGIN TO [%s]", "GRANT VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION TO [%s]"})
	if n := queryInt(t, reader, "SELECT COUNT(*) FROM sys.sql_logins WHERE password_hash IS NULL"); n != 0 {
		t.Fatalf("with VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION, %d hashes are NULL", n)
	}
}

// A database user travels with the database: restored on an instance
// where its login has the same SID it keeps its role; where the login has
// another SID the user is orphaned and BACKUP is refused.
func TestDatabaseUsersTravelByBackupAndAreOrphanedWithoutTheSameSID(t *testing.T) {
	a, same, other := newPermFixture(t), startSim(t), startSim(t)
	const sid = "0x5A17E00000000000000000000000BEEF"
	mustExec(t, a.sa, "CREATE LOGIN op WITH PASSWORD = '"+leastPassword+"', SID = "+sid+", CHECK_POLICY = OFF")
	mustExec(t, a.sa, "USE Sales; CREATE USER op FOR LOGIN op; ALTER ROLE db_backupoperator ADD MEMBER op; USE master")
	mustExec(t, a.sa, "BACKUP DATABASE Sales TO DISK = @p1 WITH INIT", a.full)
	for _, tc := range []struct {
		name  string
		srv   *Server
		sid   string
		want  int32
		extra string
	}{
		{"same SID", same, ", SID = " + sid, 0, ""},
		{"another SID", other, "", 262, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sa := openDB(t, tc.srv, "")
			mustExec(t, sa, "CREATE LOGIN op WITH PASSWORD = '"+leastPassword+"'"+tc.sid+", CHECK_POLICY = OFF")
			mustExec(t, sa, "RESTORE DATABASE Sales FROM DISK = @p1 WITH RECOVERY", a.full)
			if n := queryInt(t, sa, "SELECT COUNT(*) FROM Sales.sys.database_principals WHERE name = 'op'"); n != 1 {
				t.Fatalf("the restored database has %d users op, want 1", n)
			}
			op := openDBAs(t, tc.srv, "op", leastPassword, "master")
			_, err := op.ExecContext(context.Background(), "BACKUP DATABASE Sales TO DISK = @p1 WITH INIT", filepath.Join(t.TempDir(), "b.bak"))
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("backup by the same-SID login: %v", err)
			case tc.want != 0 && err == nil:
				t.Fatal("backup by a login whose user is orphaned succeeded")
			case tc.want != 0:
				if e := sqlError(t, err); errorNumbers(e)[0] != tc.want || !containsNumber(e, 3013) {
					t.Fatalf("backup by an orphaned user's login: %v, want %d then 3013", errorNumbers(e), tc.want)
				}
			}
		})
	}
}

// Grants and users survive a restart of the simulator.
func TestPermissionsArePersisted(t *testing.T) {
	dir := t.TempDir()
	srv := startSim(t, dir)
	sa := openDB(t, srv, "")
	mustExec(t, sa, "CREATE DATABASE Sales")
	mustExec(t, sa, "CREATE LOGIN op WITH PASSWORD = '"+leastPassword+"', CHECK_POLICY = OFF")
	mustExec(t, sa, "GRANT VIEW SERVER STATE, ALTER ANY CONNECTION TO op")
	mustExec(t, sa, "ALTER SERVER ROLE dbcreator ADD MEMBER op")
	mustExec(t, sa, "USE Sales; CREATE USER op FOR LOGIN op; ALTER ROLE db_backupoperator ADD MEMBER op; USE master")
	sa.Close()
	srv.Close()
	srv = startSim(t, dir)
	op := openDBAs(t, srv, "op", leastPassword, "master")
	if _, err := op.ExecContext(context.Background(), "SELECT COUNT(*) FROM sys.dm_tran_locks"); err != nil {
		t.Fatalf("sys.dm_tran_locks with VIEW SERVER STATE after a restart: %v", err)
	}
	// dbcreator passes the permission check: the missing file is what fails.
	_, err := op.ExecContext(context.Background(), "RESTORE HEADERONLY FROM DISK = @p1", filepath.Join(dir, "none.bak"))
	if err == nil || containsNumber(sqlError(t, err), 262) {
		t.Fatalf("RESTORE HEADERONLY by a dbcreator after a restart: %v, want a device error", err)
	}
	if _, err := op.ExecContext(context.Background(), "BACKUP DATABASE Sales TO DISK = @p1", filepath.Join(dir, "s.bak")); err != nil {
		t.Fatalf("backup by the db_backupoperator after a restart: %v", err)
	}
	mustExec(t, openDB(t, srv, ""), "REVOKE VIEW SERVER STATE FROM op")
	if _, err := op.ExecContext(context.Background(), "SELECT COUNT(*) FROM sys.dm_tran_locks"); err == nil || !containsNumber(sqlError(t, err), 300) {
		t.Fatalf("sys.dm_tran_locks after REVOKE VIEW SERVER STATE: %v, want 300", err)
	}
}

func TestPermissionFunctions(t *testing.T) {
	f := newPermFixture(t)
	op := f.newLogin(t, "fn", []string{"GRANT VIEW SERVER STATE TO [%s]", "ALTER SERVER ROLE dbcreator ADD MEMBER [%s]"})
	for _, tc := range []struct {
		query string
		want  sql.NullInt64
	}{
		{"SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')", sql.NullInt64{Int64: 1, Valid: true}},
		{"SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'view server performance state')", sql.NullInt64{Int64: 1, Valid: true}},
		{"SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'CREATE ANY DATABASE')", sql.NullInt64{Int64: 1, Valid: true}},
		{"SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY LOGIN')", sql.NullInt64{Int64: 0, Valid: true}},
		{"SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'NO SUCH PERMISSION')", sql.NullInt64{}},
		{"SELECT IS_SRVROLEMEMBER('dbcreator')", sql.NullInt64{Int64: 1, Valid: true}},
		{"SELECT IS_SRVROLEMEMBER('sysadmin')", sql.NullInt64{Int64: 0, Valid: true}},
		{"SELECT IS_SRVROLEMEMBER('sysadmin', 'dba')", sql.NullInt64{Int64: 1, Valid: true}},
		{"SELECT IS_SRVROLEMEMBER('sysadmin', 'sa')", sql.NullInt64{Int64: 1, Valid: true}},
		{"SELECT IS_SRVROLEMEMBER('nosuchrole')", sql.NullInt64{}},
	} {
		var got sql.NullInt64
		if err := op.QueryRow(tc.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if got != tc.want {
			t.Errorf("%s = %v, want %v", tc.query, got, tc.want)
		}
	}
}
