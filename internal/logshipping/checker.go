package logshipping

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/internal/probe"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// SQLChecker is the probe.Checker of probe.KindSQLServer targets: it
// connects to the target's address and runs SELECT 1, a role-independent
// liveness check (the controller checks the databases' states for each
// member's role with sqlserver.Client.HealthCheck). It keeps one client per
// address, reopened when its configuration changes (a rotated password);
// Forget closes one, Close all of them. Safe for concurrent use.
type SQLChecker struct {
	// configFor returns the connection settings of a target (credentials
	// from the group's Secret, TLS mode, the target's host and port).
	configFor func(probe.Target) (sqlserver.Config, error)

	mu      sync.Mutex
	clients map[string]*checkerClient
	closed  bool
}

type checkerClient struct {
	cfg    sqlserver.Config
	client *sqlserver.Client
}

// NewSQLChecker returns a checker that builds each target's connection
// settings with configFor.
func NewSQLChecker(configFor func(probe.Target) (sqlserver.Config, error)) *SQLChecker {
	return &SQLChecker{configFor: configFor, clients: map[string]*checkerClient{}}
}

// Check connects to t.Address (reusing the cached client) and runs
// SELECT 1 within t.Timeout.
func (c *SQLChecker) Check(ctx context.Context, t probe.Target) error {
	t = t.WithDefaults()
	if t.Kind != probe.KindSQLServer {
		return fmt.Errorf("sql server probe %s: wrong target kind %q", t.Address, t.Kind)
	}
	client, err := c.client(t)
	if err != nil {
		return fmt.Errorf("sql server probe %s: %w", t.Address, err)
	}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	if err := client.Ping(ctx); err != nil {
		return fmt.Errorf("sql server probe: %w", err)
	}
	return nil
}

// client returns the cached client of t's address, opening (or reopening)
// it when its settings changed.
func (c *SQLChecker) client(t probe.Target) (*sqlserver.Client, error) {
	cfg, err := c.configFor(t)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("checker is closed")
	}
	if cc, ok := c.clients[t.Address]; ok {
		if sameConfig(cc.cfg, cfg) {
			return cc.client, nil
		}
		_ = cc.client.Close() // settings changed: the old pool is useless
		delete(c.clients, t.Address)
	}
	client, err := sqlserver.Open(cfg)
	if err != nil {
		return nil, err
	}
	c.clients[t.Address] = &checkerClient{cfg: cfg, client: client}
	return client, nil
}

// sameConfig compares two configurations, including the password and CA.
func sameConfig(a, b sqlserver.Config) bool {
	if !bytes.Equal(a.CACertPEM, b.CACertPEM) {
		return false
	}
	type comparable struct {
		Host, Username, Password, Database, AppName string
		Port, MaxOpenConns                          int
		Encrypt                                     sqlserver.EncryptMode
		Trust                                       bool
		Connect, Statement, BackupRestore           time.Duration
	}
	key := func(c sqlserver.Config) comparable {
		return comparable{c.Host, c.Username, c.Password, c.Database, c.AppName, c.Port, c.MaxOpenConns,
			c.Encrypt, c.TrustServerCertificate, c.ConnectTimeout, c.StatementTimeout, c.BackupRestoreTimeout}
	}
	return key(a) == key(b)
}

// Forget closes and drops the client of address (a member removed from a
// group, or whose address changed).
func (c *SQLChecker) Forget(address string) {
	c.mu.Lock()
	cc, ok := c.clients[address]
	delete(c.clients, address)
	c.mu.Unlock()
	if ok {
		_ = cc.client.Close()
	}
}

// Retain closes every client whose address is not in keep.
func (c *SQLChecker) Retain(keep []string) {
	set := map[string]bool{}
	for _, a := range keep {
		set[a] = true
	}
	c.mu.Lock()
	var drop []*checkerClient
	for a, cc := range c.clients {
		if !set[a] {
			drop = append(drop, cc)
			delete(c.clients, a)
		}
	}
	c.mu.Unlock()
	for _, cc := range drop {
		_ = cc.client.Close()
	}
}

// Cached returns how many clients are open (for tests and metrics).
func (c *SQLChecker) Cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.clients)
}

// Close closes every client; later checks fail.
func (c *SQLChecker) Close() error {
	c.mu.Lock()
	clients := c.clients
	c.clients, c.closed = map[string]*checkerClient{}, true
	c.mu.Unlock()
	var errs []error
	for _, cc := range clients {
		errs = append(errs, cc.client.Close())
	}
	return errors.Join(errs...)
}
