package sqlcmd

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/microsoft/go-mssqldb" // database/sql driver

	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// Batches run in order on one connection (USE carries over); the first
// failure stops the script and its error does not quote the batch.
func TestRunStopsAtTheFirstFailingBatch(t *testing.T) {
	srv, err := mssqlsim.Start(mssqlsim.Options{DataDir: t.TempDir(), SAPassword: "Sqlcmd-Pa55word!"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	pool, err := sql.Open("sqlserver", srv.SADSN(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	vars := map[string]string{"DB": "Scripted", "SECRET": "Not-In-Errors-1!"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	script := "CREATE DATABASE [$(DB)]\nGO\nUSE [$(DB)]\nGO\nCREATE TABLE t (id INT)\nGO\n" +
		"CREATE LOGIN [x] WITH PASSWORD = N'$(SECRET)', SID = 0x\nGO\nCREATE TABLE never (id INT)\nGO\n"
	err = Run(ctx, conn, script, lookup)
	if err == nil || !strings.HasPrefix(err.Error(), "batch 4: ") || strings.Contains(err.Error(), vars["SECRET"]) {
		t.Fatalf("Run = %v, want batch 4's error without the password", err)
	}
	var tables int
	if err := pool.QueryRowContext(ctx, "SELECT COUNT(*) FROM Scripted.sys.tables").Scan(&tables); err != nil || tables != 1 {
		t.Fatalf("tables in Scripted: %d, %v; want only t (created after USE, before the failure)", tables, err)
	}
}
