package sqlserver

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// certName is the only name in the test CA's server certificate besides
// localhost: dialing 127.0.0.1 (as the operator once dialed pod IPs) does not
// match it.
const certName = "sql-0.sql.shop.svc"

// Outcomes of a connection, judged on the bytes the tap recorded.
const (
	refused   = iota // no session; nothing secret on the wire
	plaintext        // Disable: login and session in clear
	loginOnly        // the login encrypted, the session after it in clear
	encrypted        // everything encrypted
)

var outcomeNames = []string{"refused", "plaintext", "login-only", "encrypted"}

// TestEncryptionModesAgainstServerSettings connects with every tls mode
// and verification setting to the simulator set up as SQL Server can be:
// its self-signed default certificate, a certificate from files signed by a
// CA (mssql-conf network.tlscert/tlskey), forced encryption, and no TLS at
// all. A tap between client and server records the bytes: the password (as
// text, as UCS-2 and in its TDS-obfuscated form) must never appear except
// with mode Disable, and the session is in clear exactly when expected.
func TestEncryptionModesAgainstServerSettings(t *testing.T) {
	dir := t.TempDir()
	pki, err := mssqlsim.WriteTestPKI(dir, certName, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	files := mssqlsim.TLSOptions{CertFile: pki.CertFile, KeyFile: pki.KeyFile}
	forced := files
	forced.ForceEncryption = true
	servers := map[string]mssqlsim.TLSOptions{
		"self-signed": {}, "files": files, "forced": forced, "no TLS": {Disabled: true},
	}
	type client struct {
		mode  EncryptMode
		host  string // default 127.0.0.1
		ca    bool
		name  string
		trust bool
	}
	tests := []struct {
		server string
		client client
		want   int
	}{
		{"self-signed", client{mode: EncryptDisable}, plaintext},
		{"self-signed", client{mode: EncryptOptional}, refused},
		{"self-signed", client{mode: EncryptOptional, trust: true}, loginOnly},
		{"self-signed", client{mode: EncryptMandatory}, refused},
		{"self-signed", client{mode: EncryptMandatory, ca: true, name: certName}, refused},
		{"self-signed", client{mode: EncryptMandatory, trust: true}, encrypted},
		{"self-signed", client{mode: EncryptStrict, ca: true, name: certName}, refused},
		{"self-signed", client{mode: EncryptStrict, trust: true}, refused}, // Validate refuses

		{"files", client{mode: EncryptDisable}, plaintext},
		{"files", client{mode: EncryptOptional, ca: true}, refused}, // 127.0.0.1 is not in the certificate
		{"files", client{mode: EncryptOptional, ca: true, name: certName}, loginOnly},
		{"files", client{mode: EncryptMandatory}, refused}, // not signed by a system root
		{"files", client{mode: EncryptMandatory, ca: true}, refused},
		{"files", client{mode: EncryptMandatory, ca: true, name: certName}, encrypted},
		{"files", client{mode: EncryptMandatory, ca: true, host: "localhost"}, encrypted},
		{"files", client{mode: EncryptMandatory, ca: true, name: "other.shop.svc"}, refused},
		{"files", client{mode: EncryptMandatory, trust: true}, encrypted},
		{"files", client{mode: EncryptStrict, ca: true}, refused},
		{"files", client{mode: EncryptStrict, ca: true, name: certName}, encrypted},
		{"files", client{mode: "", ca: true, name: certName}, encrypted}, // the default is Mandatory

		{"forced", client{mode: EncryptDisable}, refused},
		{"forced", client{mode: EncryptOptional, ca: true, name: certName}, encrypted},
		{"forced", client{mode: EncryptMandatory, ca: true, name: certName}, encrypted},
		{"forced", client{mode: EncryptStrict, ca: true, name: certName}, encrypted},

		{"no TLS", client{mode: EncryptDisable}, plaintext},
		{"no TLS", client{mode: EncryptOptional}, refused},
		{"no TLS", client{mode: EncryptOptional, trust: true}, refused},
		{"no TLS", client{mode: EncryptMandatory, ca: true, name: certName}, refused},
		{"no TLS", client{mode: EncryptStrict, ca: true, name: certName}, refused},
	}
	for _, tc := range tests {
		c := tc.client
		name := fmt.Sprintf("%s/%s/host=%s/ca=%t/name=%s/trust=%t", tc.server, c.mode, c.host, c.ca, c.name, c.trust)
		t.Run(name, func(t *testing.T) {
			inst := startInstanceTLS(t, "TLS-MARKER-SRV", servers[tc.server])
			tap, err := mssqlsim.StartTap(inst.srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tap.Close() })
			cfg := Config{Host: "127.0.0.1", Port: tap.Port(), Username: "sa", Password: simPassword,
				Encrypt: c.mode, HostNameInCertificate: c.name, TrustServerCertificate: c.trust, ConnectTimeout: 5 * time.Second}
			if c.host != "" {
				cfg.Host = c.host
			}
			if c.ca {
				cfg.CACertPEM = pki.CAPEM
			}
			err = pingOnce(t, cfg)
			if (err == nil) == (tc.want == refused) {
				t.Fatalf("ping: %v; want %s", err, outcomeNames[tc.want])
			}
			if err != nil {
				assertNoSecret(t, "connection error", fmt.Sprintf("%v %+v", err, err), simPassword)
			}
			_ = tap.Close()
			assertPasswordOnWire(t, tap.FromClient(), tc.want == plaintext)
			if tc.want != refused {
				// The login response carries the server name in INFO tokens.
				clear := bytes.Contains(tap.FromServer(), utf16le("TLS-MARKER-SRV"))
				if clear != (tc.want != encrypted) {
					t.Fatalf("server name in clear in the login response: %t; want %s", clear, outcomeNames[tc.want])
				}
			}
		})
	}
}

