package mssqlsim

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
)

// column is a column of a relation (table, catalog view or join).
type column struct {
	Qual  string // lower-case alias or table name
	Name  string
	Type  sqlType
	table string // lower-case table name, also accepted as qualifier
}

// relation is a set of typed rows.
type relation struct {
	Cols []column
	Rows [][]Value
}

// env evaluates expressions against one row (or a group of rows for
// aggregates).
type env struct {
	ec      *execCtx
	cols    []column
	row     []Value
	group   [][]Value
	aggMode bool
	aliases map[string]Value // output aliases, for ORDER BY
}

var aggregateFuncs = map[string]bool{"COUNT": true, "COUNT_BIG": true, "MAX": true, "MIN": true, "SUM": true, "AVG": true}

func hasAggregate(x expr) bool {
	switch e := x.(type) {
	case exFunc:
		if aggregateFuncs[e.Name] {
			return true
		}
		for _, a := range e.Args {
			if hasAggregate(a) {
				return true
			}
		}
	case exUnary:
		return hasAggregate(e.X)
	case exBinary:
		return hasAggregate(e.L) || hasAggregate(e.R)
	case exCast:
		return hasAggregate(e.X)
	case exIsNull:
		return hasAggregate(e.X)
	case exCase:
		if e.Operand != nil && hasAggregate(e.Operand) {
			return true
		}
		for _, w := range e.Whens {
			if hasAggregate(w.When) || hasAggregate(w.Then) {
				return true
			}
		}
		return e.Else != nil && hasAggregate(e.Else)
	}
	return false
}

// resolve finds the column index for a (possibly qualified) name.
func resolveColumn(cols []column, parts []string) (int, error) {
	name := parts[len(parts)-1]
	qual := ""
	if len(parts) > 1 {
		qual = strings.ToLower(parts[len(parts)-2])
	}
	found := -1
	for i, c := range cols {
		if !strings.EqualFold(c.Name, name) {
			continue
		}
		if qual != "" && c.Qual != qual && c.table != qual {
			continue
		}
		if found >= 0 {
			return -1, sqlErr(209, 16, "Ambiguous column name '%s'.", name)
		}
		found = i
	}
	if found < 0 {
		return -1, errInvalidColumn(strings.Join(parts, "."))
	}
	return found, nil
}

