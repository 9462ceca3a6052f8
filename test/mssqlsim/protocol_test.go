package mssqlsim

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConnectAndSelectOne(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	if got := queryInt(t, db, "SELECT 1"); got != 1 {
		t.Fatalf("SELECT 1 = %d", got)
	}
	if got := queryString(t, db, "SELECT @@SERVERNAME"); got != "SIMTEST" {
		t.Fatalf("@@SERVERNAME = %q", got)
	}
	if got := queryString(t, db, "SELECT DB_NAME()"); got != "master" {
		t.Fatalf("DB_NAME() = %q", got)
	}
	if got := queryString(t, db, "SELECT SERVERPROPERTY('ProductVersion')"); got != DefaultProductVersion {
		t.Fatalf("ProductVersion = %q", got)
	}
	if got := queryString(t, db, "SELECT SERVERPROPERTY('ServerName')"); got != "SIMTEST" {
		t.Fatalf("ServerName = %q", got)
	}
	if got := queryString(t, db, "SELECT SERVERPROPERTY('InstanceDefaultDataPath')"); !strings.HasPrefix(got, srv.DataDir()) {
		t.Fatalf("InstanceDefaultDataPath = %q, want under %q", got, srv.DataDir())
	}
}

func TestWrongPasswordIsRejectedWith18456(t *testing.T) {
	srv := startSim(t)
	db, err := sql.Open("sqlserver", srv.DSN("sa", "wrong", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	if err == nil {
		t.Fatal("ping with a wrong password succeeded")
	}
	me := sqlError(t, err)
	if me.Number != 18456 {
		t.Fatalf("error number = %d, want 18456 (%v)", me.Number, err)
	}
	waitFor(t, "no sessions after failed login", 5*time.Second, func() bool { return srv.SessionCount() == 0 })
}

func TestParametersRoundTrip(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	long := strings.Repeat("ü-long-PLP-value ", 1000) // > 4000 characters: sent as PLP
	when := time.Date(2026, 3, 4, 5, 6, 7, 123456700, time.FixedZone("", 2*3600))
	tests := []struct {
		name string
		arg  any
		scan func(*sql.Row) (any, error)
		want any
	}{
		{"nvarchar", "hello wörld", scanAs[string], "hello wörld"},
		{"empty nvarchar", "", scanAs[string], ""},
		{"nvarchar PLP", long, scanAs[string], long},
		{"int64", int64(1) << 40, scanAs[int64], int64(1) << 40},
		{"int32", int32(-7), scanAs[int64], int64(-7)},
		{"bool", true, scanAs[bool], true},
		{"varbinary", []byte{0, 1, 2, 0xFF}, scanAs[[]byte], []byte{0, 1, 2, 0xFF}},
		{"datetimeoffset", when, scanAs[time.Time], when},
		{"float", 2.5, scanAs[float64], 2.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.scan(db.QueryRow("SELECT @p1", tc.arg))
			if err != nil {
				t.Fatalf("SELECT @p1 (%T): %v", tc.arg, err)
			}
			switch w := tc.want.(type) {
			case []byte:
				if !bytes.Equal(got.([]byte), w) {
					t.Fatalf("got %x, want %x", got, w)
				}
			case time.Time:
				if !got.(time.Time).Equal(w) {
					t.Fatalf("got %v, want %v", got, w)
				}
			default:
				if got != tc.want {
					t.Fatalf("got %#v, want %#v", got, tc.want)
				}
			}
		})
	}
	t.Run("null", func(t *testing.T) {
		var s sql.NullString
		if err := db.QueryRow("SELECT @p1", nil).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s.Valid {
			t.Fatalf("NULL parameter came back as %q", s.String)
		}
	})
	t.Run("named", func(t *testing.T) {
		var n int64
		if err := db.QueryRow("SELECT @a + @b", sql.Named("a", 40), sql.Named("b", 2)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 42 {
			t.Fatalf("@a + @b = %d", n)
		}
	})
}

func scanAs[T any](row *sql.Row) (any, error) {
	var v T
	err := row.Scan(&v)
	return v, err
}

func TestAttentionCancelsRunningRequest(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Cancel (not a deadline: go-mssqldb treats DeadlineExceeded as a
	// net.Error and drops the connection).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = conn.ExecContext(ctx, "WAITFOR DELAY '00:00:10'")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WAITFOR cancelled after 200ms: got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	// The same connection is still usable: the server acknowledged the
	// attention with DONE_ATTN.
	var n int
	if err := conn.QueryRowContext(context.Background(), "SELECT 42").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after cancel: n=%d err=%v", n, err)
	}
}

func TestConcurrentSessions(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE [conc]")
	cdb := openDB(t, srv, "conc")
	mustExec(t, cdb, "CREATE TABLE dbo.t (id INT IDENTITY(1,1) PRIMARY KEY, worker INT NOT NULL, v NVARCHAR(50))")
	cdb.SetMaxOpenConns(8)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := cdb.Exec("INSERT INTO dbo.t (worker, v) VALUES (@p1, @p2)", w, fmt.Sprint("row ", i)); err != nil {
					errs <- err
					return
				}
				var n int
				if err := cdb.QueryRow("SELECT COUNT(*) FROM dbo.t WHERE worker = @p1", w).Scan(&n); err != nil {
					errs <- err
					return
				}
				if n != i+1 {
					errs <- fmt.Errorf("worker %d sees %d rows after %d inserts", w, n, i+1)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := queryInt(t, cdb, "SELECT COUNT(*) FROM dbo.t"); got != 80 {
		t.Fatalf("total rows = %d, want 80", got)
	}
	if got := queryInt(t, cdb, "SELECT MAX(id) FROM dbo.t"); got != 80 {
		t.Fatalf("MAX(id) = %d, want 80", got)
	}
}

func TestSmallPacketSizeSplitsAndReassembles(t *testing.T) {
	srv := startSim(t)
	db, err := sql.Open("sqlserver", srv.SADSN("")+"&packet+size=512")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A long batch text spans many 512-byte packets (reassembly), and the
	// long result spans many reply packets (splitting).
	long := strings.Repeat("x", 3000)
	var got string
	if err := db.QueryRow("SELECT N'" + long + "' AS v").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != long {
		t.Fatalf("got %d characters, want %d", len(got), len(long))
	}
}

func TestSeveralStatementsPerBatchAndBracketIdentifiers(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE [we]]ird db]; CREATE DATABASE other")
	var names []string
	rows, err := db.Query("SELECT name FROM sys.databases WHERE name IN (N'we]ird db', N'other') ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if strings.Join(names, ",") != "other,we]ird db" {
		t.Fatalf("databases = %v", names)
	}
	mustExec(t, db, "use [we]]ird db]\ncreate table [my table] ([the col] int)\ninsert [my table] values (1), (2)")
	wdb := openDB(t, srv, "we]ird db")
	if n := queryInt(t, wdb, "SELECT COUNT(*) FROM [dbo].[my table]"); n != 2 {
		t.Fatalf("count = %d", n)
	}
}

