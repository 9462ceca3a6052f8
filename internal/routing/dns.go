package routing

import (
	"net/netip"
	"sort"

	"sigs.k8s.io/external-dns/endpoint"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Record types ExternalDNS understands.
const (
	RecordA     = "A"
	RecordAAAA  = "AAAA"
	RecordCNAME = "CNAME"
)

// RecordType is A for an IPv4 address, AAAA for IPv6, CNAME for a hostname.
func RecordType(target string) string {
	addr, err := netip.ParseAddr(target)
	switch {
	case err != nil:
		return RecordCNAME
	case addr.Is4():
		return RecordA
	default:
		return RecordAAAA
	}
}

// DNSEndpoints are the records of a group: hostname -> the active member's dnsTarget, and
// readOnlyHostname -> the readable standbys' dnsTargets. A CNAME holds one target only, so for a
// read-only record of hostnames the first standby (in the order given) is used; addresses of one
// family are all published. Members without a dnsTarget are skipped; no record when none is left.
func DNSEndpoints(dns *v1alpha1.DNSRouting, active *v1alpha1.Member, readable []v1alpha1.Member) []*endpoint.Endpoint {
	if dns == nil {
		return nil
	}
	var out []*endpoint.Endpoint
	if active != nil && active.DNSTarget != "" {
		out = append(out, endpoint.NewEndpointWithTTL(dns.Hostname, RecordType(active.DNSTarget), endpoint.TTL(dns.TTL), active.DNSTarget))
	}
	if dns.ReadOnlyHostname != "" {
		if ep := readOnlyEndpoint(dns, readable); ep != nil {
			out = append(out, ep)
		}
	}
	return out
}

func readOnlyEndpoint(dns *v1alpha1.DNSRouting, readable []v1alpha1.Member) *endpoint.Endpoint {
	byType := map[string][]string{}
	var firstType string
	for _, m := range readable {
		if m.DNSTarget == "" {
			continue
		}
		t := RecordType(m.DNSTarget)
		if firstType == "" {
			firstType = t
		}
		byType[t] = append(byType[t], m.DNSTarget)
	}
	if firstType == "" {
		return nil
	}
	targets := byType[firstType]
	if firstType == RecordCNAME {
		targets = targets[:1]
	} else {
		sort.Strings(targets)
	}
	return endpoint.NewEndpointWithTTL(dns.ReadOnlyHostname, firstType, endpoint.TTL(dns.TTL), targets...)
}
