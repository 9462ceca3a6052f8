package notify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

func TestTargetPolicy(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	tests := []struct {
		addr        string
		wantRefused string // the reason, "" when allowed by default
		denied      bool   // refused even with AllowLocalTargets (deny list 192.0.2.0/24)
	}{
		{"127.0.0.1", "loopback", false},
		{"127.3.2.1", "loopback", false},
		{"::1", "loopback", false},
		{"::ffff:127.0.0.1", "loopback", false},
		{"169.254.169.254", "cloud metadata", false},
		{"::ffff:169.254.169.254", "cloud metadata", false},
		{"169.254.10.20", "link-local", false},
		{"fe80::1", "link-local", false},
		{"fe80::1%eth0", "link-local", false},
		{"ff02::1", "link-local", false},
		{"0.0.0.0", "unspecified", false},
		{"0.1.2.3", "unspecified", false},
		{"::", "unspecified", false},
		{"fd00:ec2::254", "cloud metadata", false},
		{"100.100.100.200", "cloud metadata", false},
		{"64:ff9b::a9fe:a9fe", "NAT64-embedded cloud metadata", false},
		{"10.96.0.1", "Kubernetes API server", false},
		{"10.0.0.7", "", false},
		{"192.168.1.10", "", false},
		{"8.8.8.8", "", false},
		{"2001:db8::1", "", false},
		{"192.0.2.44", "denied (192.0.2.0/24)", true},
	}
	deny := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	strict, lenient := newTargetPolicy(false, deny), newTargetPolicy(true, deny)
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.addr)
			err := strict.check(ip)
			if tc.wantRefused == "" {
				if err != nil {
					t.Fatalf("refused by default: %v", err)
				}
			} else {
				var refused *TargetRefusedError
				if !errors.As(err, &refused) || refused.Reason != tc.wantRefused || !errors.Is(err, ErrTargetRefused) {
					t.Fatalf("check = %v, want refused as %q", err, tc.wantRefused)
				}
			}
			if err := lenient.check(ip); (err != nil) != tc.denied {
				t.Fatalf("with AllowLocalTargets: %v, want refused=%t", err, tc.denied)
			}
		})
	}
}

func TestTargetPolicyCheckURL(t *testing.T) {
	p := newTargetPolicy(false, nil)
	for raw, refused := range map[string]bool{
		"http://127.0.0.1:8080/x":         true,
		"http://[::1]/x":                  true,
		"http://169.254.169.254/latest":   true,
		"http://localhost:9000/":          true,
		"http://LOCALHOST./":              true,
		"http://api.localhost/":           true,
		"https://hooks.example.com/x":     false,
		"http://10.0.0.7:8080/notify":     false,
		"http://localhost.example.com/":   false,
		"http://metadata.google.internal": false, // a name: checked when dialed
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.checkURL(u); (err != nil) != refused {
			t.Errorf("checkURL(%s) = %v, want refused=%t", raw, err, refused)
		}
	}
	if err := newTargetPolicy(true, nil).checkURL(&url.URL{Scheme: "http", Host: "localhost"}); err != nil {
		t.Errorf("localhost with AllowLocalTargets: %v", err)
	}
}

// TestGuardedClientRefusesAtConnect exercises the dial hook alone (no
// check of the URL first): names are resolved (localhost via the hosts
// file) and the resolved address is refused, and nothing reaches the
// receiver.
func TestGuardedClientRefusesAtConnect(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	client := newWebhookHTTPClient(newTargetPolicy(false, nil))
	defer client.CloseIdleConnections()
	for _, raw := range []string{
		srv.URL + "/hook",
		"http://localhost:" + strconv.Itoa(port) + "/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]:" + strconv.Itoa(port) + "/hook",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, raw, nil)
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			_ = resp.Body.Close()
			t.Fatalf("%s: delivered, want refused", raw)
		}
		if !errors.Is(err, ErrTargetRefused) {
			t.Fatalf("%s: %v, want ErrTargetRefused", raw, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("receiver saw %d requests", n)
	}

	allowed := newWebhookHTTPClient(newTargetPolicy(true, nil))
	defer allowed.CloseIdleConnections()
	resp, err := allowed.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatalf("with AllowLocalTargets: %v", err)
	}
	_ = resp.Body.Close()
}

// TestGuardedClientAllowsConfiguredProxy: the operator's own proxy may be
// on loopback (a sidecar); only the webhook targets are checked.
func TestGuardedClientAllowsConfiguredProxy(t *testing.T) {
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.String())
		mu.Unlock()
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	g := &guardedDialer{policy: newTargetPolicy(false, nil), proxyFunc: http.ProxyURL(proxyURL)}
	transport := &http.Transport{Proxy: g.proxy, DialContext: g.DialContext}
	defer transport.CloseIdleConnections()
	resp, err := (&http.Client{Transport: transport}).Post("http://10.255.0.1/hook", "application/json", nil)
	if err != nil {
		t.Fatalf("through a loopback proxy: %v", err)
	}
	_ = resp.Body.Close()
	if len(proxied) != 1 || proxied[0] != "http://10.255.0.1/hook" {
		t.Fatalf("proxy saw %v", proxied)
	}
}

// logSink captures a logr logger's output.
type logSink struct {
	mu  sync.Mutex
	out strings.Builder
}

