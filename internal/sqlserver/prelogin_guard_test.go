package sqlserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// preloginOptions builds a PRELOGIN option list as a server sends it:
// VERSION, ENCRYPTION (answer), INSTOPT, THREADID, MARS, terminator.
func preloginOptions(answer byte) []byte {
	type opt struct {
		token byte
		data  []byte
	}
	opts := []opt{
		{0x00, []byte{16, 0, 0x10, 0x3A, 0, 0}},
		{preloginOptEncryption, []byte{answer}},
		{0x02, []byte{0}},
		{0x03, nil},
		{0x04, []byte{0}},
	}
	var list, data []byte
	off := len(opts)*5 + 1
	for _, o := range opts {
		list = append(list, o.token)
		list = binary.BigEndian.AppendUint16(list, uint16(off+len(data)))
		list = binary.BigEndian.AppendUint16(list, uint16(len(o.data)))
		data = append(data, o.data...)
	}
	list = append(list, preloginOptTerminator)
	return append(list, data...)
}

// tdsPackets splits payload into TDS packets of type typ with at most
// chunk payload bytes each, the last one marked end of message.
func tdsPackets(typ byte, payload []byte, chunk int) []byte {
	var out []byte
	for id := byte(1); ; id++ {
		n := min(chunk, len(payload))
		status := byte(0)
		if n == len(payload) {
			status = 0x01
		}
		out = append(out, typ, status)
		out = binary.BigEndian.AppendUint16(out, uint16(tdsHeaderSize+n))
		out = append(out, 0, 0, id, 0)
		out = append(out, payload[:n]...)
		payload = payload[n:]
		if status != 0 {
			return out
		}
	}
}

var allModes = []EncryptMode{EncryptDisable, EncryptOptional, "", EncryptMandatory, EncryptStrict}

func TestLoginEncryptionDecision(t *testing.T) {
	// refused lists, per mode, the answers that must be refused; every
	// other answer is allowed.
	unknown := []byte{0x04, 0x80, 0xFF}
	answers := append([]byte{PreloginEncryptOff, PreloginEncryptOn, PreloginEncryptNotSup, PreloginEncryptReq}, unknown...)
	refused := map[EncryptMode][]byte{
		EncryptDisable:   nil,
		EncryptStrict:    nil,
		EncryptOptional:  append([]byte{PreloginEncryptNotSup}, unknown...),
		"":               append([]byte{PreloginEncryptNotSup}, unknown...),
		EncryptMandatory: append([]byte{PreloginEncryptNotSup}, unknown...),
	}
	for _, mode := range allModes {
		for _, answer := range answers {
			t.Run(fmt.Sprintf("%s/0x%02x", mode, answer), func(t *testing.T) {
				err := LoginEncryption(mode, answer)
				wantRefused := bytes.IndexByte(refused[mode], answer) >= 0
				if wantRefused != (err != nil) {
					t.Fatalf("LoginEncryption(%q, 0x%02x) = %v, want refused=%t", mode, answer, err, wantRefused)
				}
				if err == nil {
					return
				}
				if !errors.Is(err, ErrLoginNotEncrypted) {
					t.Fatalf("error %v is not ErrLoginNotEncrypted", err)
				}
				var lerr *LoginEncryptionError
				if !errors.As(err, &lerr) || lerr.Mode != mode || lerr.Answer != answer {
					t.Fatalf("error %#v does not record mode and answer", err)
				}
				if !strings.Contains(err.Error(), "spec.sqlServer.tls.mode: Disable") {
					t.Fatalf("error does not say how to allow a cleartext login: %v", err)
				}
			})
		}
	}
}

func TestLoginEncryptionErrorText(t *testing.T) {
	err := &LoginEncryptionError{Mode: "", Answer: PreloginEncryptNotSup, Address: "10.0.0.5:1433"}
	want := "SQL Server at 10.0.0.5:1433 does not support encryption (PRELOGIN answer ENCRYPT_NOT_SUP): " +
		"refusing to send the login and password unencrypted with tls mode Mandatory; " +
		"set spec.sqlServer.tls.mode: Disable explicitly to allow a cleartext login"
	if err.Error() != want {
		t.Fatalf("got  %q\nwant %q", err.Error(), want)
	}
	if got := (&LoginEncryptionError{Mode: EncryptMandatory, Answer: 0x7F}).Error(); !strings.Contains(got, "unknown PRELOGIN encryption answer 0x7f") {
		t.Fatalf("unknown answer: %q", got)
	}
}

