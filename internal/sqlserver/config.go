package sqlserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/microsoft/go-mssqldb/msdsn"
)

// EncryptMode is the TDS encryption of a connection. The values are the
// FailoverGroup API's (spec.sqlServer.tls.mode).
type EncryptMode string

// Encryption modes and the go-mssqldb "encrypt" value each maps to.
const (
	// EncryptDisable sends everything in plaintext, including the login
	// (encrypt=disable).
	EncryptDisable EncryptMode = "Disable"
	// EncryptOptional encrypts the login only, unless the server requires
	// more (encrypt=false): queries and results travel in clear. A server
	// that cannot encrypt is refused (ErrLoginNotEncrypted) rather than sent
	// the login in clear.
	EncryptOptional EncryptMode = "Optional"
	// EncryptMandatory encrypts the whole connection (encrypt=true). The
	// empty mode means EncryptMandatory, the API default.
	EncryptMandatory EncryptMode = "Mandatory"
	// EncryptStrict is TDS 8: TLS before any TDS traffic (encrypt=strict).
	EncryptStrict EncryptMode = "Strict"
)

// driverValue returns go-mssqldb's encrypt parameter for m.
func (m EncryptMode) driverValue() (string, error) {
	switch m {
	case EncryptDisable:
		return "disable", nil
	case EncryptOptional:
		return "false", nil
	case EncryptMandatory, "":
		return "true", nil
	case EncryptStrict:
		return "strict", nil
	}
	return "", fmt.Errorf("unknown encryption mode %q (want Disable, Optional, Mandatory or Strict)", string(m))
}

// Defaults applied by Open to zero Config fields.
const (
	DefaultPort                 = 1433
	DefaultDatabase             = "master"
	DefaultAppName              = "understudy"
	DefaultConnectTimeout       = 15 * time.Second
	DefaultStatementTimeout     = 30 * time.Second
	DefaultBackupRestoreTimeout = 2 * time.Hour
	DefaultMaxOpenConns         = 4
)

// Config describes how to reach one SQL Server instance. Password is a
// secret: String and GoString redact it, and it is never put into a
// connection string (it goes straight into the driver's config), so driver
// errors cannot echo it.
type Config struct {
	// Host is the DNS name or IP address of the instance.
	Host string
	// Port is the TCP port; 0 means 1433.
	Port int
	// Username and Password of a SQL login.
	Username, Password string
	// Encrypt is the TDS encryption mode; empty means EncryptMandatory.
	Encrypt EncryptMode
	// CACertPEM, when set, holds the PEM certificates that sign the
	// server's certificate; otherwise the system roots are used.
	CACertPEM []byte
	// HostNameInCertificate is the name the server certificate must carry
	// (a DNS SAN, or an IP SAN for an IP address); empty means Host.
	HostNameInCertificate string
	// TrustServerCertificate skips certificate verification: encrypted but
	// open to anyone in the path who presents a certificate. For labs only;
	// not allowed with EncryptStrict (TDS 8 always verifies).
	TrustServerCertificate bool
	// Database the connections use; empty means master. Keep master for
	// backup and restore work: RESTORE fails (3102) when the restoring
	// session uses the target database.
	Database string
	// AppName is the program_name the server sees; empty means "understudy".
	AppName string
	// ConnectTimeout bounds dialing a connection; 0 means 15s.
	ConnectTimeout time.Duration
	// StatementTimeout bounds every ordinary statement; 0 means 30s.
	StatementTimeout time.Duration
	// BackupRestoreTimeout bounds BACKUP and RESTORE statements, which can
	// run much longer; 0 means 2h.
	BackupRestoreTimeout time.Duration
	// MaxOpenConns limits the connection pool; 0 means 4.
	MaxOpenConns int
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Encrypt == "" {
		c.Encrypt = EncryptMandatory
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.AppName == "" {
		c.AppName = DefaultAppName
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.StatementTimeout == 0 {
		c.StatementTimeout = DefaultStatementTimeout
	}
	if c.BackupRestoreTimeout == 0 {
		c.BackupRestoreTimeout = DefaultBackupRestoreTimeout
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = DefaultMaxOpenConns
	}
	return c
}

// Validate checks the settings without connecting.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("host is required"))
	}
	if c.Port < 1 || c.Port > math.MaxUint16 {
		errs = append(errs, fmt.Errorf("port %d out of range 1-65535", c.Port))
	}
	if c.Username == "" {
		errs = append(errs, errors.New("username is required"))
	}
	if _, err := c.Encrypt.driverValue(); err != nil {
		errs = append(errs, err)
	}
	if err := validateIdentifier(c.Database); err != nil {
		errs = append(errs, fmt.Errorf("database: %w", err))
	}
	if len(c.CACertPEM) > 0 && !x509.NewCertPool().AppendCertsFromPEM(c.CACertPEM) {
		errs = append(errs, errors.New("CA certificate: no PEM certificate found"))
	}
	if c.TrustServerCertificate && c.Encrypt == EncryptStrict {
		errs = append(errs, errors.New("trustServerCertificate cannot be used with mode Strict: TDS 8 always verifies the server certificate"))
	}
	for name, d := range map[string]time.Duration{"connect": c.ConnectTimeout, "statement": c.StatementTimeout, "backup/restore": c.BackupRestoreTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s timeout %v is negative", name, d))
		}
	}
	if c.MaxOpenConns < 0 {
		errs = append(errs, fmt.Errorf("max open connections %d is negative", c.MaxOpenConns))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid SQL Server config for %s: %w", c.Address(), err)
	}
	return nil
}

