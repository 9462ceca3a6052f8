package mssqlsim

import (
	"encoding/binary"
	"fmt"
)

// login7 holds the fields of a LOGIN7 message (MS-TDS 2.2.6.4) that the
// simulator uses.
type login7 struct {
	TDSVersion   uint32
	PacketSize   uint32
	ClientPID    uint32
	OptionFlags2 byte
	HostName     string
	UserName     string
	Password     string
	AppName      string
	ServerName   string
	ClientLib    string
	Language     string
	Database     string
	SSPI         bool
}

const login7FixedSize = 94

// parseLogin7 decodes a LOGIN7 message. Offsets are relative to the start of
// the message and lengths are in UCS-2 characters (MS-TDS 2.2.6.4).
func parseLogin7(data []byte) (*login7, error) {
	if len(data) < login7FixedSize {
		return nil, fmt.Errorf("login7: message too short (%d bytes)", len(data))
	}
	le := binary.LittleEndian
	l := &login7{
		TDSVersion:   le.Uint32(data[4:]),
		PacketSize:   le.Uint32(data[8:]),
		ClientPID:    le.Uint32(data[16:]),
		OptionFlags2: data[25],
	}
	field := func(pos int, password bool) (string, error) {
		off := int(le.Uint16(data[pos:]))
		n := int(le.Uint16(data[pos+2:])) * 2
		if off+n > len(data) {
			return "", fmt.Errorf("login7: field at %d out of range (%d+%d > %d)", pos, off, n, len(data))
		}
		b := data[off : off+n]
		if password {
			b = deobfuscatePassword(b)
		}
		return ucs2ToString(b), nil
	}
	var err error
	fields := []struct {
		pos      int
		dst      *string
		password bool
	}{
		{36, &l.HostName, false},
		{40, &l.UserName, false},
		{44, &l.Password, true},
		{48, &l.AppName, false},
		{52, &l.ServerName, false},
		{60, &l.ClientLib, false},
		{64, &l.Language, false},
		{68, &l.Database, false},
	}
	for _, f := range fields {
		if *f.dst, err = field(f.pos, f.password); err != nil {
			return nil, err
		}
	}
	l.SSPI = le.Uint16(data[80:]) > 0 || data[25]&0x80 != 0 // fIntSecurity
	return l, nil
}

// deobfuscatePassword reverses the LOGIN7 password obfuscation: the client
// swaps the nibbles of every byte and XORs it with 0xA5 (MS-TDS 2.2.6.4).
func deobfuscatePassword(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		x := c ^ 0xA5
		out[i] = x<<4 | x>>4
	}
	return out
}

// obfuscatePassword applies the LOGIN7 password obfuscation (used by tests
// and fuzz seeds).
func obfuscatePassword(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = (c<<4 | c>>4) ^ 0xA5
	}
	return out
}
