package probe

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Kind selects the Checker used for a Target.
type Kind string

// Kinds of health check known to the operator.
const (
	KindTCP       Kind = "TCP"
	KindHTTP      Kind = "HTTP"
	KindSQLServer Kind = "SQLServer"
)

// Defaults applied by [Target.WithDefaults].
const (
	DefaultTimeout    = time.Second
	DefaultHTTPPath   = "/"
	DefaultHTTPScheme = "http"
)

// Target is what to probe for one member.
type Target struct {
	// Kind selects the checker.
	Kind Kind
	// Address is "host:port".
	Address string
	// HTTPPath is the request path for HTTP probes; default "/".
	HTTPPath string
	// HTTPScheme is "http" (default) or "https".
	HTTPScheme string
	// HTTPInsecureSkipVerify disables TLS certificate verification for https
	// probes. Off by default; only for members whose certificate cannot be
	// verified (e.g. self-signed and issued for a name other than the address).
	HTTPInsecureSkipVerify bool
	// Timeout bounds one probe; default DefaultTimeout.
	Timeout time.Duration
}

// WithDefaults returns t with zero fields replaced by their defaults.
func (t Target) WithDefaults() Target {
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	if t.Kind == KindHTTP {
		if t.HTTPPath == "" {
			t.HTTPPath = DefaultHTTPPath
		}
		if t.HTTPScheme == "" {
			t.HTTPScheme = DefaultHTTPScheme
		}
		t.HTTPScheme = strings.ToLower(t.HTTPScheme)
	}
	return t
}

// Validate reports whether t can be probed (after defaults are applied).
func (t Target) Validate() error {
	if t.Kind == "" {
		return errors.New("target kind is empty")
	}
	host, port, err := net.SplitHostPort(t.Address)
	if err != nil {
		return fmt.Errorf("target address %q: %w", t.Address, err)
	}
	if host == "" || port == "" {
		return fmt.Errorf("target address %q: want host:port", t.Address)
	}
	if t.Kind == KindHTTP {
		switch strings.ToLower(t.HTTPScheme) {
		case "", "http", "https":
		default:
			return fmt.Errorf("target scheme %q: want http or https", t.HTTPScheme)
		}
	}
	return nil
}

// sameEndpoint reports whether t and other probe the same thing; when it is
// false, health observed for t says nothing about other.
func (t Target) sameEndpoint(other Target) bool {
	return t.Kind == other.Kind && t.Address == other.Address
}
