package mssqlsim

import (
	"encoding/binary"
	"fmt"
)

// PRELOGIN option tokens (MS-TDS 2.2.6.5).
const (
	preloginVersion    byte = 0x00
	preloginEncryption byte = 0x01
	preloginInstOpt    byte = 0x02
	preloginThreadID   byte = 0x03
	preloginMARS       byte = 0x04
	preloginTraceID    byte = 0x05
	preloginFedAuth    byte = 0x06
	preloginNonce      byte = 0x07
	preloginTerminator byte = 0xFF
)

// Encryption option values (MS-TDS 2.2.6.5).
const (
	encryptOff    byte = 0x00
	encryptOn     byte = 0x01
	encryptNotSup byte = 0x02
	encryptReq    byte = 0x03
)

// parsePrelogin decodes the option table of a PRELOGIN message
// (MS-TDS 2.2.6.5). Option offsets are relative to the start of the message
// and big-endian.
func parsePrelogin(data []byte) (map[byte][]byte, error) {
	opts := map[byte][]byte{}
	for pos := 0; ; pos += 5 {
		if pos >= len(data) {
			return nil, fmt.Errorf("prelogin: missing terminator")
		}
		tok := data[pos]
		if tok == preloginTerminator {
			return opts, nil
		}
		if pos+5 > len(data) {
			return nil, fmt.Errorf("prelogin: truncated option header at %d", pos)
		}
		off := int(binary.BigEndian.Uint16(data[pos+1:]))
		n := int(binary.BigEndian.Uint16(data[pos+3:]))
		if off+n > len(data) {
			return nil, fmt.Errorf("prelogin: option %#x data out of range (%d+%d > %d)", tok, off, n, len(data))
		}
		opts[tok] = data[off : off+n]
	}
}

// buildPreloginResponse builds the server's PRELOGIN response with the
// given ENCRYPTION answer (see tlsState.preloginAnswer).
func buildPreloginResponse(version [4]byte, encryption byte) []byte {
	type opt struct {
		tok  byte
		data []byte
	}
	ver := make([]byte, 6)
	ver[0], ver[1] = version[0], version[1]
	binary.BigEndian.PutUint16(ver[2:], uint16(version[2])<<8|uint16(version[3]))
	opts := []opt{
		{preloginVersion, ver},
		{preloginEncryption, []byte{encryption}},
		{preloginInstOpt, []byte{0}},
		{preloginThreadID, nil},
		{preloginMARS, []byte{0}},
	}
	off := len(opts)*5 + 1
	var head, body []byte
	for _, o := range opts {
		head = append(head, o.tok)
		head = binary.BigEndian.AppendUint16(head, uint16(off+len(body)))
		head = binary.BigEndian.AppendUint16(head, uint16(len(o.data)))
		body = append(body, o.data...)
	}
	head = append(head, preloginTerminator)
	return append(head, body...)
}