func TestParsePreloginResponse(t *testing.T) {
	valid := tdsPackets(tdsPacketReply, preloginOptions(PreloginEncryptNotSup), 4096)
	withPayload := func(payload []byte) []byte { return tdsPackets(tdsPacketReply, payload, 4096) }
	option := func(token byte, off, length uint16) []byte {
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16([]byte{token}, off), length)
	}
	tests := []struct {
		name       string
		stream     []byte
		wantAnswer byte
		wantSize   int
		wantErr    string // "" ok, "incomplete" errPreloginIncomplete, else a substring
	}{
		{"one packet", valid, PreloginEncryptNotSup, len(valid), ""},
		{"answer ON", withPayload(preloginOptions(PreloginEncryptOn)), PreloginEncryptOn, len(valid), ""},
		{"split over packets of 3 bytes", tdsPackets(tdsPacketReply, preloginOptions(PreloginEncryptReq), 3),
			PreloginEncryptReq, len(tdsPackets(tdsPacketReply, preloginOptions(0), 3)), ""},
		{"trailing bytes are not part of the response", append(bytes.Clone(valid), 0xAA, 0xBB), PreloginEncryptNotSup, len(valid), ""},
		{"empty", nil, 0, 0, "incomplete"},
		{"half a header", valid[:5], 0, 0, "incomplete"},
		{"half a packet", valid[:len(valid)-1], 0, 0, "incomplete"},
		{"first of two packets", tdsPackets(tdsPacketReply, preloginOptions(0), 10)[:18], 0, 0, "incomplete"},
		{"wrong packet type", tdsPackets(tdsPacketLogin7, preloginOptions(0), 4096), 0, 0, "packet type 0x10"},
		{"length below header", []byte{tdsPacketReply, 1, 0, 7, 0, 0, 1, 0}, 0, 0, "shorter than its header"},
		{"no ENCRYPTION option", withPayload(append(option(0x00, 6, 0), preloginOptTerminator)), 0, 0, "no ENCRYPTION option"},
		{"ENCRYPTION twice", withPayload(bytes.Join([][]byte{option(1, 11, 1), option(1, 12, 1), {preloginOptTerminator, 0x01, 0x02}}, nil)),
			0, 0, "given twice"},
		{"ENCRYPTION of length 0", withPayload(append(option(1, 6, 0), preloginOptTerminator)), 0, 0, "out of range"},
		{"ENCRYPTION beyond the payload", withPayload(append(option(1, 60, 1), preloginOptTerminator)), 0, 0, "out of range"},
		{"no terminator", withPayload(option(0x00, 5, 0)), 0, 0, "no terminator"},
		{"truncated option", withPayload([]byte{0x01, 0x00}), 0, 0, "truncated"},
		{"empty payload", withPayload(nil), 0, 0, "no terminator"},
		{"too large", tdsPackets(tdsPacketReply, make([]byte, maxPreloginResponse+1), 4000), 0, 0, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer, size, err := parsePreloginResponse(tc.stream)
			switch {
			case tc.wantErr == "":
				if err != nil || answer != tc.wantAnswer || size != tc.wantSize {
					t.Fatalf("= 0x%02x, %d, %v; want 0x%02x, %d", answer, size, err, tc.wantAnswer, tc.wantSize)
				}
			case tc.wantErr == "incomplete":
				if !errors.Is(err, errPreloginIncomplete) {
					t.Fatalf("err = %v, want incomplete", err)
				}
			default:
				if err == nil || errors.Is(err, errPreloginIncomplete) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
			}
		})
	}
}

