package controllers

import (
	"context"

	"github.com/understudy-dev/understudy/internal/probe"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// sqlProbeTarget is what the SQL Server health check needs to know about one probed address
// (sqlgroup.ProbeTarget).
type sqlProbeTarget struct {
	cfg     sqlserver.Config
	dbs     []string
	primary bool // the member holds the Lease
}

// sqlHealthChecker is the probe.Checker of probe.KindSQLServer: connect, SELECT 1, and every group
// database in the state the member's role needs (sqlserver.Client.HealthCheck). The active member's
// databases must be ONLINE and writable. Another member's must be log-shipping standbys (RESTORING
// or ONLINE in STANDBY) or, in the moment between a promotion and the next reconcile, when the role
// recorded here is not yet updated, writable; a member whose databases are missing, SUSPECT,
// OFFLINE or read-only outside STANDBY is not a candidate. The login, databases and role of each
// probed address are what the FailoverGroup reconciler last registered (sqlGroups.setProbe).
type sqlHealthChecker struct {
	groups *sqlGroups
}

func (c *sqlHealthChecker) Check(ctx context.Context, t probe.Target) error {
	target, cl, err := c.groups.reg.Probe(t.Address)
	if err != nil {
		return err
	}
	role := sqlserver.RoleStandbyOrPromoted
	if target.Primary {
		role = sqlserver.RolePrimary
	}
	return cl.HealthCheck(ctx, target.Databases, role)
}
