package logshipping

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
	"github.com/understudy-dev/understudy/test/sqlcmd"
)

// The least-privilege login of config/samples/sqlserver-operator-login.sql
// and sqlserver-operator-database.sql, run as they are shipped (the way
// sqlcmd runs them: test/sqlcmd) against two simulators, each of which has the
// permission model of SQL Server for the operator's statements.

const (
	operatorLogin    = "understudy"
	operatorPassword = "Operator-Pa55word!"
	loginScript      = "sqlserver-operator-login.sql"
	databaseScript   = "sqlserver-operator-database.sql"
)

// runScript runs config/samples/<name> on pool as sqlcmd -b does
// (test/sqlcmd), with the variables vars. A non-comment line containing
// drop (exactly one must) is left out.
func runScript(t *testing.T, pool *sql.DB, name string, vars map[string]string, drop string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	dropped := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if drop != "" && !strings.HasPrefix(strings.TrimSpace(line), "--") && strings.Contains(line, drop) {
			dropped++
			continue
		}
		kept = append(kept, line)
	}
	if drop != "" && dropped != 1 {
		t.Fatalf("%s: %d statements contain %q, want 1", name, dropped, drop)
	}
	ctx := testContext(t)
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	if err := sqlcmd.Run(ctx, conn, strings.Join(kept, "\n"), lookup); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// newSID is a SID chosen once for every member, as the docs say.
func newSID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "0x" + strings.ToUpper(hex.EncodeToString(b))
}

// leastPrivilege is a group of two members whose operator login was made
// by the scripts, with the clients the operator opens as that login.
type leastPrivilege struct {
	a, b     *member
	opA, opB *sqlserver.Client
	g        *group
	dbs      []string
}

// setUpLeastPrivilege creates databases on a, runs the login script on
// both members (the SID of b's login is sidB, normally the same as a's)
// and the database script on a, leaving out the statement containing drop
// ("sqlserver-operator-database.sql:..." for one of the database script).
func setUpLeastPrivilege(t *testing.T, drop string, sidB string) *leastPrivilege {
	t.Helper()
	lp := &leastPrivilege{a: startMember(t, "A"), b: startMember(t, "B"), g: newGroupSeeing(t, false), dbs: []string{"sales", "stock"}}
	sid := newSID(t)
	if sidB == "" {
		sidB = sid
	}
	for _, db := range lp.dbs {
		createDB(t, lp.a, db)
		insert(t, lp.a, db, 3)
	}
	mustExec(t, lp.a.app(t, ""), "CREATE LOGIN app WITH PASSWORD = 'App-Pa55word!'") // copied to the standby
	loginDrop, dbDrop := drop, ""
	if rest, ok := strings.CutPrefix(drop, databaseScript+":"); ok {
		loginDrop, dbDrop = "", rest
	}
	vars := map[string]string{"UNDERSTUDY_LOGIN": operatorLogin, "UNDERSTUDY_PASSWORD": operatorPassword}
	for _, m := range []struct {
		m   *member
		sid string
	}{{lp.a, sid}, {lp.b, sidB}} {
		vars["UNDERSTUDY_SID"] = m.sid
		runScript(t, m.m.app(t, ""), loginScript, vars, loginDrop)
	}
	for _, db := range lp.dbs {
		vars["UNDERSTUDY_DATABASE"] = db
		runScript(t, lp.a.app(t, ""), databaseScript, vars, dbDrop)
	}
	lp.opA, lp.opB = operatorClient(t, lp.a), operatorClient(t, lp.b)
	return lp
}

