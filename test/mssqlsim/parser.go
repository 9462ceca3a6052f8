package mssqlsim

import (
	"fmt"
	"strings"
)

// parser is a small recursive-descent parser for the T-SQL subset the
// simulator supports. A batch is parsed completely before anything runs, as
// SQL Server compiles a batch first: a syntax error or an unsupported
// statement fails the whole batch with error 102.
type parser struct {
	src  string
	toks []token
	i    int
}

// parseBatch parses a batch into statements.
func parseBatch(src string) ([]stmt, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, sqlErr(102, 15, "%s", upperFirst(err.Error()))
	}
	p := &parser{src: src, toks: toks}
	var out []stmt
	for {
		for p.peek().isOp(";") {
			p.next()
		}
		if p.peek().Kind == tkEOF {
			return out, nil
		}
		start := p.i
		s, err := p.statement()
		if err != nil {
			return nil, p.wrapErr(start, err)
		}
		if err := p.endOfStatement(); err != nil {
			return nil, p.wrapErr(start, err)
		}
		out = append(out, s)
	}
}

// endOfStatement checks that a statement ends at ';', the end of the
// batch, ELSE/END of an enclosing IF/block or the start of the next
// statement; anything else is a clause the simulator does not support.
func (p *parser) endOfStatement() error {
	if t := p.peek(); !(t.Kind == tkEOF || t.isOp(";") || isStatementStart(t) || t.is("ELSE") || t.is("END")) {
		return fmt.Errorf("unexpected %q", t.Text)
	}
	return nil
}

// nestedStatement parses the body of IF/ELSE: one statement or a
// BEGIN...END block.
func (p *parser) nestedStatement() ([]stmt, error) {
	for p.acceptOp(";") {
	}
	s, err := p.statement()
	if err != nil {
		return nil, err
	}
	if err := p.endOfStatement(); err != nil {
		return nil, err
	}
	if b, ok := s.(*blockStmt); ok {
		return b.Stmts, nil
	}
	return []stmt{s}, nil
}

// wrapErr turns a parse failure into error 102 quoting the statement text.
func (p *parser) wrapErr(start int, err error) error {
	if _, ok := err.(*SQLError); ok {
		return err
	}
	text := p.stmtTextFrom(start)
	near := p.peek().Text
	if p.peek().Kind == tkEOF {
		near = "end of batch"
	}
	return sqlErr(102, 15, "Incorrect syntax near '%s' (%v); not supported by mssqlsim: %s", near, err, text)
}

// stmtTextFrom returns the source from token start up to the next ';' (or
// the end of the batch).
func (p *parser) stmtTextFrom(start int) string {
	if start >= len(p.toks) {
		return ""
	}
	from := p.toks[start].Pos
	end := len(p.src)
	for j := start; j < len(p.toks); j++ {
		if p.toks[j].isOp(";") || p.toks[j].Kind == tkEOF {
			end = p.toks[j].Pos
			break
		}
	}
	return strings.TrimSpace(p.src[from:end])
}

func (p *parser) textSince(start int) stmtText {
	from := p.toks[start].Pos
	to := p.toks[max(p.i-1, start)].End
	return stmtText{Text: strings.TrimSpace(p.src[from:to])}
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.Kind != tkEOF {
		p.i++
	}
	return t
}

func (p *parser) accept(kw string) bool {
	if p.peek().is(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.peek().isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kw string) error {
	if !p.accept(kw) {
		return fmt.Errorf("expected %s", kw)
	}
	return nil
}

func (p *parser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return fmt.Errorf("expected '%s'", op)
	}
	return nil
}

var statementStarts = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "CREATE": true,
	"DROP": true, "ALTER": true, "USE": true, "BACKUP": true, "RESTORE": true, "KILL": true,
	"BEGIN": true, "COMMIT": true, "ROLLBACK": true, "WAITFOR": true, "SET": true,
	"CHECKPOINT": true, "EXEC": true, "EXECUTE": true, "IF": true, "DECLARE": true,
	"PRINT": true, "WHILE": true, "TRUNCATE": true, "MERGE": true, "GRANT": true,
	"REVOKE": true, "DENY": true, "RAISERROR": true, "THROW": true, "GO": true,
}

func isStatementStart(t token) bool {
	return t.Kind == tkWord && statementStarts[strings.ToUpper(t.Text)]
}

