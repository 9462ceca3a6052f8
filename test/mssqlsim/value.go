package mssqlsim

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Kind is the runtime kind of a Value.
type Kind uint8

// Value kinds. Numeric values (e.g. LSNs) are kept as decimal strings so
// that numeric(25,0) values never pass through int64.
const (
	KindNull Kind = iota
	KindInt
	KindBit
	KindNumeric
	KindString
	KindTime
	KindBytes
	KindFloat
)

// Value is a SQL scalar. It is JSON-serialisable so that log records can be
// persisted as is.
type Value struct {
	K Kind      `json:"k"`
	I int64     `json:"i,omitzero"`
	S string    `json:"s,omitzero"` // text, or the decimal digits of a numeric
	T time.Time `json:"t,omitzero"`
	B []byte    `json:"b,omitzero"`
	F float64   `json:"f,omitzero"`
}

func nullValue() Value                 { return Value{} }
func intValue(i int64) Value           { return Value{K: KindInt, I: i} }
func strValue(s string) Value          { return Value{K: KindString, S: s} }
func timeValue(t time.Time) Value      { return Value{K: KindTime, T: t} }
func bytesValue(b []byte) Value        { return Value{K: KindBytes, B: append([]byte{}, b...)} }
func floatValue(f float64) Value       { return Value{K: KindFloat, F: f} }
func numericValue(digits string) Value { return Value{K: KindNumeric, S: digits} }

func bitValue(b bool) Value {
	if b {
		return Value{K: KindBit, I: 1}
	}
	return Value{K: KindBit}
}

func lsnValue(l LSN) Value {
	if l.IsZero() {
		return nullValue()
	}
	return numericValue(l.String())
}

func (v Value) IsNull() bool { return v.K == KindNull }

// String renders the value the way CAST(v AS nvarchar) would.
func (v Value) String() string {
	switch v.K {
	case KindNull:
		return ""
	case KindInt, KindBit:
		return strconv.FormatInt(v.I, 10)
	case KindNumeric, KindString:
		return v.S
	case KindTime:
		return v.T.Format("2006-01-02 15:04:05.0000000")
	case KindBytes:
		return fmt.Sprintf("0x%X", v.B)
	case KindFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	}
	return ""
}

// literal renders the value for messages and debugging.
func (v Value) literal() string {
	if v.K == KindNull {
		return "NULL"
	}
	if v.K == KindString {
		return "'" + strings.ReplaceAll(v.S, "'", "''") + "'"
	}
	return v.String()
}

// truthy reports whether v is a true predicate result.
func (v Value) truthy() bool {
	switch v.K {
	case KindInt, KindBit:
		return v.I != 0
	}
	return false
}

// bigOf returns v as an integer (truncating a numeric fraction).
func (v Value) bigOf() (*big.Int, bool) {
	switch v.K {
	case KindInt, KindBit:
		return big.NewInt(v.I), true
	case KindFloat:
		bf := new(big.Float).SetFloat64(v.F)
		i, _ := bf.Int(nil)
		return i, true
	case KindNumeric, KindString:
		s := strings.TrimSpace(v.S)
		if i := strings.IndexByte(s, '.'); i >= 0 {
			s = s[:i]
		}
		b, ok := new(big.Int).SetString(s, 10)
		return b, ok
	}
	return nil, false
}

func (v Value) ratOf() (*big.Rat, bool) {
	switch v.K {
	case KindInt, KindBit:
		return new(big.Rat).SetInt64(v.I), true
	case KindFloat:
		r := new(big.Rat)
		if r.SetFloat64(v.F) == nil {
			return nil, false
		}
		return r, true
	case KindNumeric, KindString:
		r, ok := new(big.Rat).SetString(strings.TrimSpace(v.S))
		return r, ok
	}
	return nil, false
}

// asInt64 converts v to an int64 when it fits.
func (v Value) asInt64() (int64, bool) {
	switch v.K {
	case KindInt, KindBit:
		return v.I, true
	}
	b, ok := v.bigOf()
	if !ok || !b.IsInt64() {
		return 0, false
	}
	return b.Int64(), true
}

func isNumericKind(k Kind) bool {
	return k == KindInt || k == KindBit || k == KindNumeric || k == KindFloat
}

// compareValues compares two non-NULL values with SQL Server style implicit
// conversions (string vs number converts the string, string vs datetime
// parses the string). ok is false when the values are not comparable.
func compareValues(a, b Value) (int, bool) {
	if a.K == KindNull || b.K == KindNull {
		return 0, false
	}
	switch {
	case isNumericKind(a.K) || isNumericKind(b.K):
		if (a.K == KindInt || a.K == KindBit) && (b.K == KindInt || b.K == KindBit) {
			return cmpInt(a.I, b.I), true
		}
		ra, ok1 := a.ratOf()
		rb, ok2 := b.ratOf()
		if !ok1 || !ok2 {
			return 0, false
		}
		return ra.Cmp(rb), true
	case a.K == KindTime || b.K == KindTime:
		ta, ok1 := a.timeOf()
		tb, ok2 := b.timeOf()
		if !ok1 || !ok2 {
			return 0, false
		}
		return ta.Compare(tb), true
	case a.K == KindBytes && b.K == KindBytes:
		return bytes.Compare(a.B, b.B), true
	case a.K == KindString && b.K == KindString:
		// Default collation SQL_Latin1_General_CP1_CI_AS: case-insensitive,
		// trailing spaces ignored.
		return strings.Compare(strings.ToLower(strings.TrimRight(a.S, " ")), strings.ToLower(strings.TrimRight(b.S, " "))), true
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.9999999 -07:00",
	"2006-01-02 15:04:05.9999999",
	"2006-01-02T15:04:05.9999999",
	"2006-01-02 15:04:05",
	"2006-01-02",
	"20060102",
}

func (v Value) timeOf() (time.Time, bool) {
	switch v.K {
	case KindTime:
		return v.T, true
	case KindString:
		s := strings.TrimSpace(v.S)
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// valuesEqual reports SQL equality (NULL is never equal).
func valuesEqual(a, b Value) bool {
	c, ok := compareValues(a, b)
	return ok && c == 0
}