func (s *logSink) options(opts DispatcherOptions) DispatcherOptions {
	opts.Logger = funcr.New(func(prefix, args string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.out.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 10})
	return opts
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func TestDispatcherRefusesLocalTargets(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	port := strconv.Itoa(rcv.srv.Listener.Addr().(*net.TCPAddr).Port)
	const pathToken, queryToken = "P4TH-T0KEN", "QU3RY-T0KEN"
	suffix := "/hooks/" + pathToken + "?token=" + queryToken
	tests := []struct {
		url    string
		target string // the redacted form in the log
	}{
		{rcv.srv.URL + suffix, rcv.srv.URL},
		{"http://localhost:" + port + suffix, "http://localhost:" + port},
		{"http://[::1]:" + port + suffix, "http://[::1]:" + port},
		{"http://169.254.169.254" + suffix, "http://169.254.169.254"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			var logs logSink
			opts := logs.options(fastOptions(nil))
			opts.AllowLocalTargets = false
			d := NewDispatcher(opts)
			stop := runInBackground(t, d)
			d.Send([]Webhook{{URL: tc.url, Secret: []byte("k")}}, failover)
			eventually(t, "refusal", func() bool { return counterValue(t, d.metrics.deliveries, ResultRefused) == 1 })
			stop()
			out := logs.String()
			for _, leak := range []string{pathToken, queryToken, "/hooks"} {
				if strings.Contains(out, leak) {
					t.Errorf("log leaks %q:\n%s", leak, out)
				}
			}
			for _, want := range []string{"webhook target refused", `"` + tc.target + `"`} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
		})
	}
	if n := rcv.count(); n != 0 {
		t.Fatalf("receiver got %d requests, want none (refused, not retried)", n)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.example.com/services/T0/B0/XyZsecret?token=abc#frag": "https://hooks.example.com",
		"http://user:pass@10.0.0.7:8080/notify/tok?x=y":                     "http://10.0.0.7:8080",
		"https://[2001:db8::1]:8443/a":                                      "https://[2001:db8::1]:8443",
		"not a url":                                                         "<invalid URL>",
		"https://bad host/?token=abc":                                       "<invalid URL>",
	} {
		if got := redactURL(raw); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", raw, got, want)
		}
	}
	raw := "https://u:pw-secret@hooks.example.com/services/PATHSECRET?token=QSECRET"
	err := redactErr(&url.Error{Op: "Post", URL: raw, Err: errors.New("oops at /services/PATHSECRET?token=QSECRET by u:pw-secret")}, raw)
	for _, leak := range []string{"PATHSECRET", "QSECRET", "pw-secret"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("redactErr leaks %q: %v", leak, err)
		}
	}
}

func TestDispatcherSignsEveryAttemptWithOneDeliveryID(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	secret := []byte("retry-secret")
	d := NewDispatcher(fastOptions(nil))
	runInBackground(t, d)
	d.Send([]Webhook{{URL: rcv.srv.URL, Secret: secret}}, failover)
	eventually(t, "delivery", func() bool { return counterValue(t, d.metrics.deliveries, ResultSuccess) == 1 })
	reqs := rcv.received()
	if len(reqs) != 3 {
		t.Fatalf("%d attempts, want 3", len(reqs))
	}
	id := reqs[0].header.Get(DeliveryHeader)
	if len(id) != 32 {
		t.Fatalf("delivery ID %q, want 32 hex digits", id)
	}
	for i, r := range reqs {
		if got := r.header.Get(DeliveryHeader); got != id {
			t.Errorf("attempt %d: delivery %q, want %q", i+1, got, id)
		}
		if err := Verify(secret, r.header, r.body, time.Now(), 0); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
		if !strings.HasPrefix(r.header.Get(SignatureHeader), "v1=") || r.header.Get(TimestampHeader) == "" {
			t.Errorf("attempt %d headers: %v", i+1, r.header)
		}
	}
}

func TestDispatcherUnsignedStillStamped(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	d := NewDispatcher(fastOptions(nil))
	runInBackground(t, d)
	d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	eventually(t, "delivery", func() bool { return rcv.count() == 1 })
	h := rcv.received()[0].header
	if h.Get(SignatureHeader) != "" || h.Get(TimestampHeader) == "" || h.Get(DeliveryHeader) == "" {
		t.Fatalf("headers %v: want timestamp and delivery, no signature", h)
	}
}

func TestDispatcherDropsOversizedPayload(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	opts := fastOptions(nil)
	opts.MaxPayloadBytes = 512
	d := NewDispatcher(opts)
	runInBackground(t, d)
	big := failover
	big.Reason = strings.Repeat("x", 600)
	d.Send([]Webhook{{URL: rcv.srv.URL}}, big)
	if got := counterValue(t, d.metrics.dropped, DropPayloadTooLarge); got != 1 {
		t.Fatalf("dropped{payload_too_large} = %v, want 1", got)
	}
	d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	eventually(t, "small event delivered", func() bool { return rcv.count() == 1 })
}

// endlessBody is a response body that never ends, counting what is read.
type endlessBody struct {
	read   atomic.Int64
	closed atomic.Bool
}

func (b *endlessBody) Read(p []byte) (int, error) {
	b.read.Add(int64(len(p)))
	return len(p), nil
}

func (b *endlessBody) Close() error { b.closed.Store(true); return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDispatcherCapsResponseBody(t *testing.T) {
	body := &endlessBody{}
	opts := fastOptions(nil)
	opts.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		return &http.Response{StatusCode: http.StatusOK, Body: body, Header: http.Header{}, Request: r}, nil
	})}
	d := NewDispatcher(opts)
	runInBackground(t, d)
	d.Send([]Webhook{{URL: "https://hooks.example.com/x"}}, failover)
	eventually(t, "delivery", func() bool { return counterValue(t, d.metrics.deliveries, ResultSuccess) == 1 })
	if n := body.read.Load(); n > maxResponseBytes+32<<10 || !body.closed.Load() {
		t.Fatalf("read %d bytes of an endless body (cap %d), closed=%t", n, maxResponseBytes, body.closed.Load())
	}
}
