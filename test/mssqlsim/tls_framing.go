package mssqlsim

import (
	"fmt"
	"io"
	"net"
)

// preloginFramedConn carries a TLS handshake inside TDS PRELOGIN packets
// (MS-TDS 2.2.6.5: in TDS 7.x the PRELOGIN message also wraps the TLS
// handshake payload). Reads return the payloads of the client's PRELOGIN
// packets; writes are buffered and sent as one PRELOGIN message (split at
// the default packet size, EOM on the last packet) when the TLS layer next
// reads, or by flush once the handshake is done.
type preloginFramedConn struct {
	net.Conn
	in  []byte // unread payload of the current client packet
	out []byte // handshake bytes not yet sent
}

func (c *preloginFramedConn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	for len(c.in) == 0 {
		hdr := make([]byte, packetHeaderSize)
		if _, err := io.ReadFull(c.Conn, hdr); err != nil {
			return 0, err
		}
		h, err := parsePacketHeader(hdr)
		if err != nil {
			return 0, err
		}
		if h.Type != pktPrelogin {
			return 0, fmt.Errorf("TLS handshake: client sent packet type %#x, want PRELOGIN (%#x)", h.Type, pktPrelogin)
		}
		c.in = make([]byte, int(h.Length)-packetHeaderSize)
		if _, err := io.ReadFull(c.Conn, c.in); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *preloginFramedConn) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	return len(p), nil
}

// flush sends the buffered handshake bytes as a PRELOGIN message.
func (c *preloginFramedConn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.Conn.Write(splitPackets(pktPrelogin, c.out, defaultPacketSize, 0))
	c.out = nil
	return err
}

// switchableConn lets the TLS layer move from the PRELOGIN framing to the
// bare TCP connection once the handshake is over (tls.Conn keeps the
// net.Conn it was made with).
type switchableConn struct {
	net.Conn
}

func (c *switchableConn) Read(p []byte) (int, error)  { return c.Conn.Read(p) }
func (c *switchableConn) Write(p []byte) (int, error) { return c.Conn.Write(p) }

// prefixConn is a connection whose first bytes were already read (to tell
// a TLS ClientHello from a TDS PRELOGIN) and are returned again first.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
