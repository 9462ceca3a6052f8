package mssqlsim

import (
	"encoding/binary"
	"strconv"
)

// Token types (MS-TDS 2.2.7).
const (
	tokReturnStatus byte = 0x79
	tokColMetadata  byte = 0x81
	tokError        byte = 0xAA
	tokInfo         byte = 0xAB
	tokLoginAck     byte = 0xAD
	tokRow          byte = 0xD1
	tokEnvChange    byte = 0xE3
	tokDone         byte = 0xFD
	tokDoneProc     byte = 0xFE
	tokDoneInProc   byte = 0xFF
)

// DONE status bits (MS-TDS 2.2.7.6).
const (
	doneFinal    uint16 = 0x00
	doneMore     uint16 = 0x01
	doneError    uint16 = 0x02
	doneInXact   uint16 = 0x04
	doneCount    uint16 = 0x10
	doneAttn     uint16 = 0x20
	doneSrvError uint16 = 0x100
)

// CurCmd values carried by DONE tokens (the values SQL Server sends).
const (
	cmdNone   uint16 = 0x00
	cmdSelect uint16 = 0xC1
	cmdInsert uint16 = 0xC3
	cmdDelete uint16 = 0xC4
	cmdUpdate uint16 = 0xC5
)

// ENVCHANGE types (MS-TDS 2.2.7.9).
const (
	envDatabase     byte = 1
	envPacketSize   byte = 4
	envCollation    byte = 7
	envBeginTran    byte = 8
	envCommitTran   byte = 9
	envRollbackTran byte = 10
	envResetAck     byte = 18
)

// resultColumn describes one column of a result set.
type resultColumn struct {
	Name     string
	Type     sqlType
	Nullable bool
}

// tokenStream accumulates the tokens of one server response.
type tokenStream struct {
	b []byte
}

func appendBVarChar(b []byte, s string) []byte {
	u := stringToUCS2(s)
	if len(u) > 510 {
		u = u[:510]
	}
	return append(append(b, byte(len(u)/2)), u...)
}

func appendUSVarChar(b []byte, s string) []byte {
	u := stringToUCS2(s)
	if len(u) > 0xFFFF*2 {
		u = u[:0xFFFF*2]
	}
	return append(binary.LittleEndian.AppendUint16(b, uint16(len(u)/2)), u...)
}

// withLength appends a token whose body is prefixed by a USHORT length.
func (ts *tokenStream) withLength(tok byte, body []byte) {
	ts.b = append(ts.b, tok)
	ts.b = binary.LittleEndian.AppendUint16(ts.b, uint16(len(body)))
	ts.b = append(ts.b, body...)
}

// loginAck writes LOGINACK (MS-TDS 2.2.7.14) for TDS 7.4.
func (ts *tokenStream) loginAck(progName string, version [4]byte) {
	body := []byte{1, 0x74, 0x00, 0x00, 0x04} // SQL_TSQL, TDS 7.4 (big-endian)
	body = appendBVarChar(body, progName)
	body = append(body, version[:]...)
	ts.withLength(tokLoginAck, body)
}

func (ts *tokenStream) envChangeString(typ byte, newValue, oldValue string) {
	body := []byte{typ}
	body = appendBVarChar(body, newValue)
	body = appendBVarChar(body, oldValue)
	ts.withLength(tokEnvChange, body)
}

func (ts *tokenStream) envChangeBytes(typ byte, newValue, oldValue []byte) {
	body := []byte{typ, byte(len(newValue))}
	body = append(body, newValue...)
	body = append(body, byte(len(oldValue)))
	body = append(body, oldValue...)
	ts.withLength(tokEnvChange, body)
}

func (ts *tokenStream) envDatabase(newDB, oldDB string) {
	ts.envChangeString(envDatabase, newDB, oldDB)
}

func (ts *tokenStream) envPacketSize(size int) {
	ts.envChangeString(envPacketSize, strconv.Itoa(size), strconv.Itoa(size))
}

func (ts *tokenStream) envCollation() {
	ts.envChangeBytes(envCollation, defaultCollation, nil)
}

func txnDescriptor(id uint64) []byte {
	return binary.LittleEndian.AppendUint64(nil, id)
}

// message writes an ERROR or INFO token (MS-TDS 2.2.7.10 and 2.2.7.13).
func (ts *tokenStream) message(tok byte, number int32, state, class byte, text, server, proc string, line int32) {
	body := binary.LittleEndian.AppendUint32(nil, uint32(number))
	body = append(body, state, class)
	body = appendUSVarChar(body, text)
	body = appendBVarChar(body, server)
	body = appendBVarChar(body, proc)
	body = binary.LittleEndian.AppendUint32(body, uint32(line))
	ts.withLength(tok, body)
}

func (ts *tokenStream) sqlError(e *SQLError, server string) {
	tok := tokError
	if e.Class <= 10 {
		tok = tokInfo
	}
	ts.message(tok, e.Number, e.State, e.Class, e.Message, server, "", 1)
}

func (ts *tokenStream) info(number int32, text, server string) {
	ts.message(tokInfo, number, 1, 0, text, server, "", 1)
}

// done writes DONE, DONEPROC or DONEINPROC (MS-TDS 2.2.7.6-8).
func (ts *tokenStream) done(tok byte, status, curCmd uint16, rows uint64) {
	ts.b = append(ts.b, tok)
	ts.b = binary.LittleEndian.AppendUint16(ts.b, status)
	ts.b = binary.LittleEndian.AppendUint16(ts.b, curCmd)
	ts.b = binary.LittleEndian.AppendUint64(ts.b, rows)
}

func (ts *tokenStream) returnStatus(v int32) {
	ts.b = binary.LittleEndian.AppendUint32(append(ts.b, tokReturnStatus), uint32(v))
}

// colMetadata writes COLMETADATA (MS-TDS 2.2.7.4).
func (ts *tokenStream) colMetadata(cols []resultColumn) {
	ts.b = append(ts.b, tokColMetadata)
	ts.b = binary.LittleEndian.AppendUint16(ts.b, uint16(len(cols)))
	for _, c := range cols {
		ts.b = binary.LittleEndian.AppendUint32(ts.b, 0) // UserType
		flags := uint16(0)
		if c.Nullable {
			flags |= 0x01
		}
		ts.b = binary.LittleEndian.AppendUint16(ts.b, flags)
		ts.b = appendTypeInfo(ts.b, c.Type)
		ts.b = appendBVarChar(ts.b, c.Name)
	}
}

// row writes a ROW token (MS-TDS 2.2.7.19).
func (ts *tokenStream) row(cols []resultColumn, vals []Value) error {
	b := append(ts.b, tokRow)
	var err error
	for i, c := range cols {
		if b, err = appendValue(b, c.Type, vals[i]); err != nil {
			return err
		}
	}
	ts.b = b
	return nil
}
