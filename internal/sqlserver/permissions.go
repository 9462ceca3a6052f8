package sqlserver

import (
	"errors"
	"fmt"
	"strings"
)

// PermissionError is a statement SQL Server refused because the operator's
// login lacks a permission. It names the statement and what to grant
// (docs/sqlserver-login.md lists every grant and the statement that needs
// it); Err is the server's error, so Classify and HasErrorNumber still see
// its numbers. It holds no secret: statements are named, not quoted.
type PermissionError struct {
	// Statement is the statement refused, e.g. "BACKUP LOG [Sales]".
	Statement string
	// Permission is what the login needs, e.g. "ALTER ANY CONNECTION".
	Permission string
	Err        error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s refused: the operator's login needs %s (see docs/sqlserver-login.md): %v", e.Statement, e.Permission, e.Err)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// SQL Server's errors for a missing permission (Database Engine events and
// errors): 229 "The %ls permission was denied on the object", 262 "%ls
// permission denied in database", 297 "The user does not have permission
// to perform this action.", 300 "%ls permission was denied on object
// ... database ...", 916 "The server principal ... is not able to access
// the database ... under the current security context", 3110 "User does
// not have permission to RESTORE database", 6102 "User does not have
// permission to use the KILL statement.", 15247 "User does not have
// permission to perform this action.". 5011 (ALTER DATABASE) and 15151
// (ALTER LOGIN) also mean "or it does not exist": only the statements that
// know the object exists count them (see permissionDenied's extra).
var permissionDeniedNumbers = []int32{229, 262, 297, 300, 916, 3110, 6102, 15247}

// IsPermissionDenied reports whether err is, or carries, SQL Server's
// refusal for a missing permission.
func IsPermissionDenied(err error) bool {
	var pe *PermissionError
	if errors.As(err, &pe) {
		return true
	}
	return hasAnyNumber(err, permissionDeniedNumbers...)
}

func hasAnyNumber(err error, numbers ...int32) bool {
	for _, n := range numbers {
		if HasErrorNumber(err, n) {
			return true
		}
	}
	return false
}

// permissionDenied wraps err in a *PermissionError for statement when the
// server refused it for a missing permission (or with one of extra, the
// ambiguous numbers that mean a missing permission for this statement);
// any other error is returned as it is.
func permissionDenied(err error, statement, permission string, extra ...int32) error {
	if err == nil || !(hasAnyNumber(err, permissionDeniedNumbers...) || hasAnyNumber(err, extra...)) {
		return err
	}
	return &PermissionError{Statement: statement, Permission: permission, Err: err}
}

// Username is the login the client connects with.
func (c *Client) Username() string { return c.cfg.Username }

// What each statement needs: the grants of
// config/samples/sqlserver-operator-login.sql.
const (
	needBackup = "db_backupoperator in the database (a user for the login created on the primary, " +
		"which the backups carry to the standbys: the login must have the same SID on every member)"
	needDBCreator        = "membership in the dbcreator server role"
	needAlterDatabase    = "ALTER on the database (dbcreator, or ALTER ANY DATABASE)"
	needAlterConnection  = "ALTER ANY CONNECTION"
	needViewServerState  = "VIEW SERVER STATE"
	needAlterAnyLogin    = "ALTER ANY LOGIN"
	needControlServer    = "CONTROL SERVER, because the login it changes is sysadmin or holds CONTROL SERVER on this member"
	needPasswordHashes   = "VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION (SQL Server 2022; CONTROL SERVER before 2022) to read sys.sql_logins.password_hash"
	needCreateSubdir     = "EXECUTE on master.sys.xp_create_subdir (a user for the login in master), or the backup directory created beforehand"
	needBackupHistory    = "SELECT on msdb.dbo.backupset, msdb.dbo.backupmediafamily and msdb.dbo.restorehistory (a user for the login in msdb)"
	needLoginsVisibility = "ALTER ANY LOGIN to see the other logins in sys.sql_logins"
	needDeleteHistory    = "EXECUTE on msdb.dbo.sp_delete_backuphistory (a user for the login in msdb; re-granted after a SQL Server upgrade)"
)

// errNumAlterDatabaseDenied (5011): "User does not have permission to
// alter database '%.*ls', the database does not exist, or the database is
// not in a state that allows access checks."
const errNumAlterDatabaseDenied = 5011

// errNumLoginDeniedOrMissing (15151): "Cannot %S_MSG the %S_MSG '%.*ls',
// because it does not exist or you do not have permission." ALTER LOGIN of
// a login EnsureLogin just read answers it for a missing ALTER ANY LOGIN.
const errNumLoginDeniedOrMissing = 15151

// loginPermissionDenied is permissionDenied for CREATE LOGIN and ALTER
// LOGIN (stmt, whose first two words name it: the rest may hold a hash):
// 15247 on ALTER LOGIN means the target login is sysadmin or holds CONTROL
// SERVER (ALTER LOGIN, Permissions), anything else a missing ALTER ANY
// LOGIN.
func loginPermissionDenied(err error, stmt string) error {
	statement := "CREATE LOGIN"
	if strings.HasPrefix(stmt, "ALTER LOGIN") {
		statement = "ALTER LOGIN"
		if HasErrorNumber(err, errNumNoPermission) {
			return permissionDenied(err, statement, needControlServer)
		}
	}
	return permissionDenied(err, statement, needAlterAnyLogin, errNumLoginDeniedOrMissing)
}

// errNumNoPermission (15247): "User does not have permission to perform
// this action."
const errNumNoPermission = 15247
