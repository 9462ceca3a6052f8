package mssqlsim

import (
	"sort"
	"strings"
)

// execSelect runs a SELECT: FROM (with INNER/LEFT JOINs), WHERE,
// aggregates without GROUP BY, ORDER BY, TOP and DISTINCT.
func (ec *execCtx) execSelect(s *selectStmt) (stmtResult, error) {
	cols, rows, err := ec.computeSelect(s)
	if err != nil {
		return stmtResult{}, err
	}
	if err := ec.writeResultSet(cols, rows); err != nil {
		return stmtResult{}, err
	}
	return stmtResult{cmd: cmdSelect, rows: int64(len(rows)), count: true}, nil
}

// computeSelect evaluates a SELECT into result columns and rows.
func (ec *execCtx) computeSelect(s *selectStmt) ([]resultColumn, [][]Value, error) {
	fail := func(err error) ([]resultColumn, [][]Value, error) { return nil, nil, err }
	src := relation{Rows: [][]Value{{}}}
	if s.From != nil {
		rel, err := ec.resolveSource(*s.From)
		if err != nil {
			return fail(err)
		}
		src = rel
		for _, j := range s.Joins {
			right, err := ec.resolveSource(j.Table)
			if err != nil {
				return fail(err)
			}
			if src, err = ec.join(src, right, j); err != nil {
				return fail(err)
			}
		}
	}
	// WHERE
	if s.Where != nil {
		e := &env{ec: ec, cols: src.Cols}
		var kept [][]Value
		for _, row := range src.Rows {
			e.row = row
			v, err := e.eval(s.Where)
			if err != nil {
				return fail(err)
			}
			if v.truthy() {
				kept = append(kept, row)
			}
		}
		src.Rows = kept
	}
	// Expand the select list.
	type outItem struct {
		x     expr
		name  string
		typ   sqlType
		typed bool
	}
	var items []outItem
	agg := false
	for _, it := range s.Items {
		if it.Star {
			if s.From == nil {
				return fail(sqlErr(263, 16, "Must specify table to select from."))
			}
			q := strings.ToLower(it.StarQual)
			matched := false
			for _, c := range src.Cols {
				if q == "" || c.Qual == q || c.table == q {
					items = append(items, outItem{x: exColumn{Parts: []string{c.Qual, c.Name}}, name: c.Name, typ: c.Type, typed: true})
					matched = true
				}
			}
			if !matched {
				return fail(sqlErr(4104, 16, "The multi-part identifier \"%s\" could not be bound.", it.StarQual))
			}
			continue
		}
		oi := outItem{x: it.X, name: it.Alias}
		if c, ok := it.X.(exColumn); ok && oi.name == "" {
			oi.name = c.Parts[len(c.Parts)-1]
		}
		oi.typ, oi.typed = staticType(it.X, src.Cols)
		if hasAggregate(it.X) {
			agg = true
		}
		items = append(items, oi)
	}
	// Evaluate output rows (and ORDER BY keys).
	type outRow struct {
		vals []Value
		keys []Value
	}
	var out []outRow
	evalRow := func(e *env) (outRow, error) {
		r := outRow{vals: make([]Value, len(items))}
		aliases := map[string]Value{}
		for i, it := range items {
			v, err := e.eval(it.x)
			if err != nil {
				return r, err
			}
			r.vals[i] = v
			if it.name != "" {
				aliases[strings.ToLower(it.name)] = v
			}
		}
		for _, o := range s.OrderBy {
			if lit, ok := o.X.(exLiteral); ok && lit.V.K == KindInt {
				if lit.V.I < 1 || int(lit.V.I) > len(items) {
					return r, sqlErr(108, 16, "The ORDER BY position number %d is out of range of the number of items in the select list.", lit.V.I)
				}
				r.keys = append(r.keys, r.vals[lit.V.I-1])
				continue
			}
			ke := *e
			ke.aliases = aliases
			v, err := ke.eval(o.X)
			if err != nil {
				return r, err
			}
			r.keys = append(r.keys, v)
		}
		return r, nil
	}
	if agg {
		r, err := evalRow(&env{ec: ec, cols: src.Cols, group: src.Rows, aggMode: true})
		if err != nil {
			return fail(err)
		}
		out = append(out, r)
	} else {
		e := &env{ec: ec, cols: src.Cols}
		for _, row := range src.Rows {
			e.row = row
			r, err := evalRow(e)
			if err != nil {
				return fail(err)
			}
			out = append(out, r)
		}
	}
	if len(s.OrderBy) > 0 {
		sort.SliceStable(out, func(i, j int) bool {
			for k, o := range s.OrderBy {
				a, b := out[i].keys[k], out[j].keys[k]
				c := 0
				switch {
				case a.IsNull() && b.IsNull():
				case a.IsNull():
					c = -1
				case b.IsNull():
					c = 1
				default:
					c, _ = compareValues(a, b)
				}
				if o.Desc {
					c = -c
				}
				if c != 0 {
					return c < 0
				}
			}
			return false
		})
	}
	if s.Distinct {
		var uniq []outRow
		for _, r := range out {
			dup := false
			for _, u := range uniq {
				if rowsEqual(u.vals, r.vals) {
					dup = true
					break
				}
			}
			if !dup {
				uniq = append(uniq, r)
			}
		}
		out = uniq
	}
	if s.Top != nil {
		v, err := (&env{ec: ec}).eval(s.Top)
		if err != nil {
			return fail(err)
		}
		n, ok := v.asInt64()
		if !ok || n < 0 {
			return fail(sqlErr(1060, 16, "The number of rows provided for a TOP clause must be an integer."))
		}
		if int64(len(out)) > n {
			out = out[:n]
		}
	}
	// Result metadata: static types where known, otherwise inferred from
	// the values.
	cols := make([]resultColumn, len(items))
	for i, it := range items {
		t := it.typ
		if !it.typed {
			t = inferType(out, i, func(r outRow) Value { return r.vals[i] })
		}
		cols[i] = resultColumn{Name: it.name, Type: t, Nullable: true}
	}
	rows := make([][]Value, len(out))
	for i, r := range out {
		rows[i] = r.vals
	}
	return cols, rows, nil
}

