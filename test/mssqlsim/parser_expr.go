package mssqlsim

import (
	"fmt"
	"strconv"
	"strings"
)

func (p *parser) expr() (expr, error) { return p.orExpr() }

func (p *parser) orExpr() (expr, error) {
	l, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.accept("OR") {
		r, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		l = exBinary{Op: "OR", L: l, R: r}
	}
	return l, nil
}

func (p *parser) andExpr() (expr, error) {
	l, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	for p.accept("AND") {
		r, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		l = exBinary{Op: "AND", L: l, R: r}
	}
	return l, nil
}

func (p *parser) notExpr() (expr, error) {
	if p.accept("NOT") {
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return exUnary{Op: "NOT", X: x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.Kind == tkOp {
		switch t.Text {
		case "=", "<>", "!=", "<", ">", "<=", ">=", "!<", "!>":
			p.next()
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			op := t.Text
			switch op {
			case "!=":
				op = "<>"
			case "!<":
				op = ">="
			case "!>":
				op = "<="
			}
			return exBinary{Op: op, L: l, R: r}, nil
		}
		return l, nil
	}
	if p.accept("IS") {
		not := p.accept("NOT")
		if err := p.expect("NULL"); err != nil {
			return nil, err
		}
		return exIsNull{X: l, Not: not}, nil
	}
	not := false
	if p.peek().is("NOT") && (p.peekAt(1).is("IN") || p.peekAt(1).is("LIKE") || p.peekAt(1).is("BETWEEN")) {
		p.next()
		not = true
	}
	switch {
	case p.accept("IN"):
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		var list []expr
		for {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			list = append(list, x)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return exIn{X: l, List: list, Not: not}, nil
	case p.accept("LIKE"):
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return exLike{X: l, Pattern: r, Not: not}, nil
	case p.accept("BETWEEN"):
		lo, err := p.additive()
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.additive()
		if err != nil {
			return nil, err
		}
		return exBetween{X: l, Lo: lo, Hi: hi, Not: not}, nil
	}
	if not {
		return nil, fmt.Errorf("unexpected NOT")
	}
	return l, nil
}

func (p *parser) additive() (expr, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.peek().isOp("+") || p.peek().isOp("-") {
		op := p.next().Text
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = exBinary{Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().isOp("*") || p.peek().isOp("/") || p.peek().isOp("%") {
		op := p.next().Text
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = exBinary{Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) unary() (expr, error) {
	if p.acceptOp("-") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if lit, ok := x.(exLiteral); ok {
			return exLiteral{V: negate(lit.V)}, nil
		}
		return exUnary{Op: "-", X: x}, nil
	}
	if p.acceptOp("+") {
		return p.unary()
	}
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch t.Kind {
	case tkNumber:
		p.next()
		if strings.Contains(t.Text, ".") {
			if strings.Count(t.Text, ".") > 1 {
				return nil, fmt.Errorf("invalid number %q", t.Text)
			}
			return exLiteral{V: numericValue(t.Text)}, nil
		}
		if n, err := strconv.ParseInt(t.Text, 10, 64); err == nil {
			return exLiteral{V: intValue(n)}, nil
		}
		if len(t.Text) > 38 {
			return nil, fmt.Errorf("number %q is too large", t.Text)
		}
		return exLiteral{V: numericValue(t.Text)}, nil
	case tkString:
		p.next()
		return exLiteral{V: strValue(t.Text)}, nil
	case tkHex:
		p.next()
		return exLiteral{V: bytesValue(t.Hex)}, nil
	case tkParam:
		p.next()
		return exParam{Name: strings.ToLower(t.Text)}, nil
	case tkSysVar:
		p.next()
		return exSysVar{Name: strings.ToUpper(t.Text)}, nil
	case tkOp:
		if t.Text == "(" {
			p.next()
			if p.peek().is("SELECT") {
				sel, err := p.subquery()
				if err != nil {
					return nil, err
				}
				return exSubquery{Sel: sel}, nil
			}
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			return x, p.expectOp(")")
		}
		return nil, fmt.Errorf("unexpected %q", t.Text)
	case tkQuoted:
		name, err := p.objectName()
		if err != nil {
			return nil, err
		}
		return exColumn{Parts: name.Parts}, nil
	case tkWord:
		up := strings.ToUpper(t.Text)
		switch up {
		case "NULL":
			p.next()
			return exLiteral{V: nullValue()}, nil
		case "CAST":
			return p.castExpr()
		case "CONVERT", "TRY_CONVERT":
			return p.convertExpr()
		case "CASE":
			return p.caseExpr()
		case "CURRENT_TIMESTAMP":
			p.next()
			return exFunc{Name: up}, nil
		case "EXISTS":
			p.next()
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			if !p.peek().is("SELECT") {
				return nil, fmt.Errorf("EXISTS requires a SELECT")
			}
			sel, err := p.subquery()
			if err != nil {
				return nil, err
			}
			return exExists{Sel: sel}, nil
		}
		if isReserved(t) {
			return nil, fmt.Errorf("unexpected keyword %s", t.Text)
		}
		if p.peekAt(1).isOp("(") {
			p.i += 2
			f := exFunc{Name: up}
			if p.acceptOp("*") {
				f.Star = true
			} else if !p.peek().isOp(")") {
				if p.accept("DISTINCT") {
					return nil, fmt.Errorf("DISTINCT aggregates are not supported")
				}
				for {
					x, err := p.expr()
					if err != nil {
						return nil, err
					}
					f.Args = append(f.Args, x)
					if !p.acceptOp(",") {
						break
					}
				}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			if p.peek().is("OVER") {
				return nil, fmt.Errorf("window functions are not supported")
			}
			return f, nil
		}
		name, err := p.objectName()
		if err != nil {
			return nil, err
		}
		return exColumn{Parts: name.Parts}, nil
	}
	return nil, fmt.Errorf("unexpected end of statement")
}

// subquery parses SELECT ... ) after the opening parenthesis.
func (p *parser) subquery() (*selectStmt, error) {
	start := p.i
	p.next() // SELECT
	s, err := p.selectStmt(start)
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return s.(*selectStmt), nil
}

func (p *parser) castExpr() (expr, error) {
	p.next()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect("AS"); err != nil {
		return nil, err
	}
	t, err := p.typeSpec()
	if err != nil {
		return nil, err
	}
	return exCast{X: x, T: t}, p.expectOp(")")
}

func (p *parser) convertExpr() (expr, error) {
	p.next()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	t, err := p.typeSpec()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(","); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.acceptOp(",") { // style is ignored
		if _, err := p.primary(); err != nil {
			return nil, err
		}
	}
	return exCast{X: x, T: t}, p.expectOp(")")
}

func (p *parser) caseExpr() (expr, error) {
	p.next()
	c := exCase{}
	if !p.peek().is("WHEN") {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Operand = x
	}
	for p.accept("WHEN") {
		w, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("THEN"); err != nil {
			return nil, err
		}
		t, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, whenClause{When: w, Then: t})
	}
	if len(c.Whens) == 0 {
		return nil, fmt.Errorf("CASE requires WHEN")
	}
	if p.accept("ELSE") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Else = e
	}
	return c, p.expect("END")
}
