package logshipping

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/microsoft/go-mssqldb" // database/sql driver for the application side of the tests

	"github.com/understudy-dev/understudy/internal/sqlserver"
	"github.com/understudy-dev/understudy/internal/testutil"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// simPassword is the sa password of the simulators; tests check it never
// shows in errors.
const simPassword = "Sim-Secret-Pa55!"

// testTimeout bounds each test's context.
const testTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// member is a simulator with the engine's client to it.
type member struct {
	name   string
	srv    *mssqlsim.Server
	client *sqlserver.Client
}

func startMember(t *testing.T, name string) *member {
	t.Helper()
	return startMemberIn(t, name, t.TempDir())
}

// startMemberIn starts (or restarts, when dataDir holds an instance) a
// simulator on dataDir.
func startMemberIn(t *testing.T, name, dataDir string) *member {
	t.Helper()
	return startMemberWith(t, name, mssqlsim.Options{DataDir: dataDir})
}

// startMemberWith starts a simulator named name with opts (its address, password and name are
// the tests' own).
func startMemberWith(t *testing.T, name string, opts mssqlsim.Options) *member {
	t.Helper()
	opts.Addr, opts.SAPassword, opts.InstanceName = "127.0.0.1:0", simPassword, name
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	srv, err := mssqlsim.Start(opts)
	if err != nil {
		t.Fatalf("start simulator %s: %v", name, err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := sqlserver.Open(simConfig(srv, "sa", simPassword))
	if err != nil {
		t.Fatalf("open client to %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &member{name: name, srv: srv, client: c}
}

func simConfig(srv *mssqlsim.Server, user, password string) sqlserver.Config {
	return sqlserver.Config{
		Host: srv.Host(), Port: srv.Port(), Username: user, Password: password,
		Encrypt: sqlserver.EncryptDisable, ConnectTimeout: 5 * time.Second, StatementTimeout: 10 * time.Second,
		BackupRestoreTimeout: 20 * time.Second,
	}
}

// app opens an application connection pool to m in database db ("" for
// master), as a client application would, through the mssql driver.
func (m *member) app(t *testing.T, db string) *sql.DB {
	t.Helper()
	pool, err := sql.Open("sqlserver", m.srv.DSN("sa", simPassword, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(testContext(t), query, args...); err != nil {
		t.Fatalf("exec %q: %v", query, err)
	}
}

// createDB creates database name with an orders table (n: the writer's
// sequence number) on m.
func createDB(t *testing.T, m *member, name string) {
	t.Helper()
	app := m.app(t, "")
	mustExec(t, app, fmt.Sprintf("CREATE DATABASE [%s]", name))
	mustExec(t, app, fmt.Sprintf("CREATE TABLE [%s].dbo.orders (id INT IDENTITY(1,1) PRIMARY KEY, n INT NOT NULL)", name))
}

// insert adds n rows to db on m; their n column is negative, so they are
// never confused with a writer's sequence numbers.
func insert(t *testing.T, m *member, db string, n int) {
	t.Helper()
	app := m.app(t, "")
	for i := range n {
		mustExec(t, app, fmt.Sprintf("INSERT INTO [%s].dbo.orders (n) VALUES (@p1)", db), -1-i)
	}
}

// count returns the rows of db's orders on m.
func count(t *testing.T, m *member, db string) int64 {
	t.Helper()
	n, err := countErr(testContext(t), m.app(t, ""), db)
	if err != nil {
		t.Fatalf("count %s on %s: %v", db, m.name, err)
	}
	return n
}

func countErr(ctx context.Context, pool *sql.DB, db string) (int64, error) {
	var n int64
	err := pool.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM [%s].dbo.orders", db)).Scan(&n)
	return n, err
}

// group is a FailoverGroup's SQL side: a shared backup directory and a
// Shipper for it.
type group struct {
	dir     string
	shipper *Shipper
}

func newGroup(t *testing.T) *group {
	t.Helper()
	return newGroupSeeing(t, true)
}

// newGroupSeeing is newGroup where the operator sees the backup directory (localView) or, as in a
// cluster where only the SQL Server pods mount it, knows the files only from msdb's history.
func newGroupSeeing(t *testing.T, localView bool) *group {
	t.Helper()
	dir := t.TempDir()
	target := Target{Root: dir, Namespace: "ns", Group: "orders", Compression: true, Checksum: true}
	if localView {
		target.LocalRoot = dir
	}
	s, err := NewShipper(target, "0 2 * * *", 0)
	if err != nil {
		t.Fatal(err)
	}
	return &group{dir: dir, shipper: s}
}

// backup runs RunBackups on primary and fails the test on any error.
func (g *group) backup(t *testing.T, primary *member, dbs []string, force map[string]bool) []BackupResult {
	t.Helper()
	res, err := g.shipper.RunBackups(testContext(t), primary.client, dbs, time.Now(), force)
	if err != nil {
		t.Fatalf("run backups on %s: %v", primary.name, err)
	}
	return res
}

// files lists the catalogue, reading headers through reader.
func (g *group) files(t *testing.T, reader *member, dbs []string) Files {
	t.Helper()
	files, bad, err := g.shipper.Catalogue.ListAll(testContext(t), reader.client, g.shipper.Target, dbs)
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	if len(bad) > 0 {
		t.Fatalf("unreadable backup files: %v", bad)
	}
	return files
}

// restore runs RestoreStandby on standby and fails the test on an error.
func (g *group) restore(t *testing.T, reader, standby *member, dbs []string, settings RestoreSettings, now time.Time) []DatabaseRestoreResult {
	t.Helper()
	res, err := RestoreStandby(testContext(t), standby.client, g.files(t, reader, dbs), dbs, settings, now)
	if err != nil {
		t.Fatalf("restore standby %s: %v", standby.name, err)
	}
	if len(res) != len(dbs) {
		t.Fatalf("restore standby: %d results for %d databases", len(res), len(dbs))
	}
	return res
}

// standbySettings leaves databases readable, with undo files in dir.
func standbySettings(dir string) RestoreSettings {
	return RestoreSettings{Mode: sqlserver.RestoreStandby, UndoDir: dir, DisconnectUsers: true, Checksum: true}
}

// state returns the state of db on m.
func state(t *testing.T, m *member, db string) sqlserver.DatabaseState {
	t.Helper()
	st, err := m.client.Database(testContext(t), db)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// wantKind fails unless err classifies as want.
func wantKind(t *testing.T, err error, want sqlserver.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want kind %s", want)
	}
	if got := sqlserver.Classify(err); got != want {
		t.Fatalf("kind %s, want %s; numbers %v; error: %v", got, want, sqlserver.ErrorNumbers(err), err)
	}
	if strings.Contains(err.Error(), simPassword) {
		t.Fatalf("error shows the password: %v", err)
	}
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	testutil.EventuallyWithin(t, what, timeout, cond)
}

// clockPast waits until the wall clock is past ts, so that the next backup
// finishes strictly later (datetime keeps 1/300 s) than one that finished
// at ts.
func clockPast(t *testing.T, ts time.Time) {
	t.Helper()
	eventually(t, "the clock to pass "+ts.String(), 5*time.Second, func() bool { return time.Now().After(ts.Add(10 * time.Millisecond)) })
}

// writer inserts rows into db on a member as fast as it can, recording the
// sequence number of every acknowledged insert.
type writer struct {
	mu    sync.Mutex
	acked []int
	stop  chan struct{}
	done  chan struct{}
}

func startWriter(t *testing.T, m *member, db string) *writer {
	t.Helper()
	pool := m.app(t, "")
	pool.SetMaxOpenConns(1)
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	query := fmt.Sprintf("INSERT INTO [%s].dbo.orders (n) VALUES (@p1)", db)
	go func() {
		defer close(w.done)
		for seq := 1; ; seq++ {
			select {
			case <-w.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := pool.ExecContext(ctx, query, seq)
			cancel()
			if err != nil {
				// The primary is gone (or refuses writes): an
				// unacknowledged write, the writer stops.
				return
			}
			w.mu.Lock()
			w.acked = append(w.acked, seq)
			w.mu.Unlock()
		}
	}()
	t.Cleanup(w.halt)
	return w
}

// count returns how many writes were acknowledged.
func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// halt stops the writer and waits for it.
func (w *writer) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// sequences returns the writer's sequence numbers present in db on m, in
// order.
func sequences(t *testing.T, m *member, db string) []int {
	t.Helper()
	rows, err := m.app(t, "").QueryContext(testContext(t), fmt.Sprintf("SELECT n FROM [%s].dbo.orders WHERE n > 0 ORDER BY n", db))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// removeFile deletes a backup file from the shared directory (a lost file).
func removeFile(path string) error { return os.Remove(path) }
