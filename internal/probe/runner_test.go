package probe

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

const testPeriod = time.Second

// newFakeClockRunner returns a Runner whose TCP probes are answered by the
// returned fakeChecker and whose periods follow the returned fake clock.
func newFakeClockRunner(maxConcurrent int) (*Runner, *clocktesting.FakeClock, *fakeChecker, *changeCounter, *Metrics) {
	clk := clocktesting.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	checker := newFakeChecker()
	changes := newChangeCounter()
	metrics := NewMetrics()
	r := NewRunner(RunnerOptions{
		Clock:                 clk,
		Checkers:              Registry{KindTCP: checker},
		Metrics:               metrics,
		MaxConcurrentPerGroup: maxConcurrent,
		OnChange:              changes.onChange,
	})
	return r, clk, checker, changes, metrics
}

func tcpMember(name, address string) MemberSpec {
	return MemberSpec{Name: name, Target: Target{Kind: KindTCP, Address: address}}
}

func TestRunnerAppliesThresholdsOnThePeriod(t *testing.T) {
	r, clk, checker, changes, metrics := newFakeClockRunner(0)
	const group = "ns/db"
	if err := r.Ensure(group, GroupSpec{
		Members: []MemberSpec{tcpMember("a", "a:1433")}, Period: testPeriod, FailureThreshold: 3, SuccessThreshold: 2,
	}); err != nil {
		t.Fatal(err)
	}
	runInBackground(t, r)
	waitParked(t, clk, 1)

	member := func() State { return r.Snapshot(group)["a"] }
	assertMember := func(step string, healthy bool, wantChanges int) {
		t.Helper()
		s := member()
		if !s.Known || s.Healthy != healthy {
			t.Fatalf("%s: state %+v, want known healthy=%v", step, s, healthy)
		}
		if got := changes.count(group); got != wantChanges {
			t.Fatalf("%s: OnChange called %d times, want %d", step, got, wantChanges)
		}
		wantGauge := 0.0
		if healthy {
			wantGauge = 1
		}
		if v, ok := gaugeValue(t, metrics, group, "a"); !ok || v != wantGauge {
			t.Fatalf("%s: member_healthy = %v (present %v), want %v", step, v, ok, wantGauge)
		}
		if !s.LastProbeTime.Equal(clk.Now()) {
			t.Fatalf("%s: LastProbeTime %v, want fake now %v", step, s.LastProbeTime, clk.Now())
		}
	}

	assertMember("first probe", true, 1)
	checker.setDown("a:1433", true)
	stepAndSettle(t, clk, testPeriod, 1)
	assertMember("1st failure", true, 1)
	stepAndSettle(t, clk, testPeriod, 1)
	assertMember("2nd failure", true, 1)
	stepAndSettle(t, clk, testPeriod, 1)
	assertMember("3rd failure", false, 2)
	if got := member().ConsecutiveFailures; got != 3 {
		t.Fatalf("ConsecutiveFailures = %d, want 3", got)
	}
	stepAndSettle(t, clk, testPeriod, 1)
	assertMember("4th failure", false, 2)

	checker.setDown("a:1433", false)
	stepAndSettle(t, clk, testPeriod, 1)
	assertMember("1st success", false, 2)
	stepAndSettle(t, clk, testPeriod, 1)
	assertMember("2nd success", true, 3)

	if got, want := checker.callCount("a:1433"), 7; got != want {
		t.Errorf("checker called %d times, want %d (one per period)", got, want)
	}
	if probeCount(t, metrics, KindTCP, resultFailure) != 4 || probeCount(t, metrics, KindTCP, resultSuccess) != 3 {
		t.Errorf("probe histogram counts: %d failures, %d successes; want 4, 3",
			probeCount(t, metrics, KindTCP, resultFailure), probeCount(t, metrics, KindTCP, resultSuccess))
	}
}

