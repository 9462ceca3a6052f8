package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/understudy-dev/understudy/internal/probe"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// sqlProbeTarget is what the SQL Server health check needs to know about one probed address.
type sqlProbeTarget struct {
	cfg     sqlserver.Config
	dbs     []string
	primary bool // the member holds the Lease
}

// sqlTargets tells the SQL Server health checker, per probed address, the group's login, its
// databases and the member's role; the reconciler records it when it configures a group's probes.
type sqlTargets struct {
	mu      sync.Mutex
	targets map[string]sqlProbeTarget
}

func (t *sqlTargets) set(address string, target sqlProbeTarget) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.targets == nil {
		t.targets = map[string]sqlProbeTarget{}
	}
	t.targets[address] = target
}

func (t *sqlTargets) get(address string) (sqlProbeTarget, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	target, ok := t.targets[address]
	return target, ok
}

// sqlHealthChecker is the probe.Checker of probe.KindSQLServer: connect, SELECT 1, and every group
// database in the state the member's role needs. The active member's databases must be ONLINE and
// writable. A standby's must exist and be RESTORING or ONLINE: ONLINE covers a standby in STANDBY
// mode and the moment between a promotion and the next reconcile, when the role here is not yet
// updated; a member whose databases are missing, SUSPECT or OFFLINE is not a candidate.
type sqlHealthChecker struct {
	targets *sqlTargets
	clients sqlClients
}

func (c *sqlHealthChecker) Check(ctx context.Context, t probe.Target) error {
	target, ok := c.targets.get(t.Address)
	if !ok {
		return fmt.Errorf("no SQL Server login known for %s", t.Address)
	}
	cl, err := c.clients.get(t.Address, target.cfg)
	if err != nil {
		return err
	}
	if target.primary {
		return cl.HealthCheck(ctx, target.dbs, sqlserver.RolePrimary)
	}
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	states, err := cl.Databases(ctx, target.dbs)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	var errs []error
	for _, db := range target.dbs {
		st := states[db]
		if !st.Exists || (st.State != sqlserver.StateRestoring && st.State != sqlserver.StateOnline) {
			errs = append(errs, fmt.Errorf("database %s is %s, want RESTORING or STANDBY", db, st.Describe()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("health check of %s as standby: %w", t.Address, err)
	}
	return nil
}
