package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrTargetRefused matches (errors.Is) every *TargetRefusedError.
var ErrTargetRefused = errors.New("webhook target refused")

// TargetRefusedError is a delivery refused because the webhook's address
// (after DNS resolution) is one webhooks may not reach.
type TargetRefusedError struct {
	// Addr is the refused IP address, or invalid when a host name was
	// refused before resolution (Host).
	Addr netip.Addr
	Host string
	// Reason names the class: loopback, link-local, cloud metadata, ...
	Reason string
}

func (e *TargetRefusedError) Error() string {
	what := e.Host
	if e.Addr.IsValid() {
		what = e.Addr.String()
	}
	return fmt.Sprintf("webhook target %s refused: %s address", what, e.Reason)
}

// Is makes errors.Is(err, ErrTargetRefused) hold.
func (e *TargetRefusedError) Is(target error) bool { return target == ErrTargetRefused }

// Address classes refused unless AllowLocalTargets is set.
var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
	// metadataAddrs are cloud instance-metadata services outside
	// 169.254.0.0/16: AWS IPv6 and Alibaba Cloud.
	metadataAddrs = []netip.Addr{netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}
)

// targetPolicy decides which addresses webhooks may connect to.
type targetPolicy struct {
	allowLocal bool
	// apiServer are the Kubernetes API server's addresses (from
	// KUBERNETES_SERVICE_HOST), refused like local addresses.
	apiServer []netip.Addr
	// deny are always refused.
	deny []netip.Prefix
}

// newTargetPolicy builds the policy; the API server address comes from the
// in-cluster environment.
func newTargetPolicy(allowLocal bool, deny []netip.Prefix) targetPolicy {
	p := targetPolicy{allowLocal: allowLocal, deny: deny}
	if a, err := netip.ParseAddr(strings.Trim(os.Getenv("KUBERNETES_SERVICE_HOST"), "[]")); err == nil {
		p.apiServer = append(p.apiServer, a.Unmap())
	}
	return p
}

// check returns a *TargetRefusedError when ip may not be reached.
func (p targetPolicy) check(ip netip.Addr) error {
	ip = ip.WithZone("").Unmap()
	for _, prefix := range p.deny {
		if prefix.Contains(ip) {
			return &TargetRefusedError{Addr: ip, Reason: "denied (" + prefix.String() + ")"}
		}
	}
	if p.allowLocal {
		return nil
	}
	if reason := localReason(ip); reason != "" {
		return &TargetRefusedError{Addr: ip, Reason: reason}
	}
	if nat64.Contains(ip) { // 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
		b := ip.As16()
		if reason := localReason(netip.AddrFrom4([4]byte(b[12:]))); reason != "" {
			return &TargetRefusedError{Addr: ip, Reason: "NAT64-embedded " + reason}
		}
	}
	for _, a := range p.apiServer {
		if a == ip {
			return &TargetRefusedError{Addr: ip, Reason: "Kubernetes API server"}
		}
	}
	return nil
}

func localReason(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified() || ip.Is4() && thisNetwork.Contains(ip):
		return "unspecified"
	case ip == netip.AddrFrom4([4]byte{169, 254, 169, 254}):
		return "cloud metadata"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "link-local"
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return "cloud metadata"
		}
	}
	return ""
}

// checkURL refuses, before any connection, a URL whose host is an IP
// literal or "localhost" the policy refuses. It covers requests sent
// through a proxy, where the operator never dials the target itself.
func (p targetPolicy) checkURL(u *url.URL) error {
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.check(ip)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !p.allowLocal && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
		return &TargetRefusedError{Host: host, Reason: "loopback"}
	}
	return nil
}

// guardedDialer dials with the policy checked on the address actually
// connected to (a net.Dialer Control hook runs after DNS resolution, for
// every address tried), so DNS rebinding cannot get around it. Connections
// to the configured HTTP proxy are not checked: the administrator chose it.
type guardedDialer struct {
	policy  targetPolicy
	proxies sync.Map // host:port of proxies returned by proxy
	// proxyFunc chooses the proxy; http.ProxyFromEnvironment by default.
	proxyFunc func(*http.Request) (*url.URL, error)
}

func (g *guardedDialer) proxy(req *http.Request) (*url.URL, error) {
	u, err := g.proxyFunc(req)
	if u != nil {
		g.proxies.Store(proxyAddr(u), struct{}{})
	}
	return u, err
}

// proxyAddr is the host:port the transport dials for proxy u.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func (g *guardedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if _, isProxy := g.proxies.Load(addr); !isProxy {
		d.Control = g.control
	}
	return d.DialContext(ctx, network, addr)
}

func (g *guardedDialer) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &TargetRefusedError{Host: address, Reason: "unparsable"}
	}
	return g.policy.check(ap.Addr())
}

// maxResponseHeaderBytes caps a receiver's response headers.
const maxResponseHeaderBytes = 64 << 10

func newWebhookHTTPClient(policy targetPolicy) *http.Client {
	g := &guardedDialer{policy: policy, proxyFunc: http.ProxyFromEnvironment}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = g.proxy
	transport.DialContext = g.DialContext
	transport.MaxResponseHeaderBytes = maxResponseHeaderBytes
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
