package mssqlsim

import (
	"strings"
)

// checkPermission refuses st, before it runs, when the caller lacks the
// permission SQL Server requires for it, with SQL Server's error. Checks
// that depend on an object's existence leave a missing object to the
// statement itself (its "does not exist" error comes first, as in SQL
// Server). Statements not listed need no permission in the simulator.
//
// Error numbers and texts are SQL Server's (Database Engine events and
// errors, learn.microsoft.com/sql/relational-databases/errors-events). Where
// Microsoft documents the rule but not the error a refused statement gets,
// the comment at the check says which message was chosen.
func (ec *execCtx) checkPermission(st stmt) error {
	switch s := st.(type) {
	case *backupStmt:
		return ec.checkBackup(s)
	case *restoreStmt:
		return ec.checkRestore(s)
	case *alterDatabaseStmt:
		return ec.checkAlterDatabase(s.DB)
	case *alterLoginStmt:
		return ec.checkAlterLogin(s)
	case *execStmt:
		switch s.Kind {
		case procCreateSubdir:
			return ec.checkCreateSubdir()
		case procDeleteBackupHistory:
			return ec.checkDeleteBackupHistory(s)
		}
		return nil
	}
	return ec.checkServerStatement(st)
}

// checkServerStatement checks the statements that need one server
// permission.
func (ec *execCtx) checkServerStatement(st stmt) error {
	switch s := st.(type) {
	case *killStmt:
		// KILL: "Requires the ALTER ANY CONNECTION permission" (KILL, Permissions).
		if !ec.callerHas(permAlterAnyConnection) {
			e := sqlErr(6102, 14, "User does not have permission to use the KILL statement.")
			e.State = 2
			return e
		}
	case *createLoginStmt:
		// CREATE LOGIN: "Requires ALTER ANY LOGIN permission on the server".
		if !ec.callerHas(permAlterAnyLogin) {
			return errNoPermission()
		}
	case *dropLoginStmt:
		if !ec.callerHas(permAlterAnyLogin) {
			return sqlErr(15151, 16, "Cannot drop the login '%s', because it does not exist or you do not have permission.", s.Name)
		}
	case *createDatabaseStmt:
		// CREATE DATABASE: "Requires CREATE DATABASE, CREATE ANY DATABASE, or ALTER ANY DATABASE".
		if !ec.callerHas(permCreateAnyDatabase) {
			return errCreateDatabaseDenied()
		}
	case *dropDatabaseStmt:
		if d := ec.in.db(s.Name); d != nil && !ec.callerHas(permAlterAnyDatabase) && !ec.callerInDBRole(d, roleDBOwner) {
			return sqlErr(3701, 14, "Cannot drop the database '%s', because it does not exist or you do not have permission.", s.Name)
		}
	}
	return nil
}

// errNoPermission is 15247, SQL Server's refusal of a security statement
// (CREATE LOGIN without ALTER ANY LOGIN, ...).
func errNoPermission() error {
	return sqlErr(15247, 16, "User does not have permission to perform this action.")
}

// errCreateDatabaseDenied is 262 for a statement that needs CREATE
// DATABASE permission in master.
func errCreateDatabaseDenied() error {
	return sqlErr(262, 14, "CREATE DATABASE permission denied in database 'master'.")
}

// checkBackup: "BACKUP DATABASE and BACKUP LOG permissions default to
// members of the sysadmin fixed server role and the db_owner and
// db_backupoperator fixed database roles" (BACKUP, Permissions). The role
// is held by the caller's user in the database, found by SID: a user
// restored from an instance where the login has another SID does not
// count. Refused: 262 "BACKUP DATABASE permission denied in database",
// then 3013.
func (ec *execCtx) checkBackup(s *backupStmt) error {
	name, err := ec.evalString(s.DB, "The database name")
	if err != nil {
		return nil // the statement reports it
	}
	d := ec.in.db(name)
	if d == nil || d.State != stateOnline || ec.callerInDBRole(d, roleDBBackupOperator) {
		return nil
	}
	op := backupStatementName(s.Log)
	return terminating(op, sqlErr(262, 14, "%s permission denied in database '%s'.", op, d.Name))
}

