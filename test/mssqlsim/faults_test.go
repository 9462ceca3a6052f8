package mssqlsim

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

func TestStateSurvivesCloseAndCrash(t *testing.T) {
	dir := t.TempDir()
	srv, err := Start(Options{DataDir: dir, SAPassword: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE keep; CREATE LOGIN bob WITH PASSWORD = N'Bob-Passw0rd!'")
	kdb := openDB(t, srv, "keep")
	mustExec(t, kdb, "CREATE TABLE t (id INT PRIMARY KEY, v NVARCHAR(20))")
	mustExec(t, kdb, "INSERT INTO t VALUES (1, N'one'), (2, N'two')")
	backup := dir + "/../keep.bak"
	mustExec(t, db, "BACKUP DATABASE keep TO DISK = @p1 WITH INIT", backup)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart after a clean stop.
	srv2, err := Start(Options{DataDir: dir, SAPassword: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	kdb2 := openDB(t, srv2, "keep")
	if n := queryInt(t, kdb2, "SELECT COUNT(*) FROM t"); n != 2 {
		t.Fatalf("after restart: %d rows", n)
	}
	mustExec(t, kdb2, "INSERT INTO t VALUES (3, N'three')") // acknowledged, so durable
	db2 := openDB(t, srv2, "")
	if n := queryInt(t, db2, "SELECT COUNT(*) FROM msdb.dbo.backupset WHERE database_name = 'keep'"); n != 1 {
		t.Fatalf("backup history after restart: %d", n)
	}
	srv2.Crash()
	if _, err := kdb2.Exec("SELECT 1"); err == nil {
		t.Fatal("query succeeded on a crashed server")
	}

	// Restart after a crash: every acknowledged write is there.
	srv3, err := Start(Options{DataDir: dir, SAPassword: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	defer srv3.Close()
	kdb3 := openDB(t, srv3, "keep")
	if n := queryInt(t, kdb3, "SELECT COUNT(*) FROM t"); n != 3 {
		t.Fatalf("after crash: %d rows, want 3", n)
	}
	bob, err := sql.Open("sqlserver", srv3.DSN("bob", "Bob-Passw0rd!", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := bob.Ping(); err != nil {
		t.Fatalf("login created before the restarts: %v", err)
	}
}

func TestAcceptPaused(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := srv.SetAcceptPaused(true); err != nil {
		t.Fatal(err)
	}
	fresh, err := sql.Open("sqlserver", srv.SADSN("")+"&dial+timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.Ping(); err == nil {
		t.Fatal("new connection succeeded while accepting is paused")
	}
	// Established sessions keep working.
	if err := conn.PingContext(context.Background()); err != nil {
		t.Fatalf("existing session: %v", err)
	}
	if err := srv.SetAcceptPaused(false); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Ping(); err != nil {
		t.Fatalf("after resume: %v", err)
	}
}

func TestHangMakesRequestsTimeOut(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv.SetHang(30 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	var n int
	err = conn.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("hung request: got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cancel of a hung request took %v", d)
	}
	srv.SetHang(0)
	if err := conn.QueryRowContext(context.Background(), "SELECT 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after hang cleared: n=%d err=%v", n, err)
	}
}

func TestKillAllSessions(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if srv.KillAllSessions() < 1 {
		t.Fatal("KillAllSessions closed nothing")
	}
	if err := conn.PingContext(context.Background()); err == nil {
		var n int
		if err := conn.QueryRowContext(context.Background(), "SELECT 1").Scan(&n); err == nil {
			t.Fatal("killed session still answers")
		}
	}
	// The pool reconnects.
	if got := queryInt(t, db, "SELECT 1"); got != 1 {
		t.Fatal("reconnect failed")
	}
}

func TestKillAndSingleUser(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	mustExec(t, db, "CREATE DATABASE k")
	victim := openDB(t, srv, "k")
	vconn, err := victim.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer vconn.Close()
	var spid int64
	if err := vconn.QueryRowContext(context.Background(), "SELECT @@SPID").Scan(&spid); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("ALTER DATABASE k SET SINGLE_USER")
	if me := sqlError(t, err); me.Number != 5061 {
		t.Fatalf("SINGLE_USER without rollback while in use: %d, want 5061", me.Number)
	}
	mustExec(t, db, "KILL @p1", spid)
	if n := queryInt(t, db, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE session_id = @p1", spid); n != 0 {
		t.Fatalf("killed session still listed")
	}
	_, err = db.Exec("KILL @p1", spid)
	if me := sqlError(t, err); me.Number != 6106 {
		t.Fatalf("KILL of a gone session: %d, want 6106", me.Number)
	}
}

func TestSetHangZeroReleasesWaitingRequests(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	srv.SetHang(time.Minute)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		var n int
		done <- db.QueryRow("SELECT 5").Scan(&n)
	}()
	time.AfterFunc(200*time.Millisecond, func() { srv.SetHang(0) })
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("released request: %v", err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Fatalf("request was not delayed (%v)", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("SetHang(0) did not release the waiting request")
	}
}