func (e *env) eval(x expr) (Value, error) {
	switch n := x.(type) {
	case exLiteral:
		return n.V, nil
	case exParam:
		if e.ec == nil || e.ec.params == nil {
			return Value{}, errMustDeclare("@" + n.Name)
		}
		v, ok := e.ec.params[n.Name]
		if !ok {
			return Value{}, errMustDeclare("@" + n.Name)
		}
		return v, nil
	case exSysVar:
		return e.sysVar(n.Name)
	case exColumn:
		if len(n.Parts) == 1 && e.aliases != nil {
			if v, ok := e.aliases[strings.ToLower(n.Parts[0])]; ok {
				return v, nil
			}
		}
		i, err := resolveColumn(e.cols, n.Parts)
		if err != nil {
			return Value{}, err
		}
		if e.aggMode {
			return Value{}, sqlErr(8120, 16, "Column '%s' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.", strings.Join(n.Parts, "."))
		}
		return e.row[i], nil
	case exUnary:
		v, err := e.eval(n.X)
		if err != nil || v.IsNull() {
			return v, err
		}
		if n.Op == "NOT" {
			return bitValue(!v.truthy()), nil
		}
		if !isNumericKind(v.K) {
			return Value{}, errConversion(fmt.Errorf("operand data type %s is invalid for minus operator", typeOfValue(v)))
		}
		return negate(v), nil
	case exBinary:
		return e.binary(n)
	case exIsNull:
		v, err := e.eval(n.X)
		if err != nil {
			return v, err
		}
		return bitValue(v.IsNull() != n.Not), nil
	case exIn:
		v, err := e.eval(n.X)
		if err != nil || v.IsNull() {
			return nullValue(), err
		}
		sawNull := false
		for _, item := range n.List {
			w, err := e.eval(item)
			if err != nil {
				return w, err
			}
			if w.IsNull() {
				sawNull = true
				continue
			}
			if valuesEqual(v, w) {
				return bitValue(!n.Not), nil
			}
		}
		if sawNull {
			return nullValue(), nil
		}
		return bitValue(n.Not), nil
	case exLike:
		v, err := e.eval(n.X)
		if err != nil {
			return v, err
		}
		p, err := e.eval(n.Pattern)
		if err != nil {
			return p, err
		}
		if v.IsNull() || p.IsNull() {
			return nullValue(), nil
		}
		re, err := likeRegexp(p.String())
		if err != nil {
			return Value{}, err
		}
		return bitValue(re.MatchString(v.String()) != n.Not), nil
	case exBetween:
		v, err := e.eval(n.X)
		if err != nil {
			return v, err
		}
		lo, err := e.eval(n.Lo)
		if err != nil {
			return lo, err
		}
		hi, err := e.eval(n.Hi)
		if err != nil {
			return hi, err
		}
		c1, ok1 := compareValues(v, lo)
		c2, ok2 := compareValues(v, hi)
		if !ok1 || !ok2 {
			return nullValue(), nil
		}
		return bitValue((c1 >= 0 && c2 <= 0) != n.Not), nil
	case exFunc:
		return e.function(n)
	case exExists:
		_, rows, err := e.ec.computeSelect(n.Sel)
		if err != nil {
			return Value{}, err
		}
		return bitValue(len(rows) > 0), nil
	case exSubquery:
		cols, rows, err := e.ec.computeSelect(n.Sel)
		if err != nil {
			return Value{}, err
		}
		if len(cols) != 1 {
			return Value{}, sqlErr(116, 16, "Only one expression can be specified in the select list when the subquery is not introduced with EXISTS.")
		}
		switch len(rows) {
		case 0:
			return nullValue(), nil
		case 1:
			return rows[0][0], nil
		}
		return Value{}, sqlErr(512, 16, "Subquery returned more than 1 value. This is not permitted when the subquery follows =, !=, <, <= , >, >= or when the subquery is used as an expression.")
	case exCast:
		v, err := e.eval(n.X)
		if err != nil {
			return v, err
		}
		if n.T.isText() && v.K == KindBytes {
			return strValue(string(v.B)), nil
		}
		out, err := coerce(v, n.T)
		if err != nil {
			return out, errConversion(err)
		}
		return out, nil
	case exCase:
		var operand Value
		if n.Operand != nil {
			var err error
			if operand, err = e.eval(n.Operand); err != nil {
				return operand, err
			}
		}
		for _, w := range n.Whens {
			c, err := e.eval(w.When)
			if err != nil {
				return c, err
			}
			match := c.truthy()
			if n.Operand != nil {
				match = valuesEqual(operand, c)
			}
			if match {
				return e.eval(w.Then)
			}
		}
		if n.Else != nil {
			return e.eval(n.Else)
		}
		return nullValue(), nil
	}
	return Value{}, errNotSupported("expression")
}

