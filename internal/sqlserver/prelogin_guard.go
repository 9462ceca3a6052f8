package sqlserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// PRELOGIN ENCRYPTION answers a server can give (MS-TDS 2.2.6.5,
// B_FENCRYPTION).
const (
	// PreloginEncryptOff: encryption is available but off; the client
	// encrypts the login packet only.
	PreloginEncryptOff byte = 0x00
	// PreloginEncryptOn: encryption is available and on.
	PreloginEncryptOn byte = 0x01
	// PreloginEncryptNotSup: the server cannot encrypt. Going on means the
	// LOGIN7 packet, and so the password, travels in clear.
	PreloginEncryptNotSup byte = 0x02
	// PreloginEncryptReq: the server requires encryption.
	PreloginEncryptReq byte = 0x03
)

// TDS packet types and the PRELOGIN option tokens the guard looks at.
const (
	tdsPacketReply    byte = 0x04 // server response, including the PRELOGIN response
	tdsPacketLogin7   byte = 0x10
	tdsPacketPrelogin byte = 0x12
	tdsHeaderSize          = 8

	preloginOptEncryption byte = 0x01
	preloginOptTerminator byte = 0xFF

	// maxPreloginResponse bounds what the guard buffers while waiting for
	// the end of the PRELOGIN response. Real responses are a few dozen
	// bytes.
	maxPreloginResponse = 64 << 10
)

// ErrLoginNotEncrypted is the error (errors.Is) of a connection refused
// because the login, and so the password, would have been sent in clear.
var ErrLoginNotEncrypted = errors.New("login would be sent unencrypted")

// LoginEncryptionError explains why a connection was refused before the
// login was sent. It matches ErrLoginNotEncrypted with errors.Is. It never
// holds the password: the guard refuses before the driver writes the login.
type LoginEncryptionError struct {
	// Mode is the configured encryption mode.
	Mode EncryptMode
	// Answer is the server's PRELOGIN ENCRYPTION value.
	Answer byte
	// Address is the server's address, when known.
	Address string
}

func (e *LoginEncryptionError) Error() string {
	server := "SQL Server"
	if e.Address != "" {
		server += " at " + e.Address
	}
	mode := e.Mode
	if mode == "" {
		mode = EncryptMandatory
	}
	var why string
	if e.Answer == PreloginEncryptNotSup {
		why = fmt.Sprintf("%s does not support encryption (PRELOGIN answer ENCRYPT_NOT_SUP)", server)
	} else {
		why = fmt.Sprintf("%s gave an unknown PRELOGIN encryption answer 0x%02x", server, e.Answer)
	}
	return fmt.Sprintf("%s: refusing to send the login and password unencrypted with tls mode %s; "+
		"set spec.sqlServer.tls.mode: Disable explicitly to allow a cleartext login", why, mode)
}

// Is makes errors.Is(err, ErrLoginNotEncrypted) hold.
func (e *LoginEncryptionError) Is(target error) bool { return target == ErrLoginNotEncrypted }

// LoginEncryption decides, from the configured mode and the server's
// PRELOGIN ENCRYPTION answer, whether the login may be sent. It returns a
// *LoginEncryptionError when the login would go in clear (or the answer is
// one the operator does not know, so it cannot tell) and the user did not
// choose EncryptDisable:
//
//   - Disable: always allowed; the user chose plaintext.
//   - Strict: always allowed; TLS is set up before PRELOGIN, so every answer
//     arrives over TLS and the login is encrypted.
//   - Optional, Mandatory (and ""): ENCRYPT_NOT_SUP is refused (the driver
//     would send the login in clear in Optional mode); ENCRYPT_OFF, ENCRYPT_ON
//     and ENCRYPT_REQ are allowed (the driver encrypts at least the login;
//     in Mandatory mode the driver itself refuses ENCRYPT_OFF, which would
//     leave the session after the login unencrypted); any other value is
//     refused.
func LoginEncryption(mode EncryptMode, serverAnswer byte) error {
	switch mode {
	case EncryptDisable, EncryptStrict:
		return nil
	}
	switch serverAnswer {
	case PreloginEncryptOff, PreloginEncryptOn, PreloginEncryptReq:
		return nil
	}
	return &LoginEncryptionError{Mode: mode, Answer: serverAnswer}
}