func rowsEqual(a, b []Value) bool {
	for i := range a {
		if a[i].IsNull() != b[i].IsNull() {
			return false
		}
		if !a[i].IsNull() && !valuesEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func inferType[T any](rows []T, _ int, get func(T) Value) sqlType {
	var t sqlType
	found := false
	for _, r := range rows {
		v := get(r)
		if v.IsNull() {
			continue
		}
		vt := typeOfValue(v)
		if !found {
			t, found = vt, true
			continue
		}
		if vt.Base != t.Base {
			if t.Base == tInt && vt.Base == tBigInt {
				t = vt
				continue
			}
			if vt.Base == tInt && t.Base == tBigInt {
				continue
			}
			return typeNVarMax
		}
		if vt.Len < 0 {
			t = vt
		}
		if vt.Base == tNumeric && vt.Scale > t.Scale {
			t = vt
		}
	}
	if !found {
		return typeInt
	}
	return t
}

// staticType derives the type of a select-list expression when it is known
// without evaluating it.
func staticType(x expr, cols []column) (sqlType, bool) {
	switch n := x.(type) {
	case exColumn:
		if i, err := resolveColumn(cols, n.Parts); err == nil {
			return cols[i].Type, true
		}
	case exCast:
		return n.T, true
	case exFunc:
		switch n.Name {
		case "COUNT":
			return typeInt, true
		case "COUNT_BIG":
			return typeBigInt, true
		case "MAX", "MIN":
			if len(n.Args) == 1 {
				return staticType(n.Args[0], cols)
			}
		case "DB_NAME", "SUSER_SNAME", "SUSER_NAME", "ORIGINAL_LOGIN", "USER_NAME":
			return typeSysname, true
		case "DB_ID", "OBJECT_ID", "HAS_DBACCESS", "LEN":
			return typeInt, true
		case "SERVERPROPERTY", "DATABASEPROPERTYEX":
			return nvarchar(128), true
		case "GETDATE", "GETUTCDATE", "CURRENT_TIMESTAMP":
			return typeDateTime, true
		case "SYSDATETIME", "SYSUTCDATETIME":
			return typeDateTime2, true
		case "SYSDATETIMEOFFSET":
			return sqlType{Base: tDateTimeOffset, Scale: 7}, true
		}
	case exSysVar:
		switch n.Name {
		case "SERVERNAME", "SERVICENAME", "LANGUAGE":
			return typeSysname, true
		case "VERSION":
			return nvarchar(300), true
		case "SPID", "TRANCOUNT", "ROWCOUNT", "ERROR", "MAX_CONNECTIONS":
			return typeInt, true
		}
	}
	return sqlType{}, false
}

// writeResultSet sends COLMETADATA and ROW tokens.
func (ec *execCtx) writeResultSet(cols []resultColumn, rows [][]Value) error {
	var ts tokenStream
	ts.colMetadata(cols)
	for _, r := range rows {
		if err := ts.row(cols, r); err != nil {
			return errConversion(err)
		}
	}
	ec.ts.b = append(ec.ts.b, ts.b...)
	return nil
}

// join combines two relations with INNER or LEFT join semantics.
func (ec *execCtx) join(left, right relation, j joinClause) (relation, error) {
	out := relation{Cols: append(append([]column{}, left.Cols...), right.Cols...)}
	e := &env{ec: ec, cols: out.Cols}
	nulls := make([]Value, len(right.Cols))
	for _, l := range left.Rows {
		matched := false
		for _, r := range right.Rows {
			row := append(append(make([]Value, 0, len(out.Cols)), l...), r...)
			e.row = row
			v, err := e.eval(j.On)
			if err != nil {
				return out, err
			}
			if v.truthy() {
				out.Rows = append(out.Rows, row)
				matched = true
			}
		}
		if !matched && j.Left {
			out.Rows = append(out.Rows, append(append(make([]Value, 0, len(out.Cols)), l...), nulls...))
		}
	}
	return out, nil
}

// resolveSource resolves a FROM item: a catalog view or a user table.
func (ec *execCtx) resolveSource(ref tableRef) (relation, error) {
	name := ref.Name
	qual := strings.ToLower(ref.Alias)
	if qual == "" {
		qual = strings.ToLower(name.name())
	}
	rel, ok, err := ec.databasePrincipalsView(name)
	if !ok {
		rel, ok, err = ec.catalogView(name)
	}
	if err == nil && ok {
		rel, err = ec.securedView(name, rel)
	}
	if err != nil {
		return relation{}, err
	}
	if !ok {
		d, t, err := ec.userTable(name, false)
		if err != nil {
			return relation{}, err
		}
		rel = relation{}
		for _, c := range t.Cols {
			rel.Cols = append(rel.Cols, column{Name: c.Name, Type: c.Type})
		}
		for _, r := range t.Rows {
			rel.Rows = append(rel.Rows, append([]Value{}, r.Vals...))
		}
		_ = d
	}
	for i := range rel.Cols {
		rel.Cols[i].Qual = qual
		rel.Cols[i].table = strings.ToLower(name.name())
	}
	return rel, nil
}

// lookupUserTable finds a user table without access checks.
func (ec *execCtx) lookupUserTable(name objectName) (*database, *table) {
	dbName := name.database()
	if dbName == "" {
		dbName = ec.sess.database
	}
	d := ec.in.db(dbName)
	if d == nil {
		return nil, nil
	}
	if sch := name.schema(); sch != "" && !strings.EqualFold(sch, "dbo") {
		return d, nil
	}
	return d, d.tables[strings.ToLower(name.name())]
}

// userTable resolves a user table and checks that its database can be read
// (or written when write is set).
func (ec *execCtx) userTable(name objectName, write bool) (*database, *table, error) {
	if len(name.Parts) == 4 && name.Parts[0] != "" {
		return nil, nil, errNotSupported("linked server name " + name.Parts[0])
	}
	dbName := name.database()
	if dbName == "" {
		dbName = ec.sess.database
	}
	d := ec.in.db(dbName)
	if d == nil {
		return nil, nil, errDBNotExist(dbName)
	}
	switch d.State {
	case stateRestoring:
		return nil, nil, errDBRestoring(d.Name)
	case stateOffline:
		return nil, nil, errDBOffline(d.Name)
	}
	_, t := ec.lookupUserTable(name)
	if t == nil {
		return nil, nil, errInvalidObject(strings.Join(name.Parts, "."))
	}
	if write && !d.writable() {
		return nil, nil, errReadOnlyDB(d.Name)
	}
	return d, t, nil
}
