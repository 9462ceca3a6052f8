package mssqlsim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// TDS data type identifiers (MS-TDS 2.2.5.4).
const (
	tdsNull            byte = 0x1F
	tdsInt1            byte = 0x30
	tdsBit             byte = 0x32
	tdsInt2            byte = 0x34
	tdsInt4            byte = 0x38
	tdsDateTim4        byte = 0x3A
	tdsFlt4            byte = 0x3B
	tdsMoney           byte = 0x3C
	tdsDateTime        byte = 0x3D
	tdsFlt8            byte = 0x3E
	tdsMoney4          byte = 0x7A
	tdsInt8            byte = 0x7F
	tdsGUID            byte = 0x24
	tdsIntN            byte = 0x26
	tdsDecimalN        byte = 0x6A
	tdsNumericN        byte = 0x6C
	tdsBitN            byte = 0x68
	tdsFltN            byte = 0x6D
	tdsMoneyN          byte = 0x6E
	tdsDateTimN        byte = 0x6F
	tdsDateN           byte = 0x28
	tdsTimeN           byte = 0x29
	tdsDateTime2N      byte = 0x2A
	tdsDateTimeOffsetN byte = 0x2B
	tdsBigVarBinary    byte = 0xA5
	tdsBigVarChar      byte = 0xA7
	tdsBigBinary       byte = 0xAD
	tdsBigChar         byte = 0xAF
	tdsNVarChar        byte = 0xE7
	tdsNChar           byte = 0xEF
)

// defaultCollation is SQL_Latin1_General_CP1_CI_AS (MS-TDS 2.2.5.1.2):
// LCID 0x0409 with IgnoreCase/IgnoreKana/IgnoreWidth, sort id 52.
var defaultCollation = []byte{0x09, 0x04, 0xD0, 0x00, 0x34}

const (
	plpNull    uint64 = 0xFFFFFFFFFFFFFFFF
	plpUnknown uint64 = 0xFFFFFFFFFFFFFFFE
	// plpChunk is the chunk size used when the simulator writes PLP values.
	plpChunk = 8000
)

var (
	dateTimeBase = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	date0001     = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
)

func numericSize(prec uint8) int {
	switch {
	case prec <= 9:
		return 5
	case prec <= 19:
		return 9
	case prec <= 28:
		return 13
	}
	return 17
}

// appendTypeInfo appends the TYPE_INFO of a result column (MS-TDS 2.2.5.6).
func appendTypeInfo(b []byte, t sqlType) []byte {
	switch t.Base {
	case tInt:
		return append(b, tdsIntN, 4)
	case tBigInt:
		return append(b, tdsIntN, 8)
	case tSmallInt:
		return append(b, tdsIntN, 2)
	case tTinyInt:
		return append(b, tdsIntN, 1)
	case tBit:
		return append(b, tdsBitN, 1)
	case tFloat:
		return append(b, tdsFltN, 8)
	case tNumeric:
		return append(b, tdsNumericN, byte(numericSize(t.Prec)), t.Prec, t.Scale)
	case tDateTime:
		return append(b, tdsDateTimN, 8)
	case tDateTime2:
		return append(b, tdsDateTime2N, 7)
	case tDateTimeOffset:
		return append(b, tdsDateTimeOffsetN, 7)
	case tNVarChar, tNChar:
		b = append(b, tdsNVarChar)
		if t.Len < 0 || t.Len > 4000 {
			b = binary.LittleEndian.AppendUint16(b, 0xFFFF)
		} else {
			b = binary.LittleEndian.AppendUint16(b, uint16(max(t.Len, 1)*2))
		}
		return append(b, defaultCollation...)
	case tVarChar, tChar:
		typ := tdsBigVarChar
		if t.Base == tChar {
			typ = tdsBigChar
		}
		b = append(b, typ)
		if t.Len < 0 || t.Len > 8000 {
			b = binary.LittleEndian.AppendUint16(b, 0xFFFF)
		} else {
			b = binary.LittleEndian.AppendUint16(b, uint16(max(t.Len, 1)))
		}
		return append(b, defaultCollation...)
	case tVarBinary:
		b = append(b, tdsBigVarBinary)
		if t.Len < 0 || t.Len > 8000 {
			return binary.LittleEndian.AppendUint16(b, 0xFFFF)
		}
		return binary.LittleEndian.AppendUint16(b, uint16(max(t.Len, 1)))
	}
	panic(fmt.Sprintf("mssqlsim: no TDS type for %v", t))
}

