package sqlserver

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Login is a SQL login as copied between members: the same SID keeps the
// database users mapped after a failover, and the same password hash lets
// applications keep their password.
type Login struct {
	Name string
	// SID is the login's security identifier (1 to 85 bytes).
	SID []byte
	// PasswordHash is sys.sql_logins.password_hash. It is a secret:
	// String and GoString do not print it.
	PasswordHash []byte
	// Disabled is sys.sql_logins.is_disabled.
	Disabled bool
	// CheckPolicy is sys.sql_logins.is_policy_checked (CHECK_POLICY):
	// the Windows password policy (complexity, lockout) applies.
	CheckPolicy bool
	// CheckExpiration is sys.sql_logins.is_expiration_checked
	// (CHECK_EXPIRATION): the password expires. SQL Server refuses it
	// without CheckPolicy (error 15122).
	CheckExpiration bool
}

// String describes the login without its password hash.
func (l Login) String() string {
	return fmt.Sprintf("login{%s sid=0x%X disabled=%t check_policy=%s check_expiration=%s}",
		l.Name, l.SID, l.Disabled, onOff(l.CheckPolicy), onOff(l.CheckExpiration))
}

// GoString is String, so that %#v does not print the hash either.
func (l Login) GoString() string { return l.String() }

// Limits of sys.sql_logins columns.
const (
	maxSIDBytes          = 85
	maxPasswordHashBytes = 256
)

// saSID is the SID of the sa login (which may be renamed).
var saSID = []byte{0x01}

func (l Login) validate() error {
	if err := validateIdentifier(l.Name); err != nil {
		return fmt.Errorf("login name: %w", err)
	}
	if len(l.SID) == 0 || len(l.SID) > maxSIDBytes {
		return fmt.Errorf("login %s: SID of %d bytes, want 1 to %d", l.Name, len(l.SID), maxSIDBytes)
	}
	if len(l.PasswordHash) == 0 || len(l.PasswordHash) > maxPasswordHashBytes {
		return fmt.Errorf("login %s: password hash of %d bytes, want 1 to %d", l.Name, len(l.PasswordHash), maxPasswordHashBytes)
	}
	if l.CheckExpiration && !l.CheckPolicy {
		return fmt.Errorf("login %s: CHECK_EXPIRATION = ON needs CHECK_POLICY = ON", l.Name)
	}
	return nil
}

// onOff renders a bool as a T-SQL ON / OFF option value.
func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

// policyOptions is the WITH clause that gives a login l's password policy
// settings. Both options are always given: CHECK_POLICY = ON alone would
// also turn CHECK_EXPIRATION ON on a login whose policy was off.
func (l Login) policyOptions() string {
	return "CHECK_EXPIRATION = " + onOff(l.CheckExpiration) + ", CHECK_POLICY = " + onOff(l.CheckPolicy)
}

// loginColumns are the sys.sql_logins columns a Login is read from, in
// scanLogin's order.
const loginColumns = `name, sid, password_hash, is_disabled, is_policy_checked, is_expiration_checked`

func scanLogin(r *sql.Rows) (Login, error) {
	var l Login
	var policy, expiration sql.NullBool
	if err := r.Scan(&l.Name, &l.SID, &l.PasswordHash, &l.Disabled, &policy, &expiration); err != nil {
		return Login{}, err
	}
	l.CheckPolicy, l.CheckExpiration = policy.Bool, expiration.Bool
	return l, nil
}

