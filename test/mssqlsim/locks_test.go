package mssqlsim

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	mssql "github.com/microsoft/go-mssqldb"
)

// TestTransactionInAnotherDatabaseBlocksExclusiveAccess: a session whose current database is
// master but whose open transaction wrote to shop.dbo.orders holds locks in shop. Exclusive access
// to shop (a tail-log backup WITH NORECOVERY, a RESTORE) fails with 3101 while it lasts, and
// sys.dm_tran_locks names the session under shop's database_id although sys.dm_exec_sessions
// shows it in master.
func TestTransactionInAnotherDatabaseBlocksExclusiveAccess(t *testing.T) {
	srv, err := Start(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	db, err := sql.Open("sqlserver", srv.SADSN(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	mustExec(t, db, "CREATE DATABASE [shop]")
	mustExec(t, db, "CREATE TABLE shop.dbo.orders (id INT NOT NULL)")
	dir := t.TempDir()
	mustExec(t, db, "BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT", dir+"/full.bak")

	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Close() })
	var spid int64
	if err := holder.QueryRowContext(ctx, "SELECT @@SPID").Scan(&spid); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO shop.dbo.orders (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var current int64
	if err := db.QueryRow("SELECT database_id FROM sys.dm_exec_sessions WHERE session_id = @p1", spid).Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != 1 {
		t.Fatalf("holder's current database_id = %d, want 1 (master)", current)
	}
	var locks int64
	if err := db.QueryRow("SELECT COUNT(*) FROM sys.dm_tran_locks WHERE resource_database_id = DB_ID(N'shop') AND request_session_id = @p1", spid).Scan(&locks); err != nil {
		t.Fatal(err)
	}
	if locks == 0 {
		t.Fatal("sys.dm_tran_locks shows no lock of the holder in shop")
	}
	_, err = db.Exec("BACKUP LOG [shop] TO DISK = @p1 WITH INIT, NORECOVERY", dir+"/tail.trn")
	var me mssql.Error
	if !errors.As(err, &me) || !containsNumber(me, 3101) {
		t.Fatalf("tail-log backup while a transaction in master holds locks in shop: %v, want 3101", err)
	}
	// Once the transaction ends, the locks are gone and exclusive access is granted.
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM sys.dm_tran_locks WHERE resource_database_id = DB_ID(N'shop')").Scan(&locks); err != nil {
		t.Fatal(err)
	}
	if locks != 0 {
		t.Fatalf("%d locks in shop after the rollback", locks)
	}
	mustExec(t, db, "BACKUP LOG [shop] TO DISK = @p1 WITH INIT, NORECOVERY", dir+"/tail.trn")
}
