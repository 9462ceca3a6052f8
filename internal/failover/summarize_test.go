package failover

import (
	"strings"
	"testing"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// conds renders conditions as "Type=True/False Reason" for comparison.
func conds(cs []Condition) string {
	var out []string
	for _, c := range cs {
		st := "False"
		if c.True {
			st = "True"
		}
		out = append(out, c.Type+"="+st+" "+c.Reason)
	}
	return strings.Join(out, ", ")
}

func find(cs []Condition, t string) (Condition, bool) {
	for _, c := range cs {
		if c.Type == t {
			return c, true
		}
	}
	return Condition{}, false
}

func TestSummarize(t *testing.T) {
	routed := &RoutingVerdict{}
	paused := auto()
	paused.Paused = true
	downA := down("a", 200, 0)
	downA.Message = "connection refused"
	tests := []struct {
		name      string
		in        Input
		s         SummaryInput
		wantPhase v1alpha1.Phase
		wantConds string
	}{
		{"healthy active member, routed",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNone}, Routing: routed},
			v1alpha1.PhaseActive,
			"Available=True ActiveMemberHealthy, Ready=True Active, Degraded=False AllMembersHealthy, FailoverRequired=False NotRequired, FailoverReady=True CandidateReady"},
		{"a standby down: Degraded, still Ready",
			Input{Members: []MemberView{healthy("a", 200, 0), down("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNone}, Routing: routed},
			v1alpha1.PhaseDegraded,
			"Available=True ActiveMemberHealthy, Ready=True Active, Degraded=True Degraded, FailoverRequired=False NotRequired, FailoverReady=False NoCandidate"},
		{"routing notes degrade and are told in Ready",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNone}, Routing: &RoutingVerdict{Notes: []string{"read-only Service has no endpoints"}}},
			v1alpha1.PhaseDegraded,
			"Available=True ActiveMemberHealthy, Ready=True Active, Degraded=True Degraded, FailoverRequired=False NotRequired, FailoverReady=True CandidateReady"},
		{"routing not ready: Ready False with its reason",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNone}, Routing: &RoutingVerdict{NotReadyReason: "RoutingConflict", NotReadyMessage: "Service x is not ours"}},
			v1alpha1.PhaseActive,
			"Available=True ActiveMemberHealthy, Ready=False RoutingConflict, Degraded=False AllMembersHealthy, FailoverRequired=False NotRequired, FailoverReady=True CandidateReady"},
		{"active member down: not Available, not Ready, Degraded",
			Input{Members: []MemberView{downA, healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNone}, Routing: routed},
			v1alpha1.PhaseDegraded,
			"Available=False ActiveMemberDown, Ready=False ActiveMemberDown, Degraded=True Degraded, FailoverRequired=False NotRequired, FailoverReady=True CandidateReady"},
		{"failover in progress: FailingOver, FailoverRequired left as it was",
			Input{Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(),
				InProgress: &Progress{From: "a", To: "b", Reason: ReasonFailover, Step: v1alpha1.StepFenced}},
			SummaryInput{Decision: &Decision{Action: ActionResume}},
			v1alpha1.PhaseFailingOver,
			"Available=False FailoverInProgress, Ready=False FailoverInProgress, Degraded=True Degraded, FailoverReady=False FailoverInProgress"},
		{"forced failover in progress is FailingOver too",
			Input{Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(),
				InProgress: &Progress{From: "a", To: "b", Reason: ReasonForced, Step: v1alpha1.StepLeaseTaken}},
			SummaryInput{}, v1alpha1.PhaseFailingOver,
			"Available=False FailoverInProgress, Ready=False FailoverInProgress, Degraded=True Degraded, FailoverReady=False FailoverInProgress"},
		{"switchover in progress",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(),
				InProgress: &Progress{From: "a", To: "b", Reason: ReasonSwitchover, Step: v1alpha1.StepStarted}},
			SummaryInput{}, v1alpha1.PhaseSwitchingOver,
			"Available=False FailoverInProgress, Ready=False FailoverInProgress, Degraded=False AllMembersHealthy, FailoverReady=False FailoverInProgress"},
		{"initial election in progress: Initializing",
			Input{Members: []MemberView{healthy("a", 200, 0)}, Policy: auto(),
				InProgress: &Progress{To: "a", Reason: ReasonInitialElection, Step: v1alpha1.StepStarted}},
			SummaryInput{}, v1alpha1.PhaseInitializing,
			"Available=False FailoverInProgress, Ready=False FailoverInProgress, Degraded=False AllMembersHealthy, FailoverReady=False FailoverInProgress"},
		{"no Lease yet: Initializing, RoutingPending not claimed since not Available",
			Input{Members: []MemberView{unknown("a", 200, 0)}, Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNone}}, v1alpha1.PhaseInitializing,
			"Available=False NoActiveMember, Ready=False NoActiveMember, Degraded=True Degraded, FailoverRequired=False NotRequired, FailoverReady=False NoActiveMember"},
		{"nobody can be elected: NoActive",
			Input{Members: []MemberView{down("a", 200, 0)}, Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNoCandidate, Message: "no healthy member with priority above 0"}}, v1alpha1.PhaseNoActive,
			"Available=False NoActiveMember, Ready=False NoActiveMember, Degraded=True Degraded, FailoverRequired=False NotRequired, FailoverReady=False NoActiveMember"},
		{"Manual mode, active down: FailoverRequired",
			Input{Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: Policy{Mode: v1alpha1.FailoverManual}},
			SummaryInput{Decision: &Decision{Action: ActionFailoverRequired, Message: "switch over by hand"}, Routing: routed}, v1alpha1.PhaseDegraded,
			"Available=False ActiveMemberDown, Ready=False ActiveMemberDown, Degraded=True Degraded, FailoverRequired=True FailoverRequired, FailoverReady=False ManualMode"},
		{"maxDataLoss refused: FailoverRequired with its reason",
			Input{Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionFailoverRefused, Message: "too far behind"}, Routing: routed}, v1alpha1.PhaseDegraded,
			"Available=False ActiveMemberDown, Ready=False ActiveMemberDown, Degraded=True Degraded, FailoverRequired=True MaxDataLossExceeded, FailoverReady=True CandidateReady"},
		{"paused: Paused whatever else",
			Input{Members: []MemberView{healthy("a", 200, 0), down("b", 100, 1)}, Lease: heldBy("a", 0), Policy: paused},
			SummaryInput{Decision: &Decision{Action: ActionNone}, Routing: routed}, v1alpha1.PhasePaused,
			"Available=True ActiveMemberHealthy, Ready=True Active, Degraded=True Degraded, FailoverRequired=False NotRequired, FailoverReady=False NoCandidate"},
		{"routing not looked at and a Ready verdict exists: Ready is kept",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{HasReady: true}, v1alpha1.PhaseActive,
			"Available=True ActiveMemberHealthy, Degraded=False AllMembersHealthy, FailoverReady=True CandidateReady"},
		{"routing not looked at and no Ready yet: RoutingPending",
			Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{}, v1alpha1.PhaseActive,
			"Available=True ActiveMemberHealthy, Ready=False RoutingPending, Degraded=False AllMembersHealthy, FailoverReady=True CandidateReady"},
		{"no candidate for an active member that is down: Degraded says so",
			Input{Members: []MemberView{down("a", 200, 0), down("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto()},
			SummaryInput{Decision: &Decision{Action: ActionNoCandidate, Message: "no other member is healthy"}, Routing: routed}, v1alpha1.PhaseDegraded,
			"Available=False ActiveMemberDown, Ready=False ActiveMemberDown, Degraded=True Degraded, FailoverRequired=False NotRequired, FailoverReady=False NoCandidate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.in, tt.s)
			if got.Phase != tt.wantPhase {
				t.Errorf("phase: got %s, want %s", got.Phase, tt.wantPhase)
			}
			if c := conds(got.Conditions); c != tt.wantConds {
				t.Errorf("conditions:\n got %s\nwant %s", c, tt.wantConds)
			}
		})
	}
}

