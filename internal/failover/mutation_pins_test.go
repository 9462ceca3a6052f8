package failover

import (
	"testing"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// These tests pin rules that the other tests' cases left open: each was found by flipping one
// comparison or boolean operator (make mutate) and seeing no test fail.

func TestBestCandidateOrderPins(t *testing.T) {
	tests := []struct {
		name    string
		members []MemberView
		exclude string
		want    string
	}{
		{name: "candidate without a data position ranks after one with a position of equal priority",
			members: []MemberView{healthy("a", 100, 0), withPosition(healthy("b", 100, 1), 10)},
			want:    "b"},
		{name: "candidate with a data position ranks before one without, whatever the spec order",
			members: []MemberView{withPosition(healthy("a", 100, 0), 10), healthy("b", 100, 1)},
			want:    "a"},
		{name: "more data wins a priority tie even when the member with less comes first in spec order",
			members: []MemberView{withPosition(healthy("a", 100, 0), 70), withPosition(healthy("b", 100, 1), 50), withPosition(healthy("c", 100, 2), 90)},
			want:    "c"},
		{name: "the first of equal positions in spec order wins",
			members: []MemberView{withPosition(healthy("a", 100, 0), 50), withPosition(healthy("b", 100, 1), 50)},
			want:    "a"},
		{name: "candidates without a data position fall back to spec order",
			members: []MemberView{healthy("a", 100, 1), healthy("b", 100, 0)},
			want:    "b"},
		{name: "priority beats data position",
			members: []MemberView{withPosition(healthy("a", 100, 0), 90), healthy("b", 200, 1)},
			want:    "b"},
		{name: "the excluded member is never the candidate, even when it ranks first",
			members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)},
			exclude: "a", want: "b"},
		{name: "a member whose health is not known yet is not a candidate",
			members: []MemberView{{Name: "a", Priority: 200, Index: 0, Healthy: true}, healthy("b", 100, 1)},
			want:    "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := BestCandidate(tt.members, tt.exclude)
			if !ok || got.Name != tt.want {
				t.Fatalf("BestCandidate() = %q, %v; want %q", got.Name, ok, tt.want)
			}
		})
	}
}

func TestDecidePins(t *testing.T) {
	withFailback := auto()
	withFailback.Failback = v1alpha1.FailbackAutomatic
	servedJustNow := healthy("a", 200, 0)
	servedJustNow.HealthySince = t0.Add(-withFailback.FailbackDelay)
	tests := []decideCase{
		{name: "a Lease that does not exist has no holder, whatever its holder field says",
			in: Input{Members: []MemberView{healthy("a", 100, 0), healthy("b", 200, 1)},
				Lease: LeaseView{Exists: false, Holder: "a", RenewTime: t0, Duration: 8 * time.Second}, Policy: auto()},
			wantAction: ActionElect, wantTo: "b"},
		{name: "initial election does not wait for the detection window once every member has reported",
			in:         Input{Created: t0.Add(-time.Second), Members: []MemberView{healthy("a", 100, 0), down("b", 200, 1)}, Policy: auto()},
			wantAction: ActionElect, wantTo: "a"},
		{name: "failback happens the moment the failback delay is served",
			in:         Input{Members: []MemberView{servedJustNow, healthy("b", 100, 1)}, Lease: heldBy("b", time.Second), Policy: withFailback},
			wantAction: ActionFailback, wantFrom: "b", wantTo: "a"},
		{name: "no failback when the active member has the highest priority",
			in:          Input{Members: []MemberView{healthy("a", 50, 0), healthy("b", 100, 1)}, Lease: heldBy("b", 0), Policy: withFailback},
			wantAction:  ActionNone,
			wantRequeue: 8 * time.Second / 3},
		{name: "no failback to a member of equal priority, even one earlier in spec order",
			in:          Input{Members: []MemberView{healthy("a", 100, 0), healthy("b", 100, 1)}, Lease: heldBy("b", 0), Policy: withFailback},
			wantAction:  ActionNone,
			wantRequeue: 8 * time.Second / 3},
		{name: "no failback when no other member is a candidate",
			in:          Input{Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("b", 0), Policy: withFailback},
			wantAction:  ActionNone,
			wantRequeue: 8 * time.Second / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Now = t0
			if tt.in.Created.IsZero() {
				tt.in.Created = t0.Add(-time.Hour)
			}
			got := Decide(tt.in)
			if got.Action != tt.wantAction || got.From != tt.wantFrom || got.To != tt.wantTo {
				t.Fatalf("Decide() = %s %q->%q (%s), want %s %q->%q", got.Action, got.From, got.To, got.Message, tt.wantAction, tt.wantFrom, tt.wantTo)
			}
			if tt.wantRequeue != 0 && got.RequeueAfter != tt.wantRequeue {
				t.Errorf("RequeueAfter = %v, want %v", got.RequeueAfter, tt.wantRequeue)
			}
		})
	}
}

