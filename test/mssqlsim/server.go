package mssqlsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// DefaultProductVersion is SERVERPROPERTY('ProductVersion') (SQL Server 2022).
const DefaultProductVersion = "16.0.4135.4"

// Options configure a simulator instance.
type Options struct {
	// Addr is the TCP listen address; default "127.0.0.1:0".
	Addr string
	// DataDir holds the instance state. Starting on an existing directory
	// reloads its databases, logins and backup history. Required.
	DataDir string
	// SAPassword is the password of the sa login. It is (re)applied on
	// every start; default "Sim-Passw0rd!".
	SAPassword string
	// InstanceName is @@SERVERNAME and SERVERPROPERTY('ServerName');
	// default "MSSQLSIM".
	InstanceName string
	// ProductVersion is SERVERPROPERTY('ProductVersion'); default
	// DefaultProductVersion.
	ProductVersion string
	// Edition is the edition the instance runs as, named by the container image's MSSQL_PID values
	// (Developer, Evaluation, Enterprise, EnterpriseCore, Standard, Web, Express); default
	// DefaultEdition. Express and Web refuse BACKUP ... WITH COMPRESSION (error 1844).
	Edition string
	// TimeZone is the instance's time zone, an IANA name as the container's TZ takes it; default
	// UTC. GETDATE(), msdb's dates, backup headers' dates and create_date columns are local time in
	// it, as on SQL Server; backupset.time_zone gives the offset.
	TimeZone string
	// Logf, when set, receives connection-level diagnostics.
	Logf func(format string, args ...any)
	// TLS is the encryption setup; the zero value is SQL Server's default
	// (self-signed certificate, encryption offered, not forced).
	TLS TLSOptions
}

// DefaultSAPassword is used when Options.SAPassword is empty.
const DefaultSAPassword = "Sim-Passw0rd!"

// Server is a running simulator instance.
type Server struct {
	opts  Options
	inst  *instance
	store *storage
	tls   *tlsState // nil: TLS disabled

	mu      sync.Mutex
	ln      net.Listener
	addr    string
	closed  bool
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	acceptW sync.WaitGroup

	hangMu      sync.Mutex
	hang        time.Duration // every request is delayed by this much
	hangChanged chan struct{} // closed and replaced by SetHang

	observer func(Statement) // ObserveStatements; guarded by mu
}

// Start starts a simulator listening on opts.Addr.
func Start(opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("mssqlsim: Options.DataDir is required")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.SAPassword == "" {
		opts.SAPassword = DefaultSAPassword
	}
	if opts.InstanceName == "" {
		opts.InstanceName = "MSSQLSIM"
	}
	if opts.ProductVersion == "" {
		opts.ProductVersion = DefaultProductVersion
	}
	ed, err := lookupEdition(opts.Edition)
	if err != nil {
		return nil, fmt.Errorf("mssqlsim: %w", err)
	}
	loc, err := loadTimeZone(opts.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("mssqlsim: %w", err)
	}
	store, err := newStorage(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("mssqlsim: %w", err)
	}
	inst := newInstance(store, opts.InstanceName, opts.ProductVersion)
	inst.edition, inst.location = ed, loc
	inst.mu.Lock()
	err = inst.load(opts.SAPassword)
	inst.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mssqlsim: loading %s: %w", opts.DataDir, err)
	}
	tlsst, err := newTLSState(opts.TLS)
	if err != nil {
		return nil, fmt.Errorf("mssqlsim: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("mssqlsim: listening on %s: %w", opts.Addr, err)
	}
	s := &Server{opts: opts, inst: inst, store: store, tls: tlsst, ln: ln, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	s.acceptW.Add(1)
	go s.acceptLoop(ln)
	return s, nil
}

// Addr returns the listen address (host:port).
func (s *Server) Addr() string { return s.addr }

// Port returns the TCP port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Host returns the listen host.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

// DataDir returns the data directory.
func (s *Server) DataDir() string { return s.opts.DataDir }

// InstanceName returns @@SERVERNAME.
func (s *Server) InstanceName() string { return s.opts.InstanceName }

// SAPassword returns the sa password.
func (s *Server) SAPassword() string { return s.opts.SAPassword }

// DSN returns a go-mssqldb connection string for user/password and an
// optional database, with encrypt=disable (plaintext; refused when
// TLS.ForceEncryption or TLS.ForceStrict is set).
func (s *Server) DSN(user, password, database string) string {
	u := &url.URL{Scheme: "sqlserver", User: url.UserPassword(user, password), Host: s.addr}
	q := url.Values{}
	q.Set("encrypt", "disable")
	if database != "" {
		q.Set("database", database)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// SADSN returns DSN("sa", SAPassword, database).
func (s *Server) SADSN(database string) string {
	return s.DSN("sa", s.opts.SAPassword, database)
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.acceptW.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serveConn(c)
		}()
	}
}

// shutdown stops the listener and all connections and waits for the
// connection goroutines.
func (s *Server) shutdown() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.acceptW.Wait()
	s.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("mssqlsim: closing listener: %w", err)
	}
	return nil
}

// Close stops the simulator gracefully. Every acknowledged write is already
// durable, so a new Start on the same DataDir sees all of it.
func (s *Server) Close() error { return s.shutdown() }

func (s *Server) hangState() (time.Duration, <-chan struct{}) {
	s.hangMu.Lock()
	defer s.hangMu.Unlock()
	if s.hangChanged == nil {
		s.hangChanged = make(chan struct{})
	}
	return s.hang, s.hangChanged
}

// waitHang delays a request while a hang is configured. Changing the hang
// with SetHang re-evaluates waiting requests (SetHang(0) releases them);
// ctx cancellation (Attention, connection closed) interrupts the wait.
func (s *Server) waitHang(ctx context.Context) error {
	start := time.Now()
	for {
		d, changed := s.hangState()
		remaining := d - time.Since(start)
		if remaining <= 0 {
			return nil
		}
		t := time.NewTimer(remaining)
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-changed:
			t.Stop()
		}
	}
}