// checkRestore: "If the database being restored does not exist, the user
// must have CREATE DATABASE permissions to be able to execute RESTORE. If
// the database exists, RESTORE permissions default to members of the
// sysadmin and dbcreator fixed server roles and the owner (dbo) of the
// database" (RESTORE, Permissions); db_owner members do not have it.
// Refused: 3110 "User does not have permission to RESTORE database", then
// 3013; a new database without CREATE DATABASE: 262 in master, then 3013.
// RESTORE HEADERONLY, FILELISTONLY and VERIFYONLY: "Obtaining information
// about a backup set or backup device requires CREATE DATABASE
// permission" (RESTORE HEADERONLY, Permissions). Microsoft does not give
// the error for those; the simulator answers 262 in master then 3013, the
// CREATE DATABASE refusal. Database ownership is not modelled: the dbo of
// a database is not allowed unless it is sysadmin or dbcreator.
func (ec *execCtx) checkRestore(s *restoreStmt) error {
	op := "RESTORE " + s.Kind
	switch s.Kind {
	case "HEADERONLY", "FILELISTONLY", "VERIFYONLY":
		if !ec.callerHas(permCreateAnyDatabase) {
			return terminating(op, errCreateDatabaseDenied())
		}
		return nil
	}
	name, err := ec.evalString(s.DB, "The database name")
	if err != nil {
		return nil
	}
	l := ec.callerLogin()
	if d := ec.in.db(name); d != nil {
		if !l.inServerRole(roleDBCreator) {
			return terminating(op, sqlErr(3110, 14, "User does not have permission to RESTORE database '%s'.", d.Name))
		}
		return nil
	}
	if !l.hasServerPermission(permCreateAnyDatabase) {
		return terminating(op, errCreateDatabaseDenied())
	}
	return nil
}

// checkAlterDatabase: ALTER DATABASE "Requires ALTER permission on the
// database" (ALTER DATABASE SET options, Permissions), held through ALTER
// ANY DATABASE (dbcreator has it) or db_owner. Refused: 5011.
func (ec *execCtx) checkAlterDatabase(name string) error {
	d := ec.in.db(name)
	if d == nil || ec.callerHas(permAlterAnyDatabase) || (d.State == stateOnline && ec.callerInDBRole(d, roleDBOwner)) {
		return nil
	}
	return sqlErr(5011, 14, "User does not have permission to alter database '%s', the database does not exist, or the database is not in a state that allows access checks.", d.Name)
}

// checkAlterLogin: ALTER LOGIN "Requires ALTER ANY LOGIN permission"; "If
// the login that is being changed is a member of the sysadmin fixed server
// role or a grantee of CONTROL SERVER permission, also requires CONTROL
// SERVER permission when making the following changes: Resetting the
// password without supplying the old password. Enabling MUST_CHANGE,
// CHECK_POLICY, or CHECK_EXPIRATION. [...] Enabling or disabling the
// login" (ALTER LOGIN, Permissions). Without ALTER ANY LOGIN: 15151
// "Cannot alter the login ..., because it does not exist or you do not
// have permission". The CONTROL SERVER case has no documented error: the
// simulator answers 15247 "User does not have permission to perform this
// action."
func (ec *execCtx) checkAlterLogin(s *alterLoginStmt) error {
	if !ec.callerHas(permAlterAnyLogin) {
		return sqlErr(15151, 16, "Cannot alter the login '%s', because it does not exist or you do not have permission.", s.Name)
	}
	target := ec.in.logins[strings.ToLower(s.Name)]
	if target == nil || !target.isPrivileged() || ec.callerHas(permControlServer) {
		return nil
	}
	on := func(b *bool) bool { return b != nil && *b }
	if s.Password != nil || s.Enable != nil || on(s.CheckPolicy) || on(s.CheckExpiration) {
		return errNoPermission()
	}
	return nil
}

// checkCreateSubdir: xp_create_subdir is undocumented, and so are its
// permissions. The simulator takes the strict reading: sysadmin, or
// EXECUTE on sys.xp_create_subdir granted to the caller's user in master
// (GRANT EXECUTE ON sys.xp_create_subdir TO [user], in master); refused
// with 229, SQL Server's error for a denied EXECUTE on an extended
// procedure, which lives in the resource database.
func (ec *execCtx) checkCreateSubdir() error {
	master := ec.in.db("master")
	if master != nil && ec.callerHasObjectPermission(master, "EXECUTE", "sys.xp_create_subdir") {
		return nil
	}
	return sqlErr(229, 14, "The EXECUTE permission was denied on the object 'xp_create_subdir', database 'mssqlsystemresource', schema 'sys'.")
}

// checkDeleteBackupHistory: sp_delete_backuphistory "Requires membership in the sysadmin fixed
// server role, but permissions can be granted to other users" (SQL Server 2012 documentation);
// the current page: "You can grant EXECUTE permissions on this procedure, but these permissions
// might be overridden during a SQL Server upgrade". It is an msdb procedure owned by dbo, so
// db_owner in msdb runs it too. Refused: 229, SQL Server's error for a denied EXECUTE. A name
// that does not resolve to msdb's procedure is left to the statement (2812).
func (ec *execCtx) checkDeleteBackupHistory(s *execStmt) error {
	if !ec.resolvesToDeleteBackupHistory(s) {
		return nil
	}
	msdb := ec.in.db("msdb")
	if msdb != nil && ec.callerHasObjectPermission(msdb, "EXECUTE", "dbo.sp_delete_backuphistory") {
		return nil
	}
	return sqlErr(229, 14, "The EXECUTE permission was denied on the object 'sp_delete_backuphistory', database 'msdb', schema 'dbo'.")
}
