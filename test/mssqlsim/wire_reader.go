package mssqlsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

var errShortBuffer = errors.New("tds: unexpected end of data")

// wireReader is a bounds-checked little-endian reader over a message body.
// Every method returns an error instead of panicking on malformed input, so
// the decoders can be fuzzed safely.
type wireReader struct {
	b   []byte
	pos int
}

func newWireReader(b []byte) *wireReader { return &wireReader{b: b} }

func (r *wireReader) remaining() int { return len(r.b) - r.pos }

func (r *wireReader) bytes(n int) ([]byte, error) {
	if n < 0 || r.remaining() < n {
		return nil, fmt.Errorf("%w: need %d bytes at offset %d, have %d", errShortBuffer, n, r.pos, r.remaining())
	}
	v := r.b[r.pos : r.pos+n]
	r.pos += n
	return v, nil
}

func (r *wireReader) u8() (byte, error) {
	b, err := r.bytes(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *wireReader) u16() (uint16, error) {
	b, err := r.bytes(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (r *wireReader) u32() (uint32, error) {
	b, err := r.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *wireReader) u64() (uint64, error) {
	b, err := r.bytes(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// bVarChar reads a B_VARCHAR: a byte count of UCS-2 characters.
func (r *wireReader) bVarChar() (string, error) {
	n, err := r.u8()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n) * 2)
	if err != nil {
		return "", err
	}
	return ucs2ToString(b), nil
}

// usVarChar reads a US_VARCHAR: a ushort count of UCS-2 characters.
func (r *wireReader) usVarChar() (string, error) {
	n, err := r.u16()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n) * 2)
	if err != nil {
		return "", err
	}
	return ucs2ToString(b), nil
}

// ucs2ToString decodes UTF-16LE bytes (MS-TDS uses UCS-2/UTF-16LE for all
// Unicode text). An odd trailing byte is ignored.
func ucs2ToString(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// stringToUCS2 encodes s as UTF-16LE.
func stringToUCS2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// skipAllHeaders skips the ALL_HEADERS rule that precedes SQLBatch, RPC and
// transaction manager requests (MS-TDS 2.2.5.3). It validates the total
// length but does not interpret the individual headers.
func (r *wireReader) skipAllHeaders() error {
	if r.remaining() < 4 {
		return fmt.Errorf("tds: ALL_HEADERS: %w", errShortBuffer)
	}
	total := binary.LittleEndian.Uint32(r.b[r.pos:])
	if total < 4 || int64(total) > int64(r.remaining()) {
		return fmt.Errorf("tds: ALL_HEADERS: invalid total length %d", total)
	}
	r.pos += int(total)
	return nil
}