func TestSummarizeMessages(t *testing.T) {
	downA := down("a", 200, 0)
	downA.Message = "connection refused"
	got := Summarize(Input{Members: []MemberView{downA, healthy("b", 100, 1), down("c", 50, 2)}, Lease: heldBy("a", 0), Policy: auto()},
		SummaryInput{Decision: &Decision{Action: ActionNone}, Routing: &RoutingVerdict{Notes: []string{"note 1"}}})
	want := map[string]string{
		v1alpha1.ConditionAvailable: "active member a is down: connection refused",
		v1alpha1.ConditionDegraded:  "members down: a, c; note 1",
	}
	for typ, msg := range want {
		if c, _ := find(got.Conditions, typ); c.Message != msg {
			t.Errorf("%s: got %q, want %q", typ, c.Message, msg)
		}
	}
	ok := Summarize(Input{Members: []MemberView{healthy("a", 200, 0)}, Lease: heldBy("a", 0), Policy: auto()},
		SummaryInput{Routing: &RoutingVerdict{Notes: []string{"n1", "n2"}}})
	if c, _ := find(ok.Conditions, v1alpha1.ConditionReady); c.Message != "member a is active and routing points at it; n1; n2" {
		t.Errorf("Ready message: %q", c.Message)
	}
	prog := Summarize(Input{Members: []MemberView{healthy("a", 200, 0), healthy("b", 1, 1)}, Lease: heldBy("a", 0), Policy: auto(),
		InProgress: &Progress{From: "a", To: "b", Reason: ReasonSwitchover, Step: v1alpha1.StepLeaseTaken}}, SummaryInput{})
	if c, _ := find(prog.Conditions, v1alpha1.ConditionReady); c.Message != "Switchover to b in progress (step LeaseTaken)" {
		t.Errorf("Ready message in progress: %q", c.Message)
	}
}

