package routing

import (
	"fmt"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

func TestRecordType(t *testing.T) {
	for target, want := range map[string]string{
		"10.0.0.1": RecordA, "203.0.113.10": RecordA, "2001:db8::1": RecordAAAA,
		"db1.example.com": RecordCNAME, "db1": RecordCNAME,
	} {
		if got := RecordType(target); got != want {
			t.Errorf("RecordType(%q) = %s, want %s", target, got, want)
		}
	}
}

func TestDNSEndpoints(t *testing.T) {
	dns := &v1alpha1.DNSRouting{Hostname: "sales.example.com", ReadOnlyHostname: "sales-ro.example.com", TTL: 30}
	ds1 := v1alpha1.Member{Name: "ds1", DNSTarget: "ds1.example.com"}
	ds2 := v1alpha1.Member{Name: "ds2", DNSTarget: "ds2.example.com"}
	ip1 := v1alpha1.Member{Name: "ip1", DNSTarget: "10.0.0.2"}
	ip2 := v1alpha1.Member{Name: "ip2", DNSTarget: "10.0.0.1"}
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
		{"members without dnsTarget publish nothing", &none, []v1alpha1.Member{none}, nil},
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
