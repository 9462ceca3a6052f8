package mssqlsim

import (
	"fmt"
	"strconv"
	"strings"
)

func (p *parser) createStmt(start int) (stmt, error) {
	switch {
	case p.accept("TABLE"):
		return p.createTable(start)
	case p.accept("DATABASE"):
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		return &createDatabaseStmt{stmtText: p.textSince(start), Name: name}, nil
	case p.accept("LOGIN"):
		return p.createLogin(start)
	case p.accept("USER"):
		return p.createUser(start)
	}
	return nil, fmt.Errorf("only CREATE TABLE, CREATE DATABASE, CREATE LOGIN and CREATE USER are supported")
}

func (p *parser) createTable(start int) (stmt, error) {
	name, err := p.objectName()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	s := &createTableStmt{Table: name}
	for {
		if p.peek().is("CONSTRAINT") || p.peek().is("PRIMARY") {
			// table-level PRIMARY KEY (col)
			if p.accept("CONSTRAINT") {
				if _, err := p.ident(); err != nil {
					return nil, err
				}
			}
			if err := p.expect("PRIMARY"); err != nil {
				return nil, err
			}
			if err := p.expect("KEY"); err != nil {
				return nil, err
			}
			p.accept("CLUSTERED")
			p.accept("NONCLUSTERED")
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			col, err := p.ident()
			if err != nil {
				return nil, err
			}
			p.accept("ASC")
			if !p.peek().isOp(")") {
				return nil, fmt.Errorf("composite primary keys are not supported")
			}
			p.next()
			found := false
			for i := range s.Cols {
				if strings.EqualFold(s.Cols[i].Name, col) {
					s.Cols[i].PrimaryKey, s.Cols[i].Nullable, found = true, false, true
				}
			}
			if !found {
				return nil, errInvalidColumn(col)
			}
		} else {
			c, err := p.columnDef()
			if err != nil {
				return nil, err
			}
			s.Cols = append(s.Cols, c)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

// typeSpec reads a type name with optional (n), (max) or (p,s).
func (p *parser) typeSpec() (sqlType, error) {
	name, err := p.ident()
	if err != nil {
		return sqlType{}, err
	}
	var args []int
	if p.acceptOp("(") {
		for {
			t := p.next()
			switch {
			case t.is("MAX"):
				args = append(args, -1)
			case t.Kind == tkNumber:
				n, err := strconv.Atoi(t.Text)
				if err != nil {
					return sqlType{}, fmt.Errorf("invalid type length %q", t.Text)
				}
				args = append(args, n)
			default:
				return sqlType{}, fmt.Errorf("invalid type argument %q", t.Text)
			}
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return sqlType{}, err
		}
	}
	return parseTypeName(name, args)
}

func (p *parser) columnDef() (columnDef, error) {
	name, err := p.ident()
	if err != nil {
		return columnDef{}, err
	}
	t, err := p.typeSpec()
	if err != nil {
		return columnDef{}, err
	}
	c := columnDef{Name: name, Type: t, Nullable: true}
	for {
		switch {
		case p.accept("NULL"):
			c.Nullable = true
		case p.peek().is("NOT") && p.peekAt(1).is("NULL"):
			p.i += 2
			c.Nullable = false
		case p.accept("IDENTITY"):
			c.Identity, c.Seed, c.Increment, c.Nullable = true, 1, 1, false
			if p.acceptOp("(") {
				seed, err := p.signedInt()
				if err != nil {
					return c, err
				}
				if err := p.expectOp(","); err != nil {
					return c, err
				}
				inc, err := p.signedInt()
				if err != nil {
					return c, err
				}
				if err := p.expectOp(")"); err != nil {
					return c, err
				}
				c.Seed, c.Increment = seed, inc
			}
		case p.accept("PRIMARY"):
			if err := p.expect("KEY"); err != nil {
				return c, err
			}
			p.accept("CLUSTERED")
			p.accept("NONCLUSTERED")
			c.PrimaryKey, c.Nullable = true, false
		case p.accept("CONSTRAINT"):
			if _, err := p.ident(); err != nil {
				return c, err
			}
		case p.accept("DEFAULT"):
			x, err := p.primary()
			if err != nil {
				return c, err
			}
			switch d := x.(type) {
			case exLiteral:
				v, err := coerce(d.V, t)
				if err != nil {
					return c, err
				}
				c.Default = &v
			case exFunc:
				switch d.Name {
				case "GETDATE", "SYSDATETIME", "GETUTCDATE", "SYSUTCDATETIME", "SYSDATETIMEOFFSET", "CURRENT_TIMESTAMP":
					c.DefaultNow = d.Name
				default:
					return c, fmt.Errorf("DEFAULT %s() is not supported", d.Name)
				}
			case exUnary:
				lit, ok := d.X.(exLiteral)
				if !ok || d.Op != "-" {
					return c, fmt.Errorf("unsupported DEFAULT expression")
				}
				v, err := coerce(negate(lit.V), t)
				if err != nil {
					return c, err
				}
				c.Default = &v
			default:
				return c, fmt.Errorf("unsupported DEFAULT expression")
			}
		default:
			return c, nil
		}
	}
}

func negate(v Value) Value {
	switch v.K {
	case KindInt:
		v.I = -v.I
	case KindFloat:
		v.F = -v.F
	case KindNumeric:
		if strings.HasPrefix(v.S, "-") {
			v.S = v.S[1:]
		} else {
			v.S = "-" + v.S
		}
	}
	return v
}

func (p *parser) signedInt() (int64, error) {
	neg := p.acceptOp("-")
	t := p.next()
	if t.Kind != tkNumber {
		return 0, fmt.Errorf("expected a number")
	}
	n, err := strconv.ParseInt(t.Text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", t.Text)
	}
	if neg {
		n = -n
	}
	return n, nil
}

// onOff parses "= ON" or "= OFF".
func (p *parser) onOff() (*bool, error) {
	if err := p.expectOp("="); err != nil {
		return nil, err
	}
	var v bool
	switch {
	case p.accept("ON"):
		v = true
	case p.accept("OFF"):
	default:
		return nil, fmt.Errorf("expected ON or OFF")
	}
	return &v, nil
}

func (p *parser) createLogin(start int) (stmt, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	s := &createLoginStmt{Name: name}
	if err := p.expect("WITH"); err != nil {
		return nil, err
	}
	for {
		opt := p.next()
		switch {
		case opt.is("PASSWORD"):
			if err := p.expectOp("="); err != nil {
				return nil, err
			}
			if s.Password, err = p.primary(); err != nil {
				return nil, err
			}
			if p.accept("HASHED") {
				s.Hashed = true
			}
			if p.accept("MUST_CHANGE") {
				s.MustChange = true
			}
		case opt.is("SID"):
			if err := p.expectOp("="); err != nil {
				return nil, err
			}
			if s.SID, err = p.primary(); err != nil {
				return nil, err
			}
		case opt.is("DEFAULT_DATABASE"):
			if err := p.expectOp("="); err != nil {
				return nil, err
			}
			if s.DefaultDB, err = p.ident(); err != nil {
				return nil, err
			}
		case opt.is("CHECK_POLICY"):
			if s.CheckPolicy, err = p.onOff(); err != nil {
				return nil, err
			}
		case opt.is("CHECK_EXPIRATION"):
			if s.CheckExpiration, err = p.onOff(); err != nil {
				return nil, err
			}
		case opt.is("DEFAULT_LANGUAGE"):
			if err := p.expectOp("="); err != nil {
				return nil, err
			}
			if _, err := p.ident(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("CREATE LOGIN option %q is not supported", opt.Text)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	if s.Password == nil {
		return nil, fmt.Errorf("CREATE LOGIN requires WITH PASSWORD")
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

// acceptIfExists consumes IF EXISTS, reporting whether it was there.
func (p *parser) acceptIfExists() bool {
	if p.peek().is("IF") && p.peekAt(1).is("EXISTS") {
		p.i += 2
		return true
	}
	return false
}

func (p *parser) dropStmt(start int) (stmt, error) {
	switch {
	case p.accept("TABLE"):
		ifExists := p.acceptIfExists()
		name, err := p.objectName()
		if err != nil {
			return nil, err
		}
		return &dropTableStmt{stmtText: p.textSince(start), Table: name, IfExists: ifExists}, nil
	case p.accept("DATABASE"):
		ifExists := p.acceptIfExists()
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		return &dropDatabaseStmt{stmtText: p.textSince(start), Name: name, IfExists: ifExists}, nil
	case p.accept("LOGIN"):
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		return &dropLoginStmt{stmtText: p.textSince(start), Name: name}, nil
	case p.accept("USER"):
		return p.dropUser(start)
	}
	return nil, fmt.Errorf("only DROP TABLE, DROP DATABASE, DROP LOGIN and DROP USER are supported")
}

func (p *parser) alterStmt(start int) (stmt, error) {
	if p.peek().is("SERVER") && p.peekAt(1).is("ROLE") {
		p.i += 2
		return p.alterRole(start, true)
	}
	if p.accept("ROLE") {
		return p.alterRole(start, false)
	}
	if p.accept("AUTHORIZATION") {
		return p.alterAuthorization(start)
	}
	if p.accept("LOGIN") {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		s := &alterLoginStmt{Name: name}
		switch {
		case p.accept("ENABLE"):
			v := true
			s.Enable = &v
		case p.accept("DISABLE"):
			v := false
			s.Enable = &v
		case p.accept("WITH"):
			for {
				opt := p.next()
				switch {
				case opt.is("PASSWORD") && s.Password == nil:
					if err := p.expectOp("="); err != nil {
						return nil, err
					}
					if s.Password, err = p.primary(); err != nil {
						return nil, err
					}
					s.Hashed = p.accept("HASHED")
				case opt.is("CHECK_POLICY") && s.CheckPolicy == nil:
					if s.CheckPolicy, err = p.onOff(); err != nil {
						return nil, err
					}
				case opt.is("CHECK_EXPIRATION") && s.CheckExpiration == nil:
					if s.CheckExpiration, err = p.onOff(); err != nil {
						return nil, err
					}
				default:
					return nil, fmt.Errorf("ALTER LOGIN option %q is not supported", opt.Text)
				}
				if !p.acceptOp(",") {
					break
				}
			}
		default:
			return nil, fmt.Errorf("unsupported ALTER LOGIN form")
		}
		s.stmtText = p.textSince(start)
		return s, nil
	}
	if err := p.expect("DATABASE"); err != nil {
		return nil, err
	}
	db, err := p.ident()
	if err != nil {
		return nil, err
	}
	if err := p.expect("SET"); err != nil {
		return nil, err
	}
	s := &alterDatabaseStmt{DB: db}
	opt := p.next()
	s.Option = strings.ToUpper(opt.Text)
	switch s.Option {
	case "RECOVERY":
		v := p.next()
		s.Value = strings.ToUpper(v.Text)
		if s.Value != "FULL" && s.Value != "SIMPLE" && s.Value != "BULK_LOGGED" {
			return nil, fmt.Errorf("invalid recovery model %q", v.Text)
		}
	case "SINGLE_USER", "MULTI_USER", "RESTRICTED_USER", "OFFLINE", "ONLINE", "READ_ONLY", "READ_WRITE":
	case "TRUSTWORTHY":
		v := p.next()
		s.Value = strings.ToUpper(v.Text)
		if s.Value != "ON" && s.Value != "OFF" {
			return nil, fmt.Errorf("TRUSTWORTHY takes ON or OFF, not %q", v.Text)
		}
	default:
		return nil, fmt.Errorf("ALTER DATABASE SET %s is not supported", opt.Text)
	}
	if p.accept("WITH") {
		switch {
		case p.accept("ROLLBACK"):
			if p.accept("IMMEDIATE") {
				s.Rollback = true
			} else if p.accept("AFTER") {
				if _, err := p.signedInt(); err != nil {
					return nil, err
				}
				p.accept("SECONDS")
				s.Rollback = true
			} else {
				return nil, fmt.Errorf("expected IMMEDIATE or AFTER")
			}
		case p.accept("NO_WAIT"):
			s.NoWait = true
		default:
			return nil, fmt.Errorf("unsupported termination clause")
		}
	}
	s.stmtText = p.textSince(start)
	return s, nil
}