func FuzzParsePrelogin(f *testing.F) {
	for _, answer := range []byte{0, 1, 2, 3, 0x80} {
		f.Add(tdsPackets(tdsPacketReply, preloginOptions(answer), 4096))
		f.Add(tdsPackets(tdsPacketReply, preloginOptions(answer), 7))
	}
	f.Add([]byte{tdsPacketReply, 1, 0, 9, 0, 0, 1, 0, 0xFF})
	f.Fuzz(func(t *testing.T, stream []byte) {
		answer, size, err := parsePreloginResponse(stream)
		if err != nil {
			return
		}
		if size < tdsHeaderSize+1 || size > len(stream) {
			t.Fatalf("size %d out of range for %d bytes", size, len(stream))
		}
		// The response alone parses the same; every shorter prefix is
		// incomplete, so the guard never decides on part of a response.
		if a, s, err := parsePreloginResponse(stream[:size]); err != nil || a != answer || s != size {
			t.Fatalf("response alone: 0x%02x, %d, %v; want 0x%02x, %d", a, s, err, answer, size)
		}
		for _, k := range []int{0, tdsHeaderSize - 1, tdsHeaderSize, size / 2, size - 1} {
			if _, _, err := parsePreloginResponse(stream[:k]); !errors.Is(err, errPreloginIncomplete) {
				t.Fatalf("prefix of %d of a %d-byte response: %v, want incomplete", k, size, err)
			}
		}
	})
}

// TestGuardConnReadsSplitResponse feeds the response one byte per write
// and checks the guard decides once, returns every byte and then passes
// the stream through.
func TestGuardConnReadsSplitResponse(t *testing.T) {
	for _, tc := range []struct {
		answer  byte
		refused bool
	}{{PreloginEncryptOff, false}, {PreloginEncryptNotSup, true}} {
		t.Run(fmt.Sprintf("0x%02x", tc.answer), func(t *testing.T) {
			client, server := net.Pipe()
			defer server.Close()
			conn := guardConn(client, EncryptOptional)
			response := tdsPackets(tdsPacketReply, preloginOptions(tc.answer), 5)
			after := []byte("after the response")
			go func() {
				for i := range response {
					if _, err := server.Write(response[i : i+1]); err != nil {
						return
					}
				}
				_, _ = server.Write(after)
			}()
			got, err := io.ReadAll(io.LimitReader(conn, int64(len(response)+len(after))))
			if tc.refused {
				if !errors.Is(err, ErrLoginNotEncrypted) || len(got) != 0 {
					t.Fatalf("read %d bytes, %v; want nothing and ErrLoginNotEncrypted", len(got), err)
				}
				if _, err := conn.Write([]byte{tdsPacketLogin7}); !errors.Is(err, ErrLoginNotEncrypted) {
					t.Fatalf("write after refusal: %v", err)
				}
				if _, err := client.Write([]byte{0}); err == nil {
					t.Fatal("the connection was not closed")
				}
				return
			}
			if err != nil || !bytes.Equal(got, append(bytes.Clone(response), after...)) {
				t.Fatalf("read %x, %v; want %x", got, err, append(bytes.Clone(response), after...))
			}
		})
	}
}

func TestGuardConnRefusesClientPacketsBeforeTheAnswer(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	go func() { _, _ = io.Copy(io.Discard, server) }()
	conn := guardConn(client, EncryptOptional)
	prelogin := tdsPackets(tdsPacketPrelogin, []byte{0xFF}, 4096)
	// A PRELOGIN packet written in pieces is fine.
	for _, piece := range [][]byte{prelogin[:3], prelogin[3:]} {
		if _, err := conn.Write(piece); err != nil {
			t.Fatalf("write PRELOGIN piece: %v", err)
		}
	}
	login := tdsPackets(tdsPacketLogin7, []byte("user and password"), 4096)
	if _, err := conn.Write(login); err == nil || !strings.Contains(err.Error(), "packet type 0x10") {
		t.Fatalf("LOGIN7 before the answer: %v", err)
	}
}

func TestGuardConnModesWithoutGuard(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	for _, mode := range []EncryptMode{EncryptDisable, EncryptStrict} {
		if guardConn(client, mode) != client {
			t.Fatalf("mode %s is wrapped", mode)
		}
	}
	for _, mode := range []EncryptMode{EncryptOptional, "", EncryptMandatory} {
		if guardConn(client, mode) == client {
			t.Fatalf("mode %q is not wrapped", mode)
		}
	}
}

