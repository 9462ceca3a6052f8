package failover

import (
	"math/big"
	"strings"
	"testing"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

func behind(m MemberView, d time.Duration, pos int64) MemberView {
	m.DataBehind = &d
	m.Position = big.NewInt(pos)
	return m
}

func TestFailoverReadiness(t *testing.T) {
	limit := func(d time.Duration) Policy { p := auto(); p.MaxDataLoss = &d; return p }
	manual := auto()
	manual.Mode = v1alpha1.FailoverManual
	paused := auto()
	paused.Paused = true
	downC := down("c", 300, 2)
	downC.Message = "connection refused"

	tests := []struct {
		name          string
		in            Input
		wantReady     bool
		wantReason    string
		wantCandidate string
		wantBlocked   bool
		wantAtRisk    string // "" for nil
		wantMessage   []string
	}{
		{"the only other healthy member",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "b", false, "",
			[]string{`if "a" failed now, "b" would be promoted: the only healthy member with priority above 0 (priority 100); data at risk: unknown`}},
		{"highest priority wins, the others are named with why not",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1), downC, healthy("d", 0, 3), healthy("e", 150, 4)},
				Lease: heldBy("a", 0), Policy: auto()},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "e", false, "",
			[]string{`highest priority (150; next "b" has 100)`, `not candidates: "c" down (connection refused); "d" priority 0 (disabled)`}},
		{"priority tie: more data wins",
			Input{Members: []MemberView{healthy("a", 200, 0), behind(healthy("b", 100, 1), 3*time.Second, 10), behind(healthy("c", 100, 2), time.Second, 20)},
				Lease: heldBy("a", 0), Policy: auto()},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "c", false, "1s",
			[]string{`priority 100 like "b", and more data (position 20, "b" has 10)`, "data at risk: 1s"}},
		{"priority tie: a known position beats an unknown one",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1), behind(healthy("c", 100, 2), 2*time.Second, 5)},
				Lease: heldBy("a", 0), Policy: auto()},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "c", false, "2s",
			[]string{`priority 100 like "b", and a known data position ("b"'s is unknown)`}},
		{"full tie: first in spec.members",
			Input{Members: []MemberView{healthy("a", 200, 0), behind(healthy("b", 100, 1), 0, 7), behind(healthy("c", 100, 2), 0, 7)},
				Lease: heldBy("a", 0), Policy: auto()},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "b", false, "0s",
			[]string{`priority 100 and data position like "c", and first in spec.members`}},
		{"data at risk is rounded to whole seconds",
			Input{Members: []MemberView{healthy("a", 200, 0), behind(healthy("b", 100, 1), 4600*time.Millisecond, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "b", false, "5s", []string{"data at risk: 5s"}},
		{"further behind than maxDataLoss: blocked",
			Input{Members: []MemberView{healthy("a", 200, 0), behind(healthy("b", 100, 1), 90*time.Second, 1)}, Lease: heldBy("a", 0), Policy: limit(time.Minute)},
			false, v1alpha1.ReasonFailoverReadyMaxDataLossExceeded, "b", true, "1m30s",
			[]string{`"b" is 1m30s behind, more than maxDataLoss 1m0s: the failover would be refused`}},
		{"within maxDataLoss: ready",
			Input{Members: []MemberView{healthy("a", 200, 0), behind(healthy("b", 100, 1), 30*time.Second, 1)}, Lease: heldBy("a", 0), Policy: limit(time.Minute)},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "b", false, "30s", nil},
		{"maxDataLoss 0s and an unknown position: blocked",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: limit(0)},
			false, v1alpha1.ReasonFailoverReadyMaxDataLossExceeded, "b", true, "", []string{"has no known data position and maxDataLoss is 0s"}},
		{"the blocked best candidate is reported, not a worse one that would pass",
			Input{Members: []MemberView{healthy("a", 200, 0), behind(healthy("b", 100, 1), 90*time.Second, 1), behind(healthy("c", 50, 2), 0, 9)},
				Lease: heldBy("a", 0), Policy: limit(time.Minute)},
			false, v1alpha1.ReasonFailoverReadyMaxDataLossExceeded, "b", true, "1m30s", nil},
		{"nobody else healthy: no candidate, with every member's reason",
			Input{Members: []MemberView{healthy("a", 200, 0), downC, unknown("u", 100, 3), fenced(healthy("f", 100, 4), true)}, Lease: heldBy("a", 0), Policy: auto()},
			false, v1alpha1.ReasonFailoverReadyNoCandidate, "", false, "",
			[]string{`if "a" failed now, no member could take over: "c" down (connection refused); "u" not probed yet; "f" rejoining after a failover`}},
		{"Manual mode: not ready, but the candidate is named",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: manual},
			false, v1alpha1.ReasonFailoverReadyManualMode, "b", false, "", []string{"failover mode is Manual", `"b" would be promoted`}},
		{"paused",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: paused},
			false, v1alpha1.ReasonFailoverReadyPaused, "b", false, "", []string{"the group is paused"}},
		{"no active member",
			Input{Members: []MemberView{healthy("a", 200, 0)}, Policy: auto()},
			false, v1alpha1.ReasonFailoverReadyNoActiveMember, "", false, "", []string{"no member holds the active role"}},
		{"a Lease held by a name that is no member counts as no active member",
			Input{Members: []MemberView{healthy("a", 200, 0)}, Lease: heldBy("gone", 0), Policy: auto()},
			false, v1alpha1.ReasonFailoverReadyNoActiveMember, "", false, "", nil},
		{"failover in progress: its target is the candidate",
			Input{Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(),
				InProgress: &Progress{From: "a", To: "b", Reason: ReasonFailover, Step: v1alpha1.StepFenced}},
			false, v1alpha1.ReasonFailoverReadyFailoverInProgress, "b", false, "", []string{`Failover from "a" to "b" in progress (step Fenced)`}},
		{"the active member down already: the same answer (what Decide will do)",
			Input{Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			true, v1alpha1.ReasonFailoverReadyCandidateReady, "b", false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FailoverReadiness(tt.in)
			if got.Ready != tt.wantReady || got.Reason != tt.wantReason || got.Candidate != tt.wantCandidate || got.BlockedByMaxDataLoss != tt.wantBlocked {
				t.Errorf("got ready=%v reason=%s candidate=%q blocked=%v, want %v %s %q %v (%s)",
					got.Ready, got.Reason, got.Candidate, got.BlockedByMaxDataLoss, tt.wantReady, tt.wantReason, tt.wantCandidate, tt.wantBlocked, got.Message)
			}
			atRisk := ""
			if got.DataAtRisk != nil {
				atRisk = got.DataAtRisk.String()
			}
			if atRisk != tt.wantAtRisk {
				t.Errorf("data at risk: got %q, want %q", atRisk, tt.wantAtRisk)
			}
			for _, w := range tt.wantMessage {
				if !strings.Contains(got.Message, w) {
					t.Errorf("message %q lacks %q", got.Message, w)
				}
			}
			if c := got.Condition(); c.Type != v1alpha1.ConditionFailoverReady || c.True != got.Ready || c.Reason != got.Reason {
				t.Errorf("condition %+v does not match", c)
			}
		})
	}
}

