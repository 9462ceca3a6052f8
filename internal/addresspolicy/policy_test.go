package addresspolicy

import "testing"

func TestAllows(t *testing.T) {
	p, err := Parse([]string{"10.0.0.0/8", "fd00::/8", "192.168.1.7", ".db.example.com", "sql1.corp.example"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"10.1.2.3", true},
		{"11.0.0.1", false},
		{"fd00::5", true},
		{"fe80::1", false},
		{"192.168.1.7", true},
		{"192.168.1.8", false},
		{"::ffff:10.0.0.1", true},
		{"a.db.example.com", true},
		{"A.DB.example.com.", true},
		{"db.example.com.evil.io", false},
		{"evildb.example.com", false},
		{"sql1.corp.example", true},
		{"x.sql1.corp.example", false},
		{"kubernetes.default.svc", false},
	}
	for _, tt := range tests {
		if got := p.Allows("shop", tt.host); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
	var empty Policy
	if !empty.Allows("shop", "anything.example") {
		t.Error("the empty policy must allow every address")
	}
}

func TestParseRefusesBadCIDR(t *testing.T) {
	if _, err := Parse([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("want an error for 10.0.0.0/33")
	}
}

func TestPerNamespaceLists(t *testing.T) {
	p, err := Parse([]string{"10.0.0.0/8", "team-a=192.168.0.0/16", "team-a=.a.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ns, host string
		want     bool
	}{
		{"team-b", "10.1.1.1", true},
		{"team-b", "192.168.1.1", false},
		{"team-a", "192.168.1.1", true},
		{"team-a", "db.a.example.com", true},
		{"team-a", "10.1.1.1", false}, // a namespace's own list replaces the default one
	}
	for _, tt := range tests {
		if got := p.Allows(tt.ns, tt.host); got != tt.want {
			t.Errorf("Allows(%q, %q) = %v, want %v", tt.ns, tt.host, got, tt.want)
		}
	}
	if _, err := Parse([]string{"=10.0.0.0/8"}); err == nil {
		t.Error("want an error for an entry without a namespace")
	}
}