func TestLeaseExpiredPins(t *testing.T) {
	tests := []struct {
		name  string
		lease LeaseView
		want  bool
	}{
		{name: "a Lease without a holder may be taken at once",
			lease: LeaseView{Exists: true, RenewTime: t0, Duration: time.Minute}, want: true},
		{name: "a Lease that does not exist may be taken at once, whatever its holder field says",
			lease: LeaseView{Holder: "a", RenewTime: t0, Duration: time.Minute}, want: true},
		{name: "a held Lease within its duration may not be taken",
			lease: LeaseView{Exists: true, Holder: "a", RenewTime: t0, Duration: time.Minute}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lease.Expired(t0); got != tt.want {
				t.Fatalf("Expired = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReasonUnplannedPins(t *testing.T) {
	tests := []struct {
		name   string
		reason Reason
		want   bool
	}{
		{name: "an automatic failover is unplanned", reason: ReasonFailover, want: true},
		{name: "a forced failover is unplanned", reason: ReasonForced, want: true},
		{name: "a switchover is planned", reason: ReasonSwitchover, want: false},
		{name: "a failback is planned", reason: ReasonFailback, want: false},
		{name: "the initial election is planned", reason: ReasonInitialElection, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.reason.Unplanned(); got != tt.want {
				t.Fatalf("%s.Unplanned() = %v, want %v", tt.reason, got, tt.want)
			}
		})
	}
}

func TestTimerPins(t *testing.T) {
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{name: "soonest: a zero first timer means none, so the second one counts", got: soonest(0, 5*time.Second), want: 5 * time.Second},
		{name: "soonest: a zero second timer means none, so the first one counts", got: soonest(5*time.Second, 0), want: 5 * time.Second},
		{name: "soonest: the earlier of two timers", got: soonest(7*time.Second, 5*time.Second), want: 5 * time.Second},
		{name: "until: a time already past is one millisecond away", got: until(t0, t0.Add(-time.Second)), want: time.Millisecond},
		{name: "until: a time in the future is that far away", got: until(t0, t0.Add(2*time.Second)), want: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestSummarizePins(t *testing.T) {
	two := []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}
	tests := []struct {
		name    string
		in      Input
		s       SummaryInput
		typ     string
		want    bool
		reason  string
		message string
	}{
		{name: "a Lease that does not exist has no active member, whatever its holder field says",
			in:  Input{Members: two, Lease: LeaseView{Holder: "a", RenewTime: t0, Duration: 8 * time.Second}, Policy: auto()},
			typ: v1alpha1.ConditionAvailable, reason: v1alpha1.ReasonAvailableNoActiveMember, message: "no member holds the active role"},
		{name: "routing without notes: the Ready message ends with the member",
			in: Input{Members: two, Lease: heldBy("a", 0), Policy: auto()}, s: SummaryInput{Routing: &RoutingVerdict{}},
			typ: v1alpha1.ConditionReady, want: true, reason: v1alpha1.ReasonReadyActive, message: "member a is active and routing points at it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := find(Summarize(tt.in, tt.s).Conditions, tt.typ)
			if !ok || c.True != tt.want || c.Reason != tt.reason || c.Message != tt.message {
				t.Fatalf("%s = %+v (present %v), want True=%v %s %q", tt.typ, c, ok, tt.want, tt.reason, tt.message)
			}
		})
	}
}

func TestFailoverReadinessPins(t *testing.T) {
	downA := down("a", 200, 0)
	downA.Message = "connection refused"
	tests := []struct {
		name    string
		members []MemberView
		reason  string
		message string
	}{
		{name: "no member that cannot take over: the message lists none",
			members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)},
			reason:  v1alpha1.ReasonFailoverReadyCandidateReady,
			message: `if "a" failed now, "b" would be promoted: the only healthy member with priority above 0 (priority 100); data at risk: unknown`},
		{name: "the active member, down, is not listed among those that cannot take over",
			members: []MemberView{downA, healthy("b", 100, 1), down("c", 50, 2)},
			reason:  v1alpha1.ReasonFailoverReadyCandidateReady,
			message: `if "a" failed now, "b" would be promoted: the only healthy member with priority above 0 (priority 100); data at risk: unknown; not candidates: "c" down`},
		{name: "no candidate: the active member, down, is not listed either",
			members: []MemberView{downA, down("c", 50, 2)},
			reason:  v1alpha1.ReasonFailoverReadyNoCandidate,
			message: `if "a" failed now, no member could take over: "c" down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FailoverReadiness(Input{Members: tt.members, Lease: heldBy("a", 0), Policy: auto()})
			if got.Reason != tt.reason || got.Message != tt.message {
				t.Fatalf("FailoverReadiness() = %s %q,\nwant %s %q", got.Reason, got.Message, tt.reason, tt.message)
			}
		})
	}
}
