package mssqlsim

import (
	"bytes"
	"slices"
	"strings"
)

// The permission model: who may run the statements the operator sends.
//
// A login is sysadmin when it is sa (SID 0x01) or a member of the sysadmin
// fixed server role; sysadmin passes every check. Other logins hold fixed
// server roles (ALTER SERVER ROLE ... ADD MEMBER) and server permissions
// (GRANT <permission> TO [login]), kept in instance.json with the login.
// Inside a database, a login is the database user with its SID (CREATE
// USER ... FOR LOGIN): users, their database roles (ALTER ROLE ... ADD
// MEMBER) and their object permissions (GRANT EXECUTE|SELECT ON ... TO
// [user]) are log records of that database, so a backup carries them and a
// restore brings them along. On an instance where the login has another
// SID, the restored user maps to nobody: it is orphaned.
//
// Not modelled: database ownership (dbo other than through sysadmin), the
// guest user's own grants, DENY, WITH GRANT OPTION, user-defined roles,
// and any check on statements the operator does not send (SELECT from user
// tables, INSERT, ...).

// Fixed server roles (sys.server_principals, type R).
const (
	roleSysadmin      = "sysadmin"
	roleDBCreator     = "dbcreator"
	roleSecurityAdmin = "securityadmin"
	roleProcessAdmin  = "processadmin"
)

// Server permissions (sys.server_permissions.permission_name).
const (
	permControlServer             = "CONTROL SERVER"
	permViewServerState           = "VIEW SERVER STATE"
	permAlterServerState          = "ALTER SERVER STATE"
	permViewServerPerformance     = "VIEW SERVER PERFORMANCE STATE"
	permViewServerSecurity        = "VIEW SERVER SECURITY STATE"
	permViewAnyDefinition         = "VIEW ANY DEFINITION"
	permViewAnyCryptoDefinition   = "VIEW ANY CRYPTOGRAPHICALLY SECURED DEFINITION"
	permAlterAnyLogin             = "ALTER ANY LOGIN"
	permAlterAnyConnection        = "ALTER ANY CONNECTION"
	permCreateAnyDatabase         = "CREATE ANY DATABASE"
	permAlterAnyDatabase          = "ALTER ANY DATABASE"
	permViewAnyDatabase           = "VIEW ANY DATABASE"
	permConnectSQL                = "CONNECT SQL"
	permAdministerBulkOperations  = "ADMINISTER BULK OPERATIONS"
	permViewAnySecurityDefinition = "VIEW ANY SECURITY DEFINITION"
	permImpersonateAnyLogin       = "IMPERSONATE ANY LOGIN"
)

// serverPermissions are the server permissions GRANT accepts, each with
// the permissions it implies (CONTROL SERVER implies all of them).
var serverPermissions = map[string][]string{
	permControlServer:             nil,
	permViewServerState:           {permViewServerPerformance, permViewServerSecurity},
	permAlterServerState:          {permViewServerState, permViewServerPerformance, permViewServerSecurity},
	permViewServerPerformance:     nil,
	permViewServerSecurity:        nil,
	permViewAnyDefinition:         {permViewAnyDatabase},
	permViewAnyCryptoDefinition:   nil,
	permViewAnySecurityDefinition: nil,
	permAlterAnyLogin:             nil,
	permAlterAnyConnection:        nil,
	permCreateAnyDatabase:         nil,
	permAlterAnyDatabase:          {permCreateAnyDatabase},
	permViewAnyDatabase:           nil,
	permConnectSQL:                nil,
	permAdministerBulkOperations:  nil,
	permImpersonateAnyLogin:       nil,
}

// fixedServerRoles are the fixed server roles ALTER SERVER ROLE accepts,
// each with the server permissions it carries for the statements modelled
// here ("Server-level roles", Permissions of fixed server roles): dbcreator
// "can create, alter, drop, and restore any database"; securityadmin
// holds ALTER ANY LOGIN; processadmin ALTER ANY CONNECTION and ALTER
// SERVER STATE. sysadmin passes every check by itself.
var fixedServerRoles = map[string][]string{
	roleSysadmin:      {permControlServer},
	roleDBCreator:     {permCreateAnyDatabase, permAlterAnyDatabase},
	roleSecurityAdmin: {permAlterAnyLogin},
	roleProcessAdmin:  {permAlterAnyConnection, permAlterServerState},
	"serveradmin":     nil,
	"setupadmin":      nil,
	"diskadmin":       nil,
	"bulkadmin":       {permAdministerBulkOperations},
}

