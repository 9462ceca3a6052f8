package mssqlsim

import (
	"fmt"
	"strings"
)

// Database ownership and TRUSTWORTHY. SQL Server makes the login that creates or restores a
// database its owner (sys.databases.owner_sid) and turns TRUSTWORTHY off on every restore, so
// after a failover the new primary's databases belong to whoever ran the restores, with
// TRUSTWORTHY off, unless someone sets them again:
//
//	ALTER AUTHORIZATION ON DATABASE::[db] TO [login]
//	ALTER DATABASE [db] SET TRUSTWORTHY ON
//
// Permissions, as Microsoft documents them: ALTER AUTHORIZATION needs TAKE OWNERSHIP on the
// database (its owner and db_owner members have it through CONTROL) and IMPERSONATE on the new
// owner's login; setting TRUSTWORTHY needs sysadmin. The simulator grants ALTER AUTHORIZATION to a
// sysadmin, a CONTROL SERVER grantee, and to the database's owner holding IMPERSONATE ANY LOGIN.
// Without it: 15151 (the principal "does not exist or you do not have permission"); TRUSTWORTHY
// without sysadmin: 15247. Microsoft does not document those two numbers for these statements:
// they are the ones SQL Server uses for the same refusals elsewhere.

// alterAuthorizationStmt is ALTER AUTHORIZATION ON DATABASE::name TO principal.
type alterAuthorizationStmt struct {
	stmtText
	DB, Principal string
}

func (p *parser) alterAuthorization(start int) (stmt, error) {
	if err := p.expect("ON"); err != nil {
		return nil, err
	}
	if err := p.expect("DATABASE"); err != nil {
		return nil, err
	}
	if !p.acceptOp("::") {
		return nil, fmt.Errorf("expected DATABASE::name")
	}
	db, err := p.ident()
	if err != nil {
		return nil, err
	}
	if err := p.expect("TO"); err != nil {
		return nil, err
	}
	principal, err := p.ident()
	if err != nil {
		return nil, err
	}
	return &alterAuthorizationStmt{stmtText: p.textSince(start), DB: db, Principal: principal}, nil
}

// ownerSID is owner_sid; databases created before the simulator kept owners belong to sa.
func (d *database) ownerSID() []byte {
	if len(d.OwnerSID) == 0 {
		return saSID
	}
	return d.OwnerSID
}

// callerSID is the SID of the session's login.
func (ec *execCtx) callerSID() []byte {
	if l := ec.callerLogin(); l != nil {
		return append([]byte(nil), l.SID...)
	}
	return saSID
}

func (ec *execCtx) execAlterAuthorization(s *alterAuthorizationStmt) (stmtResult, error) {
	d := ec.in.db(s.DB)
	if d == nil {
		return stmtResult{}, errDBNotExist(s.DB)
	}
	l := ec.in.logins[strings.ToLower(s.Principal)]
	caller := ec.callerLogin()
	owner := caller != nil && string(d.ownerSID()) == string(caller.SID)
	allowed := caller.isSysadmin() || ec.callerHas(permControlServer) || (owner && ec.callerHas(permImpersonateAnyLogin))
	if l == nil || !allowed {
		return stmtResult{}, sqlErr(15151, 16, "Cannot find the principal '%s', because it does not exist or you do not have permission.", s.Principal)
	}
	if d.State != stateOnline {
		return stmtResult{}, errDBRestoring(d.Name)
	}
	d.OwnerSID = append([]byte(nil), l.SID...)
	return stmtResult{}, ec.in.saveLocked()
}

// setTrustworthy is ALTER DATABASE ... SET TRUSTWORTHY: sysadmin only.
func (ec *execCtx) setTrustworthy(d *database, on bool) error {
	if !ec.callerLogin().isSysadmin() {
		return sqlErr(15247, 16, "User does not have permission to perform this action.")
	}
	d.Trustworthy = on
	return nil
}
