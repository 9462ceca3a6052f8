package mssqlsim

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

func TestWorkloadTables(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE app")
	app := openDB(t, srv, "app")
	mustExec(t, app, `CREATE TABLE dbo.events (
		id BIGINT IDENTITY(1,1) NOT NULL PRIMARY KEY,
		kind VARCHAR(20) NOT NULL,
		payload NVARCHAR(MAX) NULL,
		amount NUMERIC(18,2) NULL,
		ok BIT NOT NULL DEFAULT 1,
		at DATETIME2 NOT NULL DEFAULT SYSUTCDATETIME())`)
	res := mustExec(t, app, "INSERT INTO dbo.events (kind, payload, amount) VALUES (@p1, @p2, 12.50), ('b', NULL, NULL)", "a", strings.Repeat("p", 5000))
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("RowsAffected = %d", n)
	}
	if got := queryInt(t, app, "SELECT MAX(id) FROM dbo.events"); got != 2 {
		t.Fatalf("MAX(id) = %d", got)
	}
	var kind, amount string
	var payloadLen int64
	var ok bool
	var at time.Time
	if err := app.QueryRow("SELECT kind, LEN(payload), amount, ok, at FROM dbo.events WHERE id = @p1", 1).Scan(&kind, &payloadLen, &amount, &ok, &at); err != nil {
		t.Fatal(err)
	}
	if kind != "a" || payloadLen != 5000 || amount != "12.50" || !ok || time.Since(at) > time.Hour {
		t.Fatalf("row = %q %d %q %v %v", kind, payloadLen, amount, ok, at)
	}
	res = mustExec(t, app, "UPDATE dbo.events SET ok = 0 WHERE kind = 'b'")
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("UPDATE RowsAffected = %d", n)
	}
	if got := queryInt(t, app, "SELECT COUNT(*) FROM events WHERE ok = 0"); got != 1 {
		t.Fatalf("after update: %d", got)
	}
	_, err := app.Exec("INSERT INTO dbo.events (kind) VALUES (NULL)")
	if me := sqlError(t, err); me.Number != 515 {
		t.Fatalf("NULL into NOT NULL: %d", me.Number)
	}
	_, err = app.Exec("SELECT nope FROM dbo.events")
	if me := sqlError(t, err); me.Number != 207 {
		t.Fatalf("bad column: %d", me.Number)
	}
	_, err = app.Exec("SELECT * FROM dbo.missing")
	if me := sqlError(t, err); me.Number != 208 {
		t.Fatalf("bad table: %d", me.Number)
	}
	mustExec(t, app, "DELETE FROM dbo.events WHERE id = 2")
	if got := queryInt(t, app, "SELECT COUNT(*) FROM dbo.events"); got != 1 {
		t.Fatalf("after delete: %d", got)
	}
}

func TestTransactions(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE tx")
	app := openDB(t, srv, "tx")
	mustExec(t, app, "CREATE TABLE t (v INT)")
	// database/sql transactions use TDS transaction manager requests.
	tx, err := app.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (1)")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx, err = app.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO t VALUES (2)")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, app, "SELECT COUNT(*) FROM t"); got != 1 {
		t.Fatalf("rows after rollback+commit = %d, want 1", got)
	}
	// T-SQL transactions.
	mustExec(t, app, "BEGIN TRAN; INSERT INTO t VALUES (3); COMMIT")
	if got := queryInt(t, app, "SELECT MAX(v) FROM t"); got != 3 {
		t.Fatalf("MAX after T-SQL commit = %d", got)
	}
	_, err = app.Exec("COMMIT")
	if me := sqlError(t, err); me.Number != 3902 {
		t.Fatalf("COMMIT without BEGIN: %d", me.Number)
	}
}

