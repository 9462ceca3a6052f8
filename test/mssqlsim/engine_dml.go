package mssqlsim

import (
	"strings"
	"time"
)

// write commits records now, or queues them until COMMIT inside an
// explicit transaction. In autocommit mode the records are fsynced before
// the statement's DONE token is sent.
func (ec *execCtx) write(d *database, recs []logRecord) error {
	if ec.sess.tranCount > 0 {
		ec.sess.pending = append(ec.sess.pending, pendingWrite{db: d, recs: recs})
		return nil
	}
	return ec.in.commitLocked(d, recs)
}

func (ec *execCtx) execCreateTable(s *createTableStmt) (stmtResult, error) {
	d, err := ec.dbForDDL(s.Table)
	if err != nil {
		return stmtResult{}, err
	}
	if d.tables[strings.ToLower(s.Table.name())] != nil {
		return stmtResult{}, errObjectExists(s.Table.name())
	}
	seen := map[string]bool{}
	pk := 0
	for _, c := range s.Cols {
		k := strings.ToLower(c.Name)
		if seen[k] {
			return stmtResult{}, sqlErr(2705, 16, "Column names in each table must be unique. Column name '%s' in table '%s' is specified more than once.", c.Name, s.Table.name())
		}
		seen[k] = true
		if c.PrimaryKey {
			pk++
		}
		if c.Identity && !(c.Type.Base == tInt || c.Type.Base == tBigInt || c.Type.Base == tSmallInt || c.Type.Base == tTinyInt) {
			return stmtResult{}, sqlErr(2749, 16, "Identity column '%s' must be of data type int, bigint, smallint, tinyint, or decimal or numeric with a scale of 0.", c.Name)
		}
	}
	if pk > 1 {
		return stmtResult{}, sqlErr(8110, 16, "Cannot add multiple PRIMARY KEY constraints to table '%s'.", s.Table.name())
	}
	return stmtResult{}, ec.write(d, []logRecord{{Op: opCreateTable, Table: s.Table.name(), Cols: s.Cols}})
}

// dbForDDL resolves the database of a table name for CREATE/DROP TABLE.
func (ec *execCtx) dbForDDL(name objectName) (*database, error) {
	dbName := name.database()
	if dbName == "" {
		dbName = ec.sess.database
	}
	d := ec.in.db(dbName)
	if d == nil {
		return nil, errDBNotExist(dbName)
	}
	if sch := name.schema(); sch != "" && !strings.EqualFold(sch, "dbo") {
		return nil, sqlErr(2760, 16, "The specified schema name \"%s\" either does not exist or you do not have permission to use it.", sch)
	}
	switch {
	case d.State == stateRestoring:
		return nil, errDBRestoring(d.Name)
	case d.State == stateOffline:
		return nil, errDBOffline(d.Name)
	case !d.writable():
		return nil, errReadOnlyDB(d.Name)
	}
	return d, nil
}

func (ec *execCtx) execDropTable(s *dropTableStmt) (stmtResult, error) {
	d, err := ec.dbForDDL(s.Table)
	if err != nil {
		return stmtResult{}, err
	}
	t := d.tables[strings.ToLower(s.Table.name())]
	if t == nil {
		if s.IfExists {
			return stmtResult{}, nil
		}
		return stmtResult{}, sqlErr(3701, 11, "Cannot drop the table '%s', because it does not exist or you do not have permission.", s.Table.name())
	}
	return stmtResult{}, ec.write(d, []logRecord{{Op: opDropTable, Table: t.Name}})
}

func (ec *execCtx) execInsert(s *insertStmt) (stmtResult, error) {
	d, t, err := ec.userTable(s.Table, true)
	if err != nil {
		return stmtResult{}, err
	}
	// Map the column list to table positions.
	targets := make([]int, 0, len(t.Cols))
	if len(s.Columns) == 0 {
		for i, c := range t.Cols {
			if !c.Identity {
				targets = append(targets, i)
			}
		}
	} else {
		for _, name := range s.Columns {
			i := t.colIndex(name)
			if i < 0 {
				return stmtResult{}, errInvalidColumn(name)
			}
			if t.Cols[i].Identity {
				return stmtResult{}, sqlErr(544, 16, "Cannot insert explicit value for identity column in table '%s' when IDENTITY_INSERT is set to OFF.", t.Name)
			}
			targets = append(targets, i)
		}
	}
	e := &env{ec: ec}
	now := time.Now()
	identity := t.Identity
	nextRow := t.NextRowID
	var recs []logRecord
	var lastIdentity Value
	for _, row := range s.Rows {
		if row != nil && len(row) != len(targets) {
			return stmtResult{}, sqlErr(110, 15, "There are fewer columns in the INSERT statement than values specified in the VALUES clause. The number of values in the VALUES clause must match the number of columns specified in the INSERT statement.")
		}
		vals := make([]Value, len(t.Cols))
		given := make([]bool, len(t.Cols))
		for k, x := range row {
			v, err := e.eval(x)
			if err != nil {
				return stmtResult{}, err
			}
			i := targets[k]
			cv, err := coerce(v, t.Cols[i].Type)
			if err != nil {
				if strings.Contains(err.Error(), "truncated") {
					return stmtResult{}, sqlErr(2628, 16, "String or binary data would be truncated in table '%s.dbo.%s', column '%s'.", d.Name, t.Name, t.Cols[i].Name)
				}
				return stmtResult{}, errConversion(err)
			}
			vals[i], given[i] = cv, true
		}
		for i, c := range t.Cols {
			switch {
			case c.Identity:
				identity += c.Increment
				vals[i] = intValue(identity)
				lastIdentity = vals[i]
			case given[i]:
			case c.Default != nil:
				vals[i] = *c.Default
			case c.DefaultNow != "":
				tm := now
				if strings.Contains(c.DefaultNow, "UTC") {
					tm = now.UTC()
				}
				cv, err := coerce(timeValue(tm), c.Type)
				if err != nil {
					return stmtResult{}, errConversion(err)
				}
				vals[i] = cv
			}
			if vals[i].IsNull() && !c.Nullable {
				return stmtResult{}, errNullInsert(c.Name, d.Name+".dbo."+t.Name)
			}
		}
		if err := checkPrimaryKey(t, vals, recs, 0); err != nil {
			return stmtResult{}, err
		}
		recs = append(recs, logRecord{Op: opInsert, Table: t.Name, RowID: nextRow, Vals: vals})
		nextRow++
	}
	// Identity values and row ids are consumed even if the transaction
	// later rolls back, as in SQL Server.
	t.Identity = identity
	t.NextRowID = nextRow
	if err := ec.write(d, recs); err != nil {
		return stmtResult{}, err
	}
	if !lastIdentity.IsNull() {
		ec.sess.lastIdentity = lastIdentity
	}
	return stmtResult{cmd: cmdInsert, rows: int64(len(recs)), count: true}, nil
}