func (e *env) binary(n exBinary) (Value, error) {
	switch n.Op {
	case "AND", "OR":
		l, err := e.eval(n.L)
		if err != nil {
			return l, err
		}
		r, err := e.eval(n.R)
		if err != nil {
			return r, err
		}
		if n.Op == "AND" {
			if (!l.IsNull() && !l.truthy()) || (!r.IsNull() && !r.truthy()) {
				return bitValue(false), nil
			}
			if l.IsNull() || r.IsNull() {
				return nullValue(), nil
			}
			return bitValue(true), nil
		}
		if l.truthy() || r.truthy() {
			return bitValue(true), nil
		}
		if l.IsNull() || r.IsNull() {
			return nullValue(), nil
		}
		return bitValue(false), nil
	}
	l, err := e.eval(n.L)
	if err != nil {
		return l, err
	}
	r, err := e.eval(n.R)
	if err != nil {
		return r, err
	}
	if l.IsNull() || r.IsNull() {
		return nullValue(), nil
	}
	switch n.Op {
	case "=", "<>", "<", ">", "<=", ">=":
		c, ok := compareValues(l, r)
		if !ok {
			return Value{}, errConversion(fmt.Errorf("conversion failed when comparing %s with %s", l.literal(), r.literal()))
		}
		var b bool
		switch n.Op {
		case "=":
			b = c == 0
		case "<>":
			b = c != 0
		case "<":
			b = c < 0
		case ">":
			b = c > 0
		case "<=":
			b = c <= 0
		case ">=":
			b = c >= 0
		}
		return bitValue(b), nil
	}
	// Arithmetic; + concatenates when either side is a string that is not
	// numeric (SQL Server converts to the type with higher precedence).
	if n.Op == "+" && (l.K == KindString || r.K == KindString) && !(isNumericKind(l.K) || isNumericKind(r.K)) {
		return strValue(l.String() + r.String()), nil
	}
	if (l.K == KindInt || l.K == KindBit) && (r.K == KindInt || r.K == KindBit) {
		a, b := l.I, r.I
		switch n.Op {
		case "+":
			return intValue(a + b), nil
		case "-":
			return intValue(a - b), nil
		case "*":
			return intValue(a * b), nil
		case "/", "%":
			if b == 0 {
				return Value{}, sqlErr(8134, 16, "Divide by zero error encountered.")
			}
			if n.Op == "/" {
				return intValue(a / b), nil
			}
			return intValue(a % b), nil
		}
	}
	if l.K == KindFloat || r.K == KindFloat {
		fa, ok1 := l.ratOf()
		fb, ok2 := r.ratOf()
		if !ok1 || !ok2 {
			return Value{}, errConversion(fmt.Errorf("invalid operands %s %s %s", l.literal(), n.Op, r.literal()))
		}
		a, _ := fa.Float64()
		b, _ := fb.Float64()
		switch n.Op {
		case "+":
			return floatValue(a + b), nil
		case "-":
			return floatValue(a - b), nil
		case "*":
			return floatValue(a * b), nil
		case "/":
			if b == 0 {
				return Value{}, sqlErr(8134, 16, "Divide by zero error encountered.")
			}
			return floatValue(a / b), nil
		}
	}
	ra, ok1 := l.ratOf()
	rb, ok2 := r.ratOf()
	if !ok1 || !ok2 {
		return Value{}, errConversion(fmt.Errorf("conversion failed for %s %s %s", l.literal(), n.Op, r.literal()))
	}
	var out big.Rat
	switch n.Op {
	case "+":
		out.Add(ra, rb)
	case "-":
		out.Sub(ra, rb)
	case "*":
		out.Mul(ra, rb)
	case "/":
		if rb.Sign() == 0 {
			return Value{}, sqlErr(8134, 16, "Divide by zero error encountered.")
		}
		out.Quo(ra, rb)
	default:
		return Value{}, errNotSupported("operator " + n.Op + " on numeric values")
	}
	scale := max(numericScale(l.S), numericScale(r.S))
	if n.Op == "/" {
		scale = max(scale, 6)
	}
	return numericValue(out.FloatString(scale)), nil
}

func likeRegexp(p string) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString("(?is)^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%':
			sb.WriteString(".*")
		case '_':
			sb.WriteString(".")
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				sb.WriteString(regexp.QuoteMeta("["))
				continue
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "^") {
				class = "^" + regexp.QuoteMeta(class[1:])
			} else {
				class = regexp.QuoteMeta(class)
			}
			sb.WriteString("[" + strings.ReplaceAll(class, `\-`, "-") + "]")
			i += j
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, sqlErr(8115, 16, "invalid LIKE pattern %q", p)
	}
	return re, nil
}

func (e *env) sysVar(name string) (Value, error) {
	ec := e.ec
	switch name {
	case "SERVERNAME", "SERVICENAME":
		if name == "SERVICENAME" {
			return strValue("MSSQLSERVER"), nil
		}
		return strValue(ec.in.serverName), nil
	case "VERSION":
		return strValue("Microsoft SQL Server 2022 (RTM) - " + ec.in.version + " (X64) mssqlsim simulator (not SQL Server)"), nil
	case "SPID":
		return intValue(int64(ec.sess.spid)), nil
	case "TRANCOUNT":
		return intValue(int64(ec.sess.tranCount)), nil
	case "ROWCOUNT":
		return intValue(ec.sess.lastRowCount), nil
	case "ERROR":
		return intValue(0), nil
	case "IDENTITY":
		return ec.sess.lastIdentity, nil
	case "LANGUAGE":
		return strValue("us_english"), nil
	case "MAX_CONNECTIONS":
		return intValue(32767), nil
	}
	return Value{}, errMustDeclare("@@" + strings.ToLower(name))
}

