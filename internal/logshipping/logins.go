package logshipping

import (
	"context"
	"errors"
	"fmt"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// LoginCopy is what CopyLogins did with one login.
type LoginCopy struct {
	Name   string
	Change sqlserver.LoginChange
	// Err is the failure for this login (e.g. a
	// *sqlserver.LoginSIDMismatchError, left to a human).
	Err error
}

// CopyLogins makes the standby have every SQL login of the primary (except
// sa and ##system## logins) with the same SID, password hash, enabled
// state and password policy settings (CHECK_POLICY, CHECK_EXPIRATION), so
// database users stay mapped, passwords keep working and the same policy
// applies after a failover. Logins only on the standby are left alone. The
// error joins every login's Err, plus a failure to list the primary's
// logins.
func CopyLogins(ctx context.Context, primary, standby *sqlserver.Client) ([]LoginCopy, error) {
	logins, err := primary.Logins(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy logins: %w", err)
	}
	var out []LoginCopy
	var errs []error
	for _, l := range logins {
		change, err := standby.EnsureLogin(ctx, l)
		out = append(out, LoginCopy{Name: l.Name, Change: change, Err: err})
		if err != nil {
			errs = append(errs, fmt.Errorf("copy login %s to %s: %w", l.Name, standby.Address(), err))
		}
	}
	return out, errors.Join(errs...)
}
