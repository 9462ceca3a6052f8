package failover

import (
	"reflect"
	"testing"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

func fenced(m MemberView, rejoining bool) MemberView {
	m.Fenced, m.Rejoining = true, rejoining
	return m
}

func TestRejoinState(t *testing.T) {
	tests := []struct {
		name string
		m    MemberView
		want Rejoin
	}{
		{"never failed over away from", healthy("a", 100, 0), RejoinNotFenced},
		{"fenced and down", fenced(down("a", 100, 0), true), RejoinWaitingForHealth},
		{"fenced, down, data already a standby copy: still waits for health", fenced(down("a", 100, 0), false), RejoinWaitingForHealth},
		{"fenced, healthy, data diverged: salvage and reseed", fenced(healthy("a", 100, 0), true), RejoinCatchingUp},
		{"fenced, healthy, data a standby copy: rejoined", fenced(healthy("a", 100, 0), false), RejoinDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.RejoinState(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	const (
		A = v1alpha1.RoleActive
		S = v1alpha1.RoleStandby
		F = v1alpha1.RoleFenced
		D = v1alpha1.RoleDisabled
	)
	step := func(from, to string, reason Reason, s v1alpha1.FailoverStep) *Progress {
		return &Progress{From: from, To: to, Reason: reason, Step: s}
	}
	three := []MemberView{healthy("a", 200, 0), healthy("b", 100, 1), healthy("c", 0, 2)}
	tests := []struct {
		name         string
		members      []MemberView
		holder       string
		p            *Progress
		wantRoles    map[string]v1alpha1.MemberRole
		wantReadable map[string]bool
	}{
		{"the holder is active, the others standby, priority 0 disabled", three, "a", nil,
			map[string]v1alpha1.MemberRole{"a": A, "b": S, "c": D}, map[string]bool{"a": false, "b": true, "c": true}},
		{"nobody holds the Lease: all standby", three, "", nil,
			map[string]v1alpha1.MemberRole{"a": S, "b": S, "c": D}, map[string]bool{"a": true, "b": true, "c": true}},
		{"a down standby is not readable", []MemberView{healthy("a", 200, 0), down("b", 100, 1)}, "a", nil,
			map[string]v1alpha1.MemberRole{"a": A, "b": S}, map[string]bool{"a": false, "b": false}},
		{"fenced step: nobody active, the old member fenced, even the Lease holder", three, "a", step("a", "b", ReasonFailover, v1alpha1.StepFenced),
			map[string]v1alpha1.MemberRole{"a": F, "b": S, "c": D}, map[string]bool{"a": false, "b": true, "c": true}},
		{"Lease taken: the new holder is not active before the route step", three, "b", step("a", "b", ReasonSwitchover, v1alpha1.StepLeaseTaken),
			map[string]v1alpha1.MemberRole{"a": F, "b": S, "c": D}, map[string]bool{"a": false, "b": true, "c": true}},
		{"route step of a failover: the old member stays fenced", three, "b", step("a", "b", ReasonFailover, v1alpha1.StepRouted),
			map[string]v1alpha1.MemberRole{"a": F, "b": A, "c": D}, map[string]bool{"a": false, "b": false, "c": true}},
		{"route step of a forced failover: the old member stays fenced (the bug issue 13 named)", three, "b", step("a", "b", ReasonForced, v1alpha1.StepRouted),
			map[string]v1alpha1.MemberRole{"a": F, "b": A, "c": D}, map[string]bool{"a": false, "b": false, "c": true}},
		{"route step of a switchover: the old member is a standby at once", three, "b", step("a", "b", ReasonSwitchover, v1alpha1.StepRouted),
			map[string]v1alpha1.MemberRole{"a": S, "b": A, "c": D}, map[string]bool{"a": true, "b": false, "c": true}},
		{"route step of a failback: planned, the old member is a standby", three, "a", step("b", "a", ReasonFailback, v1alpha1.StepRouted),
			map[string]v1alpha1.MemberRole{"a": A, "b": S, "c": D}, map[string]bool{"a": false, "b": true, "c": true}},
		{"initial election, route step: the elected member is active", three, "a", step("", "a", ReasonInitialElection, v1alpha1.StepRouted),
			map[string]v1alpha1.MemberRole{"a": A, "b": S, "c": D}, map[string]bool{"a": false, "b": true, "c": true}},
		{"a fenced member stays fenced while down", []MemberView{fenced(down("a", 200, 0), false), healthy("b", 100, 1)}, "b", nil,
			map[string]v1alpha1.MemberRole{"a": F, "b": A}, map[string]bool{"a": false, "b": false}},
		{"a fenced member stays fenced while its data is not a standby copy", []MemberView{fenced(healthy("a", 200, 0), true), healthy("b", 100, 1)}, "b", nil,
			map[string]v1alpha1.MemberRole{"a": F, "b": A}, map[string]bool{"a": false, "b": false}},
		{"a fenced member that rejoined is a standby, readable", []MemberView{fenced(healthy("a", 200, 0), false), healthy("b", 100, 1)}, "b", nil,
			map[string]v1alpha1.MemberRole{"a": S, "b": A}, map[string]bool{"a": true, "b": false}},
		{"a rejoining member stays fenced while another failover runs", []MemberView{fenced(healthy("a", 200, 0), true), healthy("b", 100, 1), healthy("c", 50, 2)}, "b",
			step("b", "c", ReasonSwitchover, v1alpha1.StepFenced),
			map[string]v1alpha1.MemberRole{"a": F, "b": F, "c": S}, map[string]bool{"a": false, "b": false, "c": true}},
		{"a fenced member with priority 0 that rejoined is disabled", []MemberView{fenced(healthy("a", 0, 0), false), healthy("b", 100, 1)}, "b", nil,
			map[string]v1alpha1.MemberRole{"a": D, "b": A}, map[string]bool{"a": true, "b": false}},
		{"a holder that is no member leaves everyone standby", three, "x", nil,
			map[string]v1alpha1.MemberRole{"a": S, "b": S, "c": D}, map[string]bool{"a": true, "b": true, "c": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Roles(tt.members, tt.holder, tt.p)
			if !reflect.DeepEqual(got.Roles, tt.wantRoles) {
				t.Errorf("roles: got %v, want %v", got.Roles, tt.wantRoles)
			}
			if !reflect.DeepEqual(got.Readable, tt.wantReadable) {
				t.Errorf("readable: got %v, want %v", got.Readable, tt.wantReadable)
			}
		})
	}
}

func TestReasonUnplanned(t *testing.T) {
	for r, want := range map[Reason]bool{ReasonFailover: true, ReasonForced: true,
		ReasonSwitchover: false, ReasonFailback: false, ReasonInitialElection: false} {
		if r.Unplanned() != want {
			t.Errorf("%s.Unplanned() = %v, want %v", r, !want, want)
		}
	}
}