// TestDefaultSelfSignedNeedsTrustOrCA is the failure: the old
// default (Optional, verifying against the dialed IP) against SQL Server's
// self-signed certificate fails every login, and the error says what to set.
func TestDefaultSelfSignedNeedsTrustOrCA(t *testing.T) {
	inst := startInstanceTLS(t, "SELFSIGNED", mssqlsim.TLSOptions{})
	cfg := simConfig(inst.srv, "sa", simPassword)
	cfg.Encrypt = ""
	err := pingOnce(t, cfg)
	if err == nil {
		t.Fatal("ping succeeded against an unverifiable self-signed certificate")
	}
	for _, want := range []string{"certificate", "spec.sqlServer.tls.caSecretRef", "hostNameInCertificate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if k := Classify(err); k != KindCertificateNotTrusted || k.Retryable() {
		t.Errorf("Classify = %s (retryable %t), want CertificateNotTrusted, not retryable", k, k.Retryable())
	}
}

// pingOnce opens a client for cfg, pings once and closes it.
func pingOnce(t *testing.T, cfg Config) error {
	t.Helper()
	c, err := Open(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Ping(testContext(t))
}

// assertPasswordOnWire checks whether the password crossed the wire in any
// readable form: as text, as UCS-2 or TDS-obfuscated (MS-TDS 2.2.6.4: each
// UCS-2 byte has its nibbles swapped and is XORed with 0xA5).
func assertPasswordOnWire(t *testing.T, wire []byte, want bool) {
	t.Helper()
	forms := map[string][]byte{
		"text":       []byte(simPassword),
		"UCS-2":      utf16le(simPassword),
		"obfuscated": tdsObfuscate(utf16le(simPassword)),
	}
	seen := false
	for form, b := range forms {
		if bytes.Contains(wire, b) {
			seen = true
			if !want {
				t.Errorf("the password crossed the wire in clear (%s form)", form)
			}
		}
	}
	if want && !seen {
		t.Error("mode Disable: the obfuscated password was expected on the wire (is the tap working?)")
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func tdsObfuscate(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = (c<<4 | c>>4) ^ 0xA5
	}
	return out
}

// TestStrictConnectionsInParallel opens TDS 8 connections concurrently:
// go-mssqldb writes into the TLS configuration of each strict connection,
// so each connection must get its own copy (run with -race).
func TestStrictConnectionsInParallel(t *testing.T) {
	pki, err := mssqlsim.WriteTestPKI(t.TempDir(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	inst := startInstanceTLS(t, "STRICT", mssqlsim.TLSOptions{CertFile: pki.CertFile, KeyFile: pki.KeyFile, ForceStrict: true})
	c, err := Open(Config{Host: "localhost", Port: inst.srv.Port(), Username: "sa", Password: simPassword,
		Encrypt: EncryptStrict, CACertPEM: pki.CAPEM, ConnectTimeout: 5 * time.Second, MaxOpenConns: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	errs := make(chan error, 6)
	for range 6 {
		go func() {
			_, err := c.db.ExecContext(testContext(t), "WAITFOR DELAY '00:00:00.100'")
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatalf("strict connection: %v", err)
		}
	}
	if n := inst.srv.SessionCount(); n < 2 {
		t.Fatalf("%d sessions: the connections did not overlap", n)
	}
}