// errPreloginIncomplete: more bytes are needed to finish the response.
var errPreloginIncomplete = errors.New("PRELOGIN response incomplete")

// parsePreloginResponse parses the start of what a server sends after the
// client's PRELOGIN: one or more TDS packets (the first of type 0x04, the
// last with a non-zero status, as go-mssqldb reads them) whose payloads
// together hold the PRELOGIN option list. It returns the ENCRYPTION option's
// value and how many bytes the response takes, errPreloginIncomplete when
// stream ends before the last packet, or another error when the response is
// malformed, has no (or a repeated) ENCRYPTION option, or is too large.
func parsePreloginResponse(stream []byte) (answer byte, size int, err error) {
	var payload []byte
	off := 0
	for first := true; ; first = false {
		if len(stream)-off < tdsHeaderSize {
			return 0, 0, errPreloginIncomplete
		}
		hdr := stream[off : off+tdsHeaderSize]
		if first && hdr[0] != tdsPacketReply {
			return 0, 0, fmt.Errorf("PRELOGIN response: packet type 0x%02x, want 0x%02x", hdr[0], tdsPacketReply)
		}
		length := int(binary.BigEndian.Uint16(hdr[2:4]))
		if length < tdsHeaderSize {
			return 0, 0, fmt.Errorf("PRELOGIN response: packet length %d is shorter than its header", length)
		}
		if len(payload)+length-tdsHeaderSize > maxPreloginResponse {
			return 0, 0, fmt.Errorf("PRELOGIN response: longer than %d bytes", maxPreloginResponse)
		}
		if len(stream)-off < length {
			return 0, 0, errPreloginIncomplete
		}
		payload = append(payload, stream[off+tdsHeaderSize:off+length]...)
		off += length
		if hdr[1] != 0 { // go-mssqldb treats any non-zero status as end of message
			break
		}
	}
	answer, err = preloginEncryption(payload)
	if err != nil {
		return 0, 0, fmt.Errorf("PRELOGIN response: %w", err)
	}
	return answer, off, nil
}

// preloginEncryption returns the ENCRYPTION option's value from a PRELOGIN
// option list (5-byte entries token, offset, length, then 0xFF; offsets
// count from the start of the list).
func preloginEncryption(payload []byte) (byte, error) {
	found := false
	var answer byte
	for off := 0; ; off += 5 {
		if off >= len(payload) {
			return 0, errors.New("option list has no terminator")
		}
		token := payload[off]
		if token == preloginOptTerminator {
			break
		}
		if off+5 > len(payload) {
			return 0, errors.New("option list truncated")
		}
		if token != preloginOptEncryption {
			continue
		}
		if found {
			return 0, errors.New("ENCRYPTION option given twice")
		}
		dataOff := int(binary.BigEndian.Uint16(payload[off+1:]))
		dataLen := int(binary.BigEndian.Uint16(payload[off+3:]))
		if dataLen < 1 || dataOff+dataLen > len(payload) {
			return 0, errors.New("ENCRYPTION option data out of range")
		}
		found, answer = true, payload[dataOff]
	}
	if !found {
		return 0, errors.New("no ENCRYPTION option")
	}
	return answer, nil
}

// guardDialer dials TCP connections whose first server response is checked
// by LoginEncryption before the driver may write its login.
type guardDialer struct {
	mode      EncryptMode
	keepAlive time.Duration
}

// defaultKeepAlive matches go-mssqldb's own dialer.
const defaultKeepAlive = 30 * time.Second

