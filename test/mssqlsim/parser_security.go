package mssqlsim

import (
	"fmt"
	"strings"
)

// Security statements: the ones a DBA runs to set up a least-privilege
// login (config/samples/sqlserver-operator-login.sql).
type (
	// grantStmt is GRANT <permission> [, ...] [ON <object>] TO <principal>,
	// or REVOKE ... FROM|TO <principal>. Without ON the permissions are
	// server permissions of a login; with ON they are permissions on an
	// object of the current database for one of its users.
	grantStmt struct {
		stmtText
		Revoke    bool
		Perms     []string // upper case, words joined by one space
		On        *objectName
		Principal string
	}
	// createUserStmt is CREATE USER <name> [FOR|FROM LOGIN <login>]; the
	// login defaults to the user's name.
	createUserStmt struct {
		stmtText
		Name, Login string
	}
	// dropUserStmt is DROP USER [IF EXISTS] <name>.
	dropUserStmt struct {
		stmtText
		Name     string
		IfExists bool
	}
	// alterRoleStmt is ALTER [SERVER] ROLE <role> ADD|DROP MEMBER <principal>.
	alterRoleStmt struct {
		stmtText
		Server    bool
		Role      string
		Drop      bool
		Principal string
	}
)

// grantStmt parses what follows GRANT or REVOKE.
func (p *parser) grantStmt(start int, revoke bool) (stmt, error) {
	perms, err := p.permissionList(revoke)
	if err != nil {
		return nil, err
	}
	s := &grantStmt{Revoke: revoke, Perms: perms}
	if p.accept("ON") {
		on, err := p.objectName()
		if err != nil {
			return nil, err
		}
		s.On = &on
	}
	if !p.accept("TO") && !(revoke && p.accept("FROM")) {
		return nil, fmt.Errorf("expected TO")
	}
	if s.Principal, err = p.ident(); err != nil {
		return nil, err
	}
	if p.peek().is("WITH") {
		return nil, fmt.Errorf("WITH GRANT OPTION is not supported")
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

// permissionList reads "VIEW SERVER STATE, ALTER ANY LOGIN" up to ON, TO
// (or FROM for REVOKE): each permission's words joined by one space, in
// upper case.
func (p *parser) permissionList(revoke bool) ([]string, error) {
	var perms, words []string
	for {
		t := p.peek()
		end := t.Kind == tkWord && (t.is("ON") || t.is("TO") || (revoke && t.is("FROM")))
		if end || t.isOp(",") {
			if len(words) == 0 {
				return nil, fmt.Errorf("expected a permission")
			}
			perms = append(perms, strings.ToUpper(strings.Join(words, " ")))
			words = nil
			if end {
				return perms, nil
			}
			p.next()
			continue
		}
		if t.Kind != tkWord {
			return nil, fmt.Errorf("expected a permission, ON or TO")
		}
		p.next()
		words = append(words, t.Text)
	}
}

// createUser parses what follows CREATE USER.
func (p *parser) createUser(start int) (stmt, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	s := &createUserStmt{Name: name, Login: name}
	if p.accept("FOR") || p.accept("FROM") {
		if err := p.expect("LOGIN"); err != nil {
			return nil, err
		}
		if s.Login, err = p.ident(); err != nil {
			return nil, err
		}
	}
	if p.peek().is("WITH") {
		return nil, fmt.Errorf("CREATE USER ... WITH is not supported")
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

// dropUser parses what follows DROP USER.
func (p *parser) dropUser(start int) (stmt, error) {
	ifExists := p.acceptIfExists()
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	return &dropUserStmt{stmtText: p.textSince(start), Name: name, IfExists: ifExists}, nil
}

// alterRole parses what follows ALTER ROLE or ALTER SERVER ROLE.
func (p *parser) alterRole(start int, server bool) (stmt, error) {
	role, err := p.ident()
	if err != nil {
		return nil, err
	}
	s := &alterRoleStmt{Server: server, Role: role}
	switch {
	case p.accept("ADD"):
	case p.accept("DROP"):
		s.Drop = true
	default:
		return nil, fmt.Errorf("expected ADD MEMBER or DROP MEMBER")
	}
	if err := p.expect("MEMBER"); err != nil {
		return nil, err
	}
	if s.Principal, err = p.ident(); err != nil {
		return nil, err
	}
	s.stmtText = p.textSince(start)
	return s, nil
}
