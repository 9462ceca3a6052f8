package sqlserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/microsoft/go-mssqldb/msdsn"
)

// testCAPEM returns a self-signed CA certificate in PEM form.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "understudy test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestEncryptModeMapsToDriver(t *testing.T) {
	tests := []struct {
		mode       EncryptMode
		wantParam  string
		wantDriver msdsn.Encryption
		wantTLS    bool
	}{
		{EncryptDisable, "disable", msdsn.EncryptionDisabled, false},
		{EncryptOptional, "false", msdsn.EncryptionOff, true},
		{"", "true", msdsn.EncryptionRequired, true},
		{EncryptMandatory, "true", msdsn.EncryptionRequired, true},
		{EncryptStrict, "strict", msdsn.EncryptionStrict, true},
	}
	for _, tc := range tests {
		t.Run(string(tc.mode), func(t *testing.T) {
			param, err := tc.mode.driverValue()
			if err != nil || param != tc.wantParam {
				t.Fatalf("driverValue = %q, %v; want %q", param, err, tc.wantParam)
			}
			cfg, err := Config{Host: "db.example", Username: "op", Password: "pw", Encrypt: tc.mode}.driverConfig()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Encryption != tc.wantDriver {
				t.Fatalf("driver encryption %v, want %v", cfg.Encryption, tc.wantDriver)
			}
			if (cfg.TLSConfig != nil) != tc.wantTLS {
				t.Fatalf("TLS config present = %v, want %v", cfg.TLSConfig != nil, tc.wantTLS)
			}
			if tc.wantTLS && (cfg.TLSConfig.VerifyConnection == nil || cfg.TLSConfig.ServerName != "db.example") {
				t.Fatalf("TLS must verify db.example: verifier set=%v name=%q", cfg.TLSConfig.VerifyConnection != nil, cfg.TLSConfig.ServerName)
			}
			if wantALPN := tc.mode == EncryptStrict; tc.wantTLS && (len(cfg.TLSConfig.NextProtos) == 1) != wantALPN {
				t.Fatalf("ALPN %v; want tds/8.0 only with Strict", cfg.TLSConfig.NextProtos)
			}
		})
	}
	if _, err := EncryptMode("true").driverValue(); err == nil {
		t.Fatal(`mode "true" (not an API value) accepted`)
	}
}