func operatorClient(t *testing.T, m *member) *sqlserver.Client {
	t.Helper()
	c, err := sqlserver.Open(simConfig(m.srv, operatorLogin, operatorPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// step is one thing the operator does; the scenario runs them in order.
type step struct {
	name string
	run  func(ctx context.Context, lp *leastPrivilege) error
}

// files lists the catalogue through reader (msdb history: the group does
// not see the backup directory).
func (lp *leastPrivilege) files(ctx context.Context, reader *sqlserver.Client) (Files, error) {
	files, _, err := lp.g.shipper.Catalogue.ListAll(ctx, reader, lp.g.shipper.Target, lp.dbs)
	return files, err
}

func (lp *leastPrivilege) restore(ctx context.Context, reader, standby *sqlserver.Client) error {
	files, err := lp.files(ctx, reader)
	if err != nil {
		return err
	}
	_, err = RestoreStandby(ctx, standby, files, lp.dbs, standbySettings(lp.g.dir), time.Now())
	return err
}

// operatorSteps: backups on A, login copy and restores to B, a planned
// switchover to B while an application holds a session on A, backups on B
// (with the database user the restores brought), restores to A, an
// unplanned failover's promotion of A, and msdb's history cleanup on both.
func operatorSteps(t *testing.T) []step {
	return []step{
		{"backup on the primary", func(ctx context.Context, lp *leastPrivilege) error {
			_, err := lp.g.shipper.RunBackups(ctx, lp.opA, lp.dbs, time.Now(), nil)
			return err
		}},
		{"login copy", func(ctx context.Context, lp *leastPrivilege) error {
			_, err := CopyLogins(ctx, lp.opA, lp.opB)
			return err
		}},
		{"restore on the standby", func(ctx context.Context, lp *leastPrivilege) error {
			return lp.restore(ctx, lp.opA, lp.opB)
		}},
		{"planned switchover", func(ctx context.Context, lp *leastPrivilege) error {
			app, err := lp.a.app(t, "sales").Conn(ctx)
			if err != nil {
				return err
			}
			defer app.Close()
			if _, err := app.ExecContext(ctx, "SELECT 1"); err != nil {
				return err
			}
			_, err = lp.g.shipper.PlannedSwitchover(ctx, lp.opA, lp.opB, lp.dbs, time.Now())
			return err
		}},
		{"backup on the new primary", func(ctx context.Context, lp *leastPrivilege) error {
			insert(t, lp.b, "sales", 2)
			_, err := lp.g.shipper.RunBackups(ctx, lp.opB, lp.dbs, time.Now(), map[string]bool{"sales": true, "stock": true})
			return err
		}},
		{"restore on the old primary", func(ctx context.Context, lp *leastPrivilege) error {
			return lp.restore(ctx, lp.opB, lp.opA)
		}},
		{"promotion after an unplanned failover", func(ctx context.Context, lp *leastPrivilege) error {
			files, err := lp.files(ctx, lp.opA)
			if err != nil {
				return err
			}
			_, err = Promote(ctx, lp.opA, files, lp.dbs, time.Now())
			return err
		}},
		{"msdb history cleanup", func(ctx context.Context, lp *leastPrivilege) error {
			_, err := lp.g.shipper.CleanHistory(ctx, []HistoryMember{{"A", lp.opA}, {"B", lp.opB}}, time.Now().Add(-time.Hour))
			return err
		}},
	}
}

// runSteps runs the scenario and returns the first step that failed.
func runSteps(t *testing.T, lp *leastPrivilege) (string, error) {
	t.Helper()
	for _, s := range operatorSteps(t) {
		if err := s.run(testContext(t), lp); err != nil {
			return s.name, err
		}
	}
	return "", nil
}

func TestOperatorLoginScriptGrantsEnoughForEveryStep(t *testing.T) {
	lp := setUpLeastPrivilege(t, "", "")
	if step, err := runSteps(t, lp); err != nil {
		t.Fatalf("%s as the script's login: %v", step, err)
	}
	for _, db := range lp.dbs {
		if got, want := count(t, lp.a, db), count(t, lp.b, db); got != want {
			t.Fatalf("%s: promoted A has %d rows, B had %d", db, got, want)
		}
	}
	for _, m := range []*member{lp.a, lp.b} {
		var sysadmin int64
		if err := m.app(t, "").QueryRowContext(testContext(t), "SELECT IS_SRVROLEMEMBER('sysadmin', @p1)", operatorLogin).Scan(&sysadmin); err != nil || sysadmin != 0 {
			t.Fatalf("the script's login on %s: sysadmin %d, %v; want a login that is not sysadmin", m.name, sysadmin, err)
		}
	}
}

// Each grant of the scripts, left out alone, makes the step that needs it
// fail with SQL Server's error, reported as a *sqlserver.PermissionError
// naming the grant.
func TestOperatorLoginScriptEveryGrantIsNeeded(t *testing.T) {
	for _, tc := range []struct {
		grant      string // the statement left out; "<script>:..." for the database script
		step       string
		number     int32  // SQL Server's error, 0 when the operator finds out before sending the statement
		permission string // in PermissionError.Permission
	}{
		// RESTORE HEADERONLY of the new backup file, then the restores.
		{"ALTER SERVER ROLE [dbcreator]", "backup on the primary", 262, "dbcreator"},
		{"GRANT VIEW SERVER STATE", "planned switchover", 300, "VIEW SERVER STATE"},
		{"GRANT ALTER ANY CONNECTION", "planned switchover", 6102, "ALTER ANY CONNECTION"},
		{"GRANT ALTER ANY LOGIN", "login copy", 0, "ALTER ANY LOGIN"},
		{"GRANT VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION", "login copy", 0, "VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION"},
		{"GRANT EXECUTE ON sys.xp_create_subdir", "backup on the primary", 229, "xp_create_subdir"},
		{"GRANT SELECT ON dbo.backupset", "backup on the primary", 229, "msdb.dbo.backupset"},
		{"GRANT SELECT ON dbo.backupmediafamily", "backup on the primary", 229, "msdb.dbo.backupset"},
		{"GRANT SELECT ON dbo.restorehistory", "backup on the primary", 229, "msdb.dbo.restorehistory"},
		{"GRANT EXECUTE ON dbo.sp_delete_backuphistory", "msdb history cleanup", 229, "sp_delete_backuphistory"},
		{databaseScript + ":ALTER ROLE [db_backupoperator]", "backup on the primary", 262, "db_backupoperator"},
	} {
		t.Run(tc.grant, func(t *testing.T) {
			lp := setUpLeastPrivilege(t, tc.grant, "")
			step, err := runSteps(t, lp)
			if err == nil {
				t.Fatalf("every step succeeded without %s", tc.grant)
			}
			if step != tc.step {
				t.Fatalf("without %s, %q failed first, want %q: %v", tc.grant, step, tc.step, err)
			}
			var pe *sqlserver.PermissionError
			if !errors.As(err, &pe) || !strings.Contains(pe.Permission, tc.permission) {
				t.Fatalf("without %s, %s: %v; want a PermissionError naming %s", tc.grant, step, err, tc.permission)
			}
			if tc.number != 0 && !sqlserver.HasErrorNumber(pe, tc.number) {
				t.Fatalf("without %s, %s was refused without error %d: %v", tc.grant, step, tc.number, pe)
			}
			if strings.Contains(err.Error(), operatorPassword) {
				t.Fatal("the error shows the operator's password")
			}
			t.Logf("without %s: %s fails: %v", tc.grant, step, err)
		})
	}
}

// With another SID on the standby, the login copy says so, and after a
// switchover the operator's database user, restored from the old primary,
// is orphaned on the new one: every backup there is refused (262).
func TestOperatorLoginWithAnotherSIDOnAStandby(t *testing.T) {
	lp := setUpLeastPrivilege(t, "", newSID(t))
	ctx := testContext(t)
	steps := operatorSteps(t)
	if _, err := CopyLogins(ctx, lp.opA, lp.opB); !errors.Is(err, ErrOperatorLoginSIDMismatch) {
		t.Fatalf("login copy to a standby where the operator's login has another SID: %v, want ErrOperatorLoginSIDMismatch", err)
	}
	for _, s := range []step{steps[0], steps[2], steps[3]} {
		if err := s.run(ctx, lp); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	err := steps[4].run(ctx, lp)
	var pe *sqlserver.PermissionError
	if !sqlserver.HasErrorNumber(err, 262) || !errors.As(err, &pe) || !strings.Contains(pe.Permission, "same SID") {
		t.Fatalf("backup on the new primary whose operator user is orphaned: %v, want 262 as a PermissionError about the SID", err)
	}
}

// xp_create_subdir's permission is undocumented: without it the operator
// still backs up into a directory that exists.
func TestBackupGoesAheadWhenXpCreateSubdirIsRefusedAndTheDirectoryExists(t *testing.T) {
	lp := setUpLeastPrivilege(t, "GRANT EXECUTE ON sys.xp_create_subdir", "")
	for _, db := range lp.dbs {
		dir, err := lp.g.shipper.Target.Dir(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res, err := lp.g.shipper.RunBackups(testContext(t), lp.opA, lp.dbs, time.Now(), nil)
	if err != nil || len(res) < len(lp.dbs) {
		t.Fatalf("backups into existing directories without EXECUTE on xp_create_subdir: %d results, %v", len(res), err)
	}
	for _, r := range res {
		if r.Err != nil || r.Path == "" {
			t.Fatalf("backup of %s: %+v", r.Database, r)
		}
	}
}

// A login that is sysadmin on the standby can only be changed by a login
// with CONTROL SERVER (ALTER LOGIN, Permissions), which the script does
// not grant: its copy is refused, named as such, and the other logins are
// copied.
func TestLoginCopyOfASysadminLoginNeedsControlServer(t *testing.T) {
	lp := setUpLeastPrivilege(t, "", "")
	const sid = "0x0D0BA5E0000000000000000000000001"
	mustExec(t, lp.a.app(t, ""), "CREATE LOGIN dba WITH PASSWORD = 'Dba-Pa55word-A!', SID = "+sid)
	mustExec(t, lp.b.app(t, ""), "CREATE LOGIN dba WITH PASSWORD = 'Dba-Pa55word-B!', SID = "+sid)
	mustExec(t, lp.b.app(t, ""), "ALTER SERVER ROLE sysadmin ADD MEMBER dba")
	copies, err := CopyLogins(testContext(t), lp.opA, lp.opB)
	var pe *sqlserver.PermissionError
	if !errors.As(err, &pe) || !strings.Contains(pe.Permission, "CONTROL SERVER") || !sqlserver.HasErrorNumber(pe, 15247) {
		t.Fatalf("copy of a login that is sysadmin on the standby: %v, want 15247 as a PermissionError naming CONTROL SERVER", err)
	}
	for _, c := range copies {
		if c.Name != "dba" && c.Err != nil {
			t.Fatalf("copy of %s: %v", c.Name, c.Err)
		}
	}
}