func TestRunnerEnsureUpdatesMembers(t *testing.T) {
	r, clk, checker, changes, metrics := newFakeClockRunner(0)
	const group = "ns/db"
	spec := GroupSpec{
		Members: []MemberSpec{tcpMember("a", "a:1"), tcpMember("b", "b:1"), tcpMember("c", "c:1")},
		Period:  testPeriod,
	}
	if err := r.Ensure(group, spec); err != nil {
		t.Fatal(err)
	}
	runInBackground(t, r)
	waitParked(t, clk, 3)
	stepAndSettle(t, clk, testPeriod, 3)
	stepAndSettle(t, clk, testPeriod, 3)
	loopOf := func(name string) *probeLoop {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.groups[group].members[name].loop
	}
	loopA, loopB := loopOf("a"), loopOf("b")

	t.Run("same spec is a no-op", func(t *testing.T) {
		if err := r.Ensure(group, spec); err != nil {
			t.Fatal(err)
		}
		if loopOf("a") != loopA || loopOf("b") != loopB {
			t.Fatal("Ensure with an unchanged spec restarted probe loops")
		}
		if s := r.Snapshot(group)["a"]; s.ConsecutiveSuccesses != 3 {
			t.Fatalf("member a state changed: %+v", s)
		}
	})

	t.Run("changed spec", func(t *testing.T) {
		changesBefore := changes.count(group)
		callsC := checker.callCount("c:1")
		changed := GroupSpec{
			Members: []MemberSpec{
				tcpMember("a", "a:1"), // unchanged
				tcpMember("b", "b:2"), // new address: starts over
				tcpMember("d", "d:1"), // added; c removed
			},
			Period: testPeriod, FailureThreshold: 1,
		}
		if err := r.Ensure(group, changed); err != nil {
			t.Fatal(err)
		}
		waitParked(t, clk, 3)

		snap := r.Snapshot(group)
		if _, ok := snap["c"]; ok || len(snap) != 3 {
			t.Fatalf("snapshot members = %v, want a, b, d", snap)
		}
		if loopOf("a") != loopA || snap["a"].ConsecutiveSuccesses != 3 {
			t.Errorf("unchanged member a was restarted or lost its state: %+v", snap["a"])
		}
		if loopOf("b") == loopB || snap["b"].ConsecutiveSuccesses != 1 || !snap["b"].Known {
			t.Errorf("member b with a new address kept its old state: %+v", snap["b"])
		}
		if !snap["d"].Known || !snap["d"].Healthy {
			t.Errorf("added member d was not probed: %+v", snap["d"])
		}
		if _, ok := gaugeValue(t, metrics, group, "c"); ok {
			t.Error("member_healthy series for removed member c still exists")
		}
		// b (reset, then known again) and d (new) each became known once.
		if got := changes.count(group) - changesBefore; got != 2 {
			t.Errorf("OnChange called %d times for the update, want 2", got)
		}

		stepAndSettle(t, clk, testPeriod, 3)
		if got := checker.callCount("c:1"); got != callsC {
			t.Errorf("removed member c was probed %d more times", got-callsC)
		}
		// The new failure threshold (1) applies to the kept member at once.
		checker.setDown("a:1", true)
		stepAndSettle(t, clk, testPeriod, 3)
		if s := r.Snapshot(group)["a"]; s.Healthy {
			t.Errorf("member a still healthy after one failure with FailureThreshold 1: %+v", s)
		}
	})

	t.Run("timeout change restarts the loop but keeps state", func(t *testing.T) {
		before := r.Snapshot(group)["d"]
		loopD := loopOf("d")
		slower := GroupSpec{
			Members: []MemberSpec{
				tcpMember("a", "a:1"), tcpMember("b", "b:2"),
				{Name: "d", Target: Target{Kind: KindTCP, Address: "d:1", Timeout: 5 * time.Second}},
			},
			Period: testPeriod, FailureThreshold: 1,
		}
		if err := r.Ensure(group, slower); err != nil {
			t.Fatal(err)
		}
		waitParked(t, clk, 3)
		after := r.Snapshot(group)["d"]
		if loopOf("d") == loopD {
			t.Error("member d's loop was not restarted for its new timeout")
		}
		if after.ConsecutiveSuccesses != before.ConsecutiveSuccesses+1 {
			t.Errorf("member d successes %d -> %d, want state kept plus one immediate probe",
				before.ConsecutiveSuccesses, after.ConsecutiveSuccesses)
		}
	})
}

