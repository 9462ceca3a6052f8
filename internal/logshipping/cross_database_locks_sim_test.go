package logshipping

import (
	"testing"
	"time"
)

// TestSwitchoverDisconnectsASessionHoldingLocksFromAnotherDatabase: an application connected to
// master keeps a transaction open that wrote sales.dbo.orders by its three-part name. Its
// current database is master, yet it holds locks in sales, so the tail-log backup of a planned
// switchover needs it gone (3101 otherwise, on every retry). The operator finds it through
// sys.dm_tran_locks and disconnects it; its uncommitted row is rolled back, everything committed
// reaches the new primary.
func TestSwitchoverDisconnectsASessionHoldingLocksFromAnotherDatabase(t *testing.T) {
	a, b := startMember(t, "A"), startMember(t, "B")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, a, "sales")
	insert(t, a, "sales", 3)
	g.backup(t, a, dbs, nil)
	g.restore(t, a, b, dbs, standbySettings(g.dir), time.Now())
	committed := count(t, a, "sales")

	ctx := testContext(t)
	conn, err := a.app(t, "").Conn(ctx) // current database: master
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO sales.dbo.orders (n) VALUES (@p1)", 999); err != nil {
		t.Fatal(err)
	}

	if _, err := g.shipper.PlannedSwitchover(ctx, a.client, b.client, dbs, time.Now()); err != nil {
		t.Fatalf("switchover with a session in master holding locks in sales: %v", err)
	}
	if got := count(t, b, "sales"); got != committed {
		t.Fatalf("new primary has %d rows, want the %d committed ones (the open transaction rolled back)", got, committed)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("the disconnected session's transaction committed")
	}
}