// reserved words that cannot be used as bare aliases.
var reservedWords = map[string]bool{
	"FROM": true, "WHERE": true, "ORDER": true, "GROUP": true, "HAVING": true, "JOIN": true,
	"INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "CROSS": true, "OUTER": true,
	"ON": true, "AND": true, "OR": true, "NOT": true, "UNION": true, "AS": true, "IS": true,
	"IN": true, "LIKE": true, "BETWEEN": true, "NULL": true, "ELSE": true, "END": true,
	"THEN": true, "WHEN": true, "CASE": true, "TOP": true, "DISTINCT": true, "VALUES": true,
	"INTO": true, "BY": true, "WITH": true, "OPTION": true, "FOR": true, "EXCEPT": true,
	"INTERSECT": true, "OUTPUT": true,
}

func isReserved(t token) bool {
	return t.Kind == tkWord && (reservedWords[strings.ToUpper(t.Text)] || isStatementStart(t))
}

// ident reads an identifier (bare or quoted).
func (p *parser) ident() (string, error) {
	t := p.peek()
	if t.Kind == tkQuoted || (t.Kind == tkWord && !isReserved(t)) {
		p.i++
		return t.Text, nil
	}
	return "", fmt.Errorf("expected an identifier")
}

// objectName reads a dotted multi-part name.
func (p *parser) objectName() (objectName, error) {
	var parts []string
	for {
		if p.peek().isOp(".") { // empty part, e.g. msdb..backupset
			parts = append(parts, "")
			p.next()
			continue
		}
		id, err := p.ident()
		if err != nil {
			return objectName{}, err
		}
		parts = append(parts, id)
		if !p.acceptOp(".") {
			break
		}
	}
	if len(parts) > 4 {
		return objectName{}, fmt.Errorf("object name has too many parts")
	}
	return objectName{Parts: parts}, nil
}

// nameOrParam reads a database name given as identifier or @parameter.
func (p *parser) nameOrParam() (expr, error) {
	if t := p.peek(); t.Kind == tkParam {
		p.next()
		return exParam{Name: strings.ToLower(t.Text)}, nil
	}
	id, err := p.ident()
	if err != nil {
		return nil, err
	}
	return exLiteral{V: strValue(id)}, nil
}

func (p *parser) statement() (stmt, error) {
	start := p.i
	t := p.next()
	if t.Kind != tkWord {
		return nil, fmt.Errorf("statement cannot start with %q", t.Text)
	}
	kw := strings.ToUpper(t.Text)
	var s stmt
	var err error
	switch kw {
	case "SELECT":
		s, err = p.selectStmt(start)
	case "INSERT":
		s, err = p.insertStmt(start)
	case "UPDATE":
		s, err = p.updateStmt(start)
	case "DELETE":
		s, err = p.deleteStmt(start)
	case "CREATE":
		s, err = p.createStmt(start)
	case "DROP":
		s, err = p.dropStmt(start)
	case "ALTER":
		s, err = p.alterStmt(start)
	case "USE":
		var db string
		if db, err = p.ident(); err == nil {
			s = &useStmt{stmtText: p.textSince(start), DB: db}
		}
	case "GRANT", "REVOKE":
		s, err = p.grantStmt(start, kw == "REVOKE")
	case "BACKUP":
		s, err = p.backupStmt(start)
	case "RESTORE":
		s, err = p.restoreStmt(start)
	case "KILL":
		var x expr
		if x, err = p.primary(); err == nil {
			s = &killStmt{stmtText: p.textSince(start), SPID: x}
		}
	case "IF":
		cond, err := p.expr()
		if err != nil {
			return nil, err
		}
		st := &ifStmt{Cond: cond}
		if st.Then, err = p.nestedStatement(); err != nil {
			return nil, err
		}
		for p.peek().isOp(";") && p.peekAt(1).is("ELSE") {
			p.next()
		}
		if p.accept("ELSE") {
			if st.Else, err = p.nestedStatement(); err != nil {
				return nil, err
			}
		}
		st.stmtText = p.textSince(start)
		return st, nil
	case "BEGIN":
		if !(p.peek().is("TRAN") || p.peek().is("TRANSACTION")) {
			b := &blockStmt{}
			for {
				for p.acceptOp(";") {
				}
				if p.accept("END") {
					break
				}
				if p.peek().Kind == tkEOF {
					return nil, fmt.Errorf("BEGIN without END")
				}
				inner, err := p.statement()
				if err != nil {
					return nil, err
				}
				if err := p.endOfStatement(); err != nil {
					return nil, err
				}
				b.Stmts = append(b.Stmts, inner)
			}
			b.stmtText = p.textSince(start)
			return b, nil
		}
		if p.accept("TRAN") || p.accept("TRANSACTION") {
			if p.peek().Kind == tkWord && !isReserved(p.peek()) || p.peek().Kind == tkQuoted {
				p.next() // transaction name
			}
			s = &beginTranStmt{stmtText: p.textSince(start)}
		} else {
			err = fmt.Errorf("only BEGIN TRAN[SACTION] is supported")
		}
	case "COMMIT", "ROLLBACK":
		if !(p.accept("TRAN") || p.accept("TRANSACTION")) {
			p.accept("WORK")
		} else if p.peek().Kind == tkQuoted || (p.peek().Kind == tkWord && !isReserved(p.peek())) {
			p.next()
		}
		if kw == "COMMIT" {
			s = &commitStmt{stmtText: p.textSince(start)}
		} else {
			s = &rollbackStmt{stmtText: p.textSince(start)}
		}
	case "WAITFOR":
		if err = p.expect("DELAY"); err == nil {
			var x expr
			if x, err = p.primary(); err == nil {
				s = &waitforStmt{stmtText: p.textSince(start), Delay: x}
			}
		}
	case "SET":
		s, err = p.setStmt(start)
	case "CHECKPOINT":
		s = &checkpointStmt{stmtText: p.textSince(start)}
	case "EXEC", "EXECUTE":
		var name objectName
		if name, err = p.objectName(); err == nil {
			ex := &execStmt{Proc: strings.Join(name.Parts, ".")}
			switch {
			case isCreateSubdirProc(name):
				// xp_create_subdir takes one directory argument.
				var arg expr
				if arg, err = p.expr(); err != nil {
					break
				}
				ex.Kind, ex.Args = procCreateSubdir, []expr{arg}
			case isDeleteBackupHistoryName(name):
				ex.Kind = procDeleteBackupHistory
				if ex.Named, ex.Args, err = p.procArgs(); err != nil {
					break
				}
			}
			if err != nil {
				break
			}
			// Other arguments are skipped: no other procedure is
			// supported, the statement fails at run time with 2812 as in
			// SQL Server.
			for !(p.peek().Kind == tkEOF || p.peek().isOp(";") || isStatementStart(p.peek())) {
				p.next()
			}
			ex.stmtText = p.textSince(start)
			s = ex
		}
	default:
		return nil, fmt.Errorf("statement %s is not supported", kw)
	}
	return s, err
}

