package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Database states as sys.databases.state_desc reports them.
const (
	StateOnline     = "ONLINE"
	StateRestoring  = "RESTORING"
	StateRecovering = "RECOVERING"
	StateOffline    = "OFFLINE"
	StateSuspect    = "SUSPECT"
	// StateMissing is reported by this package for a database that does
	// not exist on the instance.
	StateMissing = "MISSING"
)

// Recovery models as sys.databases.recovery_model_desc reports them.
const (
	RecoveryFull         = "FULL"
	RecoveryBulkLogged   = "BULK_LOGGED"
	RecoverySimple       = "SIMPLE"
	UserAccessMulti      = "MULTI_USER"
	UserAccessSingle     = "SINGLE_USER"
	UserAccessRestricted = "RESTRICTED_USER"
)

// DatabaseState is one row of sys.databases (and
// sys.database_recovery_status) for a database.
type DatabaseState struct {
	// Name as the server spells it (or as requested when it is missing).
	Name string
	// Exists is false when the instance has no such database; the other
	// fields are then zero.
	Exists bool
	// State is state_desc: ONLINE, RESTORING, RECOVERING, OFFLINE, ...
	State string
	// IsInStandby is true for a database restored WITH STANDBY (ONLINE,
	// read-only, further log restores possible).
	IsInStandby bool
	// IsReadOnly is true for READ_ONLY and STANDBY databases.
	IsReadOnly bool
	// UserAccess is MULTI_USER, SINGLE_USER or RESTRICTED_USER.
	UserAccess string
	// RecoveryModel is FULL, BULK_LOGGED or SIMPLE.
	RecoveryModel string
	// LastLogBackupLSN is sys.database_recovery_status.last_log_backup_lsn
	// (zero when no log backup was taken).
	LastLogBackupLSN LSN
	// LogReuseWait is sys.databases.log_reuse_wait_desc: what keeps the log from being truncated
	// (LOG_BACKUP: waiting for a log backup; NOTHING).
	LogReuseWait string
	// Owner is the login that owns the database (SUSER_SNAME(owner_sid); empty when the SID has
	// no login here).
	Owner string
	// Trustworthy is is_trustworthy_on.
	Trustworthy bool
}

// LogReuseWaitLogBackup is log_reuse_wait_desc of a log that only a log backup can truncate.
const LogReuseWaitLogBackup = "LOG_BACKUP"

// Restoring reports whether further log backups can be applied: RESTORING,
// or ONLINE in STANDBY.
func (d DatabaseState) Restoring() bool {
	return d.Exists && (d.State == StateRestoring || (d.State == StateOnline && d.IsInStandby))
}

// Writable reports whether the database is ONLINE and read-write.
func (d DatabaseState) Writable() bool {
	return d.Exists && d.State == StateOnline && !d.IsInStandby && !d.IsReadOnly
}

// Describe renders the state for messages, e.g. "ONLINE (STANDBY)".
func (d DatabaseState) Describe() string {
	switch {
	case !d.Exists:
		return StateMissing
	case d.State == StateOnline && d.IsInStandby:
		return "ONLINE (STANDBY)"
	case d.State == StateOnline && d.IsReadOnly:
		return "ONLINE (READ_ONLY)"
	}
	return d.State
}

// Databases returns the state of each named database, keyed by the name as
// given. A database the instance does not have is reported with Exists
// false. Names are matched case-insensitively, as SQL Server's default
// collation does.
func (c *Client) Databases(ctx context.Context, names []string) (map[string]DatabaseState, error) {
	out := make(map[string]DatabaseState, len(names))
	if len(names) == 0 {
		return out, nil
	}
	placeholders := make([]string, len(names))
	args := make([]any, len(names))
	for i, n := range names {
		if err := validateIdentifier(n); err != nil {
			return nil, fmt.Errorf("database states: %w", err)
		}
		placeholders[i] = fmt.Sprintf("@p%d", i+1)
		args[i] = n
	}
	found := map[string]DatabaseState{}
	query := `SELECT d.name, d.state_desc, d.is_in_standby, d.is_read_only, d.user_access_desc, d.recovery_model_desc,
	                 rs.last_log_backup_lsn, d.log_reuse_wait_desc, SUSER_SNAME(d.owner_sid), d.is_trustworthy_on
	          FROM sys.databases d
	          LEFT JOIN sys.database_recovery_status rs ON rs.database_id = d.database_id
	          WHERE d.name IN (` + strings.Join(placeholders, ", ") + `)`
	err := c.query(ctx, func(r *sql.Rows) error {
		var st DatabaseState
		var lastLog, reuse, owner sql.NullString
		var trustworthy sql.NullBool
		if err := r.Scan(&st.Name, &st.State, &st.IsInStandby, &st.IsReadOnly, &st.UserAccess, &st.RecoveryModel, &lastLog, &reuse,
			&owner, &trustworthy); err != nil {
			return err
		}
		lsn, err := parseNullLSN(lastLog)
		if err != nil {
			return fmt.Errorf("last_log_backup_lsn of %s: %w", st.Name, err)
		}
		st.LastLogBackupLSN, st.LogReuseWait = lsn, reuse.String
		st.Owner, st.Trustworthy = owner.String, trustworthy.Bool
		st.Exists = true
		found[strings.ToLower(st.Name)] = st
		return nil
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("database states on %s: %w", c.Address(), err)
	}
	for _, n := range names {
		st, ok := found[strings.ToLower(n)]
		if !ok {
			st = DatabaseState{Name: n}
		}
		out[n] = st
	}
	return out, nil
}

// Database returns the state of one database (Exists false when missing).
func (c *Client) Database(ctx context.Context, name string) (DatabaseState, error) {
	m, err := c.Databases(ctx, []string{name})
	if err != nil {
		return DatabaseState{}, err
	}
	return m[name], nil
}

// parseNullLSN parses a nullable numeric(25,0) column; NULL is the zero LSN.
func parseNullLSN(s sql.NullString) (LSN, error) {
	if !s.Valid || s.String == "" {
		return LSN{}, nil
	}
	return ParseLSN(s.String)
}