func TestCatalogQueries(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE cat")
	tests := []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"state", "SELECT state_desc FROM sys.databases WHERE name = @p1", []any{"cat"}, "ONLINE"},
		{"recovery", "SELECT recovery_model_desc FROM sys.databases WHERE name = N'cat'", nil, "FULL"},
		{"user access", "SELECT d.user_access_desc FROM master.sys.databases AS d WHERE d.name = 'cat'", nil, "MULTI_USER"},
		{"standby flag", "SELECT CAST(is_in_standby AS INT) FROM sys.databases WHERE name = 'cat'", nil, "0"},
		{"no log backup yet", "SELECT ISNULL(CAST(last_log_backup_lsn AS NVARCHAR(30)), 'none') FROM sys.database_recovery_status WHERE database_id = DB_ID('cat')", nil, "none"},
		{"redo lsn null when online", "SELECT COUNT(*) FROM sys.master_files WHERE database_id = DB_ID('cat') AND redo_start_lsn IS NULL", nil, "2"},
		{"logins", "SELECT name FROM sys.sql_logins WHERE name = 'sa'", nil, "sa"},
		{"sessions", "SELECT login_name FROM sys.dm_exec_sessions WHERE session_id = @@SPID", nil, "sa"},
		{"server name", "SELECT SERVERPROPERTY('ServerName')", nil, "SIMTEST"},
		{"db name", "SELECT DB_NAME(DB_ID('cat'))", nil, "cat"},
		{"case", "SELECT CASE WHEN COUNT(*) > 3 THEN 'many' ELSE 'few' END FROM sys.databases", nil, "many"},
		{"top order", "SELECT TOP 1 name FROM sys.databases ORDER BY database_id DESC", nil, "cat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got sql.NullString
			if err := db.QueryRow(tc.query, tc.args...).Scan(&got); err != nil {
				t.Fatalf("%s: %v", tc.query, err)
			}
			if got.String != tc.want {
				t.Fatalf("%s = %q, want %q", tc.query, got.String, tc.want)
			}
		})
	}
	mustExec(t, db, "ALTER DATABASE cat SET RECOVERY SIMPLE")
	if got := queryString(t, db, "SELECT recovery_model_desc FROM sys.databases WHERE name = 'cat'"); got != "SIMPLE" {
		t.Fatalf("after ALTER: %s", got)
	}
	mustExec(t, db, "ALTER DATABASE cat SET OFFLINE WITH ROLLBACK IMMEDIATE")
	if got := queryString(t, db, "SELECT state_desc FROM sys.databases WHERE name = 'cat'"); got != "OFFLINE" {
		t.Fatalf("after OFFLINE: %s", got)
	}
	mustExec(t, db, "ALTER DATABASE cat SET ONLINE")
	mustExec(t, db, "DROP DATABASE cat")
	if got := queryInt(t, db, "SELECT COUNT(*) FROM sys.databases WHERE name = 'cat'"); got != 0 {
		t.Fatal("database not dropped")
	}
}

func TestIfExistsAndSubqueries(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	create := "IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = @p1) CREATE DATABASE [idem]"
	mustExec(t, db, create, "idem")
	mustExec(t, db, create, "idem") // second run is a no-op, not 1801
	mustExec(t, db, `IF DB_ID('idem') IS NOT NULL
		BEGIN
			CREATE TABLE idem.dbo.t (v INT);
			INSERT INTO idem.dbo.t VALUES (1), (2);
		END
		ELSE
			CREATE DATABASE never`)
	if got := queryInt(t, db, "SELECT (SELECT COUNT(*) FROM idem.dbo.t) + 40"); got != 42 {
		t.Fatalf("scalar subquery = %d", got)
	}
	if got := queryString(t, db, "IF EXISTS (SELECT * FROM sys.databases WHERE name = 'never') SELECT 'yes' ELSE SELECT 'no'"); got != "no" {
		t.Fatalf("IF/ELSE SELECT = %q", got)
	}
	_, err := db.Exec("SELECT (SELECT name FROM sys.databases)")
	if me := sqlError(t, err); me.Number != 512 {
		t.Fatalf("multi-row scalar subquery: %d", me.Number)
	}
	// Errors inside a branch are reported.
	_, err = db.Exec("IF 1 = 1 CREATE DATABASE idem")
	if me := sqlError(t, err); me.Number != 1801 {
		t.Fatalf("error in IF branch: %d", me.Number)
	}
}
