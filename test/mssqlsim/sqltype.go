package mssqlsim

import (
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"
)

// typeBase enumerates the SQL types the simulator stores and returns.
type typeBase uint8

const (
	tInt typeBase = iota + 1
	tBigInt
	tSmallInt
	tTinyInt
	tBit
	tNumeric
	tNVarChar
	tVarChar
	tNChar
	tChar
	tDateTime
	tDateTime2
	tDateTimeOffset
	tVarBinary
	tFloat
)

// sqlType is a column or expression type. Len is in characters for text
// types and bytes for binary types; -1 means MAX.
type sqlType struct {
	Base  typeBase `json:"base"`
	Len   int      `json:"len,omitzero"`
	Prec  uint8    `json:"prec,omitzero"`
	Scale uint8    `json:"scale,omitzero"`
}

var (
	typeInt       = sqlType{Base: tInt}
	typeBigInt    = sqlType{Base: tBigInt}
	typeSmallInt  = sqlType{Base: tSmallInt}
	typeTinyInt   = sqlType{Base: tTinyInt}
	typeBit       = sqlType{Base: tBit}
	typeLSN       = sqlType{Base: tNumeric, Prec: 25}
	typeSysname   = sqlType{Base: tNVarChar, Len: 128}
	typeNVarMax   = sqlType{Base: tNVarChar, Len: -1}
	typeDateTime  = sqlType{Base: tDateTime}
	typeDateTime2 = sqlType{Base: tDateTime2, Scale: 7}
	typeFloat     = sqlType{Base: tFloat}
)

func nvarchar(n int) sqlType  { return sqlType{Base: tNVarChar, Len: n} }
func char(n int) sqlType      { return sqlType{Base: tChar, Len: n} }
func varbinary(n int) sqlType { return sqlType{Base: tVarBinary, Len: n} }

func (t sqlType) String() string {
	l := func() string {
		if t.Len < 0 {
			return "max"
		}
		return fmt.Sprint(t.Len)
	}
	switch t.Base {
	case tInt:
		return "int"
	case tBigInt:
		return "bigint"
	case tSmallInt:
		return "smallint"
	case tTinyInt:
		return "tinyint"
	case tBit:
		return "bit"
	case tNumeric:
		return fmt.Sprintf("numeric(%d,%d)", t.Prec, t.Scale)
	case tNVarChar:
		return "nvarchar(" + l() + ")"
	case tVarChar:
		return "varchar(" + l() + ")"
	case tNChar:
		return "nchar(" + l() + ")"
	case tChar:
		return "char(" + l() + ")"
	case tDateTime:
		return "datetime"
	case tDateTime2:
		return "datetime2"
	case tDateTimeOffset:
		return "datetimeoffset"
	case tVarBinary:
		return "varbinary(" + l() + ")"
	case tFloat:
		return "float"
	}
	return "unknown"
}

func (t sqlType) isText() bool {
	return t.Base == tNVarChar || t.Base == tVarChar || t.Base == tNChar || t.Base == tChar
}

// parseTypeName resolves a T-SQL type name with its arguments. args holds
// the parenthesised values; -1 stands for MAX.
func parseTypeName(name string, args []int) (sqlType, error) {
	arg := func(i, def int) int {
		if i < len(args) {
			return args[i]
		}
		return def
	}
	switch strings.ToLower(name) {
	case "int", "integer":
		return typeInt, nil
	case "bigint":
		return typeBigInt, nil
	case "smallint":
		return typeSmallInt, nil
	case "tinyint":
		return typeTinyInt, nil
	case "bit":
		return typeBit, nil
	case "numeric", "decimal":
		p, s := arg(0, 18), arg(1, 0)
		if p < 1 || p > 38 || s < 0 || s > p {
			return sqlType{}, fmt.Errorf("invalid precision/scale (%d,%d)", p, s)
		}
		return sqlType{Base: tNumeric, Prec: uint8(p), Scale: uint8(s)}, nil
	case "nvarchar", "sysname":
		if strings.EqualFold(name, "sysname") {
			return typeSysname, nil
		}
		return sqlType{Base: tNVarChar, Len: arg(0, 1)}, nil
	case "varchar":
		return sqlType{Base: tVarChar, Len: arg(0, 1)}, nil
	case "nchar":
		return sqlType{Base: tNChar, Len: arg(0, 1)}, nil
	case "char":
		return sqlType{Base: tChar, Len: arg(0, 1)}, nil
	case "datetime", "smalldatetime":
		return typeDateTime, nil
	case "datetime2":
		return sqlType{Base: tDateTime2, Scale: 7}, nil
	case "datetimeoffset":
		return sqlType{Base: tDateTimeOffset, Scale: 7}, nil
	case "varbinary", "binary":
		return sqlType{Base: tVarBinary, Len: arg(0, 1)}, nil
	case "float", "real":
		return typeFloat, nil
	}
	return sqlType{}, fmt.Errorf("type %q is not supported by mssqlsim", name)
}