// Fixed database roles.
const (
	roleDBOwner          = "db_owner"
	roleDBBackupOperator = "db_backupoperator"
	roleDBDataReader     = "db_datareader"
)

// fixedDatabaseRoles are the database roles ALTER ROLE accepts.
var fixedDatabaseRoles = map[string]bool{
	roleDBOwner: true, roleDBBackupOperator: true, roleDBDataReader: true,
	"db_datawriter": true, "db_ddladmin": true, "db_securityadmin": true, "db_accessadmin": true,
}

// saSID is the SID of sa, whatever its name.
var saSID = []byte{0x01}

// callerLogin is the login of the session running the statement (nil when
// it was dropped meanwhile).
func (ec *execCtx) callerLogin() *loginRecord {
	return ec.in.logins[strings.ToLower(ec.sess.login)]
}

// isSysadmin reports whether l is sa or a member of sysadmin.
func (l *loginRecord) isSysadmin() bool {
	return l != nil && (bytes.Equal(l.SID, saSID) || slices.Contains(l.ServerRoles, roleSysadmin))
}

// hasServerPermission reports whether l holds server permission p: as
// sysadmin, through CONTROL SERVER, a grant, a fixed server role, or a
// permission that implies p.
func (l *loginRecord) hasServerPermission(p string) bool {
	if l == nil {
		return false
	}
	if l.isSysadmin() {
		return true
	}
	held := slices.Clone(l.ServerPerms)
	for _, r := range l.ServerRoles {
		held = append(held, fixedServerRoles[r]...)
	}
	for _, h := range held {
		if h == permControlServer || h == p || slices.Contains(serverPermissions[h], p) {
			return true
		}
	}
	return false
}

// isPrivileged reports whether l is sysadmin or holds CONTROL SERVER: such
// a login's password and state can only be changed by a login with
// CONTROL SERVER (ALTER LOGIN, Permissions).
func (l *loginRecord) isPrivileged() bool {
	return l.isSysadmin() || slices.Contains(l.ServerPerms, permControlServer)
}

// inServerRole reports whether l is a member of the fixed server role.
func (l *loginRecord) inServerRole(role string) bool {
	return l != nil && (l.isSysadmin() || slices.Contains(l.ServerRoles, role))
}

// callerHas is hasServerPermission for the caller.
func (ec *execCtx) callerHas(p string) bool { return ec.callerLogin().hasServerPermission(p) }

// dbUser is a database user as kept in the database's log: the login it
// maps to is the login with its SID on this instance.
type dbUser struct {
	Name  string
	SID   []byte
	Roles map[string]bool // lower-case fixed database roles
	Perms map[string]bool // "EXECUTE ON sys.xp_create_subdir", upper-case permission, lower-case object
}

// userFor returns the user of d that login l maps to (same SID), or nil:
// no user, or a user restored from an instance where the login has
// another SID (orphaned).
func (d *database) userFor(l *loginRecord) *dbUser {
	if l == nil {
		return nil
	}
	for _, u := range d.users {
		if bytes.Equal(u.SID, l.SID) {
			return u
		}
	}
	return nil
}

// callerInDBRole reports whether the caller is sysadmin or its user in d is
// a member of role or of db_owner.
func (ec *execCtx) callerInDBRole(d *database, role string) bool {
	l := ec.callerLogin()
	if l.isSysadmin() {
		return true
	}
	u := d.userFor(l)
	return u != nil && (u.Roles[roleDBOwner] || u.Roles[role])
}

// callerHasObjectPermission reports whether the caller may use object
// (schema.name) of d with perm (EXECUTE, SELECT): sysadmin, db_owner,
// db_datareader for SELECT, or a grant to its user.
func (ec *execCtx) callerHasObjectPermission(d *database, perm, object string) bool {
	if ec.callerInDBRole(d, roleDBOwner) {
		return true
	}
	u := d.userFor(ec.callerLogin())
	if u == nil {
		return false
	}
	return (perm == "SELECT" && u.Roles[roleDBDataReader]) || u.Perms[objectPermissionKey(perm, object)]
}

// objectPermissionKey is how a grant on an object is kept.
func objectPermissionKey(perm, object string) string {
	return strings.ToUpper(perm) + " ON " + strings.ToLower(object)
}
