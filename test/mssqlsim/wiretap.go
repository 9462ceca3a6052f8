package mssqlsim

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
)

// Tap is a TCP proxy that records every byte clients send to a server and
// every byte the server sends back, so tests can assert on what crossed the
// wire (for example that a password never did in clear).
type Tap struct {
	ln     net.Listener
	target string

	mu         sync.Mutex
	fromClient bytes.Buffer
	fromServer bytes.Buffer
	conns      []net.Conn
	closed     bool
	wg         sync.WaitGroup
}

// StartTap listens on 127.0.0.1 and forwards each connection to target.
func StartTap(target string) (*Tap, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	t := &Tap{ln: ln, target: target}
	t.wg.Add(1)
	go t.accept()
	return t, nil
}

// Addr is the address clients dial instead of the target.
func (t *Tap) Addr() string { return t.ln.Addr().String() }

// Port is the TCP port of Addr.
func (t *Tap) Port() int { return t.ln.Addr().(*net.TCPAddr).Port }

// FromClient returns a copy of everything clients sent so far.
func (t *Tap) FromClient() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.fromClient.Bytes())
}

// FromServer returns a copy of everything the server sent so far.
func (t *Tap) FromServer() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.fromServer.Bytes())
}

// Close stops the proxy, closes its connections and waits for them.
func (t *Tap) Close() error {
	t.mu.Lock()
	t.closed = true
	for _, c := range t.conns {
		_ = c.Close()
	}
	t.mu.Unlock()
	err := t.ln.Close()
	t.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("tap: %w", err)
	}
	return nil
}

func (t *Tap) accept() {
	defer t.wg.Done()
	for {
		client, err := t.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", t.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = client.Close()
			_ = server.Close()
			return
		}
		t.conns = append(t.conns, client, server)
		t.wg.Add(2)
		t.mu.Unlock()
		go t.pipe(server, client, &t.fromClient)
		go t.pipe(client, server, &t.fromServer)
	}
}

// pipe copies src to dst, recording into rec, and closes both at the end.
func (t *Tap) pipe(dst, src net.Conn, rec *bytes.Buffer) {
	defer t.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			t.mu.Lock()
			rec.Write(buf[:n])
			t.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = dst.Close()
	_ = src.Close()
}
