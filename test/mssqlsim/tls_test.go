package mssqlsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPreloginAnswer(t *testing.T) {
	plain := &tlsState{}
	forced := &tlsState{opts: TLSOptions{ForceEncryption: true}}
	tests := []struct {
		name           string
		state          *tlsState
		client         byte
		want           byte
		wantDisconnect bool
	}{
		// MS-TDS 2.2.6.5: the server's answer by client value and server setting.
		{"no TLS, client off", nil, encryptOff, encryptNotSup, false},
		{"no TLS, client on", nil, encryptOn, encryptNotSup, false},
		{"no TLS, client not sup", nil, encryptNotSup, encryptNotSup, false},
		{"offered, client off: login only", plain, encryptOff, encryptOff, false},
		{"offered, client on", plain, encryptOn, encryptOn, false},
		{"offered, client req", plain, encryptReq, encryptOn, false},
		{"offered, client not sup: plaintext", plain, encryptNotSup, encryptNotSup, false},
		{"forced, client off: whole session", forced, encryptOff, encryptReq, false},
		{"forced, client on", forced, encryptOn, encryptOn, false},
		{"forced, client not sup: disconnected", forced, encryptNotSup, encryptReq, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, disconnect := tc.state.preloginAnswer(tc.client)
			if got != tc.want || disconnect != tc.wantDisconnect {
				t.Fatalf("preloginAnswer(%#x) = %#x, disconnect %t; want %#x, %t", tc.client, got, disconnect, tc.want, tc.wantDisconnect)
			}
		})
	}
}

