package mssqlsim

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestSplitAndReassemblePackets(t *testing.T) {
	for _, size := range []int{0, 1, 503, 504, 505, 5000} {
		payload := bytes.Repeat([]byte{0xAB}, size)
		wire := splitPackets(pktSQLBatch, payload, 512, 7)
		msg, err := readMessage(bytes.NewReader(wire))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if msg.Type != pktSQLBatch || !bytes.Equal(msg.Data, payload) {
			t.Fatalf("size %d: round trip mismatch (type %#x, %d bytes)", size, msg.Type, len(msg.Data))
		}
		for off := 0; off < len(wire); {
			h, err := parsePacketHeader(wire[off:])
			if err != nil || int(h.Length) > 512 {
				t.Fatalf("size %d: bad packet at %d: %+v %v", size, off, h, err)
			}
			off += int(h.Length)
		}
	}
}

func TestReadMessageRejectsMalformedPackets(t *testing.T) {
	tests := map[string][]byte{
		"short header":  {0x01, 0x01, 0x00},
		"length < 8":    {0x01, 0x01, 0x00, 0x04, 0, 0, 1, 0},
		"truncated":     {0x01, 0x01, 0x00, 0x20, 0, 0, 1, 0, 1, 2},
		"type switches": append(splitPackets(0x01, make([]byte, 600), 512, 0)[:512], splitPackets(0x03, []byte{1}, 512, 0)...),
	}
	for name, wire := range tests {
		if _, err := readMessage(bytes.NewReader(wire)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// buildLogin7 builds a LOGIN7 message the way go-mssqldb does.
func buildLogin7(user, password, database, app string) []byte {
	fields := []struct {
		pos  int
		data []byte
		n    int
	}{
		{36, stringToUCS2("host"), 4},
		{40, stringToUCS2(user), len([]rune(user))},
		{44, obfuscatePassword(stringToUCS2(password)), len([]rune(password))},
		{48, stringToUCS2(app), len([]rune(app))},
		{52, nil, 0}, {60, nil, 0}, {64, nil, 0},
		{68, stringToUCS2(database), len([]rune(database))},
	}
	hdr := make([]byte, login7FixedSize)
	binary.LittleEndian.PutUint32(hdr[4:], 0x74000004)
	binary.LittleEndian.PutUint32(hdr[8:], 4096)
	body := []byte{}
	for _, f := range fields {
		binary.LittleEndian.PutUint16(hdr[f.pos:], uint16(login7FixedSize+len(body)))
		binary.LittleEndian.PutUint16(hdr[f.pos+2:], uint16(f.n))
		body = append(body, f.data...)
	}
	msg := append(hdr, body...)
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	return msg
}

func TestParseLogin7(t *testing.T) {
	l, err := parseLogin7(buildLogin7("sa", "p@ss wörd!", "shop", "operator"))
	if err != nil {
		t.Fatal(err)
	}
	if l.UserName != "sa" || l.Password != "p@ss wörd!" || l.Database != "shop" || l.AppName != "operator" || l.PacketSize != 4096 {
		t.Fatalf("parsed %+v", l)
	}
	if _, err := parseLogin7(make([]byte, 10)); err == nil {
		t.Fatal("short LOGIN7 accepted")
	}
}

func TestPasswordObfuscationRoundTrip(t *testing.T) {
	for _, pw := range []string{"", "a", "Sim-Passw0rd!", "ünïcødé"} {
		b := stringToUCS2(pw)
		if got := ucs2ToString(deobfuscatePassword(obfuscatePassword(b))); got != pw {
			t.Errorf("round trip %q = %q", pw, got)
		}
	}
}

func TestPreloginResponse(t *testing.T) {
	opts, err := parsePrelogin(buildPreloginResponse([4]byte{16, 0, 0x10, 0x27}, encryptNotSup))
	if err != nil {
		t.Fatal(err)
	}
	if enc := opts[preloginEncryption]; len(enc) != 1 || enc[0] != encryptNotSup {
		t.Fatalf("ENCRYPTION option = %x, want ENCRYPT_NOT_SUP", enc)
	}
	if v := opts[preloginVersion]; len(v) != 6 || v[0] != 16 {
		t.Fatalf("VERSION option = %x", v)
	}
}

func TestPasswordHash(t *testing.T) {
	h := hashPassword("secret", nil)
	if len(h) != 70 || h[0] != 2 || h[1] != 0 {
		t.Fatalf("hash layout %x", h)
	}
	if !checkPassword(h, "secret") || checkPassword(h, "Secret") || checkPassword(nil, "") {
		t.Fatal("checkPassword mismatch")
	}
}