func isPLP(t sqlType) bool {
	switch t.Base {
	case tNVarChar, tNChar:
		return t.Len < 0 || t.Len > 4000
	case tVarChar, tChar, tVarBinary:
		return t.Len < 0 || t.Len > 8000
	}
	return false
}

// appendValue appends one column value of a ROW token (MS-TDS 2.2.7.19).
func appendValue(b []byte, t sqlType, v Value) ([]byte, error) {
	v, err := coerce(v, t)
	if err != nil {
		return b, err
	}
	if isPLP(t) {
		return appendPLP(b, t, v), nil
	}
	switch t.Base {
	case tInt, tBigInt, tSmallInt, tTinyInt:
		if v.IsNull() {
			return append(b, 0), nil
		}
		switch t.Base {
		case tInt:
			return binary.LittleEndian.AppendUint32(append(b, 4), uint32(int32(v.I))), nil
		case tBigInt:
			return binary.LittleEndian.AppendUint64(append(b, 8), uint64(v.I)), nil
		case tSmallInt:
			return binary.LittleEndian.AppendUint16(append(b, 2), uint16(int16(v.I))), nil
		default:
			return append(b, 1, byte(v.I)), nil
		}
	case tBit:
		if v.IsNull() {
			return append(b, 0), nil
		}
		return append(b, 1, byte(v.I&1)), nil
	case tFloat:
		if v.IsNull() {
			return append(b, 0), nil
		}
		return binary.LittleEndian.AppendUint64(append(b, 8), math.Float64bits(v.F)), nil
	case tNumeric:
		if v.IsNull() {
			return append(b, 0), nil
		}
		return appendNumeric(b, t, v.S)
	case tDateTime:
		if v.IsNull() {
			return append(b, 0), nil
		}
		return appendDateTime(append(b, 8), v.T), nil
	case tDateTime2:
		if v.IsNull() {
			return append(b, 0), nil
		}
		return appendDateTime2(append(b, 8), v.T), nil
	case tDateTimeOffset:
		if v.IsNull() {
			return append(b, 0), nil
		}
		return appendDateTimeOffset(append(b, 10), v.T), nil
	case tNVarChar, tNChar:
		if v.IsNull() {
			return binary.LittleEndian.AppendUint16(b, 0xFFFF), nil
		}
		u := stringToUCS2(v.S)
		return append(binary.LittleEndian.AppendUint16(b, uint16(len(u))), u...), nil
	case tVarChar, tChar:
		if v.IsNull() {
			return binary.LittleEndian.AppendUint16(b, 0xFFFF), nil
		}
		s := encodeCP1252(v.S)
		if t.Base == tChar && len(s) < t.Len {
			s = append(s, []byte(strings.Repeat(" ", t.Len-len(s)))...)
		}
		return append(binary.LittleEndian.AppendUint16(b, uint16(len(s))), s...), nil
	case tVarBinary:
		if v.IsNull() {
			return binary.LittleEndian.AppendUint16(b, 0xFFFF), nil
		}
		return append(binary.LittleEndian.AppendUint16(b, uint16(len(v.B))), v.B...), nil
	}
	return b, fmt.Errorf("mssqlsim: cannot encode %v", t)
}

// appendPLP writes a partially length-prefixed value (MS-TDS 2.2.5.2.3).
func appendPLP(b []byte, t sqlType, v Value) []byte {
	if v.IsNull() {
		return binary.LittleEndian.AppendUint64(b, plpNull)
	}
	var data []byte
	switch t.Base {
	case tNVarChar, tNChar:
		data = stringToUCS2(v.S)
	case tVarChar, tChar:
		data = encodeCP1252(v.S)
	default:
		data = v.B
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
	for len(data) > 0 {
		n := min(len(data), plpChunk)
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
		b = append(b, data[:n]...)
		data = data[n:]
	}
	return binary.LittleEndian.AppendUint32(b, 0)
}

func appendNumeric(b []byte, t sqlType, s string) ([]byte, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return b, fmt.Errorf("invalid numeric %q", s)
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil)))
	i := new(big.Int).Quo(scaled.Num(), scaled.Denom())
	size := numericSize(t.Prec)
	sign := byte(1)
	if i.Sign() < 0 {
		sign = 0
		i.Neg(i)
	}
	mag := i.Bytes() // big-endian
	if len(mag) > size-1 {
		return b, fmt.Errorf("numeric %s does not fit precision %d", s, t.Prec)
	}
	b = append(b, byte(size), sign)
	le := make([]byte, size-1)
	for k := range mag {
		le[k] = mag[len(mag)-1-k]
	}
	return append(b, le...), nil
}

