package mssqlsim

import (
	"fmt"
	"net"
	"time"
)

// Fault injection hooks for tests.

// SetAcceptPaused(true) stops accepting connections: the listener is closed,
// so new connections are refused, while established sessions keep working.
// SetAcceptPaused(false) listens again on the same address.
func (s *Server) SetAcceptPaused(paused bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("mssqlsim: server is closed")
	}
	if paused {
		ln := s.ln
		s.ln = nil
		s.mu.Unlock()
		if ln != nil {
			ln.Close()
			s.acceptW.Wait()
		}
		return nil
	}
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("mssqlsim: listening again on %s: %w", s.addr, err)
	}
	s.ln = ln
	s.acceptW.Add(1)
	go s.acceptLoop(ln)
	return nil
}

// SetHang makes every request (PRELOGIN, LOGIN7, batches, RPCs) wait d
// before it is processed, as an unresponsive server would; 0 disables it.
// A waiting request still honours Attention (context cancellation), and
// requests already waiting are released early when the hang is shortened.
func (s *Server) SetHang(d time.Duration) {
	s.hangMu.Lock()
	defer s.hangMu.Unlock()
	s.hang = d
	if s.hangChanged != nil {
		close(s.hangChanged)
	}
	s.hangChanged = make(chan struct{})
}

// KillAllSessions closes every client connection, as KILL would for each
// session, and returns how many connections were closed. The listener keeps
// accepting new connections.
func (s *Server) KillAllSessions() int {
	// The connections are taken first: a killed session's connection goroutine removes its
	// connection from s.conns as it ends, which would hide it from the count.
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.inst.mu.Lock()
	for _, sess := range s.inst.sortedSessions() {
		s.inst.killLocked(sess)
	}
	s.inst.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	return len(conns)
}

// Crash stops the simulator abruptly, as a killed process would: storage
// stops accepting writes first (nothing that was not durable survives), then
// the listener and all connections are closed without any goodbye. Writes
// acknowledged before the crash were fsynced and survive a restart.
func (s *Server) Crash() {
	s.store.disabled.Store(true)
	_ = s.shutdown()
}

// SessionCount returns the number of logged-in sessions.
func (s *Server) SessionCount() int {
	s.inst.mu.Lock()
	defer s.inst.mu.Unlock()
	return len(s.inst.sessions)
}