// Logins returns the SQL logins of the instance except sa and the
// ##...## system logins. Without ALTER ANY LOGIN SQL Server shows a login
// only itself, and without VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION
// (CONTROL SERVER before SQL Server 2022) every password_hash is NULL:
// both are a *PermissionError rather than a short or unusable list.
func (c *Client) Logins(ctx context.Context) ([]Login, error) {
	if err := c.checkLoginsVisible(ctx); err != nil {
		return nil, fmt.Errorf("list logins on %s: %w", c.Address(), err)
	}
	var out []Login
	hidden := 0
	err := c.query(ctx, func(r *sql.Rows) error {
		l, err := scanLogin(r)
		if err != nil {
			return err
		}
		if bytes.Equal(l.SID, saSID) || strings.EqualFold(l.Name, "sa") ||
			(strings.HasPrefix(l.Name, "##") && strings.HasSuffix(l.Name, "##")) {
			return nil
		}
		if l.PasswordHash == nil {
			hidden++
		}
		out = append(out, l)
		return nil
	}, `SELECT `+loginColumns+` FROM sys.sql_logins ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list logins on %s: %w", c.Address(), err)
	}
	if hidden > 0 {
		return nil, fmt.Errorf("list logins on %s: %w", c.Address(), &PermissionError{
			Statement: "SELECT password_hash FROM sys.sql_logins", Permission: needPasswordHashes,
			Err: fmt.Errorf("the password hash of %d of %d logins is NULL", hidden, len(out)),
		})
	}
	return out, nil
}

// checkLoginsVisible fails with a *PermissionError unless the login holds
// ALTER ANY LOGIN (HAS_PERMS_BY_NAME: 1 as sysadmin too).
func (c *Client) checkLoginsVisible(ctx context.Context) error {
	var has sql.NullInt64
	if err := c.query(ctx, func(r *sql.Rows) error { return r.Scan(&has) },
		`SELECT HAS_PERMS_BY_NAME(NULL, NULL, N'ALTER ANY LOGIN')`); err != nil {
		return err
	}
	if has.Valid && has.Int64 == 1 {
		return nil
	}
	return &PermissionError{Statement: "SELECT FROM sys.sql_logins", Permission: needLoginsVisibility,
		Err: errors.New("HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY LOGIN') is not 1: SQL Server would list only the operator's own login")}
}

// LoginChange is what EnsureLogin did.
type LoginChange int

// Login changes.
const (
	// LoginUnchanged: the login existed with the same SID, hash, enabled
	// state and password policy settings.
	LoginUnchanged LoginChange = iota
	// LoginCreated: the login was created with the given SID, hash and
	// password policy settings (and disabled if it is disabled on the
	// source).
	LoginCreated
	// LoginUpdated: the login existed with the same SID; its password hash
	// (the password changed on the source), its enabled state or its
	// CHECK_POLICY / CHECK_EXPIRATION settings were brought in line.
	LoginUpdated
)

// String returns "Unchanged", "Created" or "Updated".
func (c LoginChange) String() string {
	switch c {
	case LoginCreated:
		return "Created"
	case LoginUpdated:
		return "Updated"
	}
	return "Unchanged"
}

// LoginSIDMismatchError reports a login that exists with another SID: it
// cannot be fixed without dropping it, which the operator leaves to a human.
type LoginSIDMismatchError struct {
	Name              string
	ExistingSID, Want []byte
}

func (e *LoginSIDMismatchError) Error() string {
	return fmt.Sprintf("login %s exists with SID 0x%X, want 0x%X", e.Name, e.ExistingSID, e.Want)
}

// EnsureLogin makes the instance have login l with l's SID, password hash,
// enabled state and password policy settings: it is created when missing
// (CREATE LOGIN ... WITH PASSWORD = 0x... HASHED, SID = 0x...,
// CHECK_EXPIRATION = ..., CHECK_POLICY = ..., the source's values: SQL
// Server accepts a hashed password with CHECK_POLICY ON, it cannot check
// its complexity), and its hash, enabled state and policy settings are
// updated when they differ. A new hash is set with CHECK_POLICY off for the
// statement (then put back), so that a password policy's history or
// minimum age cannot refuse a copy of a password the source already
// accepted. A login of the same name with another SID is a
// *LoginSIDMismatchError. The hash and SID are written as hex literals
// built from the bytes; the name is quoted.
func (c *Client) EnsureLogin(ctx context.Context, l Login) (LoginChange, error) {
	if err := l.validate(); err != nil {
		return LoginUnchanged, fmt.Errorf("ensure login: %w", err)
	}
	quoted, err := QuoteName(l.Name)
	if err != nil {
		return LoginUnchanged, fmt.Errorf("ensure login: %w", err)
	}
	var existing *Login
	err = c.query(ctx, func(r *sql.Rows) error {
		e, err := scanLogin(r)
		if err != nil {
			return err
		}
		existing = &e
		return nil
	}, `SELECT `+loginColumns+` FROM sys.sql_logins WHERE name = @p1`, l.Name)
	if err != nil {
		return LoginUnchanged, fmt.Errorf("ensure login %s on %s: %w", l.Name, c.Address(), err)
	}
	hash := hexLiteral(l.PasswordHash)
	// A server message may quote the statement: keep the hash out of it.
	run := func(what, stmt string) error {
		if err := c.exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s login %s on %s: %w", what, l.Name, c.Address(), loginPermissionDenied(redactSecret(err, hash), stmt))
		}
		return nil
	}
	change := LoginUnchanged
	switch {
	case existing == nil:
		if err := run("create", "CREATE LOGIN "+quoted+" WITH PASSWORD = "+hash+" HASHED, SID = "+hexLiteral(l.SID)+
			", "+l.policyOptions()); err != nil {
			return LoginUnchanged, err
		}
		existing = &Login{Name: l.Name, SID: l.SID, PasswordHash: l.PasswordHash, CheckPolicy: l.CheckPolicy, CheckExpiration: l.CheckExpiration}
		change = LoginCreated
	case !bytes.Equal(existing.SID, l.SID):
		return LoginUnchanged, &LoginSIDMismatchError{Name: l.Name, ExistingSID: existing.SID, Want: l.SID}
	case !bytes.Equal(existing.PasswordHash, l.PasswordHash):
		if existing.CheckPolicy {
			// Also turns CHECK_EXPIRATION off; put back below.
			if err := run("turn off CHECK_POLICY of", "ALTER LOGIN "+quoted+" WITH CHECK_POLICY = OFF"); err != nil {
				return LoginUnchanged, err
			}
			existing.CheckPolicy, existing.CheckExpiration = false, false
			change = LoginUpdated
		}
		if err := run("update password of", "ALTER LOGIN "+quoted+" WITH PASSWORD = "+hash+" HASHED"); err != nil {
			return change, err
		}
		change = LoginUpdated
	}
	if existing.CheckPolicy != l.CheckPolicy || existing.CheckExpiration != l.CheckExpiration {
		if err := run("set password policy of", "ALTER LOGIN "+quoted+" WITH "+l.policyOptions()); err != nil {
			return change, err
		}
		change = LoginUpdated
	}
	if existing.Disabled != l.Disabled {
		action := "ENABLE"
		if l.Disabled {
			action = "DISABLE"
		}
		if err := run(strings.ToLower(action), "ALTER LOGIN "+quoted+" "+action); err != nil {
			return change, err
		}
		if change == LoginUnchanged {
			change = LoginUpdated
		}
	}
	return change, nil
}

// hexLiteral renders bytes as a T-SQL binary literal, 0x0102AB. Only hex
// digits follow the 0x, whatever the bytes are.
func hexLiteral(b []byte) string {
	return "0x" + strings.ToUpper(hex.EncodeToString(b))
}