func TestUnsupportedStatementFails(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	for _, q := range []string{
		"MERGE INTO t USING s ON 1=1 WHEN MATCHED THEN DELETE",
		"SELECT name FROM sys.databases GROUP BY name",
		"DBCC CHECKDB",
	} {
		_, err := db.Exec(q)
		if err == nil {
			t.Fatalf("%q succeeded", q)
		}
		me := sqlError(t, err)
		if me.Number != 102 || !strings.Contains(me.Message, "not supported by mssqlsim") {
			t.Fatalf("%q: got %d %q, want 102 'not supported by mssqlsim'", q, me.Number, me.Message)
		}
	}
	_, err := db.Exec("EXEC sp_who2")
	if me := sqlError(t, err); me.Number != 2812 {
		t.Fatalf("EXEC sp_who2: got %d, want 2812", me.Number)
	}
}

func TestConnectToRestoringDatabaseFails(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE src; ALTER DATABASE src SET RECOVERY FULL")
	dir := t.TempDir()
	mustExec(t, db, "BACKUP DATABASE src TO DISK = @p1 WITH INIT", dir+"/full.bak")
	mustExec(t, db, "BACKUP LOG src TO DISK = @p1 WITH INIT, NORECOVERY", dir+"/tail.trn")
	bad, err := sql.Open("sqlserver", srv.SADSN("src"))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	err = bad.Ping()
	me := sqlError(t, err)
	if !containsNumber(me, 927) {
		t.Fatalf("connect to RESTORING database: got %v (all %v), want 927", err, errorNumbers(me))
	}
	_, err = db.Exec("USE src")
	if me := sqlError(t, err); me.Number != 927 {
		t.Fatalf("USE restoring database: got %d, want 927", me.Number)
	}
}