func TestRunnerEnsureRejectsInvalidSpec(t *testing.T) {
	r, _, _, _, _ := newFakeClockRunner(0)
	const group = "ns/db"
	valid := GroupSpec{Members: []MemberSpec{tcpMember("a", "a:1")}}
	if err := r.Ensure(group, valid); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		members []MemberSpec
	}{
		{name: "empty member name", members: []MemberSpec{tcpMember("", "a:1")}},
		{name: "duplicate member name", members: []MemberSpec{tcpMember("a", "a:1"), tcpMember("a", "b:1")}},
		{name: "address without port", members: []MemberSpec{tcpMember("a", "a")}},
		{name: "kind without a registered checker", members: []MemberSpec{
			{Name: "a", Target: Target{Kind: KindSQLServer, Address: "a:1433"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Ensure(group, GroupSpec{Members: tt.members}); err == nil {
				t.Fatal("Ensure() accepted an invalid spec")
			}
			if snap := r.Snapshot(group); len(snap) != 1 {
				t.Fatalf("rejected spec changed the group: %v", snap)
			}
		})
	}
}

func TestRunnerMarkDown(t *testing.T) {
	r, clk, _, changes, metrics := newFakeClockRunner(0)
	const group = "ns/db"
	if err := r.Ensure(group, GroupSpec{
		Members: []MemberSpec{tcpMember("a", "a:1")}, Period: testPeriod, SuccessThreshold: 2,
	}); err != nil {
		t.Fatal(err)
	}
	runInBackground(t, r)
	waitParked(t, clk, 1)
	if s := r.Snapshot(group)["a"]; !s.Healthy || changes.count(group) != 1 {
		t.Fatalf("member not healthy before MarkDown: %+v", s)
	}

	if err := r.MarkDown(group, "a", "all pods NotReady"); err != nil {
		t.Fatal(err)
	}
	s := r.Snapshot(group)["a"]
	if s.Healthy || s.LastError != "all pods NotReady" {
		t.Fatalf("MarkDown did not take effect at once: %+v", s)
	}
	if got := changes.count(group); got != 2 {
		t.Fatalf("OnChange called %d times, want 2", got)
	}
	if v, ok := gaugeValue(t, metrics, group, "a"); !ok || v != 0 {
		t.Fatalf("member_healthy = %v (present %v), want 0", v, ok)
	}
	if err := r.MarkDown(group, "a", "still NotReady"); err != nil {
		t.Fatal(err)
	}
	if got := changes.count(group); got != 2 {
		t.Fatalf("repeated MarkDown called OnChange again (%d calls)", got)
	}

	stepAndSettle(t, clk, testPeriod, 1)
	if r.Snapshot(group)["a"].Healthy {
		t.Fatal("healthy after one success; SuccessThreshold is 2")
	}
	stepAndSettle(t, clk, testPeriod, 1)
	if !r.Snapshot(group)["a"].Healthy || changes.count(group) != 3 {
		t.Fatal("probes did not bring the member back after MarkDown")
	}

	for _, tt := range []struct{ group, member string }{{"ns/other", "a"}, {group, "zz"}} {
		if err := r.MarkDown(tt.group, tt.member, "x"); !errors.Is(err, ErrUnknownMember) {
			t.Errorf("MarkDown(%s, %s) = %v, want ErrUnknownMember", tt.group, tt.member, err)
		}
	}
}

func TestRunnerRemoveStopsProbing(t *testing.T) {
	r, clk, checker, _, metrics := newFakeClockRunner(0)
	for _, g := range []struct{ key, address string }{{"ns/gone", "gone:1"}, {"ns/kept", "kept:1"}} {
		if err := r.Ensure(g.key, GroupSpec{Members: []MemberSpec{tcpMember("m", g.address)}, Period: testPeriod}); err != nil {
			t.Fatal(err)
		}
	}
	runInBackground(t, r)
	waitParked(t, clk, 2)

	r.Remove("ns/gone")
	if n := clk.Waiters(); n != 1 {
		t.Fatalf("%d probe loops waiting after Remove, want only the kept group's", n)
	}
	callsGone, callsKept := checker.callCount("gone:1"), checker.callCount("kept:1")
	for range 3 {
		stepAndSettle(t, clk, testPeriod, 1)
	}
	if got := checker.callCount("gone:1"); got != callsGone {
		t.Errorf("removed group probed %d more times", got-callsGone)
	}
	if got := checker.callCount("kept:1"); got != callsKept+3 {
		t.Errorf("kept group probed %d more times, want 3", got-callsKept)
	}
	if snap := r.Snapshot("ns/gone"); snap != nil {
		t.Errorf("Snapshot of removed group = %v, want nil", snap)
	}
	if n := seriesCount(metrics.memberHealthy); n != 1 {
		t.Errorf("%d member_healthy series, want 1 (the kept group's)", n)
	}
	r.Remove("ns/gone") // removing twice is harmless
}

func TestRunnerBoundsConcurrentChecksPerGroup(t *testing.T) {
	const maxConcurrent, membersPerGroup = 2, 4
	var (
		mu       sync.Mutex
		inFlight = map[string]int{}
		maxSeen  = map[string]int{}
		calls    int
	)
	gate := make(chan struct{})
	groupOf := map[string]string{}
	blocking := CheckerFunc(func(ctx context.Context, t Target) error {
		g := groupOf[t.Address]
		mu.Lock()
		calls++
		inFlight[g]++
		maxSeen[g] = max(maxSeen[g], inFlight[g])
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight[g]--
			mu.Unlock()
		}()
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	clk := clocktesting.NewFakeClock(time.Now())
	r := NewRunner(RunnerOptions{Clock: clk, Checkers: Registry{KindTCP: blocking}, MaxConcurrentPerGroup: maxConcurrent})
	for _, key := range []string{"ns/g1", "ns/g2"} {
		var members []MemberSpec
		for i := range membersPerGroup {
			address := key[3:] + "-" + string(rune('a'+i)) + ":1"
			groupOf[address] = key
			members = append(members, tcpMember(address, address))
		}
		if err := r.Ensure(key, GroupSpec{Members: members, Period: time.Hour, FailureThreshold: 1}); err != nil {
			t.Fatal(err)
		}
	}
	runInBackground(t, r)

	totalInFlight := func() int {
		mu.Lock()
		defer mu.Unlock()
		return inFlight["ns/g1"] + inFlight["ns/g2"]
	}
	// The bound is per group: both groups reach it at the same time ...
	eventually(t, "both groups at their bound", func() bool { return totalInFlight() == 2*maxConcurrent })
	// ... and the waiting members do not get past it while checks are stuck.
	consistently(t, "no group exceeds its bound", 100*time.Millisecond, func() bool {
		return totalInFlight() <= 2*maxConcurrent
	})
	close(gate)
	waitParked(t, clk, 2*membersPerGroup)

	mu.Lock()
	defer mu.Unlock()
	if calls != 2*membersPerGroup {
		t.Errorf("checker called %d times, want %d", calls, 2*membersPerGroup)
	}
	for _, key := range []string{"ns/g1", "ns/g2"} {
		if maxSeen[key] != maxConcurrent {
			t.Errorf("group %s had at most %d concurrent checks, want exactly %d", key, maxSeen[key], maxConcurrent)
		}
	}
}

func TestRunnerLifecycle(t *testing.T) {
	r, clk, checker, _, _ := newFakeClockRunner(0)
	if err := r.Ensure("ns/early", GroupSpec{Members: []MemberSpec{tcpMember("m", "early:1")}, Period: testPeriod}); err != nil {
		t.Fatal(err)
	}
	if s := r.Snapshot("ns/early")["m"]; s.Known || checker.callCount("early:1") != 0 {
		t.Fatalf("group probed before Start: %+v", s)
	}

	stop := runInBackground(t, r)
	waitParked(t, clk, 1)
	if !r.Snapshot("ns/early")["m"].Known {
		t.Fatal("group ensured before Start was not probed once started")
	}
	if err := r.Start(context.Background()); err == nil {
		t.Error("second Start() succeeded, want an error")
	}

	stop()
	if n := clk.Waiters(); n != 0 {
		t.Fatalf("%d probe loops still waiting after Start returned", n)
	}
	if err := r.Ensure("ns/late", GroupSpec{Members: []MemberSpec{tcpMember("m", "late:1")}, Period: testPeriod}); err != nil {
		t.Fatal(err)
	}
	if n := clk.Waiters(); n != 0 || checker.callCount("late:1") != 0 {
		t.Fatalf("group ensured after stop is being probed (%d loops)", n)
	}
}
