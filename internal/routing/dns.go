package routing

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"sigs.k8s.io/external-dns/endpoint"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Record types ExternalDNS understands.
const (
	RecordA     = "A"
	RecordAAAA  = "AAAA"
	RecordCNAME = "CNAME"
)

// NormalizeTarget drops the trailing dot of a fully qualified target ("db.example.com." and
// "127.0.0.3." are written with one in zone files; ExternalDNS refuses an A target that has it).
func NormalizeTarget(target string) string {
	return strings.TrimSuffix(strings.TrimSpace(target), ".")
}

// RecordType is A for an IPv4 address, AAAA for IPv6, CNAME for a hostname. It is decided on the
// normalized target, so "127.0.0.3." is an A record.
func RecordType(target string) string {
	addr, err := netip.ParseAddr(NormalizeTarget(target))
	switch {
	case err != nil:
		return RecordCNAME
	case addr.Is4() || addr.Is4In6():
		return RecordA
	default:
		return RecordAAAA
	}
}

// MemberTarget is where a member's records point: its dnsTarget, else its address host, normalized;
// and the record type for it. Both are empty when the member has neither.
func MemberTarget(m v1alpha1.Member) (target, recordType string) {
	t := NormalizeTarget(m.DNSTarget)
	if t == "" && m.Address != nil {
		t = NormalizeTarget(m.Address.Host)
	}
	if t == "" {
		return "", ""
	}
	if addr, err := netip.ParseAddr(t); err == nil && addr.Is4In6() {
		t = addr.Unmap().String()
	}
	return t, RecordType(t)
}

// CheckDNS refuses DNS routing the operator cannot publish safely: a member without any target (its
// record would be empty, the name would not exist while it is active), or members whose targets
// need different kinds of record, a hostname (CNAME) for one and an IP address (A/AAAA) for another:
// a CNAME cannot share a name with other records, so ExternalDNS deletes the old record in one sync
// and creates the new one in the next, and the name does not resolve in between at every failover.
// A and AAAA may be mixed (dual stack).
func CheckDNS(dns *v1alpha1.DNSRouting, members []v1alpha1.Member) error {
	if dns == nil {
		return nil
	}
	var missing, cnames, addrs []string
	for _, m := range members {
		t, typ := MemberTarget(m)
		switch {
		case t == "":
			missing = append(missing, m.Name)
		case typ == RecordCNAME:
			cnames = append(cnames, m.Name)
		default:
			addrs = append(addrs, m.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("spec.routing.dns: member(s) %s have neither dnsTarget nor address: there is nothing to publish while they are active",
			strings.Join(missing, ", "))
	}
	if len(cnames) > 0 && len(addrs) > 0 {
		return fmt.Errorf("spec.routing.dns: members mix record types (CNAME for %s, A/AAAA for %s): the name would not resolve for "+
			"about one ExternalDNS sync at every failover between them; give every member a dnsTarget of the same kind "+
			"(all hostnames or all IP addresses)", strings.Join(cnames, ", "), strings.Join(addrs, ", "))
	}
	return nil
}

// Hostnames are the DNS names a group's records use.
func Hostnames(dns *v1alpha1.DNSRouting) []string {
	if dns == nil {
		return nil
	}
	out := []string{NormalizeHostname(dns.Hostname)}
	if dns.ReadOnlyHostname != "" {
		out = append(out, NormalizeHostname(dns.ReadOnlyHostname))
	}
	return out
}

// NormalizeHostname compares DNS names: lower case, without the trailing dot.
func NormalizeHostname(name string) string {
	return strings.ToLower(NormalizeTarget(name))
}

// DNSEndpoints are the records of a group: hostname -> the active member's target, and
// readOnlyHostname -> the readable standbys' targets (never the active member). A member's target
// is its dnsTarget, else its address host (see MemberTarget). A CNAME holds one target only, so for
// a read-only record of hostnames the first standby (in the order given) is used; addresses of one
// family are all published. No record when no target is left.
func DNSEndpoints(dns *v1alpha1.DNSRouting, active *v1alpha1.Member, readable []v1alpha1.Member) []*endpoint.Endpoint {
	if dns == nil {
		return nil
	}
	var out []*endpoint.Endpoint
	if active != nil {
		if t, typ := MemberTarget(*active); t != "" {
			out = append(out, endpoint.NewEndpointWithTTL(dns.Hostname, typ, endpoint.TTL(dns.TTL), t))
		}
	}
	if dns.ReadOnlyHostname != "" {
		var standbys []v1alpha1.Member
		for _, m := range readable {
			if active == nil || m.Name != active.Name {
				standbys = append(standbys, m)
			}
		}
		if ep := readOnlyEndpoint(dns, standbys); ep != nil {
			out = append(out, ep)
		}
	}
	return out
}

// KeepActiveRecord returns records with the hostname's record taken from current, the records
// published now: while the role moves (fenced, Lease taken, promoting) the name keeps answering with
// the old member until the route step replaces the answer in one update. Withdrawing it instead
// would make the name NXDOMAIN, which resolvers cache for the zone's negative TTL (RFC 2308), often
// far longer than the record's TTL. A name that had no record keeps none.
func KeepActiveRecord(dns *v1alpha1.DNSRouting, records, current []*endpoint.Endpoint) []*endpoint.Endpoint {
	if dns == nil {
		return records
	}
	name := NormalizeHostname(dns.Hostname)
	var out []*endpoint.Endpoint
	for _, ep := range current {
		if ep != nil && NormalizeHostname(ep.DNSName) == name {
			out = append(out, ep)
		}
	}
	for _, ep := range records {
		if ep != nil && NormalizeHostname(ep.DNSName) != name {
			out = append(out, ep)
		}
	}
	return out
}

func readOnlyEndpoint(dns *v1alpha1.DNSRouting, readable []v1alpha1.Member) *endpoint.Endpoint {
	byType := map[string][]string{}
	var firstType string
	for _, m := range readable {
		t, typ := MemberTarget(m)
		if t == "" {
			continue
		}
		if firstType == "" {
			firstType = typ
		}
		byType[typ] = append(byType[typ], t)
	}
	if firstType == "" {
		return nil
	}
	targets := byType[firstType]
	if firstType == RecordCNAME {
		targets = targets[:1]
	} else {
		sort.Strings(targets)
		targets = dedupSorted(targets)
	}
	return endpoint.NewEndpointWithTTL(dns.ReadOnlyHostname, firstType, endpoint.TTL(dns.TTL), targets...)
}

func dedupSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
