package sqlserver

import (
	"context"
	"fmt"
)

// A restore makes the restoring login the database's owner and turns TRUSTWORTHY off. After a
// failover or switchover the operator sets both back to what the old primary had.

// SetOwner runs ALTER AUTHORIZATION ON DATABASE::[db] TO [login]. It needs TAKE OWNERSHIP on the
// database (the operator has it as the owner a restore made it) and IMPERSONATE on login (for
// example IMPERSONATE ANY LOGIN).
func (c *Client) SetOwner(ctx context.Context, db, login string) error {
	quotedDB, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("set owner: %w", err)
	}
	quotedLogin, err := QuoteName(login)
	if err != nil {
		return fmt.Errorf("set owner of %s: %w", db, err)
	}
	if err := c.exec(ctx, "ALTER AUTHORIZATION ON DATABASE::"+quotedDB+" TO "+quotedLogin); err != nil {
		return fmt.Errorf("make %s the owner of %s: %w", login, db, err)
	}
	return nil
}

// SetTrustworthy runs ALTER DATABASE [db] SET TRUSTWORTHY ON or OFF: sysadmin only.
func (c *Client) SetTrustworthy(ctx context.Context, db string, on bool) error {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("set trustworthy: %w", err)
	}
	value := "OFF"
	if on {
		value = "ON"
	}
	if err := c.exec(ctx, "ALTER DATABASE "+quoted+" SET TRUSTWORTHY "+value); err != nil {
		return fmt.Errorf("set TRUSTWORTHY %s on %s: %w", value, db, err)
	}
	return nil
}