func (d guardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ka := d.keepAlive
	if ka == 0 {
		ka = defaultKeepAlive
	}
	conn, err := (&net.Dialer{KeepAlive: ka}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return guardConn(conn, d.mode), nil
}

// guardConn wraps conn in the PRELOGIN guard, unless the mode has nothing
// to guard (Disable: the user chose plaintext; Strict: TLS comes first).
func guardConn(conn net.Conn, mode EncryptMode) net.Conn {
	switch mode {
	case EncryptDisable, EncryptStrict:
		return conn
	}
	return &preloginGuardConn{Conn: conn, mode: mode}
}

// preloginGuardConn holds back the server's PRELOGIN response until it has
// all of it, lets LoginEncryption judge it and, when refused, closes the
// connection and fails every later Read and Write, so the driver never gets
// to write LOGIN7. Before the decision it also refuses any client packet
// other than PRELOGIN. After an accepted response it is a plain net.Conn.
type preloginGuardConn struct {
	net.Conn
	mode EncryptMode

	mu      sync.Mutex
	decided bool   // the response was judged and accepted
	err     error  // the refusal, once refused
	pending []byte // bytes read from the server and not yet returned
	wr      packetStarts
}

func (c *preloginGuardConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return 0, c.err
	}
	if c.decided {
		if len(c.pending) > 0 {
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			c.mu.Unlock()
			return n, nil
		}
		c.mu.Unlock()
		return c.Conn.Read(p)
	}
	c.mu.Unlock()

	// Undecided: collect the response. Reads are sequential (the driver
	// waits for the response), so only the state needs the lock.
	chunk := make([]byte, 4096)
	for {
		n, rerr := c.Conn.Read(chunk)
		c.mu.Lock()
		c.pending = append(c.pending, chunk[:n]...)
		answer, _, perr := parsePreloginResponse(c.pending)
		switch {
		case errors.Is(perr, errPreloginIncomplete):
			c.mu.Unlock()
			if rerr != nil {
				return 0, rerr
			}
			continue
		case perr != nil:
			c.mu.Unlock()
			return 0, c.refuse(perr)
		}
		if derr := LoginEncryption(c.mode, answer); derr != nil {
			var lerr *LoginEncryptionError
			if errors.As(derr, &lerr) {
				lerr.Address = c.remote()
			}
			c.mu.Unlock()
			return 0, c.refuse(derr)
		}
		c.decided = true
		c.mu.Unlock()
		return c.Read(p)
	}
}

func (c *preloginGuardConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return 0, c.err
	}
	if !c.decided {
		for _, typ := range c.wr.feed(p) {
			if typ != tdsPacketPrelogin {
				c.mu.Unlock()
				return 0, c.refuse(fmt.Errorf("TDS packet type 0x%02x written before the server's PRELOGIN answer was checked", typ))
			}
		}
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// refuse records err, closes the connection and returns err.
func (c *preloginGuardConn) refuse(err error) error {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
		c.pending = nil
	}
	err = c.err
	c.mu.Unlock()
	_ = c.Conn.Close()
	return err
}

func (c *preloginGuardConn) remote() string {
	if a := c.Conn.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// packetStarts follows the TDS packets of a byte stream written in pieces
// and reports the type of each packet whose header completes.
type packetStarts struct {
	hdr  [tdsHeaderSize]byte
	hdrN int // header bytes of the current packet seen
	left int // body bytes of the current packet still to come
}

func (s *packetStarts) feed(p []byte) (types []byte) {
	for len(p) > 0 {
		if s.left > 0 {
			n := min(s.left, len(p))
			s.left -= n
			p = p[n:]
			continue
		}
		n := copy(s.hdr[s.hdrN:], p)
		s.hdrN += n
		p = p[n:]
		if s.hdrN < tdsHeaderSize {
			break
		}
		types = append(types, s.hdr[0])
		s.left = max(int(binary.BigEndian.Uint16(s.hdr[2:4]))-tdsHeaderSize, 0)
		s.hdrN = 0
	}
	return types
}