// checkPrimaryKey rejects a duplicate primary key among the table rows
// (except skipRow) and the pending records of the same statement.
func checkPrimaryKey(t *table, vals []Value, pending []logRecord, skipRow int64) error {
	pk := -1
	for i, c := range t.Cols {
		if c.PrimaryKey {
			pk = i
		}
	}
	if pk < 0 {
		return nil
	}
	for _, r := range t.Rows {
		if r.ID != skipRow && valuesEqual(r.Vals[pk], vals[pk]) {
			if !pendingTouches(pending, r.ID) {
				return errDuplicateKey(t.Name, vals[pk].String())
			}
		}
	}
	for _, p := range pending {
		if p.Op != opDelete && p.RowID != skipRow && valuesEqual(p.Vals[pk], vals[pk]) {
			return errDuplicateKey(t.Name, vals[pk].String())
		}
	}
	return nil
}

func pendingTouches(pending []logRecord, rowID int64) bool {
	for _, p := range pending {
		if p.RowID == rowID && p.Op != opInsert {
			return true
		}
	}
	return false
}

func (ec *execCtx) matchingRows(t *table, where expr) ([]tableRow, error) {
	rel := make([]column, len(t.Cols))
	for i, c := range t.Cols {
		rel[i] = column{Name: c.Name, Type: c.Type, Qual: strings.ToLower(t.Name), table: strings.ToLower(t.Name)}
	}
	e := &env{ec: ec, cols: rel}
	var out []tableRow
	for _, r := range t.Rows {
		if where != nil {
			e.row = r.Vals
			v, err := e.eval(where)
			if err != nil {
				return nil, err
			}
			if !v.truthy() {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (ec *execCtx) execUpdate(s *updateStmt) (stmtResult, error) {
	d, t, err := ec.userTable(s.Table, true)
	if err != nil {
		return stmtResult{}, err
	}
	rows, err := ec.matchingRows(t, s.Where)
	if err != nil {
		return stmtResult{}, err
	}
	idx := make([]int, len(s.Sets))
	for k, set := range s.Sets {
		if idx[k] = t.colIndex(set.Column); idx[k] < 0 {
			return stmtResult{}, errInvalidColumn(set.Column)
		}
		if t.Cols[idx[k]].Identity {
			return stmtResult{}, sqlErr(8102, 16, "Cannot update identity column '%s'.", set.Column)
		}
	}
	cols := make([]column, len(t.Cols))
	for i, c := range t.Cols {
		cols[i] = column{Name: c.Name, Type: c.Type, Qual: strings.ToLower(t.Name), table: strings.ToLower(t.Name)}
	}
	e := &env{ec: ec, cols: cols}
	var recs []logRecord
	for _, r := range rows {
		e.row = r.Vals
		vals := append([]Value{}, r.Vals...)
		for k, set := range s.Sets {
			v, err := e.eval(set.X)
			if err != nil {
				return stmtResult{}, err
			}
			c := t.Cols[idx[k]]
			cv, err := coerce(v, c.Type)
			if err != nil {
				return stmtResult{}, errConversion(err)
			}
			if cv.IsNull() && !c.Nullable {
				return stmtResult{}, sqlErr(515, 16, "Cannot insert the value NULL into column '%s', table '%s.dbo.%s'; column does not allow nulls. UPDATE fails.", c.Name, d.Name, t.Name)
			}
			vals[idx[k]] = cv
		}
		if err := checkPrimaryKey(t, vals, recs, r.ID); err != nil {
			return stmtResult{}, err
		}
		recs = append(recs, logRecord{Op: opUpdate, Table: t.Name, RowID: r.ID, Vals: vals})
	}
	if err := ec.write(d, recs); err != nil {
		return stmtResult{}, err
	}
	return stmtResult{cmd: cmdUpdate, rows: int64(len(recs)), count: true}, nil
}

func (ec *execCtx) execDelete(s *deleteStmt) (stmtResult, error) {
	d, t, err := ec.userTable(s.Table, true)
	if err != nil {
		return stmtResult{}, err
	}
	rows, err := ec.matchingRows(t, s.Where)
	if err != nil {
		return stmtResult{}, err
	}
	recs := make([]logRecord, 0, len(rows))
	for _, r := range rows {
		recs = append(recs, logRecord{Op: opDelete, Table: t.Name, RowID: r.ID})
	}
	if err := ec.write(d, recs); err != nil {
		return stmtResult{}, err
	}
	return stmtResult{cmd: cmdDelete, rows: int64(len(recs)), count: true}, nil
}