// appendDateTime encodes DATETIME: days since 1900-01-01 and 1/300 s ticks.
func appendDateTime(b []byte, t time.Time) []byte {
	// DATETIME has no time zone: the wall clock is stored.
	days := int32(daysSince0001(t) - daysSince0001(dateTimeBase))
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	ticks := uint32(math.Round(float64(t.Sub(midnight)) * 300 / float64(time.Second)))
	b = binary.LittleEndian.AppendUint32(b, uint32(days))
	return binary.LittleEndian.AppendUint32(b, ticks)
}

func appendTime7(b []byte, t time.Time) []byte {
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	units := uint64(t.Sub(midnight) / 100)
	for i := 0; i < 5; i++ {
		b = append(b, byte(units>>(8*i)))
	}
	return b
}

// daysSince0001 counts days from 0001-01-01 in the proleptic Gregorian
// calendar (time.Duration cannot span that range).
func daysSince0001(t time.Time) int64 {
	y := int64(t.Year() - 1)
	return y*365 + y/4 - y/100 + y/400 + int64(t.YearDay()-1)
}

func appendDate3(b []byte, t time.Time) []byte {
	days := uint32(daysSince0001(t))
	return append(b, byte(days), byte(days>>8), byte(days>>16))
}

// appendDateTime2 encodes DATETIME2(7) as time (5 bytes) then date (3).
func appendDateTime2(b []byte, t time.Time) []byte {
	return appendDate3(appendTime7(b, t), t)
}

// appendDateTimeOffset encodes DATETIMEOFFSET(7): UTC time, UTC date and the
// offset in minutes.
func appendDateTimeOffset(b []byte, t time.Time) []byte {
	u := t.UTC()
	b = appendDate3(appendTime7(b, u), u)
	_, off := t.Zone()
	return binary.LittleEndian.AppendUint16(b, uint16(int16(off/60)))
}

// encodeCP1252 encodes s for single-byte collations; characters outside
// Latin-1 become '?'.
func encodeCP1252(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 0x100 {
			out = append(out, byte(r))
		} else {
			out = append(out, '?')
		}
	}
	return out
}

