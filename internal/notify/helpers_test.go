package notify

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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

// waitGoroutinesAtMost polls until no more than baseline goroutines run.
func waitGoroutinesAtMost(t *testing.T, baseline int) {
	t.Helper()
	testutil.WaitGoroutinesAtMost(t, baseline)
}

// fastOptions are DispatcherOptions with test-sized delays, allowing the
// httptest receivers on 127.0.0.1.
func fastOptions(metrics *Metrics) DispatcherOptions {
	return DispatcherOptions{
		Metrics:           metrics,
		AllowLocalTargets: true,
		AttemptTimeout:    200 * time.Millisecond,
		InitialBackoff:    time.Millisecond,
		MaxBackoff:        4 * time.Millisecond,
	}
}

// runInBackground starts d and stops it (checking Start's result) when the
// returned function or the test cleanup runs.
func runInBackground(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	return testutil.RunInBackground(t, d.Start)
}

// receivedRequest is one request seen by a receiver.
type receivedRequest struct {
	header http.Header
	body   []byte
}

// receiver is an httptest webhook receiver answering the status chosen by
// statusFor for its nth (1-based) request.
type receiver struct {
	srv       *httptest.Server
	statusFor func(n int) int
	mu        sync.Mutex
	requests  []receivedRequest
}

func newReceiver(t *testing.T, statusFor func(n int) int) *receiver {
	t.Helper()
	r := &receiver{statusFor: statusFor}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, receivedRequest{header: req.Header.Clone(), body: body})
		n := len(r.requests)
		r.mu.Unlock()
		w.WriteHeader(r.statusFor(n))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func always(status int) func(int) int { return func(int) int { return status } }

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func (r *receiver) received() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.requests...)
}

// hangingServer is a receiver whose handler blocks until the client gives
// up or the test ends.
type hangingServer struct {
	URL     string
	arrived atomic.Int32 // requests received so far
}

func newHangingServer(t *testing.T) *hangingServer {
	t.Helper()
	h := &hangingServer{}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		h.arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	h.URL = srv.URL
	return h
}

// counterValue reads one series of a counter vector.
func counterValue(t *testing.T, vec *prometheus.CounterVec, label string) float64 {
	t.Helper()
	var out dto.Metric
	if err := vec.WithLabelValues(label).(prometheus.Metric).Write(&out); err != nil {
		t.Fatalf("write metric: %v", err)
	}
	return out.GetCounter().GetValue()
}
