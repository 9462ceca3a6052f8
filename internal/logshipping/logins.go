package logshipping

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
		if strings.EqualFold(l.Name, standby.Username()) {
			err = operatorLoginSIDMismatch(err)
		}
		out = append(out, LoginCopy{Name: l.Name, Change: change, Err: err})
		if err != nil {
			errs = append(errs, fmt.Errorf("copy login %s to %s: %w", l.Name, standby.Address(), err))
		}
	}
	return out, errors.Join(errs...)
}

// ErrOperatorLoginSIDMismatch: the operator's own login has another SID on
// a standby than on the primary. Its database users (db_backupoperator,
// created on the primary) reach the standby with the primary's SID, so
// they are orphaned there: after a failover every BACKUP on the new
// primary fails (262) until the login is recreated with the primary's SID.
var ErrOperatorLoginSIDMismatch = errors.New("the operator's login must have the same SID on every member: " +
	"drop it on the standby and create it again with the primary's SID (config/samples/sqlserver-operator-login.sql, docs/sqlserver-login.md); " +
	"until then its database users are orphaned there and backups fail after a failover")

// operatorLoginSIDMismatch adds ErrOperatorLoginSIDMismatch to a
// *sqlserver.LoginSIDMismatchError of the operator's own login.
func operatorLoginSIDMismatch(err error) error {
	var mismatch *sqlserver.LoginSIDMismatchError
	if errors.As(err, &mismatch) {
		return fmt.Errorf("%w: %w", err, ErrOperatorLoginSIDMismatch)
	}
	return err
}
