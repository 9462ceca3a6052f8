package logshipping

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// DatabaseSettings are what a restore drops and the operator puts back on a new primary: the
// database's owner and TRUSTWORTHY, as the old primary had them.
type DatabaseSettings struct {
	Owner       string
	Trustworthy bool
}

// SettingChange is one setting ApplyDatabaseSettings put back, or could not.
type SettingChange struct {
	Database string
	// Statement is the T-SQL that puts it back (for a person to run when Err is set).
	Statement string
	Err       error
}

// ApplyDatabaseSettings sets on c, for each database of want, the owner and TRUSTWORTHY the old
// primary had, where they differ. Each change is tried on its own: a refused one (TRUSTWORTHY needs
// sysadmin, the owner IMPERSONATE on that login) does not stop the others. It returns what it
// changed or tried, and an error joining the refusals.
func ApplyDatabaseSettings(ctx context.Context, c *sqlserver.Client, want map[string]DatabaseSettings) ([]SettingChange, error) {
	dbs := slices.Sorted(maps.Keys(want))
	states, err := c.Databases(ctx, dbs)
	if err != nil {
		return nil, fmt.Errorf("database settings: %w", err)
	}
	var out []SettingChange
	var errs []error
	for _, db := range dbs {
		w, st := want[db], states[db]
		if !st.Writable() {
			continue
		}
		if w.Owner != "" && w.Owner != st.Owner {
			q, _ := sqlserver.QuoteName(w.Owner)
			ch := SettingChange{Database: db, Statement: fmt.Sprintf("ALTER AUTHORIZATION ON DATABASE::[%s] TO %s", db, q),
				Err: c.SetOwner(ctx, db, w.Owner)}
			out, errs = append(out, ch), append(errs, ch.Err)
		}
		if w.Trustworthy && !st.Trustworthy {
			ch := SettingChange{Database: db, Statement: fmt.Sprintf("ALTER DATABASE [%s] SET TRUSTWORTHY ON", db),
				Err: c.SetTrustworthy(ctx, db, true)}
			out, errs = append(out, ch), append(errs, ch.Err)
		}
	}
	return out, errors.Join(errs...)
}
