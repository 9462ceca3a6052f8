package mssqlsim

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// rawLogin performs PRELOGIN and LOGIN7 on a raw TCP connection.
func rawLogin(t *testing.T, srv *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	prelogin := []byte{0x01, 0, 6, 0, 1, 0xFF, encryptNotSup}
	if _, err := c.Write(splitPackets(pktPrelogin, prelogin, 4096, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := readMessage(c); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(splitPackets(pktLogin7, buildLogin7("sa", testPassword, "", "raw"), 4096, 0)); err != nil {
		t.Fatal(err)
	}
	reply, err := readMessage(c)
	if err != nil {
		t.Fatal(err)
	}
	if !containsToken(reply.Data, tokLoginAck) {
		t.Fatalf("no LOGINACK in login reply % x", reply.Data)
	}
	return c
}

func containsToken(b []byte, tok byte) bool {
	for _, x := range b {
		if x == tok {
			return true
		}
	}
	return false
}

func sqlBatchPayload(text string) []byte {
	hdr := make([]byte, 22)
	binary.LittleEndian.PutUint32(hdr, 22)
	binary.LittleEndian.PutUint32(hdr[4:], 18)
	binary.LittleEndian.PutUint16(hdr[8:], 2)
	binary.LittleEndian.PutUint32(hdr[18:], 1)
	return append(hdr, stringToUCS2(text)...)
}

// lastDoneStatus returns the status of the final DONE token of a reply.
func lastDoneStatus(t *testing.T, b []byte) uint16 {
	t.Helper()
	if len(b) < 13 || b[len(b)-13] != tokDone {
		t.Fatalf("reply does not end with DONE: % x", b)
	}
	return binary.LittleEndian.Uint16(b[len(b)-12:])
}

// TestAttentionRacingTheRequest sends a batch and its Attention in one TCP
// write, so the attention can be read before the request starts; the
// request must still be cancelled and acknowledged with DONE_ATTN.
func TestAttentionRacingTheRequest(t *testing.T) {
	srv := startSim(t)
	c := rawLogin(t, srv)
	wire := append(splitPackets(pktSQLBatch, sqlBatchPayload("WAITFOR DELAY '00:00:30'"), 4096, 0), splitPackets(pktAttention, nil, 4096, 0)...)
	start := time.Now()
	if _, err := c.Write(wire); err != nil {
		t.Fatal(err)
	}
	reply, err := readMessage(c)
	if err != nil {
		t.Fatal(err)
	}
	if st := lastDoneStatus(t, reply.Data); st&doneAttn == 0 {
		t.Fatalf("first reply status %#x has no DONE_ATTN", st)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("attention acknowledged after %v", d)
	}
	// The session is still usable.
	if _, err := c.Write(splitPackets(pktSQLBatch, sqlBatchPayload("SELECT 1"), 4096, 0)); err != nil {
		t.Fatal(err)
	}
	reply, err = readMessage(c)
	if err != nil {
		t.Fatal(err)
	}
	if st := lastDoneStatus(t, reply.Data); st&(doneAttn|doneError) != 0 || !containsToken(reply.Data, tokRow) {
		t.Fatalf("SELECT 1 after attention: status %#x reply % x", st, reply.Data)
	}
}

// TestAttentionAfterCompletedRequest: an attention that arrives after the
// response was sent is acknowledged by a separate DONE_ATTN message.
func TestAttentionAfterCompletedRequest(t *testing.T) {
	srv := startSim(t)
	c := rawLogin(t, srv)
	if _, err := c.Write(splitPackets(pktSQLBatch, sqlBatchPayload("SELECT 1"), 4096, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := readMessage(c); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(splitPackets(pktAttention, nil, 4096, 0)); err != nil {
		t.Fatal(err)
	}
	reply, err := readMessage(c)
	if err != nil {
		t.Fatal(err)
	}
	if st := lastDoneStatus(t, reply.Data); st&doneAttn == 0 {
		t.Fatalf("attention reply status %#x", st)
	}
}

// TestUnknownPacketTypeClosesConnection: a malformed request gets error 4002
// and the connection is closed.
func TestUnknownPacketTypeClosesConnection(t *testing.T) {
	srv := startSim(t)
	c := rawLogin(t, srv)
	if _, err := c.Write(splitPackets(0x42, []byte{1, 2, 3}, 4096, 0)); err != nil {
		t.Fatal(err)
	}
	reply, err := readMessage(c)
	if err != nil {
		t.Fatal(err)
	}
	if st := lastDoneStatus(t, reply.Data); st&doneError == 0 {
		t.Fatalf("status %#x, want DONE_ERROR", st)
	}
	if _, err := readMessage(c); err == nil {
		t.Fatal("connection still open after a protocol error")
	}
}
