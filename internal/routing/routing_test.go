package routing

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/external-dns/endpoint"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

func TestRecordType(t *testing.T) {
	for target, want := range map[string]string{
		"10.0.0.1": RecordA, "203.0.113.10": RecordA, "2001:db8::1": RecordAAAA,
		"db1.example.com": RecordCNAME, "db1": RecordCNAME,
		// The type is decided on the value without its trailing dot.
		"127.0.0.3.": RecordA, "2001:db8::3.": RecordAAAA, "db1.example.com.": RecordCNAME,
		"::ffff:10.0.0.9": RecordA,
	} {
		if got := RecordType(target); got != want {
			t.Errorf("RecordType(%q) = %s, want %s", target, got, want)
		}
	}
}

func TestMemberTarget(t *testing.T) {
	addr := func(h string) *v1alpha1.MemberAddress { return &v1alpha1.MemberAddress{Host: h, Port: 1433} }
	tests := []struct {
		name   string
		m      v1alpha1.Member
		target string
		typ    string
	}{
		{"dnsTarget IPv4 with trailing dot", v1alpha1.Member{DNSTarget: "127.0.0.3."}, "127.0.0.3", RecordA},
		{"dnsTarget hostname with trailing dot", v1alpha1.Member{DNSTarget: "db1.example.com."}, "db1.example.com", RecordCNAME},
		{"dnsTarget IPv6", v1alpha1.Member{DNSTarget: "2001:db8::1"}, "2001:db8::1", RecordAAAA},
		{"dnsTarget wins over address", v1alpha1.Member{DNSTarget: "db1.example.com", Address: addr("10.0.0.1")}, "db1.example.com", RecordCNAME},
		{"address IPv4 when no dnsTarget", v1alpha1.Member{Address: addr("10.0.0.5")}, "10.0.0.5", RecordA},
		{"address IPv6 when no dnsTarget", v1alpha1.Member{Address: addr("2001:db8::5")}, "2001:db8::5", RecordAAAA},
		{"address hostname when no dnsTarget", v1alpha1.Member{Address: addr("sql-a.example.com")}, "sql-a.example.com", RecordCNAME},
		{"IPv4-mapped IPv6 published as IPv4", v1alpha1.Member{DNSTarget: "::ffff:10.0.0.9"}, "10.0.0.9", RecordA},
		{"neither", v1alpha1.Member{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, typ := MemberTarget(tt.m)
			if target != tt.target || typ != tt.typ {
				t.Errorf("MemberTarget = %q %q, want %q %q", target, typ, tt.target, tt.typ)
			}
		})
	}
}

