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
	// RoleStandby: the databases are log-shipping standbys (IsStandby).
	RoleStandby
	// RoleStandbyOrPromoted: a member that does not hold the Lease. Its
	// databases are standbys, or were recovered a moment ago by a promotion
	// its caller has not recorded yet (ONLINE read-write).
	RoleStandbyOrPromoted
)

// String returns "Primary" or "Standby".
func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "Primary"
	case RoleStandby:
		return "Standby"
	case RoleStandbyOrPromoted:
		return "StandbyOrPromoted"
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

// IsStandby is the one rule for "this database is a log-shipping standby":
// it exists and is RESTORING (restored WITH NORECOVERY) or ONLINE in
// STANDBY (read-only, further log restores possible), decided from
// sys.databases state_desc and is_in_standby (DatabaseState.Restoring).
// A state recorded as its Describe text is read back with ParseDescribed.
func IsStandby(st DatabaseState) bool {
	return st.Restoring()
}

// ParseDescribed is the inverse of DatabaseState.Describe: the typed state
// that a recorded description (e.g. a status field "ONLINE (STANDBY)")
// stands for. Only the fields Describe renders are set.
func ParseDescribed(desc string) DatabaseState {
	switch desc {
	case "", StateMissing:
		return DatabaseState{}
	case "ONLINE (STANDBY)":
		return DatabaseState{Exists: true, State: StateOnline, IsInStandby: true, IsReadOnly: true}
	case "ONLINE (READ_ONLY)":
		return DatabaseState{Exists: true, State: StateOnline, IsReadOnly: true}
	}
	return DatabaseState{Exists: true, State: desc}
}

// expectation returns whether st fits role, and the wanted state.
func (r Role) expectation(st DatabaseState) (ok bool, want string) {
	switch r {
	case RolePrimary:
		return st.Writable(), "ONLINE read-write (not STANDBY)"
	case RoleStandby:
		return IsStandby(st), "RESTORING or ONLINE (STANDBY)"
	case RoleStandbyOrPromoted:
		return IsStandby(st) || st.Writable(), "RESTORING, ONLINE (STANDBY) or ONLINE read-write"
	}
	return false, "a known role"
}

// HealthCheck connects, runs SELECT 1 and checks that every database in dbs
// is in the state role needs. Every misplaced database is reported (joined
// *DatabaseStateError values), naming the database and its state.
func (c *Client) HealthCheck(ctx context.Context, dbs []string, role Role) error {
	if role != RolePrimary && role != RoleStandby && role != RoleStandbyOrPromoted {
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
