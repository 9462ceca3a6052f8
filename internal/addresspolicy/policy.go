// Package addresspolicy decides which member addresses an operator may connect to. A member's
// address receives probes and, for SQL Server groups, the group's login: whoever can create a
// FailoverGroup could otherwise point it at any host the operator can reach (the API server, a
// cloud metadata service) and have the operator send credentials there. The API server refuses
// link-local, metadata and unspecified addresses for every install; an installation can narrow the
// rest with an allow list of CIDRs and host-name suffixes (chart value memberAddresses.allow).
package addresspolicy

import (
	"fmt"
	"net/netip"
	"strings"
)

// Policy is an installation's allow list: one for every namespace, and optionally one per
// namespace that replaces it there. The zero Policy allows every address the API accepts.
type Policy struct {
	all         list
	byNamespace map[string]list
}

// list is one allow list; empty allows everything.
type list struct {
	prefixes []netip.Prefix
	suffixes []string
}

// Parse reads a list of entries: CIDRs ("10.0.0.0/8", "fd00::/8"), single IPs, or host-name
// suffixes (".db.example.com" allows every name under it, "db1.example.com" that name only). An
// entry "<namespace>=<entry>" applies to that namespace only, and a namespace with entries of its
// own uses only those.
func Parse(entries []string) (Policy, error) {
	var p Policy
	for _, e := range entries {
		e = strings.TrimSpace(strings.ToLower(e))
		target := &p.all
		if ns, rest, ok := strings.Cut(e, "="); ok {
			if ns == "" || rest == "" {
				return Policy{}, fmt.Errorf("member address allow list: %q: want <namespace>=<CIDR or host suffix>", e)
			}
			if p.byNamespace == nil {
				p.byNamespace = map[string]list{}
			}
			l := p.byNamespace[ns]
			if err := l.add(rest); err != nil {
				return Policy{}, err
			}
			p.byNamespace[ns] = l
			continue
		}
		if err := target.add(e); err != nil {
			return Policy{}, err
		}
	}
	return p, nil
}

func (p *list) add(e string) error {
	switch {
	case e == "":
	case strings.Contains(e, "/"):
		pr, err := netip.ParsePrefix(e)
		if err != nil {
			return fmt.Errorf("member address allow list: %q is not a CIDR: %w", e, err)
		}
		p.prefixes = append(p.prefixes, pr.Masked())
	default:
		if ip, err := netip.ParseAddr(e); err == nil {
			p.prefixes = append(p.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			return nil
		}
		p.suffixes = append(p.suffixes, strings.TrimSuffix(e, "."))
	}
	return nil
}

// Empty reports whether the policy allows everything everywhere.
func (p Policy) Empty() bool { return p.all.empty() && len(p.byNamespace) == 0 }

func (p list) empty() bool { return len(p.prefixes) == 0 && len(p.suffixes) == 0 }

// Allows reports whether a group in namespace may name host (an IP address or a name, as written in
// the spec). Names are matched as written, not resolved: an allow list of names trusts the
// cluster's DNS.
func (p Policy) Allows(namespace, host string) bool {
	if l, ok := p.byNamespace[strings.ToLower(namespace)]; ok {
		return l.allows(host)
	}
	return p.all.allows(host)
}

func (p list) allows(host string) bool {
	if p.empty() {
		return true
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		ip = ip.Unmap()
		for _, pr := range p.prefixes {
			if pr.Contains(ip) {
				return true
			}
		}
		return false
	}
	for _, s := range p.suffixes {
		if strings.HasPrefix(s, ".") && strings.HasSuffix(h, s) || h == strings.TrimPrefix(s, ".") && !strings.HasPrefix(s, ".") {
			return true
		}
	}
	return false
}
