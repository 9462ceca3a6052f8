package controllers

import (
	"context"
	"errors"
	"fmt"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/probe"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// sqlProbeTarget is what the SQL Server health check needs to know about one probed address
// (sqlgroup.ProbeTarget).
type sqlProbeTarget struct {
	cfg  sqlserver.Config
	dbs  []string
	role sqlserver.Role
}

// sqlProbeRole is the state a member's databases must be in for it to count as healthy:
//   - the members a failover in progress moves the role between: standbys, or ONLINE read-write (the
//     target's RESTORE WITH RECOVERY may have run before the status records it; the old primary
//     was writable until it was fenced);
//   - the member holding the Lease: ONLINE read-write;
//   - while no member holds the Lease (the first election): standbys or ONLINE read-write;
//   - a member recorded Fenced (an old primary on its way back: its databases stay ONLINE until
//     log shipping salvages and reseeds them): standbys or ONLINE read-write;
//   - every other member: log-shipping standbys (RESTORING, or ONLINE in STANDBY) and nothing else.
//     A standby whose database was recovered or created by hand is not healthy, so it is never a
//     candidate nor promoted as it is (its data is not the group's).
func sqlProbeRole(g *v1alpha1.FailoverGroup, member, holder string) sqlserver.Role {
	p := g.Status.InProgress
	switch {
	case p != nil && (member == p.To || member == p.From):
		return sqlserver.RoleStandbyOrPromoted
	case member == holder:
		return sqlserver.RolePrimary
	case holder == "":
		return sqlserver.RoleStandbyOrPromoted // no member holds the Lease: any may be elected
	}
	for _, ms := range g.Status.Members {
		if ms.Name == member && ms.Role == v1alpha1.RoleFenced {
			return sqlserver.RoleStandbyOrPromoted
		}
	}
	return sqlserver.RoleStandby
}

// sqlHealthChecker is the probe.Checker of probe.KindSQLServer: connect, SELECT 1, and every group
// database in the state the member's role needs (sqlserver.Client.HealthCheck, with the role of
// sqlProbeRole). The login, databases and role of each probed address are what the FailoverGroup
// reconciler last registered (sqlGroups.setProbe).
type sqlHealthChecker struct {
	groups *sqlGroups
}

func (c *sqlHealthChecker) Check(ctx context.Context, t probe.Target) error {
	target, cl, err := c.groups.reg.Probe(t.Address)
	if err != nil {
		return err
	}
	err = cl.HealthCheck(ctx, target.Databases, target.Role)
	if k := sqlserver.Classify(err); k == sqlserver.KindLoginNotEncrypted || k == sqlserver.KindCertificateNotTrusted {
		// The member's message starts with the reason, which the Degraded condition carries.
		return fmt.Errorf("%s: %w", v1alpha1.ReasonDegradedTLSRefused, err)
	}
	if target.Role == sqlserver.RoleStandby && standbyNotRestoring(err) {
		// The member's message starts with the reason, which the Degraded condition carries.
		return fmt.Errorf("%s: %w (restore it WITH NORECOVERY from the group's backups, or drop it so log shipping reseeds it)",
			v1alpha1.ReasonDegradedStandbyNotRestoring, err)
	}
	return err
}

// standbyNotRestoring says whether err reports a standby database that exists but is not restoring
// (ONLINE read-write, read-only, OFFLINE, SUSPECT...). A missing database is not one: log shipping
// seeds it.
func standbyNotRestoring(err error) bool {
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var se *sqlserver.DatabaseStateError
		if errors.As(e, &se) && se.Role == sqlserver.RoleStandby && sqlserver.ParseDescribed(se.Got).Exists {
			return true
		}
	}
	return false
}
