// Package testutil holds polling and lifecycle helpers shared by the unit tests of the internal
// packages (no test framework: plain `testing`).
package testutil

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

const (
	// PollInterval is how often conditions are checked.
	PollInterval = 5 * time.Millisecond
	// PollTimeout is how long a condition may take.
	PollTimeout = 10 * time.Second
)

// Eventually polls cond until it holds, failing the test after PollTimeout.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, what, PollTimeout, cond)
}

// EventuallyWithin polls cond every PollInterval until it holds, failing the test after timeout.
// It is the one polling helper of the plain-testing tests (Ginkgo suites use Gomega's Eventually).
func EventuallyWithin(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), PollInterval, timeout, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Consistently checks cond every PollInterval for d, failing the test at the first miss.
func Consistently(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("condition broke: %s", what)
		}
		time.Sleep(PollInterval)
	}
}

// WaitGoroutinesAtMost polls until no more than baseline goroutines run, and dumps them if not.
func WaitGoroutinesAtMost(t testing.TB, baseline int) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, PollTimeout, true,
		func(context.Context) (bool, error) { return runtime.NumGoroutine() <= baseline, nil })
	if err != nil {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines leaked: %d running, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:n])
	}
}

// RunInBackground runs start (a manager.Runnable's Start) until the returned stop function or the
// test's cleanup cancels it, and checks that it returned nil in time.
func RunInBackground(t testing.TB, start func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Start returned %v", err)
				}
			case <-time.After(PollTimeout):
				t.Errorf("Start did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
