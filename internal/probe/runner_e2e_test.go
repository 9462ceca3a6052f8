package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// changeLog records, at every OnChange, the state of the group's only member.
type changeLog struct {
	mu      sync.Mutex
	runner  *Runner
	changes map[string][]State
}

func (l *changeLog) onChange(group string) {
	var only State
	for _, s := range l.runner.Snapshot(group) {
		only = s
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes[group] = append(l.changes[group], only)
}

func (l *changeLog) of(group string) []State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]State(nil), l.changes[group]...)
}

func TestRunnerEndToEndWithRealListeners(t *testing.T) {
	const (
		period           = 20 * time.Millisecond
		failureThreshold = 3
		successThreshold = 2
	)
	var serverHealthy atomic.Bool
	serverHealthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if serverHealthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = listener.Close() })

	log := &changeLog{changes: map[string][]State{}}
	metrics := NewMetrics()
	r := NewRunner(RunnerOptions{Metrics: metrics, OnChange: log.onChange})
	log.runner = r
	spec := func(m MemberSpec) GroupSpec {
		return GroupSpec{Members: []MemberSpec{m}, Period: period,
			FailureThreshold: failureThreshold, SuccessThreshold: successThreshold}
	}
	const httpGroup, tcpGroup = "ns/web", "ns/db"
	httpTarget := Target{Kind: KindHTTP, Address: strings.TrimPrefix(srv.URL, "http://"), HTTPPath: "/healthz"}
	if err := r.Ensure(httpGroup, spec(MemberSpec{Name: "web-0", Target: httpTarget})); err != nil {
		t.Fatal(err)
	}
	if err := r.Ensure(tcpGroup, spec(tcpMember("db-0", listener.Addr().String()))); err != nil {
		t.Fatal(err)
	}
	runInBackground(t, r)

	changesOf := func(group string, n int) []State {
		t.Helper()
		eventually(t, group+" health changes", func() bool { return len(log.of(group)) >= n })
		return log.of(group)
	}

	t.Run("first probe decides", func(t *testing.T) {
		for _, group := range []string{httpGroup, tcpGroup} {
			first := changesOf(group, 1)[0]
			if !first.Known || !first.Healthy || first.ConsecutiveSuccesses != 1 {
				t.Errorf("%s first change: %+v, want healthy after one success", group, first)
			}
		}
	})

	t.Run("http member goes down after FailureThreshold failures, once", func(t *testing.T) {
		serverHealthy.Store(false)
		down := changesOf(httpGroup, 2)[1]
		if down.Healthy || down.ConsecutiveFailures != failureThreshold || !strings.Contains(down.LastError, "503") {
			t.Fatalf("down change: %+v, want unhealthy at exactly %d failures with the 503 error", down, failureThreshold)
		}
		eventually(t, "more failed probes", func() bool {
			return r.Snapshot(httpGroup)["web-0"].ConsecutiveFailures >= failureThreshold+3
		})
		if n := len(log.of(httpGroup)); n != 2 {
			t.Fatalf("OnChange called %d times, want 2: further failures must not notify", n)
		}
		if v, ok := gaugeValue(t, metrics, httpGroup, "web-0"); !ok || v != 0 {
			t.Errorf("member_healthy = %v (present %v), want 0", v, ok)
		}
	})

	t.Run("http member comes back after SuccessThreshold successes", func(t *testing.T) {
		serverHealthy.Store(true)
		up := changesOf(httpGroup, 3)[2]
		if !up.Healthy || up.ConsecutiveSuccesses != successThreshold || up.LastError != "" {
			t.Fatalf("up change: %+v, want healthy at exactly %d successes", up, successThreshold)
		}
		if v, ok := gaugeValue(t, metrics, httpGroup, "web-0"); !ok || v != 1 {
			t.Errorf("member_healthy = %v (present %v), want 1", v, ok)
		}
		if probeCount(t, metrics, KindHTTP, resultFailure) < failureThreshold {
			t.Error("failed HTTP probes were not recorded in the duration histogram")
		}
	})

	t.Run("tcp member goes down when its listener closes", func(t *testing.T) {
		if err := listener.Close(); err != nil {
			t.Fatal(err)
		}
		down := changesOf(tcpGroup, 2)[1]
		if down.Healthy || down.ConsecutiveFailures != failureThreshold {
			t.Fatalf("down change: %+v, want unhealthy at exactly %d failures", down, failureThreshold)
		}
	})
}

func TestRunnerStartStopLeavesNoGoroutines(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = listener.Close() })
	baseline := runtime.NumGoroutine()

	r := NewRunner(RunnerOptions{})
	groups := []string{"ns/a", "ns/b", "ns/c"}
	for _, key := range groups {
		if err := r.Ensure(key, GroupSpec{Period: 10 * time.Millisecond, Members: []MemberSpec{
			{Name: "http", Target: Target{Kind: KindHTTP, Address: strings.TrimPrefix(srv.URL, "http://")}},
			tcpMember("tcp", listener.Addr().String()),
		}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	eventually(t, "all members known", func() bool {
		for _, key := range groups {
			for _, s := range r.Snapshot(key) {
				if !s.Known {
					return false
				}
			}
		}
		return true
	})
	if runtime.NumGoroutine() < baseline+len(groups)*2 {
		t.Fatalf("only %d goroutines while probing, expected a loop per member", runtime.NumGoroutine())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Start() = %v", err)
		}
	case <-time.After(pollTimeout):
		t.Fatal("Start() did not return after its context was cancelled")
	}
	waitGoroutinesAtMost(t, baseline)
}
