package mssqlsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// TLSOptions configure the simulator's encryption the way mssql-conf
// configures SQL Server 2022 on Linux. The zero value is SQL Server's
// default: no certificate configured, so a self-signed one is generated at
// start, encryption offered but not forced, TDS 8 (strict, TLS first)
// accepted.
type TLSOptions struct {
	// Disabled makes the simulator a server that cannot encrypt: PRELOGIN
	// always answers ENCRYPT_NOT_SUP and a TLS-first (TDS 8) client is
	// disconnected. No SQL Server since 2005 behaves so; it exists only for
	// tests of clients facing such a server (the operator's PRELOGIN guard).
	Disabled bool
	// CertFile and KeyFile are PEM files of the server certificate (with its
	// chain) and its private key, as mssql-conf network.tlscert and
	// network.tlskey. Both empty: a self-signed certificate is generated at
	// every start (subject CN=SSL_Self_Signed_Fallback, no SAN), as SQL
	// Server does when none is configured; no client can verify it.
	CertFile, KeyFile string
	// ForceEncryption is mssql-conf network.forceencryption=1: PRELOGIN
	// answers ENCRYPT_REQ to clients offering login-only encryption (so the
	// whole session is encrypted) and to clients that cannot encrypt, which
	// are then disconnected.
	ForceEncryption bool
	// ForceStrict is SQL Server 2022's "Force Strict Encryption": only TDS 8
	// connections (TLS first, ALPN tds/8.0) are accepted; a connection
	// starting with a plaintext PRELOGIN is closed.
	ForceStrict bool
}

// alpnTDS8 is the ALPN protocol of TDS 8 (strict encryption).
const alpnTDS8 = "tds/8.0"

// selfSignedCommonName is the subject of the certificate SQL Server
// generates when none is configured.
const selfSignedCommonName = "SSL_Self_Signed_Fallback"

// tlsState is the certificate and settings a running server encrypts with.
type tlsState struct {
	opts TLSOptions
	cert tls.Certificate
	leaf *x509.Certificate
}

// newTLSState loads or generates the certificate; nil when TLS is disabled.
func newTLSState(opts TLSOptions) (*tlsState, error) {
	if opts.Disabled {
		if opts.CertFile != "" || opts.KeyFile != "" || opts.ForceEncryption || opts.ForceStrict {
			return nil, errors.New("TLS options: Disabled excludes CertFile, KeyFile, ForceEncryption and ForceStrict")
		}
		return nil, nil
	}
	var cert tls.Certificate
	var err error
	switch {
	case opts.CertFile == "" && opts.KeyFile == "":
		cert, err = selfSignedCertificate()
	case opts.CertFile == "" || opts.KeyFile == "":
		return nil, errors.New("TLS options: CertFile and KeyFile go together")
	default:
		cert, err = tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	cert.Leaf = leaf
	return &tlsState{opts: opts, cert: cert, leaf: leaf}, nil
}

// selfSignedCertificate makes a certificate like SQL Server's fallback one:
// self-signed, no SAN. (SQL Server uses RSA; ECDSA P-256 is used here
// because it is generated in microseconds and clients treat both alike.)
func selfSignedCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: selfSignedCommonName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// wrappedConfig is the TLS configuration of a handshake carried in TDS
// PRELOGIN packets (TDS 7.x). SQL Server offers TLS 1.3 only with TDS 8, so
// this handshake stops at TLS 1.2; session tickets are off so nothing is
// sent after the handshake outside the TDS framing.
func (t *tlsState) wrappedConfig() *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{t.cert},
		MinVersion:             tls.VersionTLS12,
		MaxVersion:             tls.VersionTLS12,
		SessionTicketsDisabled: true,
	}
}

// strictConfig is the TLS configuration of TDS 8: TLS before any TDS
// traffic, TLS 1.2 or 1.3, ALPN tds/8.0 (a client offering other protocols
// only is refused during the handshake).
func (t *tlsState) strictConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{t.cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{alpnTDS8},
	}
}

// preloginAnswer is the server's PRELOGIN ENCRYPTION value for the client's
// one (MS-TDS 2.2.6.5 table), and whether the server then disconnects.
// ENCRYPT_REQ (and any other value, such as go-mssqldb's 0x04 for strict)
// from the client is taken as ENCRYPT_ON.
func (t *tlsState) preloginAnswer(client byte) (answer byte, disconnect bool) {
	switch {
	case t == nil:
		return encryptNotSup, false // a client wanting encryption gives up itself
	case client == encryptNotSup && t.opts.ForceEncryption:
		return encryptReq, true
	case client == encryptNotSup:
		return encryptNotSup, false
	case client == encryptOff && t.opts.ForceEncryption:
		return encryptReq, false
	case client == encryptOff:
		return encryptOff, false
	}
	return encryptOn, false
}

// Certificate returns the server certificate, or nil when TLS is disabled.
// Tests use it to trust a generated self-signed certificate explicitly.
func (s *Server) Certificate() *x509.Certificate {
	if s.tls == nil {
		return nil
	}
	return s.tls.leaf
}
