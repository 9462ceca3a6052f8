package mssqlsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
)

// tlsRecordHandshake is the first byte of a TLS ClientHello record; a TDS
// PRELOGIN packet starts with 0x12. That byte tells a TDS 8 (TLS first)
// client from a TDS 7.x one.
const tlsRecordHandshake byte = 0x16

// channel is how a connection's TDS messages travel once PRELOGIN is done.
type channel struct {
	// login carries the client's LOGIN7 message.
	login io.Reader
	// session carries the login response and everything after it.
	session net.Conn
}

// negotiate serves the client's PRELOGIN (over TLS first for TDS 8),
// answers its ENCRYPTION option as SQL Server does and runs the TLS
// handshake the answer calls for. ok is false when the connection must be
// closed (the reason is logged).
func (srv *Server) negotiate(ctx context.Context, conn net.Conn) (ch channel, ok bool) {
	first := make([]byte, 1)
	if _, err := io.ReadFull(conn, first); err != nil {
		return channel{}, false
	}
	pc := &prefixConn{Conn: conn, prefix: first}
	if first[0] == tlsRecordHandshake {
		return srv.negotiateStrict(ctx, pc)
	}
	if srv.tls != nil && srv.tls.opts.ForceStrict {
		srv.logf("mssqlsim: strict encryption is forced and the client sent a plaintext PRELOGIN; closing")
		return channel{}, false
	}
	clientEnc, ok := srv.readPrelogin(ctx, pc)
	if !ok {
		return channel{}, false
	}
	answer, disconnect := srv.tls.preloginAnswer(clientEnc)
	if err := srv.writePreloginResponse(pc, answer); err != nil || disconnect {
		if disconnect {
			srv.logf("mssqlsim: encryption is forced and the client cannot encrypt; closing")
		}
		return channel{}, false
	}
	if answer == encryptNotSup {
		return channel{login: pc, session: pc}, true
	}
	tc, err := srv.wrappedHandshake(ctx, pc)
	if err != nil {
		srv.logf("mssqlsim: TLS handshake in PRELOGIN packets: %v", err)
		return channel{}, false
	}
	if answer != encryptOff {
		return channel{login: tc, session: tc}, true
	}
	// Login-only encryption: go-mssqldb (like SQL Server's other clients)
	// encrypts the first packet of LOGIN7 and sends the rest of the
	// connection in clear.
	login, err := firstPacketThen(tc, pc)
	if err != nil {
		return channel{}, false
	}
	return channel{login: login, session: pc}, true
}

// negotiateStrict serves a TDS 8 connection: TLS first (ALPN tds/8.0),
// then PRELOGIN and everything else inside TLS.
func (srv *Server) negotiateStrict(ctx context.Context, conn net.Conn) (channel, bool) {
	if srv.tls == nil {
		srv.logf("mssqlsim: the client starts with TLS (TDS 8) but TLS is disabled; closing")
		return channel{}, false
	}
	tc := tls.Server(conn, srv.tls.strictConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		srv.logf("mssqlsim: TDS 8 TLS handshake: %v", err)
		return channel{}, false
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != alpnTDS8 {
		srv.logf("mssqlsim: TDS 8 client negotiated ALPN %q, want %q; closing", p, alpnTDS8)
		return channel{}, false
	}
	if _, ok := srv.readPrelogin(ctx, tc); !ok {
		return channel{}, false
	}
	// Already encrypted: the ENCRYPTION answer starts no second handshake.
	if err := srv.writePreloginResponse(tc, encryptOn); err != nil {
		return channel{}, false
	}
	return channel{login: tc, session: tc}, true
}

// readPrelogin reads the client's PRELOGIN message and returns its
// ENCRYPTION option (ENCRYPT_NOT_SUP when absent).
func (srv *Server) readPrelogin(ctx context.Context, conn io.Reader) (byte, bool) {
	msg, err := readMessage(conn)
	if err != nil {
		return 0, false
	}
	if msg.Type != pktPrelogin {
		srv.logf("mssqlsim: expected PRELOGIN, got packet type %#x; closing", msg.Type)
		return 0, false
	}
	opts, err := parsePrelogin(msg.Data)
	if err != nil {
		srv.logf("mssqlsim: %v", err)
		return 0, false
	}
	if srv.waitHang(ctx) != nil {
		return 0, false
	}
	if enc := opts[preloginEncryption]; len(enc) > 0 {
		return enc[0], true
	}
	return encryptNotSup, true
}

func (srv *Server) writePreloginResponse(conn io.Writer, answer byte) error {
	_, err := conn.Write(splitPackets(pktReply, buildPreloginResponse(srv.versionBytes(), answer), defaultPacketSize, 0))
	return err
}

// wrappedHandshake runs the server side of a TLS handshake carried in TDS
// PRELOGIN packets and returns the TLS connection, which from then on
// reads and writes TLS records on conn directly.
func (srv *Server) wrappedHandshake(ctx context.Context, conn net.Conn) (*tls.Conn, error) {
	framed := &preloginFramedConn{Conn: conn}
	sw := &switchableConn{Conn: framed}
	tc := tls.Server(sw, srv.tls.wrappedConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	if err := framed.flush(); err != nil {
		return nil, err
	}
	sw.Conn = conn
	return tc, nil
}

// firstPacketThen reads one TDS packet from enc and returns a reader of
// that packet followed by plain.
func firstPacketThen(enc io.Reader, plain io.Reader) (io.Reader, error) {
	hdr := make([]byte, packetHeaderSize)
	if _, err := io.ReadFull(enc, hdr); err != nil {
		return nil, err
	}
	h, err := parsePacketHeader(hdr)
	if err != nil {
		return nil, err
	}
	pkt := make([]byte, int(h.Length))
	copy(pkt, hdr)
	if _, err := io.ReadFull(enc, pkt[packetHeaderSize:]); err != nil {
		return nil, fmt.Errorf("encrypted LOGIN7 packet: %w", err)
	}
	return io.MultiReader(bytes.NewReader(pkt), plain), nil
}
