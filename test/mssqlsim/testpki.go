package mssqlsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TestPKI is a throwaway certificate authority and one server certificate
// it signs, for tests and the demo: the CA goes where a client trusts it
// (spec.sqlServer.tls.caSecretRef), the certificate and key go to
// TLSOptions.CertFile and KeyFile.
type TestPKI struct {
	// CAPEM is the CA certificate (PEM), also written to CAFile.
	CAPEM []byte
	// CAFile is the CA's PEM file (named .pem, which go-mssqldb's
	// certificate parameter and FreeTDS's "ca file" read).
	CAFile string
	// CertFile and KeyFile are the PEM files of the server certificate and
	// its key.
	CertFile, KeyFile string
}

// WriteTestPKI generates a CA and a server certificate whose SANs are
// names (IP addresses become IP SANs), writes the certificate and key to
// dir as server.crt and server.key (the key readable by the owner only)
// and the CA to ca.pem.
func WriteTestPKI(dir string, names ...string) (TestPKI, error) {
	if len(names) == 0 {
		return TestPKI{}, errors.New("test PKI: at least one name is needed")
	}
	caKey, caCert, err := newTestCA()
	if err != nil {
		return TestPKI{}, fmt.Errorf("test PKI: CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return TestPKI{}, fmt.Errorf("test PKI: key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return TestPKI{}, fmt.Errorf("test PKI: server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return TestPKI{}, fmt.Errorf("test PKI: key: %w", err)
	}
	p := TestPKI{
		CAPEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}),
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "server.crt"),
		KeyFile:  filepath.Join(dir, "server.key"),
	}
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{p.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644},
		{p.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600},
		{p.CAFile, p.CAPEM, 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return TestPKI{}, fmt.Errorf("test PKI: %w", err)
		}
	}
	return p, nil
}

func newTestCA() (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mssqlsim test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}