// fakeTDSServer answers every client's PRELOGIN with a fixed ENCRYPTION
// answer and records the type of every packet the client sends, until the
// client closes or sends a packet after PRELOGIN (which it then closes).
type fakeTDSServer struct {
	ln     net.Listener
	answer byte
	wg     sync.WaitGroup
	mu     sync.Mutex
	types  []byte
}

func startFakeTDSServer(t *testing.T, answer byte) *fakeTDSServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeTDSServer{ln: ln, answer: answer}
	s.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(conn) })
		}
	})
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *fakeTDSServer) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	for n := 0; ; n++ {
		var hdr [tdsHeaderSize]byte
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return
		}
		s.mu.Lock()
		s.types = append(s.types, hdr[0])
		s.mu.Unlock()
		if _, err := io.CopyN(io.Discard, conn, int64(binary.BigEndian.Uint16(hdr[2:4]))-tdsHeaderSize); err != nil {
			return
		}
		if n > 0 {
			return // LOGIN7 or a TLS handshake: seen, enough
		}
		if hdr[1]&0x01 == 0 {
			n-- // the PRELOGIN continues
			continue
		}
		if _, err := conn.Write(tdsPackets(tdsPacketReply, preloginOptions(s.answer), 4096)); err != nil {
			return
		}
	}
}

// packetTypes waits for every connection to end and returns the packet
// types clients sent.
func (s *fakeTDSServer) packetTypes() []byte {
	_ = s.ln.Close()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.types)
}

func TestClientRefusesCleartextLogin(t *testing.T) {
	const secret = "Cleartext-Secret-789"
	tests := []struct {
		mode      EncryptMode
		answer    byte
		wantLogin bool // the server sees LOGIN7 (in clear)
		wantErr   error
	}{
		{EncryptOptional, PreloginEncryptNotSup, false, ErrLoginNotEncrypted},
		{"", PreloginEncryptNotSup, false, ErrLoginNotEncrypted},
		{EncryptMandatory, PreloginEncryptNotSup, false, ErrLoginNotEncrypted},
		{EncryptDisable, PreloginEncryptNotSup, true, nil},
		// Encryption available: the driver starts TLS (a PRELOGIN packet
		// carrying the ClientHello), no LOGIN7 in clear.
		{EncryptOptional, PreloginEncryptOff, false, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/0x%02x", tc.mode, tc.answer), func(t *testing.T) {
			srv := startFakeTDSServer(t, tc.answer)
			addr := srv.ln.Addr().(*net.TCPAddr)
			c, err := Open(Config{Host: "127.0.0.1", Port: addr.Port, Username: "sa", Password: secret,
				Encrypt: tc.mode, ConnectTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = c.Ping(ctx)
			if err == nil {
				t.Fatal("ping succeeded against a fake server")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("ping: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && errors.Is(err, ErrLoginNotEncrypted) {
				t.Fatalf("ping refused although the login would be encrypted or Disable was chosen: %v", err)
			}
			if tc.wantErr != nil && !strings.Contains(err.Error(), "does not support encryption") {
				t.Fatalf("error does not say why: %v", err)
			}
			assertNoSecret(t, "ping error", fmt.Sprintf("%v %+v %#v", err, err, err), secret)
			_ = c.Close()
			types := srv.packetTypes()
			if len(types) == 0 || types[0] != tdsPacketPrelogin {
				t.Fatalf("client packets %x, want PRELOGIN first", types)
			}
			if gotLogin := bytes.IndexByte(types, tdsPacketLogin7) >= 0; gotLogin != tc.wantLogin {
				t.Fatalf("client packets %x: LOGIN7 seen=%t, want %t", types, gotLogin, tc.wantLogin)
			}
			if !tc.wantLogin && tc.wantErr == nil && (len(types) < 2 || types[1] != tdsPacketPrelogin) {
				t.Fatalf("client packets %x, want a TLS handshake in a PRELOGIN packet", types)
			}
		})
	}
}