// typeOfValue infers a result type for an untyped value (literals,
// parameters, function results).
func typeOfValue(v Value) sqlType {
	switch v.K {
	case KindInt:
		if v.I >= -1<<31 && v.I < 1<<31 {
			return typeInt
		}
		return typeBigInt
	case KindBit:
		return typeBit
	case KindNumeric:
		return sqlType{Base: tNumeric, Prec: 38, Scale: uint8(numericScale(v.S))}
	case KindString:
		if n := utf8.RuneCountInString(v.S); n > 4000 {
			return typeNVarMax
		}
		return nvarchar(4000)
	case KindTime:
		if _, off := v.T.Zone(); off != 0 {
			return sqlType{Base: tDateTimeOffset, Scale: 7}
		}
		return typeDateTime2
	case KindBytes:
		if len(v.B) > 8000 {
			return varbinary(-1)
		}
		return varbinary(8000)
	case KindFloat:
		return typeFloat
	}
	return nvarchar(1)
}

func numericScale(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// coerce converts v to column type t, as an INSERT/UPDATE or CAST would.
func coerce(v Value, t sqlType) (Value, error) {
	if v.IsNull() {
		return v, nil
	}
	fail := func() (Value, error) {
		return Value{}, fmt.Errorf("conversion failed when converting the value %s to data type %s", v.literal(), t)
	}
	switch t.Base {
	case tInt, tBigInt, tSmallInt, tTinyInt:
		var i int64
		switch v.K {
		case KindTime, KindBytes:
			return fail()
		case KindString:
			b, ok := new(big.Int).SetString(strings.TrimSpace(v.S), 10)
			if !ok || !b.IsInt64() {
				return fail()
			}
			i = b.Int64()
		default:
			b, ok := v.bigOf()
			if !ok || !b.IsInt64() {
				return fail()
			}
			i = b.Int64()
		}
		lo, hi := int64(-1<<63), int64(1<<63-1)
		switch t.Base {
		case tInt:
			lo, hi = -1<<31, 1<<31-1
		case tSmallInt:
			lo, hi = -1<<15, 1<<15-1
		case tTinyInt:
			lo, hi = 0, 255
		}
		if i < lo || i > hi {
			return Value{}, fmt.Errorf("arithmetic overflow error converting %s to data type %s", v.literal(), t)
		}
		return intValue(i), nil
	case tBit:
		switch v.K {
		case KindString:
			switch strings.ToLower(strings.TrimSpace(v.S)) {
			case "true", "1":
				return bitValue(true), nil
			case "false", "0":
				return bitValue(false), nil
			}
			return fail()
		case KindInt, KindBit:
			return bitValue(v.I != 0), nil
		case KindNumeric, KindFloat:
			r, _ := v.ratOf()
			return bitValue(r != nil && r.Sign() != 0), nil
		}
		return fail()
	case tNumeric:
		r, ok := v.ratOf()
		if !ok {
			return fail()
		}
		s := r.FloatString(int(t.Scale))
		digits := strings.TrimLeft(strings.Replace(s, "-", "", 1), "0")
		digits = strings.Replace(digits, ".", "", 1)
		if len(strings.TrimLeft(digits, "0")) > int(t.Prec) {
			return Value{}, fmt.Errorf("arithmetic overflow error converting %s to data type %s", v.literal(), t)
		}
		return numericValue(s), nil
	case tNVarChar, tVarChar, tNChar, tChar:
		s := v.String()
		if t.Len >= 0 && utf8.RuneCountInString(s) > t.Len {
			return Value{}, fmt.Errorf("string or binary data would be truncated (value of length %d for %s)", utf8.RuneCountInString(s), t)
		}
		return strValue(s), nil
	case tDateTime, tDateTime2, tDateTimeOffset:
		tm, ok := v.timeOf()
		if !ok {
			return fail()
		}
		if t.Base == tDateTime {
			tm = tm.Round(10 * time.Millisecond / 3)
		}
		return timeValue(tm), nil
	case tVarBinary:
		switch v.K {
		case KindBytes:
			if t.Len >= 0 && len(v.B) > t.Len {
				return Value{}, fmt.Errorf("string or binary data would be truncated (%d bytes for %s)", len(v.B), t)
			}
			return v, nil
		case KindString:
			return bytesValue([]byte(v.S)), nil
		}
		return fail()
	case tFloat:
		r, ok := v.ratOf()
		if !ok {
			return fail()
		}
		f, _ := r.Float64()
		return floatValue(f), nil
	}
	return fail()
}