func TestDriverConfig(t *testing.T) {
	const password = "p@ss;word=x&y?z/'\""
	ca := testCAPEM(t)
	cfg, err := Config{
		Host: "10.0.0.5", Port: 14330, Username: "operator", Password: password, Encrypt: EncryptMandatory,
		CACertPEM: ca, Database: "shop", AppName: "test-app", ConnectTimeout: 1500 * time.Millisecond,
	}.driverConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "10.0.0.5" || cfg.Port != 14330 || cfg.User != "operator" || cfg.Database != "shop" || cfg.AppName != "test-app" {
		t.Fatalf("driver config: host=%s port=%d user=%s db=%s app=%s", cfg.Host, cfg.Port, cfg.User, cfg.Database, cfg.AppName)
	}
	if cfg.Password != password {
		t.Fatal("password with URL metacharacters not passed through unchanged")
	}
	if cfg.DialTimeout != 1500*time.Millisecond {
		t.Fatalf("dial timeout %v", cfg.DialTimeout)
	}
	if cfg.TLSConfig == nil || cfg.TLSConfig.RootCAs == nil || cfg.TLSConfig.VerifyConnection == nil {
		t.Fatalf("CA not installed or not verified: %+v", cfg.TLSConfig)
	}
	for k, v := range cfg.Parameters {
		if strings.Contains(v, password) || strings.Contains(k, password) {
			t.Fatalf("password in connection parameters %q", k)
		}
	}
	defaults, err := Config{Host: "h", Username: "u"}.driverConfig()
	if err != nil {
		t.Fatal(err)
	}
	if defaults.Port != DefaultPort || defaults.Database != DefaultDatabase || defaults.AppName != DefaultAppName || defaults.DialTimeout != DefaultConnectTimeout {
		t.Fatalf("defaults: port=%d db=%s app=%s dial=%v", defaults.Port, defaults.Database, defaults.AppName, defaults.DialTimeout)
	}
	trusting, err := Config{Host: "h", Username: "u", Encrypt: EncryptMandatory, TrustServerCertificate: true}.driverConfig()
	if err != nil || !trusting.TLSConfig.InsecureSkipVerify || trusting.TLSConfig.VerifyConnection != nil {
		t.Fatalf("TrustServerCertificate not applied: %v", err)
	}
	named, err := Config{Host: "10.0.0.5", Username: "u", HostNameInCertificate: "sql-0.sql.ns.svc"}.driverConfig()
	if err != nil || named.TLSConfig.ServerName != "sql-0.sql.ns.svc" {
		t.Fatalf("HostNameInCertificate not applied: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	valid := Config{Host: "h", Username: "u", Password: "secret-value"}
	tests := []struct {
		name   string
		mutate func(*Config)
		ok     bool
	}{
		{"valid", func(*Config) {}, true},
		{"no host", func(c *Config) { c.Host = "" }, false},
		{"no user", func(c *Config) { c.Username = "" }, false},
		{"port too big", func(c *Config) { c.Port = 70000 }, false},
		{"negative port", func(c *Config) { c.Port = -1 }, false},
		{"bad mode", func(c *Config) { c.Encrypt = "yes" }, false},
		{"bad CA", func(c *Config) { c.CACertPEM = []byte("not a certificate") }, false},
		{"trust with Strict", func(c *Config) { c.Encrypt, c.TrustServerCertificate = EncryptStrict, true }, false},
		{"trust with Mandatory", func(c *Config) { c.TrustServerCertificate = true }, true},
		{"bad database", func(c *Config) { c.Database = "a\x00" }, false},
		{"negative timeout", func(c *Config) { c.StatementTimeout = -time.Second }, false},
		{"negative pool", func(c *Config) { c.MaxOpenConns = -1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.mutate(&c)
			err := c.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), c.Password) {
				t.Fatalf("validation error shows the password: %v", err)
			}
			if _, openErr := Open(c); (openErr == nil) != tc.ok {
				t.Fatalf("Open = %v, want ok=%v", openErr, tc.ok)
			}
		})
	}
}

func TestConfigStringHidesPassword(t *testing.T) {
	const password = "Very-Secret-Pw-42"
	c := Config{Host: "db", Username: "op", Password: password, CACertPEM: []byte("x")}
	client, err := Open(Config{Host: "db", Username: "op", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	texts := []string{
		c.String(), fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", &c),
		client.String(), fmt.Sprintf("%v", client), fmt.Sprintf("%+v", *client),
	}
	for _, text := range texts {
		if strings.Contains(text, password) {
			t.Fatalf("password in %q", text)
		}
	}
	if !strings.Contains(c.String(), "<redacted>") || !strings.Contains(c.String(), "db:1433") || !strings.Contains(c.String(), "user=op") {
		t.Fatalf("String() = %q", c.String())
	}
	if strings.Contains(Config{Host: "db", Username: "op"}.String(), "<redacted>") {
		t.Fatal("an empty password is shown as redacted")
	}
}

func TestWrongPasswordEchoedByServerIsRedacted(t *testing.T) {
	// The simulator echoes the login name in "Login failed for user '...'":
	// a password that equals the user name must not survive in the text.
	inst := startInstance(t, "PRIMARY")
	const secret = "Echoed-Secret-77"
	c, err := Open(simConfig(inst.srv, secret, secret))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Ping(testContext(t))
	wantKind(t, err, KindLoginFailed)
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), redactedPlaceholder) {
		t.Fatalf("error text %q", err.Error())
	}
}