func decodeCP1252(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// readTypedValue decodes a TYPE_INFO followed by its value, as found in RPC
// parameters (MS-TDS 2.2.6.6 and 2.2.5.6).
func readTypedValue(r *wireReader) (Value, sqlType, error) {
	typ, err := r.u8()
	if err != nil {
		return Value{}, sqlType{}, err
	}
	switch typ {
	case tdsNull:
		return nullValue(), nvarchar(1), nil
	case tdsInt1, tdsInt2, tdsInt4, tdsInt8, tdsBit, tdsFlt4, tdsFlt8, tdsDateTime, tdsDateTim4:
		size := map[byte]int{tdsInt1: 1, tdsInt2: 2, tdsInt4: 4, tdsInt8: 8, tdsBit: 1, tdsFlt4: 4, tdsFlt8: 8, tdsDateTime: 8, tdsDateTim4: 4}[typ]
		data, err := r.bytes(size)
		if err != nil {
			return Value{}, sqlType{}, err
		}
		return decodeFixed(typ, data)
	case tdsIntN, tdsBitN, tdsFltN, tdsDateTimN, tdsGUID, tdsMoneyN:
		if _, err := r.u8(); err != nil { // max length
			return Value{}, sqlType{}, err
		}
		n, err := r.u8()
		if err != nil {
			return Value{}, sqlType{}, err
		}
		data, err := r.bytes(int(n))
		if err != nil {
			return Value{}, sqlType{}, err
		}
		if n == 0 {
			return nullValue(), nvarchar(1), nil
		}
		switch typ {
		case tdsIntN:
			m := map[int]byte{1: tdsInt1, 2: tdsInt2, 4: tdsInt4, 8: tdsInt8}
			if t, ok := m[int(n)]; ok {
				return decodeFixed(t, data)
			}
		case tdsBitN:
			if n == 1 {
				return decodeFixed(tdsBit, data)
			}
		case tdsFltN:
			if n == 4 || n == 8 {
				return decodeFixed(map[int]byte{4: tdsFlt4, 8: tdsFlt8}[int(n)], data)
			}
		case tdsDateTimN:
			if n == 4 || n == 8 {
				return decodeFixed(map[int]byte{4: tdsDateTim4, 8: tdsDateTime}[int(n)], data)
			}
		case tdsGUID:
			if n == 16 {
				return strValue(formatGUID(data)), nvarchar(36), nil
			}
		case tdsMoneyN:
			return Value{}, sqlType{}, fmt.Errorf("money parameters are not supported by mssqlsim")
		}
		return Value{}, sqlType{}, fmt.Errorf("invalid length %d for type %#x", n, typ)
	case tdsDecimalN, tdsNumericN:
		hdr, err := r.bytes(3) // max length, precision, scale
		if err != nil {
			return Value{}, sqlType{}, err
		}
		n, err := r.u8()
		if err != nil {
			return Value{}, sqlType{}, err
		}
		data, err := r.bytes(int(n))
		if err != nil {
			return Value{}, sqlType{}, err
		}
		t := sqlType{Base: tNumeric, Prec: max(hdr[1], 1), Scale: hdr[2]}
		if n == 0 {
			return nullValue(), t, nil
		}
		return numericValue(decodeNumericDigits(data, hdr[2])), t, nil
	case tdsDateN:
		n, err := r.u8()
		if err != nil {
			return Value{}, sqlType{}, err
		}
		data, err := r.bytes(int(n))
		if err != nil || n == 0 {
			return nullValue(), typeDateTime2, err
		}
		if n != 3 {
			return Value{}, sqlType{}, fmt.Errorf("invalid DATEN length %d", n)
		}
		return timeValue(date0001.AddDate(0, 0, int(decodeUint(data)))), typeDateTime2, nil
	case tdsTimeN, tdsDateTime2N, tdsDateTimeOffsetN:
		scale, err := r.u8()
		if err != nil {
			return Value{}, sqlType{}, err
		}
		if scale > 7 {
			return Value{}, sqlType{}, fmt.Errorf("invalid time scale %d", scale)
		}
		n, err := r.u8()
		if err != nil {
			return Value{}, sqlType{}, err
		}
		data, err := r.bytes(int(n))
		if err != nil {
			return Value{}, sqlType{}, err
		}
		t := sqlType{Base: tDateTime2, Scale: 7}
		if typ == tdsDateTimeOffsetN {
			t.Base = tDateTimeOffset
		}
		if n == 0 {
			return nullValue(), t, nil
		}
		v, err := decodeTimeFamily(typ, scale, data)
		return v, t, err
	case tdsBigVarBinary, tdsBigBinary, tdsBigVarChar, tdsBigChar, tdsNVarChar, tdsNChar:
		maxLen, err := r.u16()
		if err != nil {
			return Value{}, sqlType{}, err
		}
		text := typ != tdsBigVarBinary && typ != tdsBigBinary
		if text {
			if _, err := r.bytes(5); err != nil { // collation
				return Value{}, sqlType{}, err
			}
		}
		var data []byte
		null := false
		if maxLen == 0xFFFF {
			data, null, err = readPLP(r)
		} else {
			var n uint16
			if n, err = r.u16(); err == nil {
				if n == 0xFFFF {
					null = true
				} else {
					data, err = r.bytes(int(n))
				}
			}
		}
		if err != nil {
			return Value{}, sqlType{}, err
		}
		var t sqlType
		switch typ {
		case tdsNVarChar, tdsNChar:
			t = sqlType{Base: tNVarChar, Len: -1}
		case tdsBigVarChar, tdsBigChar:
			t = sqlType{Base: tVarChar, Len: -1}
		default:
			t = varbinary(-1)
		}
		if null {
			return nullValue(), t, nil
		}
		switch typ {
		case tdsNVarChar, tdsNChar:
			return strValue(ucs2ToString(data)), t, nil
		case tdsBigVarChar, tdsBigChar:
			return strValue(decodeCP1252(data)), t, nil
		}
		return bytesValue(data), t, nil
	}
	return Value{}, sqlType{}, fmt.Errorf("parameter type %#x is not supported by mssqlsim", typ)
}

// readPLP reads a PLP value (MS-TDS 2.2.5.2.3).
func readPLP(r *wireReader) ([]byte, bool, error) {
	total, err := r.u64()
	if err != nil {
		return nil, false, err
	}
	if total == plpNull {
		return nil, true, nil
	}
	if total != plpUnknown && total > uint64(r.remaining()) {
		return nil, false, fmt.Errorf("PLP length %d exceeds message", total)
	}
	var out []byte
	for {
		n, err := r.u32()
		if err != nil {
			return nil, false, err
		}
		if n == 0 {
			return out, false, nil
		}
		chunk, err := r.bytes(int(n))
		if err != nil {
			return nil, false, err
		}
		out = append(out, chunk...)
	}
}

func decodeUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func decodeFixed(typ byte, data []byte) (Value, sqlType, error) {
	le := binary.LittleEndian
	switch typ {
	case tdsInt1:
		return intValue(int64(data[0])), typeTinyInt, nil
	case tdsInt2:
		return intValue(int64(int16(le.Uint16(data)))), typeSmallInt, nil
	case tdsInt4:
		return intValue(int64(int32(le.Uint32(data)))), typeInt, nil
	case tdsInt8:
		return intValue(int64(le.Uint64(data))), typeBigInt, nil
	case tdsBit:
		return bitValue(data[0] != 0), typeBit, nil
	case tdsFlt4:
		return floatValue(float64(math.Float32frombits(le.Uint32(data)))), typeFloat, nil
	case tdsFlt8:
		return floatValue(math.Float64frombits(le.Uint64(data))), typeFloat, nil
	case tdsDateTime:
		days := int32(le.Uint32(data))
		ticks := le.Uint32(data[4:])
		t := dateTimeBase.AddDate(0, 0, int(days)).Add(time.Duration(math.Round(float64(ticks) * float64(time.Second) / 300)))
		return timeValue(t), typeDateTime, nil
	case tdsDateTim4:
		days := le.Uint16(data)
		mins := le.Uint16(data[2:])
		return timeValue(dateTimeBase.AddDate(0, 0, int(days)).Add(time.Duration(mins) * time.Minute)), typeDateTime, nil
	}
	return Value{}, sqlType{}, fmt.Errorf("unsupported fixed type %#x", typ)
}

func decodeNumericDigits(data []byte, scale uint8) string {
	if len(data) == 0 {
		return "0"
	}
	mag := make([]byte, len(data)-1)
	for i := range mag {
		mag[i] = data[len(data)-1-i]
	}
	i := new(big.Int).SetBytes(mag)
	r := new(big.Rat).SetFrac(i, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	if data[0] == 0 {
		r.Neg(r)
	}
	return r.FloatString(int(scale))
}

func decodeTimeFamily(typ, scale byte, data []byte) (Value, error) {
	timeLen := 3
	switch {
	case scale > 4:
		timeLen = 5
	case scale > 2:
		timeLen = 4
	}
	need := timeLen
	if typ != tdsTimeN {
		need += 3
	}
	if typ == tdsDateTimeOffsetN {
		need += 2
	}
	if len(data) != need {
		return Value{}, fmt.Errorf("invalid length %d for time type %#x scale %d", len(data), typ, scale)
	}
	units := decodeUint(data[:timeLen])
	for i := int(scale); i < 7; i++ {
		units *= 10
	}
	tod := time.Duration(units) * 100
	if typ == tdsTimeN {
		return timeValue(date0001.Add(tod)), nil
	}
	days := decodeUint(data[timeLen : timeLen+3])
	t := date0001.AddDate(0, 0, int(days)).Add(tod)
	if typ == tdsDateTimeOffsetN {
		off := int(int16(binary.LittleEndian.Uint16(data[timeLen+3:])))
		t = t.In(time.FixedZone("", off*60))
	}
	return timeValue(t), nil
}

func formatGUID(b []byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", le.Uint32(b), le.Uint16(b[4:]), le.Uint16(b[6:]), b[8:10], b[10:16])
}