// Address returns host:port.
func (c Config) Address() string {
	port := c.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// String describes the settings without the password.
func (c Config) String() string {
	c = c.withDefaults()
	pw := "<none>"
	if c.Password != "" {
		pw = "<redacted>"
	}
	return fmt.Sprintf("sqlserver{%s user=%s password=%s database=%s encrypt=%s ca=%t certname=%s trustcert=%t app=%s}",
		c.Address(), c.Username, pw, c.Database, c.Encrypt, len(c.CACertPEM) > 0, c.certificateName(), c.TrustServerCertificate, c.AppName)
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

// driverConfig builds go-mssqldb's configuration. The connection string
// handed to msdsn.Parse carries no password; the password is set on the
// parsed config afterwards.
func (c Config) driverConfig() (msdsn.Config, error) {
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return msdsn.Config{}, err
	}
	encrypt, _ := c.Encrypt.driverValue()
	q := url.Values{}
	q.Set("database", c.Database)
	q.Set("encrypt", encrypt)
	q.Set("app name", c.AppName)
	q.Set("dial timeout", strconv.Itoa(int(math.Ceil(c.ConnectTimeout.Seconds()))))
	u := url.URL{Scheme: "sqlserver", User: url.User(c.Username), Host: c.Address(), RawQuery: q.Encode()}
	cfg, err := msdsn.Parse(u.String())
	if err != nil {
		return msdsn.Config{}, fmt.Errorf("connection settings for %s: %w", c.Address(), err)
	}
	cfg.Password = c.Password
	cfg.DialTimeout = c.ConnectTimeout
	cfg.TLSConfig = c.tlsConfig()
	cfg.TrustServerCertificate = c.TrustServerCertificate
	return cfg, nil
}

// certificateName is the name the server certificate is verified against.
func (c Config) certificateName() string {
	if c.HostNameInCertificate != "" {
		return c.HostNameInCertificate
	}
	return c.Host
}

// tlsConfig is the TLS client configuration for c, nil with EncryptDisable.
// It is built here rather than by the driver so that every mode verifies
// the same way: against CACertPEM (else the system roots) and
// certificateName, unless TrustServerCertificate.
func (c Config) tlsConfig() *tls.Config {
	if c.Encrypt == EncryptDisable {
		return nil
	}
	var roots *x509.CertPool // nil: the system pool
	if len(c.CACertPEM) > 0 {
		roots = x509.NewCertPool()
		roots.AppendCertsFromPEM(c.CACertPEM)
	}
	cfg := &tls.Config{
		ServerName: c.certificateName(),
		// crypto/tls's own verification is replaced by VerifyConnection,
		// which checks the same (chain to roots, name) but fails with a
		// CertificateError naming the settings to fix.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection unless TrustServerCertificate
		MinVersion:         tls.VersionTLS12,
		RootCAs:            roots,
		// One TLS record per TDS packet, as SQL Server expects (go-mssqldb
		// sets the same).
		DynamicRecordSizingDisabled: true,
	}
	if !c.TrustServerCertificate {
		cfg.VerifyConnection = verifyServerCertificate(c.certificateName(), roots)
	}
	if c.Encrypt == EncryptStrict {
		// go-mssqldb sets the same on the configuration of every strict
		// connection (see connector).
		cfg.NextProtos = []string{"tds/8.0"}
	}
	return cfg
}

// connector returns a go-mssqldb connector for c. Its dialer puts every
// connection behind the PRELOGIN guard (see LoginEncryption), so the login
// and password are never sent in clear unless the mode is EncryptDisable.
func (c Config) connector() (driver.Connector, error) {
	cfg, err := c.driverConfig()
	if err != nil {
		return nil, err
	}
	return perConnectionTLS{cfg: cfg, dialer: guardDialer{mode: c.withDefaults().Encrypt, keepAlive: cfg.KeepAlive}}, nil
}

// perConnectionTLS is a connector that gives every connection its own copy
// of the TLS configuration: go-mssqldb writes NextProtos into the
// configuration of each strict (TDS 8) connection (tds.go getTLSConn), a
// data race between connections that share one.
type perConnectionTLS struct {
	cfg    msdsn.Config
	dialer guardDialer
}

func (p perConnectionTLS) connector() *mssql.Connector {
	cfg := p.cfg
	if cfg.TLSConfig != nil {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
	}
	connector := mssql.NewConnectorConfig(cfg)
	connector.Dialer = p.dialer
	return connector
}

func (p perConnectionTLS) Connect(ctx context.Context) (driver.Conn, error) {
	return p.connector().Connect(ctx)
}

func (p perConnectionTLS) Driver() driver.Driver { return p.connector().Driver() }
