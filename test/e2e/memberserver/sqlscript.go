package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/test/sqlcmd"
)

// runSQLScript runs the T-SQL scripts $SQL_SCRIPTS (file paths separated by spaces, e.g. the
// operator's login scripts of config/samples from a ConfigMap) on the server at SQL_ADDR (see
// sqlTarget) as SQL_USER, in order, the way `sqlcmd -b -i` does (test/sqlcmd): scripting
// variables $(NAME) come from the environment, batches end at GO lines, one connection, the first
// error stops. It waits up to 2 minutes for the server first.
func runSQLScript(ctx context.Context) error {
	addr, err := sqlTarget()
	if err != nil {
		return err
	}
	scripts := strings.Fields(os.Getenv("SQL_SCRIPTS"))
	if len(scripts) == 0 {
		return fmt.Errorf("set SQL_SCRIPTS")
	}
	pool, err := openSQL(addr, "master")
	if err != nil {
		return err
	}
	defer func() { _ = pool.Close() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = pool.PingContext(pctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reach %s: %w", addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	for _, path := range scripts {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := sqlcmd.Run(ctx, conn, string(raw), os.LookupEnv); err != nil {
			return fmt.Errorf("%s on %s: %w", path, addr, err)
		}
		fmt.Printf("ran %s on %s\n", path, addr)
	}
	return nil
}
