package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxProbeBodyBytes is how much of a probe response body is read before the
// connection is closed; the status code alone decides the result.
const maxProbeBodyBytes = 4 << 10

// HTTPChecker reports a member healthy when GET scheme://address/path answers
// with a 2xx or 3xx status within the Target's Timeout. Redirects are not
// followed (a 3xx is itself healthy), no proxy is used, and every probe opens
// a fresh connection. TLS certificates are verified unless the Target sets
// HTTPInsecureSkipVerify.
type HTTPChecker struct {
	verifying *http.Client
	insecure  *http.Client
}

// NewHTTPChecker returns an HTTPChecker ready for concurrent use.
func NewHTTPChecker() *HTTPChecker {
	return &HTTPChecker{
		verifying: newProbeHTTPClient(false),
		insecure:  newProbeHTTPClient(true),
	}
}

func newProbeHTTPClient(insecureSkipVerify bool) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:             nil, // members are probed directly, never through a proxy
			DialContext:       (&net.Dialer{}).DialContext,
			DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{
				MinVersion: tls.VersionTLS12,
				// Opt-in per Target (HTTPInsecureSkipVerify), documented there.
				InsecureSkipVerify: insecureSkipVerify, //nolint:gosec // explicit, documented option
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Check performs one GET against t.
func (c *HTTPChecker) Check(ctx context.Context, t Target) error {
	t = t.WithDefaults()
	target, err := probeURL(t)
	if err != nil {
		return fmt.Errorf("http probe %s: %w", t.Address, err)
	}
	where := describeURL(target)

	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return fmt.Errorf("http probe %s: %w", where, withoutURL(err))
	}
	req.Header.Set("User-Agent", "understudy-probe")

	client := c.verifying
	if t.HTTPInsecureSkipVerify {
		client = c.insecure
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("http probe %s: %w", where, withoutURL(err))
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBodyBytes))

	if resp.StatusCode < http.StatusOK || resp.StatusCode >= http.StatusBadRequest {
		return fmt.Errorf("http probe %s: unhealthy status %d", where, resp.StatusCode)
	}
	return nil
}

// probeURL builds the request URL from a defaulted Target.
func probeURL(t Target) (*url.URL, error) {
	if t.HTTPScheme != "http" && t.HTTPScheme != "https" {
		return nil, fmt.Errorf("unsupported scheme %q", t.HTTPScheme)
	}
	path := t.HTTPPath
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(t.HTTPScheme + "://" + t.Address + path)
	if err != nil {
		return nil, fmt.Errorf("invalid probe URL: %w", withoutURL(err))
	}
	return u, nil
}

// describeURL renders u for errors and logs without query or user info.
func describeURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// withoutURL strips the *url.Error wrapper, whose message repeats the full
// URL (including any query string), keeping the underlying cause.
func withoutURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
