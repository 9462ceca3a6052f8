package controllers

import (
	"testing"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

func TestDataPosition(t *testing.T) {
	tests := []struct {
		name     string
		dbs      []v1alpha1.DatabasePosition
		want     int
		wantLSN  string
		wantLag  time.Duration
		wantNone bool
	}{
		{name: "lowest LSN and largest lag", want: 2, wantLSN: "42000000001200001", wantLag: 90 * time.Second,
			dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "99000000001200001", LagSeconds: 30}, {Name: "b", LSN: "42000000001200001", LagSeconds: 90}}},
		{name: "LSNs beyond int64", want: 1, wantLSN: "123456789012345678901234", wantLag: 0,
			dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "123456789012345678901234"}}},
		{name: "a database without position", want: 2, wantNone: true,
			dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "1"}}},
		{name: "an unparsable LSN", want: 1, wantNone: true, dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "x"}}},
		{name: "not a SQL group", want: 0, wantNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, lag := dataPosition(tt.dbs, tt.want)
			if tt.wantNone {
				if pos != nil || lag != nil {
					t.Fatalf("got %v %v, want none", pos, lag)
				}
				return
			}
			if pos == nil || pos.String() != tt.wantLSN || lag == nil || *lag != tt.wantLag {
				t.Fatalf("got %v %v, want %s %s", pos, lag, tt.wantLSN, tt.wantLag)
			}
		})
	}
}

func TestAwaitingRejoin(t *testing.T) {
	group := func(role v1alpha1.MemberRole, states ...string) *v1alpha1.FailoverGroup {
		g := &v1alpha1.FailoverGroup{}
		g.Spec.SQLServer = &v1alpha1.SQLServerSpec{Databases: []v1alpha1.DatabaseName{"a", "b"}}
		g.Spec.LogShipping = &v1alpha1.LogShippingSpec{}
		ms := v1alpha1.MemberStatus{Name: "ds1", Role: role}
		for i, s := range states {
			ms.Databases = append(ms.Databases, v1alpha1.DatabasePosition{Name: string(rune('a' + i)), State: s})
		}
		g.Status.Members = []v1alpha1.MemberStatus{ms}
		return g
	}
	tests := []struct {
		name string
		g    *v1alpha1.FailoverGroup
		want bool
	}{
		{"fenced, every database a standby", group(v1alpha1.RoleFenced, "RESTORING", "ONLINE (STANDBY)"), false},
		{"fenced, a database still online read-write", group(v1alpha1.RoleFenced, "RESTORING", "ONLINE"), true},
		{"fenced, a database read-only but not a standby", group(v1alpha1.RoleFenced, "RESTORING", "ONLINE (READ_ONLY)"), true},
		{"fenced, a database missing", group(v1alpha1.RoleFenced, "RESTORING", "MISSING"), true},
		{"fenced, a database without a recorded state", group(v1alpha1.RoleFenced, "RESTORING", ""), true},
		{"fenced, fewer databases than the spec", group(v1alpha1.RoleFenced, "RESTORING"), true},
		{"a standby", group(v1alpha1.RoleStandby, "ONLINE"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := awaitingRejoin(tt.g, "ds1"); got != tt.want {
				t.Errorf("awaitingRejoin = %v, want %v", got, tt.want)
			}
		})
	}
	g := group(v1alpha1.RoleFenced, "ONLINE", "ONLINE")
	g.Spec.LogShipping = nil
	if awaitingRejoin(g, "ds1") || awaitingRejoin(group(v1alpha1.RoleFenced), "other") {
		t.Error("a group without log shipping, or an unknown member, is not awaiting a rejoin")
	}
}
