package probe

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/understudy-dev/understudy/internal/testutil"
)

const (
	pollInterval = testutil.PollInterval
	pollTimeout  = testutil.PollTimeout
)

// eventually polls cond until it holds, failing the test after pollTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, what, cond)
}

// consistently checks cond for the whole duration, failing at the first miss.
func consistently(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testutil.Consistently(t, what, d, cond)
}

// waitGoroutinesAtMost polls until no more than baseline goroutines run.
func waitGoroutinesAtMost(t *testing.T, baseline int) {
	t.Helper()
	testutil.WaitGoroutinesAtMost(t, baseline)
}

// waitParked waits until n probe loops wait on the fake clock, i.e. every
// loop has finished its probe (including OnChange) and armed its timer.
func waitParked(t *testing.T, clk *clocktesting.FakeClock, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d parked probe loops", n), func() bool { return clk.Waiters() == n })
}

// stepAndSettle advances the fake clock by d and waits for n loops to park.
func stepAndSettle(t *testing.T, clk *clocktesting.FakeClock, d time.Duration, n int) {
	t.Helper()
	clk.Step(d)
	waitParked(t, clk, n)
}

// runInBackground starts r and stops it (checking Start's result) when the
// returned stop function or the test cleanup runs.
func runInBackground(t *testing.T, r *Runner) (stop func()) {
	t.Helper()
	return testutil.RunInBackground(t, r.Start)
}

// fakeChecker is a scripted Checker: members listed as down fail.
type fakeChecker struct {
	mu    sync.Mutex
	down  map[string]bool
	calls map[string]int
}

func newFakeChecker() *fakeChecker {
	return &fakeChecker{down: map[string]bool{}, calls: map[string]int{}}
}

func (c *fakeChecker) Check(_ context.Context, t Target) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[t.Address]++
	if c.down[t.Address] {
		return fmt.Errorf("probe %s: connection refused", t.Address)
	}
	return nil
}

func (c *fakeChecker) setDown(address string, down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down[address] = down
}

func (c *fakeChecker) callCount(address string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[address]
}

// changeCounter counts OnChange calls per group.
type changeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newChangeCounter() *changeCounter { return &changeCounter{counts: map[string]int{}} }

func (c *changeCounter) onChange(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[group]++
}

func (c *changeCounter) count(group string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[group]
}

// gaugeValue reads one member_healthy series; ok is false if it does not exist.
func gaugeValue(t *testing.T, m *Metrics, group, member string) (value float64, ok bool) {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	m.memberHealthy.Collect(ch)
	close(ch)
	for metric := range ch {
		var out dto.Metric
		if err := metric.Write(&out); err != nil {
			t.Fatalf("write metric: %v", err)
		}
		labels := map[string]string{}
		for _, l := range out.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["group"] == group && labels["member"] == member {
			return out.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// probeCount reads the sample count of one probe duration histogram series.
func probeCount(t *testing.T, m *Metrics, kind Kind, result string) uint64 {
	t.Helper()
	var out dto.Metric
	if err := m.probeDuration.WithLabelValues(string(kind), result).(prometheus.Metric).Write(&out); err != nil {
		t.Fatalf("write metric: %v", err)
	}
	return out.GetHistogram().GetSampleCount()
}

// seriesCount returns how many series c currently exports.
func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 256)
	c.Collect(ch)
	close(ch)
	return len(ch)
}
