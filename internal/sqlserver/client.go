package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Pool settings: a handful of connections is plenty for one instance (the
// operator runs a few statements at a time) and connections are recycled
// so that a failed-over or restarted server is re-resolved.
const (
	maxIdleConns    = 2
	connMaxLifetime = 10 * time.Minute
	connMaxIdleTime = 2 * time.Minute
)

// Client runs the operator's statements against one SQL Server instance
// through a small connection pool. It is safe for concurrent use.
type Client struct {
	// cfg is the configuration with the password replaced by a
	// placeholder, so that even printing a copy of the struct shows no
	// secret.
	cfg Config
	// password returns the real password, for redacting error texts;
	// a func value prints as an address.
	password func() string
	db       *sql.DB
}

// Open validates cfg and returns a Client. It does not connect: the first
// statement (or Ping) does.
func Open(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	connector, err := cfg.connector()
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(min(maxIdleConns, cfg.MaxOpenConns))
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	password := cfg.Password
	if cfg.Password != "" {
		cfg.Password = redactedPlaceholder
	}
	return &Client{cfg: cfg, password: func() string { return password }, db: db}, nil
}

// Close closes the pool's connections.
func (c *Client) Close() error { return c.db.Close() }

// String describes the instance (without the password).
func (c *Client) String() string { return c.cfg.String() }

// Address returns the instance's host:port.
func (c *Client) Address() string { return c.cfg.Address() }

// statementContext bounds an ordinary statement by StatementTimeout (or the
// caller's earlier deadline).
func (c *Client) statementContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.StatementTimeout)
}

// backupRestoreContext bounds a BACKUP or RESTORE by BackupRestoreTimeout.
func (c *Client) backupRestoreContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.BackupRestoreTimeout)
}

// exec runs one statement outside any transaction under the statement
// timeout.
func (c *Client) exec(ctx context.Context, query string, args ...any) error {
	ctx, cancel := c.statementContext(ctx)
	defer cancel()
	_, err := c.db.ExecContext(ctx, query, args...)
	return c.sanitize(err)
}

// execBackupRestore runs a BACKUP or RESTORE statement in autocommit mode
// (never inside a transaction: SQL Server refuses that with 3021) under the
// backup/restore timeout.
func (c *Client) execBackupRestore(ctx context.Context, query string, args ...any) error {
	ctx, cancel := c.backupRestoreContext(ctx)
	defer cancel()
	_, err := c.db.ExecContext(ctx, query, args...)
	return c.sanitize(err)
}

// query runs a query under the statement timeout and calls scan for every
// row.
func (c *Client) query(ctx context.Context, scan func(*sql.Rows) error, query string, args ...any) error {
	ctx, cancel := c.statementContext(ctx)
	defer cancel()
	return c.queryWithContext(ctx, scan, query, args...)
}

func (c *Client) queryWithContext(ctx context.Context, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return c.sanitize(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return c.sanitize(err)
		}
	}
	if err := rows.Err(); err != nil {
		return c.sanitize(err)
	}
	return c.sanitize(rows.Close())
}

// sanitize makes sure the password cannot leak through an error text.
func (c *Client) sanitize(err error) error {
	return redactSecret(err, c.password())
}

// Ping connects (if needed) and runs SELECT 1.
func (c *Client) Ping(ctx context.Context) error {
	var one int
	err := c.query(ctx, func(r *sql.Rows) error { return r.Scan(&one) }, "SELECT 1")
	if err != nil {
		return fmt.Errorf("ping %s: %w", c.Address(), err)
	}
	if one != 1 {
		return fmt.Errorf("ping %s: SELECT 1 returned %d", c.Address(), one)
	}
	return nil
}

// ServerInfo describes the instance.
type ServerInfo struct {
	// ServerName is SERVERPROPERTY('ServerName').
	ServerName string
	// ProductVersion is SERVERPROPERTY('ProductVersion'), e.g. "16.0.4135.4".
	ProductVersion string
	// Edition is SERVERPROPERTY('Edition'), e.g. "Express Edition (64-bit)".
	Edition string
	// EngineEdition is SERVERPROPERTY('EngineEdition'): 2 Standard (Standard and Web), 3
	// Enterprise (Enterprise, Developer, Evaluation), 4 Express; 0 when the server gave none.
	EngineEdition int
}

// EngineEditionExpress is SERVERPROPERTY('EngineEdition') of SQL Server Express.
const EngineEditionExpress = 4

// CanCompressBackups reports whether the edition supports BACKUP ... WITH COMPRESSION: Microsoft's
// edition table lists backup compression for every edition but Express and Web (both answer
// COMPRESSION with error 1844). Web shares EngineEdition 2 with Standard, so it is told by name.
func (s ServerInfo) CanCompressBackups() bool {
	return s.EngineEdition != EngineEditionExpress && !strings.HasPrefix(s.Edition, "Web Edition")
}

// MajorVersion returns the major product version (16 for SQL Server 2022),
// or 0 when ProductVersion is not in the usual form.
func (s ServerInfo) MajorVersion() int {
	major, _, _ := strings.Cut(s.ProductVersion, ".")
	n := 0
	for _, r := range major {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// ServerInfo returns the server name, version and edition.
func (c *Client) ServerInfo(ctx context.Context) (ServerInfo, error) {
	var info ServerInfo
	var name, version, edition sql.NullString
	var engine sql.NullInt64
	err := c.query(ctx, func(r *sql.Rows) error { return r.Scan(&name, &version, &edition, &engine) },
		`SELECT CAST(SERVERPROPERTY('ServerName') AS nvarchar(256)),
		        CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)),
		        CAST(SERVERPROPERTY('Edition') AS nvarchar(128)),
		        CAST(SERVERPROPERTY('EngineEdition') AS int)`)
	if err != nil {
		return info, fmt.Errorf("server info of %s: %w", c.Address(), err)
	}
	info = ServerInfo{ServerName: name.String, ProductVersion: version.String, Edition: edition.String, EngineEdition: int(engine.Int64)}
	return info, nil
}

// DefaultPaths are the instance's default directories for new database
// files, with a trailing separator as SQL Server reports them.
type DefaultPaths struct {
	Data, Log string
}

// DefaultDataPath returns SERVERPROPERTY('InstanceDefaultDataPath').
func (c *Client) DefaultDataPath(ctx context.Context) (string, error) {
	p, err := c.DefaultPaths(ctx)
	return p.Data, err
}

// DefaultPaths returns SERVERPROPERTY('InstanceDefaultDataPath') and
// SERVERPROPERTY('InstanceDefaultLogPath') (the data path when the log
// path is not set).
func (c *Client) DefaultPaths(ctx context.Context) (DefaultPaths, error) {
	var data, log sql.NullString
	err := c.query(ctx, func(r *sql.Rows) error { return r.Scan(&data, &log) },
		`SELECT CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(260)),
		        CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(260))`)
	if err != nil {
		return DefaultPaths{}, fmt.Errorf("default data path of %s: %w", c.Address(), err)
	}
	if data.String == "" {
		return DefaultPaths{}, fmt.Errorf("default data path of %s: SERVERPROPERTY('InstanceDefaultDataPath') is empty", c.Address())
	}
	p := DefaultPaths{Data: data.String, Log: log.String}
	if p.Log == "" {
		p.Log = p.Data
	}
	return p, nil
}
