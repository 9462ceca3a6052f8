package failover

import (
	"math/big"
	"testing"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func healthy(name string, prio int32, idx int) MemberView {
	return MemberView{Name: name, Priority: prio, Index: idx, Known: true, Healthy: true, HealthySince: t0.Add(-time.Hour)}
}

func down(name string, prio int32, idx int) MemberView {
	return MemberView{Name: name, Priority: prio, Index: idx, Known: true}
}

func unknown(name string, prio int32, idx int) MemberView {
	return MemberView{Name: name, Priority: prio, Index: idx}
}

func heldBy(holder string, renewedAgo time.Duration) LeaseView {
	return LeaseView{Exists: true, Holder: holder, RenewTime: t0.Add(-renewedAgo), Duration: 8 * time.Second}
}

func auto() Policy {
	return Policy{Mode: v1alpha1.FailoverAutomatic, Failback: v1alpha1.FailbackNever, FailbackDelay: 5 * time.Minute, DetectionWindow: 6 * time.Second}
}

type decideCase struct {
	name        string
	in          Input
	wantAction  Action
	wantFrom    string
	wantTo      string
	wantRenew   bool
	wantRequeue time.Duration
}

func TestDecide(t *testing.T) {
	withFailback := auto()
	withFailback.Failback = v1alpha1.FailbackAutomatic
	manual := auto()
	manual.Mode = v1alpha1.FailoverManual
	paused := auto()
	paused.Paused = true
	recentlyHealthy := healthy("a", 200, 0)
	recentlyHealthy.HealthySince = t0.Add(-time.Minute)

	tests := []decideCase{
		{name: "initial election picks the highest priority",
			in:         Input{Members: []MemberView{healthy("a", 100, 0), healthy("b", 200, 1)}, Policy: auto()},
			wantAction: ActionElect, wantTo: "b"},
		{name: "initial election skips unhealthy and priority 0",
			in:         Input{Members: []MemberView{healthy("a", 0, 0), down("b", 300, 1), healthy("c", 10, 2)}, Policy: auto()},
			wantAction: ActionElect, wantTo: "c"},
		{name: "priority 0 is never elected",
			in:         Input{Members: []MemberView{healthy("a", 0, 0), down("b", 10, 1)}, Policy: auto()},
			wantAction: ActionNoCandidate},
		{name: "initial election waits for first probes within the detection window",
			in:          Input{Created: t0.Add(-2 * time.Second), Members: []MemberView{healthy("a", 100, 0), unknown("b", 200, 1)}, Policy: auto()},
			wantAction:  ActionNone,
			wantRequeue: 4 * time.Second},
		{name: "initial election after the detection window uses what it knows",
			in:         Input{Created: t0.Add(-time.Minute), Members: []MemberView{healthy("a", 100, 0), unknown("b", 200, 1)}, Policy: auto()},
			wantAction: ActionElect, wantTo: "a"},
		{name: "paused group elects nobody",
			in:         Input{Members: []MemberView{healthy("a", 100, 0), healthy("b", 200, 1)}, Policy: paused},
			wantAction: ActionNone},
		{name: "ties broken by data position",
			in: Input{Members: []MemberView{
				withPosition(healthy("a", 100, 0), 50), withPosition(healthy("b", 100, 1), 70), healthy("c", 100, 2)}, Policy: auto()},
			wantAction: ActionElect, wantTo: "b"},
		{name: "then by order in members",
			in:         Input{Members: []MemberView{healthy("a", 100, 0), healthy("b", 100, 1)}, Policy: auto()},
			wantAction: ActionElect, wantTo: "a"},
		{name: "healthy holder renews when a third of the lease has passed",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", 3*time.Second), Policy: auto()},
			wantAction: ActionNone, wantRenew: true, wantRequeue: 8 * time.Second / 3},
		{name: "healthy holder does not renew early",
			in:          Input{Now: t0, Members: []MemberView{healthy("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", time.Second), Policy: auto()},
			wantAction:  ActionNone,
			wantRequeue: 8*time.Second/3 - time.Second},
		{name: "active down but lease not expired: wait until expiry",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", 5*time.Second), Policy: auto()},
			wantAction: ActionNone, wantFrom: "a", wantTo: "b",
			wantRequeue: 3 * time.Second},
		{name: "active down and lease expired: fail over",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", 8*time.Second), Policy: auto()},
			wantAction: ActionFailover, wantFrom: "a", wantTo: "b"},
		{name: "failover never picks priority 0",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), healthy("b", 0, 1)}, Lease: heldBy("a", time.Minute), Policy: auto()},
			wantAction: ActionNoCandidate, wantFrom: "a"},
		{name: "manual mode reports only",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", time.Minute), Policy: manual},
			wantAction: ActionFailoverRequired, wantFrom: "a", wantTo: "b"},
		{name: "paused reports only",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", time.Minute), Policy: paused},
			wantAction: ActionFailoverRequired, wantFrom: "a", wantTo: "b"},
		{name: "unknown active health waits",
			in:         Input{Now: t0, Members: []MemberView{unknown("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", time.Minute), Policy: auto()},
			wantAction: ActionNone},
		{name: "a holder that is no longer a member blocks until its lease expires",
			in:          Input{Now: t0, Members: []MemberView{healthy("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("gone", 6*time.Second), Policy: auto()},
			wantAction:  ActionNone,
			wantRequeue: 2 * time.Second},
		{name: "a holder that is no longer a member is replaced after expiry",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("gone", 9*time.Second), Policy: auto()},
			wantAction: ActionElect, wantTo: "a"},
		{name: "failover in progress resumes whatever else is true",
			in: Input{Now: t0, Members: []MemberView{healthy("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", time.Second), Policy: paused,
				InProgress: &Progress{From: "a", To: "b", Reason: ReasonFailover, Step: v1alpha1.StepFenced}},
			wantAction: ActionResume, wantFrom: "a", wantTo: "b"},
		{name: "failback after the delay",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("b", time.Second), Policy: withFailback},
			wantAction: ActionFailback, wantFrom: "b", wantTo: "a"},
		{name: "failback waits for the hold-down",
			in:          Input{Now: t0, Members: []MemberView{recentlyHealthy, healthy("b", 100, 1)}, Lease: heldBy("b", 0), Policy: withFailback},
			wantAction:  ActionNone,
			wantRequeue: 8 * time.Second / 3},
		{name: "no failback with policy Never",
			in:          Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("b", 0), Policy: auto()},
			wantAction:  ActionNone,
			wantRequeue: 8 * time.Second / 3},
		{name: "no failback to an unhealthy preferred member",
			in:          Input{Now: t0, Members: []MemberView{down("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("b", 0), Policy: withFailback},
			wantAction:  ActionNone,
			wantRequeue: 8 * time.Second / 3},
		{name: "switchover to a healthy standby",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(), SwitchoverTo: "b"},
			wantAction: ActionSwitchover, wantFrom: "a", wantTo: "b"},
		{name: "switchover to an unknown member is refused",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(), SwitchoverTo: "zz"},
			wantAction: ActionRefuseSwitchover, wantTo: "zz"},
		{name: "switchover to an unhealthy member is refused",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), down("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(), SwitchoverTo: "b"},
			wantAction: ActionRefuseSwitchover, wantTo: "b"},
		{name: "switchover to priority 0 is refused",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), healthy("b", 0, 1)}, Lease: heldBy("a", 0), Policy: auto(), SwitchoverTo: "b"},
			wantAction: ActionRefuseSwitchover, wantTo: "b"},
		{name: "switchover while paused is refused",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: paused, SwitchoverTo: "b"},
			wantAction: ActionRefuseSwitchover, wantTo: "b"},
		{name: "switchover to the active member is already done",
			in:         Input{Now: t0, Members: []MemberView{healthy("a", 200, 0), healthy("b", 100, 1)}, Lease: heldBy("a", 0), Policy: auto(), SwitchoverTo: "a"},
			wantAction: ActionSwitchoverDone, wantTo: "a"},
	}
	behind := func(m MemberView, d time.Duration) MemberView {
		m.DataBehind = &d
		return m
	}
	limited := auto()
	limited.MaxDataLoss = ptrDuration(5 * time.Minute)
	lossless := auto()
	lossless.MaxDataLoss = ptrDuration(0)
	tests = append(tests,
		decideCase{name: "candidate within maxDataLoss is promoted",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), behind(healthy("b", 50, 1), time.Minute)}, Lease: heldBy("a", time.Minute), Policy: limited},
			wantAction: ActionFailover, wantFrom: "a", wantTo: "b"},
		decideCase{name: "candidate beyond maxDataLoss is refused",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), behind(healthy("b", 50, 1), 10*time.Minute)}, Lease: heldBy("a", time.Minute), Policy: limited},
			wantAction: ActionFailoverRefused, wantFrom: "a", wantTo: "b"},
		decideCase{name: "force-failover annotation accepts the loss",
			in: Input{Now: t0, Members: []MemberView{down("a", 100, 0), behind(healthy("b", 50, 1), 10*time.Minute)}, Lease: heldBy("a", time.Minute), Policy: limited,
				ForceFailoverTo: "b"},
			wantAction: ActionFailover, wantFrom: "a", wantTo: "b"},
		decideCase{name: "unknown position within a positive maxDataLoss is promoted",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", time.Minute), Policy: limited},
			wantAction: ActionFailover, wantFrom: "a", wantTo: "b"},
		decideCase{name: "maxDataLoss 0s promotes a caught-up candidate",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), behind(healthy("b", 50, 1), 0)}, Lease: heldBy("a", time.Minute), Policy: lossless},
			wantAction: ActionFailover, wantFrom: "a", wantTo: "b"},
		decideCase{name: "maxDataLoss 0s refuses a candidate one second behind",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), behind(healthy("b", 50, 1), time.Second)}, Lease: heldBy("a", time.Minute), Policy: lossless},
			wantAction: ActionFailoverRefused, wantFrom: "a", wantTo: "b"},
		decideCase{name: "maxDataLoss 0s refuses a candidate with no known position",
			in:         Input{Now: t0, Members: []MemberView{down("a", 100, 0), healthy("b", 50, 1)}, Lease: heldBy("a", time.Minute), Policy: lossless},
			wantAction: ActionFailoverRefused, wantFrom: "a", wantTo: "b"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.Now.IsZero() {
				tt.in.Now = t0
			}
			if tt.in.Created.IsZero() {
				tt.in.Created = t0.Add(-time.Hour)
			}
			got := Decide(tt.in)
			if got.Action != tt.wantAction || got.From != tt.wantFrom || got.To != tt.wantTo {
				t.Fatalf("Decide() = %s %q->%q (%s), want %s %q->%q", got.Action, got.From, got.To, got.Message, tt.wantAction, tt.wantFrom, tt.wantTo)
			}
			if got.Renew != tt.wantRenew {
				t.Errorf("Renew = %v, want %v", got.Renew, tt.wantRenew)
			}
			if tt.wantRequeue != 0 && got.RequeueAfter != tt.wantRequeue {
				t.Errorf("RequeueAfter = %v, want %v", got.RequeueAfter, tt.wantRequeue)
			}
			if (got.Action == ActionRefuseSwitchover || got.Action == ActionFailoverRequired || got.Action == ActionNoCandidate) && got.Message == "" {
				t.Errorf("%s without a message", got.Action)
			}
		})
	}
}

func withPosition(m MemberView, pos int64) MemberView {
	m.Position = big.NewInt(pos)
	return m
}

func TestLeaseView(t *testing.T) {
	l := heldBy("a", 0)
	if l.Expired(t0.Add(7 * time.Second)) {
		t.Error("expired before renewTime + duration")
	}
	if !l.Expired(t0.Add(8 * time.Second)) {
		t.Error("not expired at renewTime + duration")
	}
	if !(LeaseView{}).Expired(t0) {
		t.Error("a missing lease must count as expired")
	}
	if got := l.RenewAt(); !got.Equal(t0.Add(8 * time.Second / 3)) {
		t.Errorf("RenewAt = %v", got)
	}
}

func ptrDuration(d time.Duration) *time.Duration { return &d }