func TestTLSOptionsValidation(t *testing.T) {
	dir := t.TempDir()
	pki, err := WriteTestPKI(dir, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	bad := []TLSOptions{
		{Disabled: true, ForceEncryption: true},
		{Disabled: true, CertFile: pki.CertFile, KeyFile: pki.KeyFile},
		{CertFile: pki.CertFile},
		{CertFile: filepath.Join(dir, "missing.crt"), KeyFile: pki.KeyFile},
	}
	for _, opts := range bad {
		if _, err := Start(Options{DataDir: t.TempDir(), TLS: opts}); err == nil {
			t.Errorf("Start with TLS %+v succeeded, want an error", opts)
		}
	}
}

func TestSelfSignedCertificateLikeSQLServer(t *testing.T) {
	srv := startSimTLS(t, TLSOptions{})
	cert := srv.Certificate()
	if cert == nil {
		t.Fatal("no certificate although TLS is on by default")
	}
	if cert.Subject.CommonName != selfSignedCommonName || len(cert.DNSNames)+len(cert.IPAddresses) != 0 {
		t.Fatalf("certificate subject %q SANs %v %v, want CN=%s and no SAN", cert.Subject, cert.DNSNames, cert.IPAddresses, selfSignedCommonName)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil || cert.Issuer.String() != cert.Subject.String() {
		t.Fatalf("not self-signed: %v", err)
	}
	if disabled := startSimTLS(t, TLSOptions{Disabled: true}); disabled.Certificate() != nil {
		t.Fatal("certificate with TLS disabled")
	}
}

// TestDriverAgainstServerSettings connects go-mssqldb with each encrypt
// setting to each server setting and checks, on the bytes the tap saw,
// whether the login and the session went encrypted.
func TestDriverAgainstServerSettings(t *testing.T) {
	dir := t.TempDir()
	pki, err := WriteTestPKI(dir, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	caFile := pki.CAFile
	files := TLSOptions{CertFile: pki.CertFile, KeyFile: pki.KeyFile}
	forced := files
	forced.ForceEncryption = true
	strictOnly := files
	strictOnly.ForceStrict = true
	verify := url.Values{"certificate": {caFile}, "hostnameincertificate": {"localhost"}}
	const (
		fails = iota
		plaintext
		loginOnly
		encrypted
	)
	tests := []struct {
		name    string
		server  TLSOptions
		encrypt string
		extra   url.Values
		want    int
	}{
		{"self-signed/disable", TLSOptions{}, "disable", nil, plaintext},
		{"self-signed/false verifying", TLSOptions{}, "false", nil, fails},
		{"self-signed/false trusting", TLSOptions{}, "false", url.Values{"trustservercertificate": {"true"}}, loginOnly},
		{"self-signed/true trusting", TLSOptions{}, "true", url.Values{"trustservercertificate": {"true"}}, encrypted},
		{"self-signed/strict", TLSOptions{}, "strict", url.Values{"trustservercertificate": {"true"}}, fails},
		{"files/false with CA", files, "false", verify, loginOnly},
		{"files/true with CA", files, "true", verify, encrypted},
		{"files/strict with CA", files, "strict", verify, encrypted},
		{"files/true wrong name", files, "true", url.Values{"certificate": {caFile}, "hostnameincertificate": {"other.example"}}, fails},
		{"forced/disable", forced, "disable", nil, fails},
		{"forced/false with CA", forced, "false", verify, encrypted},
		{"strict only/true", strictOnly, "true", verify, fails},
		{"strict only/strict", strictOnly, "strict", verify, encrypted},
		{"no TLS/disable", TLSOptions{Disabled: true}, "disable", nil, plaintext},
		// The driver itself sends the login in clear to a server that cannot
		// encrypt (the operator's PRELOGIN guard refuses this).
		{"no TLS/false", TLSOptions{Disabled: true}, "false", nil, plaintext},
		{"no TLS/true", TLSOptions{Disabled: true}, "true", nil, fails},
		{"no TLS/strict", TLSOptions{Disabled: true}, "strict", verify, fails},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSimTLS(t, tc.server)
			tap, err := StartTap(srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tap.Close() })
			q := url.Values{"encrypt": {tc.encrypt}, "dial timeout": {"5"}}
			for k, v := range tc.extra {
				q[k] = v
			}
			u := url.URL{Scheme: "sqlserver", User: url.UserPassword("sa", testPassword), Host: tap.Addr(), RawQuery: q.Encode()}
			const marker = "Wire-Marker-4711"
			err = queryMarker(u.String(), marker)
			if (err != nil) != (tc.want == fails) {
				t.Fatalf("query: %v, want failure %t", err, tc.want == fails)
			}
			_ = tap.Close()
			loginClear := bytes.Contains(tap.FromClient(), obfuscatePassword(stringToUCS2(testPassword)))
			sessionClear := bytes.Contains(tap.FromServer(), stringToUCS2(marker))
			if loginClear != (tc.want == plaintext) {
				t.Errorf("obfuscated password on the wire: %t, want %t", loginClear, tc.want == plaintext)
			}
			if tc.want != fails && sessionClear != (tc.want != encrypted) {
				t.Errorf("query result in clear on the wire: %t, want %t", sessionClear, tc.want != encrypted)
			}
		})
	}
}

func TestStrictNeedsALPN(t *testing.T) {
	dir := t.TempDir()
	pki, err := WriteTestPKI(dir, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv := startSimTLS(t, TLSOptions{CertFile: pki.CertFile, KeyFile: pki.KeyFile})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.CAPEM)
	for _, protos := range [][]string{nil, {"h2"}} {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: protos}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := d.DialContext(ctx, "tcp", srv.Addr())
		if err == nil {
			// Without ALPN the handshake may complete; the server then closes.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = conn.Read(make([]byte, 1))
			_ = conn.Close()
		}
		cancel()
		if err == nil {
			t.Errorf("ALPN %v: connection kept open, want it refused", protos)
		}
	}
}

func queryMarker(dsn, marker string) error {
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got string
	if err := db.QueryRowContext(ctx, "SELECT '"+marker+"'").Scan(&got); err != nil {
		return err
	}
	if !strings.Contains(got, marker) {
		return fmt.Errorf("query returned %q, want %q", got, marker)
	}
	return nil
}

func startSimTLS(t *testing.T, opts TLSOptions) *Server {
	t.Helper()
	srv, err := Start(Options{DataDir: t.TempDir(), SAPassword: testPassword, InstanceName: "SIMTLS", TLS: opts})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}