// The readiness must agree with Decide: when it names a ready candidate, Decide, once the active
// member is down and its Lease expired, fails over to that candidate; when it is blocked, Decide
// refuses.
func TestFailoverReadinessAgreesWithDecide(t *testing.T) {
	limit := time.Minute
	pol := auto()
	pol.MaxDataLoss = &limit
	cases := [][]MemberView{
		{healthy("a", 200, 0), healthy("b", 100, 1), healthy("c", 150, 2)},
		{healthy("a", 200, 0), behind(healthy("b", 100, 1), 10*time.Second, 10), behind(healthy("c", 100, 2), 20*time.Second, 30)},
		{healthy("a", 200, 0), behind(healthy("b", 100, 1), 2*time.Minute, 10)},
		{healthy("a", 200, 0), healthy("b", 100, 1), behind(healthy("c", 100, 2), time.Second, 3)},
		{healthy("a", 200, 0), fenced(healthy("b", 300, 1), true), healthy("c", 10, 2)},
	}
	for i, members := range cases {
		in := Input{Now: t0, Members: members, Lease: heldBy("a", 0), Policy: pol}
		r := FailoverReadiness(in)
		died := Input{Now: t0, Members: append([]MemberView{down("a", 200, 0)}, members[1:]...), Lease: heldBy("a", time.Minute), Policy: pol}
		d := Decide(died)
		switch {
		case r.Ready && (d.Action != ActionFailover || d.To != r.Candidate):
			t.Errorf("case %d: readiness says %q, Decide says %s to %q", i, r.Candidate, d.Action, d.To)
		case r.BlockedByMaxDataLoss && (d.Action != ActionFailoverRefused || d.To != r.Candidate):
			t.Errorf("case %d: readiness says blocked %q, Decide says %s to %q", i, r.Candidate, d.Action, d.To)
		}
	}
}
