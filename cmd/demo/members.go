package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "github.com/microsoft/go-mssqldb" // the real SQL Server driver, as the operator uses it

	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// sqlMember is one SQL Server instance of the demo: the project's TDS simulator (test/mssqlsim,
// not SQL Server) listening on a loopback port, with its data in the demo's temporary directory.
// It encrypts as a SQL Server configured with mssql-conf network.tlscert/tlskey and
// network.forceencryption=1 would, with a certificate for memberHost signed by the demo's CA.
type sqlMember struct {
	name     string // member name in the FailoverGroup (ds1)
	instance string // @@SERVERNAME (DS1)
	dataDir  string
	addr     string // fixed after the first start, so a restart comes back on the same port
	pki      mssqlsim.TestPKI
	srv      *mssqlsim.Server
}

// memberHost is the DNS name members are dialed by and their certificate is issued for.
const memberHost = "localhost"

func startMember(name, instance, root string, pki mssqlsim.TestPKI) (*sqlMember, error) {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	m := &sqlMember{name: name, instance: instance, dataDir: dir, addr: "127.0.0.1:0", pki: pki}
	if err := m.start(context.Background()); err != nil {
		return nil, err
	}
	m.addr = m.srv.Addr()
	return m, nil
}

// start starts the instance on its address and data directory. A restart after a crash may find
// the port briefly unavailable; it retries for a few seconds.
func (m *sqlMember) start(ctx context.Context) error {
	var srv *mssqlsim.Server
	err := waitFor(ctx, 10*time.Second, 100*time.Millisecond, "the listen address "+m.addr, func() (bool, error) {
		var err error
		srv, err = mssqlsim.Start(mssqlsim.Options{Addr: m.addr, DataDir: m.dataDir, InstanceName: m.instance,
			TLS: mssqlsim.TLSOptions{CertFile: m.pki.CertFile, KeyFile: m.pki.KeyFile, ForceEncryption: true}})
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("start %s: %w", m.name, err)
	}
	m.srv = srv
	return nil
}

// Crash kills the instance as a killed process would: what was not durable is gone, clients get
// their connections cut.
func (m *sqlMember) Crash() {
	if m.srv != nil {
		m.srv.Crash()
		m.srv = nil
	}
}

// Close stops the instance (idempotent).
func (m *sqlMember) Close() error {
	if m.srv == nil {
		return nil
	}
	err := m.srv.Close()
	m.srv = nil
	return err
}

// Host and Port are where the FailoverGroup's member address points: a DNS name in the member's
// certificate, not the IP address it listens on.
func (m *sqlMember) Host() string { return memberHost }

func (m *sqlMember) Port() int32 {
	_, p, _ := net.SplitHostPort(m.addr)
	n, _ := strconv.Atoi(p)
	return int32(n)
}

// open opens a connection pool to a database as sa. keepIdle=false closes each connection after
// use: a session left in a standby's database would hold off its next restore (error 3101).
func (m *sqlMember) open(database string, keepIdle bool) (*sql.DB, error) {
	if m.srv == nil {
		return nil, errors.New(m.name + " is not running")
	}
	db, err := sql.Open("sqlserver", m.dsn(database))
	if err != nil {
		return nil, err
	}
	if !keepIdle {
		db.SetMaxIdleConns(0)
	}
	return db, nil
}

// dsn is a go-mssqldb connection string as sa, encrypted and verified against the demo's CA (the
// instance forces encryption).
func (m *sqlMember) dsn(database string) string {
	q := url.Values{"database": {database}, "encrypt": {"true"}, "certificate": {m.pki.CAFile},
		"hostnameincertificate": {memberHost}}
	u := url.URL{Scheme: "sqlserver", User: url.UserPassword("sa", m.srv.SAPassword()),
		Host: net.JoinHostPort(memberHost, strconv.Itoa(int(m.Port()))), RawQuery: q.Encode()}
	return u.String()
}

// createSalesDatabase creates the application's database and table on the first primary.
func (m *sqlMember) createSalesDatabase(ctx context.Context) error {
	master, err := m.open("master", false)
	if err != nil {
		return err
	}
	defer master.Close()
	if _, err := master.ExecContext(ctx, "CREATE DATABASE [Sales]"); err != nil {
		return fmt.Errorf("create database Sales on %s: %w", m.name, err)
	}
	sales, err := m.open("Sales", false)
	if err != nil {
		return err
	}
	defer sales.Close()
	if _, err := sales.ExecContext(ctx, "CREATE TABLE dbo.Orders (id INT NOT NULL, note NVARCHAR(100))"); err != nil {
		return fmt.Errorf("create table dbo.Orders on %s: %w", m.name, err)
	}
	return nil
}

// observer opens connections for the demo's own reads and probes. They use master and name the
// table in full (Sales.dbo.Orders): a session whose database is Sales would hold off a standby's
// restore or a promotion (error 3101, exclusive access), which the application's own sessions may
// do but the demo's measuring must not.
func (m *sqlMember) observer() (*sql.DB, error) {
	return m.open("master", false)
}

// ordersTable is the application's table, named for an observer's session.
const ordersTable = "Sales.dbo.Orders"

// countOrders counts the rows of the application's table.
func countOrders(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+ordersTable).Scan(&n)
	return n, err
}
