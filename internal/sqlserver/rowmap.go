package sqlserver

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// rowMap is one result row keyed by lower-case column name. RESTORE
// HEADERONLY and FILELISTONLY return dozens of columns that vary between
// SQL Server versions, so they are read by name, not by position.
type rowMap map[string]any

func scanRowMap(r *sql.Rows) (rowMap, error) {
	cols, err := r.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.Scan(ptrs...); err != nil {
		return nil, err
	}
	m := make(rowMap, len(cols))
	for i, c := range cols {
		m[strings.ToLower(c)] = vals[i]
	}
	return m, nil
}

func (m rowMap) string(col string) string {
	switch v := m[strings.ToLower(col)].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (m rowMap) int64(col string) (int64, error) {
	switch v := m[strings.ToLower(col)].(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case uint8:
		return int64(v), nil
	case []byte:
		return strconv.ParseInt(string(v), 10, 64)
	case string:
		return strconv.ParseInt(v, 10, 64)
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("column %s: unexpected type %T", col, v)
	}
}

func (m rowMap) bool(col string) bool {
	switch v := m[strings.ToLower(col)].(type) {
	case bool:
		return v
	case int64:
		return v != 0
	}
	return false
}

func (m rowMap) time(col string) time.Time {
	if v, ok := m[strings.ToLower(col)].(time.Time); ok {
		return v
	}
	return time.Time{}
}

func (m rowMap) lsn(col string) (LSN, error) {
	s := m.string(col)
	if s == "" {
		return LSN{}, nil
	}
	l, err := ParseLSN(s)
	if err != nil {
		return LSN{}, fmt.Errorf("column %s: %w", col, err)
	}
	return l, nil
}
