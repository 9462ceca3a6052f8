package mssqlsim

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/understudy-dev/understudy/internal/testutil"
)

const testPassword = "Test-Passw0rd!"

// startSim starts a simulator on a fresh (or given) data directory and
// closes it at the end of the test.
func startSim(t *testing.T, dir ...string) *Server {
	t.Helper()
	d := t.TempDir()
	if len(dir) > 0 {
		d = dir[0]
	}
	srv, err := Start(Options{DataDir: d, SAPassword: testPassword, InstanceName: "SIMTEST"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// openDB opens a database/sql pool on the simulator through go-mssqldb.
func openDB(t *testing.T, srv *Server, database string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlserver", srv.SADSN(database))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("ping %s: %v", srv.SADSN(database), err)
	}
	return db
}

func mustExec(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("exec %q: %v", query, err)
	}
	return res
}

func queryInt(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	return n
}

func queryString(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	return s.String
}

// sqlError extracts the driver error and fails the test when err is not
// one.
func sqlError(t *testing.T, err error) mssql.Error {
	t.Helper()
	var me mssql.Error
	if !errors.As(err, &me) {
		t.Fatalf("expected an mssql.Error, got %T: %v", err, err)
	}
	return me
}

// errorNumbers lists the numbers in Error.All.
func errorNumbers(e mssql.Error) []int32 {
	var out []int32
	for _, x := range e.All {
		out = append(out, x.Number)
	}
	return out
}

// waitFor polls cond until it is true or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	testutil.EventuallyWithin(t, what, timeout, cond)
}

// containsNumber reports whether n is among the errors in Error.All.
func containsNumber(e mssql.Error, n int32) bool {
	for _, x := range e.All {
		if x.Number == n {
			return true
		}
	}
	return false
}

// waitNoUsers polls sys.dm_exec_sessions until no session uses database
// name (closing a database/sql pool disconnects asynchronously).
func waitNoUsers(t *testing.T, db *sql.DB, name string) {
	t.Helper()
	waitFor(t, "sessions to leave "+name, 5*time.Second, func() bool {
		return queryInt(t, db, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE database_id = DB_ID(@p1)", name) == 0
	})
}