func (e *env) args(n exFunc, min, max int) ([]Value, error) {
	if len(n.Args) < min || len(n.Args) > max || n.Star {
		return nil, sqlErr(174, 15, "The %s function requires %d to %d arguments.", strings.ToLower(n.Name), min, max)
	}
	out := make([]Value, len(n.Args))
	for i, a := range n.Args {
		v, err := e.eval(a)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (e *env) function(n exFunc) (Value, error) {
	if aggregateFuncs[n.Name] {
		return e.aggregate(n)
	}
	ec := e.ec
	switch n.Name {
	case "SERVERPROPERTY":
		a, err := e.args(n, 1, 1)
		if err != nil {
			return Value{}, err
		}
		return ec.serverProperty(a[0].String()), nil
	case "DB_NAME":
		a, err := e.args(n, 0, 1)
		if err != nil {
			return Value{}, err
		}
		if len(a) == 0 {
			return strValue(ec.sess.database), nil
		}
		id, ok := a[0].asInt64()
		if !ok {
			return nullValue(), nil
		}
		if d := ec.in.dbByID(int(id)); d != nil {
			return strValue(d.Name), nil
		}
		return nullValue(), nil
	case "DB_ID":
		a, err := e.args(n, 0, 1)
		if err != nil {
			return Value{}, err
		}
		name := ec.sess.database
		if len(a) == 1 {
			if a[0].IsNull() {
				return nullValue(), nil
			}
			name = a[0].String()
		}
		if d := ec.in.db(name); d != nil {
			return intValue(int64(d.ID)), nil
		}
		return nullValue(), nil
	case "SUSER_SNAME", "SUSER_NAME", "ORIGINAL_LOGIN":
		a, err := e.args(n, 0, 1)
		if err != nil {
			return Value{}, err
		}
		if len(a) == 1 && a[0].K == KindBytes {
			for _, l := range ec.in.logins {
				if string(l.SID) == string(a[0].B) {
					return strValue(l.Name), nil
				}
			}
			return nullValue(), nil
		}
		return strValue(ec.sess.login), nil
	case "USER_NAME":
		return strValue("dbo"), nil
	case "GETDATE", "CURRENT_TIMESTAMP", "SYSDATETIME":
		return timeValue(ec.in.local(time.Now())), nil
	case "GETUTCDATE", "SYSUTCDATETIME":
		return timeValue(time.Now().UTC()), nil
	case "SYSDATETIMEOFFSET":
		return timeValue(time.Now()), nil
	case "ISNULL":
		a, err := e.args(n, 2, 2)
		if err != nil {
			return Value{}, err
		}
		if a[0].IsNull() {
			return a[1], nil
		}
		return a[0], nil
	case "COALESCE":
		a, err := e.args(n, 1, 1<<10)
		if err != nil {
			return Value{}, err
		}
		for _, v := range a {
			if !v.IsNull() {
				return v, nil
			}
		}
		return nullValue(), nil
	case "NULLIF":
		a, err := e.args(n, 2, 2)
		if err != nil {
			return Value{}, err
		}
		if valuesEqual(a[0], a[1]) {
			return nullValue(), nil
		}
		return a[0], nil
	case "IIF":
		if len(n.Args) != 3 {
			return Value{}, sqlErr(174, 15, "The iif function requires 3 arguments.")
		}
		c, err := e.eval(n.Args[0])
		if err != nil {
			return c, err
		}
		if c.truthy() {
			return e.eval(n.Args[1])
		}
		return e.eval(n.Args[2])
	case "LEN", "UPPER", "LOWER", "LTRIM", "RTRIM", "TRIM":
		a, err := e.args(n, 1, 1)
		if err != nil || a[0].IsNull() {
			return nullValue(), err
		}
		s := a[0].String()
		switch n.Name {
		case "LEN":
			return intValue(int64(len([]rune(strings.TrimRight(s, " "))))), nil
		case "UPPER":
			return strValue(strings.ToUpper(s)), nil
		case "LOWER":
			return strValue(strings.ToLower(s)), nil
		case "LTRIM":
			return strValue(strings.TrimLeft(s, " ")), nil
		case "RTRIM":
			return strValue(strings.TrimRight(s, " ")), nil
		}
		return strValue(strings.Trim(s, " ")), nil
	case "CONCAT":
		a, err := e.args(n, 2, 254)
		if err != nil {
			return Value{}, err
		}
		var sb strings.Builder
		for _, v := range a {
			sb.WriteString(v.String())
		}
		return strValue(sb.String()), nil
	case "DATABASEPROPERTYEX":
		a, err := e.args(n, 2, 2)
		if err != nil {
			return Value{}, err
		}
		d := ec.in.db(a[0].String())
		if d == nil {
			return nullValue(), nil
		}
		switch strings.ToLower(a[1].String()) {
		case "status":
			return strValue(d.State), nil
		case "recovery":
			return strValue(d.Recovery), nil
		case "updateability":
			if d.ReadOnly || d.Standby {
				return strValue("READ_ONLY"), nil
			}
			return strValue("READ_WRITE"), nil
		case "useraccess":
			return strValue(d.UserAccess), nil
		case "isinstandby":
			return intValue(b2i(d.Standby)), nil
		}
		return nullValue(), nil
	case "HAS_DBACCESS":
		a, err := e.args(n, 1, 1)
		if err != nil {
			return Value{}, err
		}
		d := ec.in.db(a[0].String())
		if d == nil {
			return nullValue(), nil
		}
		return intValue(b2i(d.State == stateOnline)), nil
	case "OBJECT_ID":
		a, err := e.args(n, 1, 2)
		if err != nil || a[0].IsNull() {
			return nullValue(), err
		}
		toks, lerr := lex(a[0].String())
		if lerr != nil {
			return nullValue(), nil
		}
		p := &parser{toks: toks}
		name, perr := p.objectName()
		if perr != nil {
			return nullValue(), nil
		}
		d, t := ec.lookupUserTable(name)
		if d == nil || t == nil {
			return nullValue(), nil
		}
		return intValue(t.ObjectID), nil
	case "HAS_PERMS_BY_NAME", "IS_SRVROLEMEMBER":
		return e.permissionFunction(n)
	}
	return Value{}, sqlErr(195, 15, "'%s' is not a recognized built-in function name. not supported by mssqlsim", strings.ToLower(n.Name))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (e *env) aggregate(n exFunc) (Value, error) {
	if !e.aggMode {
		return Value{}, sqlErr(147, 15, "An aggregate may not appear in this context.")
	}
	if n.Name == "COUNT" || n.Name == "COUNT_BIG" {
		if n.Star {
			return intValue(int64(len(e.group))), nil
		}
	}
	if len(n.Args) != 1 {
		return Value{}, sqlErr(174, 15, "The %s function requires 1 argument(s).", strings.ToLower(n.Name))
	}
	sub := &env{ec: e.ec, cols: e.cols}
	var count int64
	var best Value
	var sum big.Rat
	isFloat := false
	for _, row := range e.group {
		sub.row = row
		v, err := sub.eval(n.Args[0])
		if err != nil {
			return v, err
		}
		if v.IsNull() {
			continue
		}
		count++
		switch n.Name {
		case "MAX", "MIN":
			if best.IsNull() {
				best = v
				continue
			}
			c, ok := compareValues(v, best)
			if ok && ((n.Name == "MAX" && c > 0) || (n.Name == "MIN" && c < 0)) {
				best = v
			}
		case "SUM", "AVG":
			r, ok := v.ratOf()
			if !ok {
				return Value{}, sqlErr(8117, 16, "Operand data type is invalid for %s operator.", strings.ToLower(n.Name))
			}
			isFloat = isFloat || v.K == KindFloat
			sum.Add(&sum, r)
		}
	}
	switch n.Name {
	case "COUNT", "COUNT_BIG":
		return intValue(count), nil
	case "MAX", "MIN":
		return best, nil
	}
	if count == 0 {
		return nullValue(), nil
	}
	if n.Name == "AVG" {
		sum.Quo(&sum, new(big.Rat).SetInt64(count))
	}
	if isFloat {
		f, _ := sum.Float64()
		return floatValue(f), nil
	}
	if sum.IsInt() && sum.Num().IsInt64() {
		return intValue(sum.Num().Int64()), nil
	}
	return numericValue(sum.FloatString(6)), nil
}