func (p *parser) setStmt(start int) (stmt, error) {
	var words []string
	for p.peek().Kind == tkWord && !p.peek().is("ON") && !p.peek().is("OFF") {
		words = append(words, strings.ToUpper(p.next().Text))
	}
	opt := strings.Join(words, " ")
	switch opt {
	case "NOCOUNT", "XACT_ABORT", "ANSI_NULLS", "QUOTED_IDENTIFIER", "ANSI_WARNINGS",
		"ANSI_PADDING", "ARITHABORT", "CONCAT_NULL_YIELDS_NULL", "ANSI_NULL_DFLT_ON",
		"IMPLICIT_TRANSACTIONS", "NUMERIC_ROUNDABORT", "CURSOR_CLOSE_ON_COMMIT":
		on := p.accept("ON")
		if !on {
			if err := p.expect("OFF"); err != nil {
				return nil, err
			}
		}
		if opt == "IMPLICIT_TRANSACTIONS" && on {
			return nil, fmt.Errorf("SET IMPLICIT_TRANSACTIONS ON is not supported")
		}
		return &setOptionStmt{stmtText: p.textSince(start), Option: opt, On: on}, nil
	case "TRANSACTION ISOLATION LEVEL":
		for p.peek().Kind == tkWord {
			p.next()
		}
		return &setOptionStmt{stmtText: p.textSince(start), Option: opt, On: true}, nil
	case "LOCK_TIMEOUT", "DEADLOCK_PRIORITY", "TEXTSIZE", "LANGUAGE", "DATEFORMAT":
		p.acceptOp("-")
		p.next()
		return &setOptionStmt{stmtText: p.textSince(start), Option: opt, On: true}, nil
	}
	return nil, fmt.Errorf("SET %s is not supported", opt)
}

