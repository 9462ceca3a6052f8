package mssqlsim

import (
	"bytes"
	"slices"
	"strings"
)

// Running the security statements (parser_security.go). Who may run them
// is simplified: server-level statements (GRANT without ON, ALTER SERVER
// ROLE) need sysadmin, database-level ones (CREATE/DROP USER, ALTER ROLE,
// GRANT ... ON) sysadmin or db_owner of the database; others get 15247.
// SQL Server's own rules (securityadmin, ALTER ANY USER, grantors holding
// the permission WITH GRANT OPTION) are finer and not modelled.

func (ec *execCtx) execGrant(s *grantStmt) (stmtResult, error) {
	if s.On != nil {
		return ec.execObjectGrant(s)
	}
	if !ec.callerLogin().isSysadmin() {
		return stmtResult{}, errNoPermission()
	}
	for _, p := range s.Perms {
		if _, ok := serverPermissions[p]; !ok {
			return stmtResult{}, errSyntax(p, "not a server permission the simulator knows")
		}
	}
	l := ec.in.logins[strings.ToLower(s.Principal)]
	if l == nil {
		return stmtResult{}, sqlErr(15151, 16, "Cannot find the login '%s', because it does not exist or you do not have permission.", s.Principal)
	}
	old := slices.Clone(l.ServerPerms)
	for _, p := range s.Perms {
		i := slices.Index(l.ServerPerms, p)
		switch {
		case s.Revoke && i >= 0:
			l.ServerPerms = slices.Delete(l.ServerPerms, i, i+1)
		case !s.Revoke && i < 0:
			l.ServerPerms = append(l.ServerPerms, p)
		}
	}
	if err := ec.in.saveLocked(); err != nil {
		l.ServerPerms = old
		return stmtResult{}, err
	}
	return stmtResult{}, nil
}

// objectPermissions are the permissions GRANT ... ON accepts.
var objectPermissions = map[string]bool{"EXECUTE": true, "SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true}

// execObjectGrant grants or revokes permissions on an object of the
// current database to one of its users; the grant is a log record.
func (ec *execCtx) execObjectGrant(s *grantStmt) (stmtResult, error) {
	d, err := ec.securityDB()
	if err != nil {
		return stmtResult{}, err
	}
	u := d.user(s.Principal)
	if u == nil {
		return stmtResult{}, sqlErr(15151, 16, "Cannot find the user '%s', because it does not exist or you do not have permission.", s.Principal)
	}
	if db := s.On.database(); db != "" && !strings.EqualFold(db, d.Name) {
		return stmtResult{}, errSyntax(db, "GRANT ON an object of another database")
	}
	schema := s.On.schema()
	if schema == "" {
		schema = "dbo"
	}
	op := opGrant
	if s.Revoke {
		op = opRevoke
	}
	var recs []logRecord
	for _, p := range s.Perms {
		if !objectPermissions[p] {
			return stmtResult{}, errSyntax(p, "not an object permission the simulator knows")
		}
		key := objectPermissionKey(p, schema+"."+s.On.name())
		recs = append(recs, logRecord{Op: op, Principal: &principalChange{User: u.Name, Permission: key}})
	}
	return stmtResult{}, ec.in.commitLocked(d, recs)
}

// securityDB is the current database for a database-level security
// statement: writable, and the caller sysadmin or db_owner there.
func (ec *execCtx) securityDB() (*database, error) {
	d, err := ec.currentDB()
	if err != nil {
		return nil, err
	}
	if !d.writable() {
		return nil, errReadOnlyDB(d.Name)
	}
	if !ec.callerInDBRole(d, roleDBOwner) {
		return nil, errNoPermission()
	}
	return d, nil
}

func (ec *execCtx) execCreateUser(s *createUserStmt) (stmtResult, error) {
	d, err := ec.securityDB()
	if err != nil {
		return stmtResult{}, err
	}
	l := ec.in.logins[strings.ToLower(s.Login)]
	if l == nil {
		return stmtResult{}, sqlErr(15007, 16, "'%s' is not a valid login or you do not have permission.", s.Login)
	}
	if d.user(s.Name) != nil {
		return stmtResult{}, sqlErr(15023, 16, "User, group, or role '%s' already exists in the current database.", s.Name)
	}
	for _, u := range d.users {
		if bytes.Equal(u.SID, l.SID) {
			return stmtResult{}, sqlErr(15063, 16, "The login already has an account under a different user name.")
		}
	}
	rec := logRecord{Op: opCreateUser, Principal: &principalChange{User: s.Name, SID: l.SID}}
	return stmtResult{}, ec.in.commitLocked(d, []logRecord{rec})
}

func (ec *execCtx) execDropUser(s *dropUserStmt) (stmtResult, error) {
	d, err := ec.securityDB()
	if err != nil {
		return stmtResult{}, err
	}
	u := d.user(s.Name)
	if u == nil {
		if s.IfExists {
			return stmtResult{}, nil
		}
		return stmtResult{}, sqlErr(15151, 16, "Cannot drop the user '%s', because it does not exist or you do not have permission.", s.Name)
	}
	rec := logRecord{Op: opDropUser, Principal: &principalChange{User: u.Name}}
	return stmtResult{}, ec.in.commitLocked(d, []logRecord{rec})
}

func (ec *execCtx) execAlterRole(s *alterRoleStmt) (stmtResult, error) {
	role := strings.ToLower(s.Role)
	if s.Server {
		return ec.execAlterServerRole(s, role)
	}
	d, err := ec.securityDB()
	if err != nil {
		return stmtResult{}, err
	}
	if !fixedDatabaseRoles[role] {
		return stmtResult{}, sqlErr(15151, 16, "Cannot alter the role '%s', because it does not exist or you do not have permission.", s.Role)
	}
	u := d.user(s.Principal)
	if u == nil {
		return stmtResult{}, sqlErr(15151, 16, "Cannot add the principal '%s', because it does not exist or you do not have permission.", s.Principal)
	}
	if u.Roles[role] != s.Drop {
		return stmtResult{}, nil // already (not) a member
	}
	op := opAddRoleMember
	if s.Drop {
		op = opDropRoleMember
	}
	return stmtResult{}, ec.in.commitLocked(d, []logRecord{{Op: op, Principal: &principalChange{User: u.Name, Role: role}}})
}

func (ec *execCtx) execAlterServerRole(s *alterRoleStmt, role string) (stmtResult, error) {
	if !ec.callerLogin().isSysadmin() {
		return stmtResult{}, errNoPermission()
	}
	if _, ok := fixedServerRoles[role]; !ok {
		return stmtResult{}, sqlErr(15151, 16, "Cannot alter the server role '%s', because it does not exist or you do not have permission.", s.Role)
	}
	l := ec.in.logins[strings.ToLower(s.Principal)]
	if l == nil {
		return stmtResult{}, sqlErr(15151, 16, "Cannot add the principal '%s', because it does not exist or you do not have permission.", s.Principal)
	}
	old := slices.Clone(l.ServerRoles)
	i := slices.Index(l.ServerRoles, role)
	switch {
	case s.Drop && i >= 0:
		l.ServerRoles = slices.Delete(l.ServerRoles, i, i+1)
	case !s.Drop && i < 0:
		l.ServerRoles = append(l.ServerRoles, role)
	default:
		return stmtResult{}, nil
	}
	if err := ec.in.saveLocked(); err != nil {
		l.ServerRoles = old
		return stmtResult{}, err
	}
	return stmtResult{}, nil
}