func TestSummarizeRoles(t *testing.T) {
	got := Summarize(Input{Members: []MemberView{healthy("a", 200, 0), unknown("b", 100, 1), unknown("c", 0, 2), fenced(unknown("d", 10, 3), true)},
		Lease: heldBy("a", 0), Policy: auto()}, SummaryInput{})
	want := map[string]v1alpha1.MemberRole{"a": v1alpha1.RoleActive, "b": v1alpha1.RoleUnknown, "c": v1alpha1.RoleDisabled, "d": v1alpha1.RoleFenced}
	for m, r := range want {
		if got.Roles[m] != r {
			t.Errorf("%s: got %s, want %s", m, got.Roles[m], r)
		}
	}
}

func TestSummarizeStandbyNotRestoring(t *testing.T) {
	recovered := down("b", 100, 1)
	recovered.Message = v1alpha1.ReasonDegradedStandbyNotRestoring + ": health check of b:1433 as Standby: database Sales is ONLINE"
	plainDown := down("c", 50, 2)
	plainDown.Message = "connection refused"
	tests := []struct {
		name    string
		members []MemberView
		reason  string
		message string
	}{
		{"a standby recovered by hand", []MemberView{healthy("a", 200, 0), recovered, plainDown}, v1alpha1.ReasonDegradedStandbyNotRestoring,
			"members down: b, c; databases not restoring on b (see the member's message)"},
		{"only a member down", []MemberView{healthy("a", 200, 0), plainDown}, v1alpha1.ReasonDegraded, "members down: c"},
		{"a member refused for TLS wins over a standby not restoring", []MemberView{healthy("a", 200, 0), recovered, func() MemberView {
			m := down("d", 10, 3)
			m.Message = v1alpha1.ReasonDegradedTLSRefused + ": SQL Server certificate not trusted: ..."
			return m
		}()}, v1alpha1.ReasonDegradedTLSRefused,
			"members down: b, d; connection refused for TLS on d (see the member's message and spec.sqlServer.tls); databases not restoring on b (see the member's message)"},
		// The reason is about members that are down: a healthy member's message is never read.
		{"a healthy member with such a message", []MemberView{healthy("a", 200, 0), func() MemberView {
			m := healthy("b", 100, 1)
			m.Message = recovered.Message
			return m
		}()}, v1alpha1.ReasonDegradedAllMembersHealthy, "every member is healthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(Input{Members: tt.members, Lease: heldBy("a", 0), Policy: auto()}, SummaryInput{Decision: &Decision{Action: ActionNone}})
			c, _ := find(got.Conditions, v1alpha1.ConditionDegraded)
			if c.Reason != tt.reason || c.Message != tt.message {
				t.Errorf("Degraded = %s %q, want %s %q", c.Reason, c.Message, tt.reason, tt.message)
			}
		})
	}
}