func (p *parser) selectStmt(start int) (stmt, error) {
	s := &selectStmt{}
	if p.accept("DISTINCT") {
		s.Distinct = true
	}
	if p.accept("TOP") {
		paren := p.acceptOp("(")
		x, err := p.primary()
		if err != nil {
			return nil, err
		}
		if paren {
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
		}
		s.Top = x
	}
	for {
		item, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		s.Items = append(s.Items, item)
		if !p.acceptOp(",") {
			break
		}
	}
	if p.accept("FROM") {
		ref, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		s.From = &ref
		for {
			left := false
			switch {
			case p.accept("JOIN"):
			case p.peek().is("INNER") && p.peekAt(1).is("JOIN"):
				p.i += 2
			case p.peek().is("LEFT"):
				p.next()
				p.accept("OUTER")
				if err := p.expect("JOIN"); err != nil {
					return nil, err
				}
				left = true
			default:
				goto joinsDone
			}
			ref, err := p.tableRef()
			if err != nil {
				return nil, err
			}
			if err := p.expect("ON"); err != nil {
				return nil, err
			}
			on, err := p.expr()
			if err != nil {
				return nil, err
			}
			s.Joins = append(s.Joins, joinClause{Left: left, Table: ref, On: on})
		}
	joinsDone:
		if p.accept("WITH") { // table hints such as WITH (NOLOCK) are accepted and ignored
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			for !p.acceptOp(")") {
				if p.peek().Kind == tkEOF {
					return nil, fmt.Errorf("unterminated table hint")
				}
				p.next()
			}
		}
	}
	if p.accept("WHERE") {
		w, err := p.expr()
		if err != nil {
			return nil, err
		}
		s.Where = w
	}
	if p.peek().is("ORDER") {
		p.next()
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			item := orderItem{X: x}
			if p.accept("DESC") {
				item.Desc = true
			} else {
				p.accept("ASC")
			}
			s.OrderBy = append(s.OrderBy, item)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

func (p *parser) selectItem() (selectItem, error) {
	if p.acceptOp("*") {
		return selectItem{Star: true}, nil
	}
	// alias.* form
	if (p.peek().Kind == tkWord || p.peek().Kind == tkQuoted) && p.peekAt(1).isOp(".") && p.peekAt(2).isOp("*") {
		q := p.next().Text
		p.i += 2
		return selectItem{Star: true, StarQual: q}, nil
	}
	x, err := p.expr()
	if err != nil {
		return selectItem{}, err
	}
	item := selectItem{X: x}
	if p.accept("AS") {
		t := p.next()
		if t.Kind != tkWord && t.Kind != tkQuoted && t.Kind != tkString {
			return item, fmt.Errorf("expected a column alias")
		}
		item.Alias = t.Text
	} else if t := p.peek(); t.Kind == tkQuoted || t.Kind == tkString || (t.Kind == tkWord && !isReserved(t)) {
		p.next()
		item.Alias = t.Text
	}
	return item, nil
}

func (p *parser) tableRef() (tableRef, error) {
	name, err := p.objectName()
	if err != nil {
		return tableRef{}, err
	}
	ref := tableRef{Name: name}
	if p.accept("AS") {
		if ref.Alias, err = p.ident(); err != nil {
			return ref, err
		}
	} else if t := p.peek(); t.Kind == tkQuoted || (t.Kind == tkWord && !isReserved(t)) {
		ref.Alias = p.next().Text
	}
	return ref, nil
}

func (p *parser) insertStmt(start int) (stmt, error) {
	p.accept("INTO")
	name, err := p.objectName()
	if err != nil {
		return nil, err
	}
	s := &insertStmt{Table: name}
	if p.acceptOp("(") {
		for {
			c, err := p.ident()
			if err != nil {
				return nil, err
			}
			s.Columns = append(s.Columns, c)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
	}
	if p.accept("DEFAULT") {
		if err := p.expect("VALUES"); err != nil {
			return nil, err
		}
		s.Rows = [][]expr{nil}
		s.stmtText = p.textSince(start)
		return s, nil
	}
	if err := p.expect("VALUES"); err != nil {
		return nil, err
	}
	for {
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		var row []expr
		for {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			row = append(row, x)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		s.Rows = append(s.Rows, row)
		if !p.acceptOp(",") {
			break
		}
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

func (p *parser) updateStmt(start int) (stmt, error) {
	name, err := p.objectName()
	if err != nil {
		return nil, err
	}
	if err := p.expect("SET"); err != nil {
		return nil, err
	}
	s := &updateStmt{Table: name}
	for {
		col, err := p.objectName()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		s.Sets = append(s.Sets, setClause{Column: col.name(), X: x})
		if !p.acceptOp(",") {
			break
		}
	}
	if p.accept("WHERE") {
		if s.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

func (p *parser) deleteStmt(start int) (stmt, error) {
	p.accept("FROM")
	name, err := p.objectName()
	if err != nil {
		return nil, err
	}
	s := &deleteStmt{Table: name}
	if p.accept("WHERE") {
		if s.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	s.stmtText = p.textSince(start)
	return s, nil
}
