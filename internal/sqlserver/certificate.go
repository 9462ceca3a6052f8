package sqlserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// certificateErrorText starts the message of every CertificateError. The
// driver formats a failed TDS 7.x TLS handshake with %v (go-mssqldb
// tds.go: "TLS Handshake failed: %v"), so the error's type is lost on that
// path and Classify recognises the text.
const certificateErrorText = "SQL Server certificate not trusted"

// ErrCertificateNotTrusted is the error (errors.Is) of a connection whose
// server certificate failed verification, where the driver keeps the
// error chain (TDS 8).
var ErrCertificateNotTrusted = errors.New(certificateErrorText)

// CertificateError is a server certificate that failed verification
// against the trusted CAs and the expected name. Its message names the
// settings that fix it.
type CertificateError struct {
	// Name is the name the certificate had to carry.
	Name string
	// Subject is the certificate's subject, for the message.
	Subject string
	// Err is the verification error.
	Err error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("%s: %q for name %q: %v; trust the CA that signs it with "+
		"spec.sqlServer.tls.caSecretRef (SQL Server's generated self-signed certificate cannot be trusted: "+
		"configure network.tlscert), and give it a DNS name the operator dials (members are dialed by their "+
		"stable DNS name; spec.sqlServer.tls.hostNameInCertificate overrides the name checked)",
		certificateErrorText, e.Subject, e.Name, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCertificateNotTrusted) hold.
func (e *CertificateError) Is(target error) bool { return target == ErrCertificateNotTrusted }

// isCertificateNotTrusted reports whether err is a failed verification of
// the server certificate, including one the driver flattened into text.
func isCertificateNotTrusted(err error) bool {
	return errors.Is(err, ErrCertificateNotTrusted) || strings.Contains(err.Error(), certificateErrorText)
}

// verifyServerCertificate returns a tls.Config.VerifyConnection that checks
// the chain against roots (nil: the system pool) and the leaf against name,
// as crypto/tls would, but fails with a *CertificateError.
func verifyServerCertificate(name string, roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &CertificateError{Name: name, Err: errors.New("the server sent no certificate")}
		}
		leaf := cs.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:       name,
			Roots:         roots,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return &CertificateError{Name: name, Subject: leaf.Subject.String(), Err: err}
		}
		return nil
	}
}
