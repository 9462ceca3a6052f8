package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testutil"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// simPassword is the sa password of the test simulators. Tests assert that
// it never shows up in error texts.
const simPassword = "Sim-Secret-Pa55!"

// testTimeout bounds every simulator test's context.
const testTimeout = 30 * time.Second

// simInstance is a simulator plus a Client connected to it as sa.
type simInstance struct {
	srv    *mssqlsim.Server
	client *Client
}

// startInstance starts a simulator named name with its own data directory
// and opens a Client to it.
func startInstance(t *testing.T, name string) *simInstance {
	t.Helper()
	return startInstanceTLS(t, name, mssqlsim.TLSOptions{})
}

// startInstanceTLS is startInstance with the simulator's TLS setup; the
// Client connects with EncryptDisable (plaintext, which a simulator that
// does not force encryption accepts).
func startInstanceTLS(t *testing.T, name string, tlsOpts mssqlsim.TLSOptions) *simInstance {
	t.Helper()
	srv, err := mssqlsim.Start(mssqlsim.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), SAPassword: simPassword, InstanceName: name, TLS: tlsOpts})
	if err != nil {
		t.Fatalf("start simulator %s: %v", name, err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := Open(simConfig(srv, "sa", simPassword))
	if err != nil {
		t.Fatalf("open client to %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &simInstance{srv: srv, client: c}
}

// simConfig is a Config for srv in plaintext (EncryptDisable).
func simConfig(srv *mssqlsim.Server, user, password string) Config {
	return Config{
		Host: srv.Host(), Port: srv.Port(), Username: user, Password: password,
		Encrypt: EncryptDisable, ConnectTimeout: 5 * time.Second, StatementTimeout: 10 * time.Second,
		BackupRestoreTimeout: 20 * time.Second,
	}
}

// testContext returns a context bounded by testTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openApp opens a plain database/sql pool on srv in database db, as an
// application would; it is not part of the engine.
func openApp(t *testing.T, srv *mssqlsim.Server, db string) *sql.DB {
	t.Helper()
	app, err := sql.Open("sqlserver", srv.DSN("sa", simPassword, db))
	if err != nil {
		t.Fatalf("open app connection: %v", err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(testContext(t), query, args...); err != nil {
		t.Fatalf("exec %q: %v", query, err)
	}
}

func queryCount(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRowContext(testContext(t), query, args...).Scan(&n); err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	return n
}

// shop is a workload database on a primary simulator.
type shop struct {
	name string
	app  *sql.DB // master connection of the primary, used to write rows
}

// createShop creates database name with an orders table on inst.
func createShop(t *testing.T, inst *simInstance, name string) *shop {
	t.Helper()
	app := openApp(t, inst.srv, "")
	mustExec(t, app, fmt.Sprintf("CREATE DATABASE [%s]", name))
	mustExec(t, app, fmt.Sprintf("CREATE TABLE [%s].dbo.orders (id INT IDENTITY(1,1) PRIMARY KEY, item NVARCHAR(100) NOT NULL)", name))
	return &shop{name: name, app: app}
}

func (s *shop) insert(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		mustExec(t, s.app, fmt.Sprintf("INSERT INTO [%s].dbo.orders (item) VALUES (@p1)", s.name), fmt.Sprintf("item-%d", i))
	}
}

// count returns the number of orders as seen through db (a connection to
// any instance).
func (s *shop) count(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	return queryCount(t, db, fmt.Sprintf("SELECT COUNT(*) FROM [%s].dbo.orders", s.name))
}

// backupDir is a directory shared by the simulators, as the backup volume
// is shared by the SQL Servers of a group.
func backupDir(t *testing.T) string {
	t.Helper()
	return t.TempDir()
}

// eventually polls cond until it returns true or timeout passes.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	testutil.EventuallyWithin(t, what, timeout, cond)
}

// wantKind fails the test unless Classify(err) is want.
func wantKind(t *testing.T, err error, want Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %s", want)
	}
	if got := Classify(err); got != want {
		t.Fatalf("Classify = %s, want %s; numbers %v; error: %v", got, want, ErrorNumbers(err), err)
	}
}