func TestDNSEndpoints(t *testing.T) {
	dns := &v1alpha1.DNSRouting{Hostname: "sales.example.com", ReadOnlyHostname: "sales-ro.example.com", TTL: 30}
	ds1 := v1alpha1.Member{Name: "ds1", DNSTarget: "ds1.example.com"}
	ds2 := v1alpha1.Member{Name: "ds2", DNSTarget: "ds2.example.com"}
	ds3 := v1alpha1.Member{Name: "ds3", DNSTarget: "ds3.example.com."}
	ip1 := v1alpha1.Member{Name: "ip1", DNSTarget: "10.0.0.2"}
	ip2 := v1alpha1.Member{Name: "ip2", DNSTarget: "10.0.0.1"}
	dot := v1alpha1.Member{Name: "dot", DNSTarget: "127.0.0.3."}
	addr1 := v1alpha1.Member{Name: "addr1", Address: &v1alpha1.MemberAddress{Host: "10.0.1.1", Port: 1433}}
	addr2 := v1alpha1.Member{Name: "addr2", Address: &v1alpha1.MemberAddress{Host: "10.0.1.2", Port: 1433}}
	none := v1alpha1.Member{Name: "none"}

	tests := []struct {
		name     string
		active   *v1alpha1.Member
		readable []v1alpha1.Member
		want     []string // "name type ttl targets..."
	}{
		{"cname active and cname standby", &ds1, []v1alpha1.Member{ds2},
			[]string{"sales.example.com CNAME 30 [ds1.example.com]", "sales-ro.example.com CNAME 30 [ds2.example.com]"}},
		{"A records for every IP standby, sorted", &ds1, []v1alpha1.Member{ip1, ip2},
			[]string{"sales.example.com CNAME 30 [ds1.example.com]", "sales-ro.example.com A 30 [10.0.0.1 10.0.0.2]"}},
		{"A active", &ip1, nil, []string{"sales.example.com A 30 [10.0.0.2]"}},
		{"no active during a failover", nil, []v1alpha1.Member{ds2}, []string{"sales-ro.example.com CNAME 30 [ds2.example.com]"}},
		{"members without any target publish nothing", &none, []v1alpha1.Member{none}, nil},
		{"IPv4 dnsTarget with a trailing dot is an A record without the dot", &dot, nil,
			[]string{"sales.example.com A 30 [127.0.0.3]"}},
		{"hostname dnsTarget with a trailing dot", &ds3, nil, []string{"sales.example.com CNAME 30 [ds3.example.com]"}},
		{"address members without dnsTarget publish their address", &addr1, []v1alpha1.Member{addr2},
			[]string{"sales.example.com A 30 [10.0.1.1]", "sales-ro.example.com A 30 [10.0.1.2]"}},
		{"the active member is never a read-only target", &ds1, []v1alpha1.Member{ds1, ds2},
			[]string{"sales.example.com CNAME 30 [ds1.example.com]", "sales-ro.example.com CNAME 30 [ds2.example.com]"}},
		{"the active member is never among read-only addresses", &ip1, []v1alpha1.Member{ip1, ip2},
			[]string{"sales.example.com A 30 [10.0.0.2]", "sales-ro.example.com A 30 [10.0.0.1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, ep := range DNSEndpoints(dns, tt.active, tt.readable) {
				got = append(got, fmt.Sprintf("%s %s %d %v", ep.DNSName, ep.RecordType, ep.RecordTTL, []string(ep.Targets)))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if DNSEndpoints(nil, &ds1, nil) != nil {
		t.Error("records without spec.routing.dns")
	}
}

func TestKeepActiveRecord(t *testing.T) {
	dns := &v1alpha1.DNSRouting{Hostname: "Sales.example.com.", ReadOnlyHostname: "sales-ro.example.com", TTL: 30}
	old := endpoint.NewEndpointWithTTL("sales.example.com", RecordCNAME, 30, "ds1.example.com")
	oldRO := endpoint.NewEndpointWithTTL("sales-ro.example.com", RecordCNAME, 30, "ds1.example.com")
	newRO := endpoint.NewEndpointWithTTL("sales-ro.example.com", RecordCNAME, 30, "ds3.example.com")
	other := endpoint.NewEndpointWithTTL("other.example.com", RecordA, 30, "10.0.0.9")
	show := func(eps []*endpoint.Endpoint) []string {
		var out []string
		for _, ep := range eps {
			out = append(out, fmt.Sprintf("%s %s %v", ep.DNSName, ep.RecordType, []string(ep.Targets)))
		}
		return out
	}
	tests := []struct {
		name             string
		records, current []*endpoint.Endpoint
		want             []string
	}{
		{"the published active record stays while fenced, read-only follows the new records",
			[]*endpoint.Endpoint{newRO}, []*endpoint.Endpoint{old, oldRO},
			[]string{"sales.example.com CNAME [ds1.example.com]", "sales-ro.example.com CNAME [ds3.example.com]"}},
		{"no record published yet: none is made up", []*endpoint.Endpoint{newRO}, nil,
			[]string{"sales-ro.example.com CNAME [ds3.example.com]"}},
		{"a new active record is replaced by the published one", []*endpoint.Endpoint{
			endpoint.NewEndpointWithTTL("sales.example.com", RecordCNAME, 30, "ds2.example.com")}, []*endpoint.Endpoint{old},
			[]string{"sales.example.com CNAME [ds1.example.com]"}},
		{"only the hostname is kept, not other names published by hand", nil, []*endpoint.Endpoint{other, old, nil},
			[]string{"sales.example.com CNAME [ds1.example.com]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := show(KeepActiveRecord(dns, tt.records, tt.current)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := KeepActiveRecord(nil, []*endpoint.Endpoint{newRO}, []*endpoint.Endpoint{old}); len(got) != 1 || got[0] != newRO {
		t.Errorf("without spec.routing.dns the records are returned as they are: %v", show(got))
	}
}

func TestCheckDNS(t *testing.T) {
	dns := &v1alpha1.DNSRouting{Hostname: "sales.example.com"}
	host := func(n, t string) v1alpha1.Member { return v1alpha1.Member{Name: n, DNSTarget: t} }
	addr := func(n, h string) v1alpha1.Member {
		return v1alpha1.Member{Name: n, Address: &v1alpha1.MemberAddress{Host: h, Port: 1433}}
	}
	tests := []struct {
		name    string
		members []v1alpha1.Member
		wantErr string // substring; "" means accepted
	}{
		{"all hostnames", []v1alpha1.Member{host("a", "a.example.com"), host("b", "b.example.com.")}, ""},
		{"all IPv4", []v1alpha1.Member{host("a", "10.0.0.1"), addr("b", "10.0.0.2")}, ""},
		{"IPv4 and IPv6 (dual stack)", []v1alpha1.Member{host("a", "10.0.0.1"), host("b", "2001:db8::2")}, ""},
		{"IPv4 with a trailing dot and IPv4", []v1alpha1.Member{host("a", "127.0.0.3."), host("b", "10.0.0.2")}, ""},
		{"CNAME and A", []v1alpha1.Member{host("a", "a.example.com"), host("b", "10.0.0.2")},
			"members mix record types (CNAME for a, A/AAAA for b)"},
		{"CNAME from an address host and A", []v1alpha1.Member{addr("a", "sql-a.example.com"), host("b", "10.0.0.2")},
			"CNAME for a, A/AAAA for b"},
		{"a member without any target", []v1alpha1.Member{host("a", "a.example.com"), {Name: "pods"}},
			"member(s) pods have neither dnsTarget nor address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDNS(dns, tt.members)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if CheckDNS(nil, []v1alpha1.Member{{Name: "pods"}}) != nil {
		t.Error("no DNS routing, nothing to refuse")
	}
}

func TestHostnames(t *testing.T) {
	got := Hostnames(&v1alpha1.DNSRouting{Hostname: "DB.example.com.", ReadOnlyHostname: "db-ro.example.com"})
	if !reflect.DeepEqual(got, []string{"db.example.com", "db-ro.example.com"}) {
		t.Errorf("Hostnames = %v", got)
	}
	if Hostnames(nil) != nil {
		t.Error("Hostnames(nil)")
	}
}

func TestSelectors(t *testing.T) {
	m := v1alpha1.Member{Name: "a", PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "member": "a"}}}
	sel := ActiveSelector(m)
	if !reflect.DeepEqual(sel, map[string]string{"app": "web", "member": "a"}) {
		t.Errorf("ActiveSelector = %v", sel)
	}
	sel["app"] = "changed"
	if m.PodSelector.MatchLabels["app"] != "web" {
		t.Error("ActiveSelector must return a copy")
	}
	if ActiveSelector(v1alpha1.Member{Name: "ext"}) != nil {
		t.Error("a member without pods has no Service selector")
	}
	fenced := FencedSelector("web")
	if fenced[v1alpha1.LabelRole] == RoleLabelValue(v1alpha1.RoleActive) || fenced[v1alpha1.LabelRole] == RoleLabelValue(v1alpha1.RoleStandby) ||
		fenced[v1alpha1.LabelRole] == RoleLabelValue(v1alpha1.RoleFenced) {
		t.Errorf("FencedSelector %v could match a labelled pod", fenced)
	}
	labels := PodRoleLabels("web", "a", v1alpha1.RoleActive, false)
	if labels[v1alpha1.LabelRole] != "active" || labels[LabelReadable] != "false" || labels[v1alpha1.LabelMember] != "a" {
		t.Errorf("PodRoleLabels = %v", labels)
	}
	ro := ReadOnlySelector("web")
	if ro[LabelReadable] != "true" || ro[v1alpha1.LabelGroup] != "web" {
		t.Errorf("ReadOnlySelector = %v", ro)
	}
}

func TestServicePorts(t *testing.T) {
	got := ServicePorts([]v1alpha1.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}, {Port: 1433}})
	if got[0].TargetPort != intstr.FromInt32(8080) || got[1].TargetPort != intstr.FromInt32(1433) || got[1].Protocol != "TCP" {
		t.Errorf("ServicePorts = %+v", got)
	}
}
