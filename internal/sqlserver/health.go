package sqlserver

import (
	"context"
	"errors"
	"fmt"
)

// Role is what a member does for the group's databases.
type Role int

// Roles.
const (
	// RolePrimary: the databases are ONLINE, read-write, not in standby.
	RolePrimary Role = iota + 1
	// RoleStandby: the databases are RESTORING, or ONLINE in STANDBY.
	RoleStandby
)

// String returns "Primary" or "Standby".
func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "Primary"
	case RoleStandby:
		return "Standby"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// DatabaseStateError reports a database that is not in the state its role
// needs. Classify returns KindUnexpectedState for it.
type DatabaseStateError struct {
	Database string
	Role     Role
	// Got is the state found (DatabaseState.Describe), e.g. "RESTORING".
	Got string
	// Want describes the state the role needs.
	Want string
}

func (e *DatabaseStateError) Error() string {
	return fmt.Sprintf("database %s is %s, a %s needs %s", e.Database, e.Got, e.Role, e.Want)
}

// expectation returns whether st fits role, and the wanted state.
func (r Role) expectation(st DatabaseState) (ok bool, want string) {
	switch r {
	case RolePrimary:
		return st.Writable(), "ONLINE read-write (not STANDBY)"
	case RoleStandby:
		return st.Restoring(), "RESTORING or ONLINE (STANDBY)"
	}
	return false, "a known role"
}

// HealthCheck connects, runs SELECT 1 and checks that every database in dbs
// is in the state role needs. Every misplaced database is reported (joined
// *DatabaseStateError values), naming the database and its state.
func (c *Client) HealthCheck(ctx context.Context, dbs []string, role Role) error {
	if role != RolePrimary && role != RoleStandby {
		return fmt.Errorf("health check of %s: unknown role %d", c.Address(), int(role))
	}
	if err := c.Ping(ctx); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	states, err := c.Databases(ctx, dbs)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	var errs []error
	for _, name := range dbs {
		st := states[name]
		if ok, want := role.expectation(st); !ok {
			errs = append(errs, &DatabaseStateError{Database: name, Role: role, Got: st.Describe(), Want: want})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("health check of %s as %s: %w", c.Address(), role, err)
	}
	return nil
}
