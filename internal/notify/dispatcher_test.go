package notify

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	clocktesting "k8s.io/utils/clock/testing"
)

var failover = Event{Group: "orders-db", Namespace: "prod", Event: EventFailover, From: "db-0", To: "db-1", Reason: "db-0 down"}

func TestDispatcherDeliversSignedEvent(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	secret := []byte("receiver-secret")
	d := NewDispatcher(fastOptions(nil))
	runInBackground(t, d)

	d.Send([]Webhook{{URL: rcv.srv.URL + "/hook?token=abc", Secret: secret}}, failover)
	eventually(t, "delivery", func() bool { return counterValue(t, d.metrics.deliveries, ResultSuccess) == 1 })
	if n := rcv.count(); n != 1 {
		t.Fatalf("receiver got %d requests, want 1", n)
	}

	req := rcv.received()[0]
	if got := req.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := req.header.Get(EventHeader); got != EventFailover {
		t.Errorf("%s = %q, want %s", EventHeader, got, EventFailover)
	}
	if req.header.Get(DeliveryHeader) == "" {
		t.Errorf("%s header missing", DeliveryHeader)
	}
	if err := Verify(secret, req.header, req.body, time.Now(), 0); err != nil {
		t.Errorf("signature %q does not verify for body %s: %v", req.header.Get(SignatureHeader), req.body, err)
	}
	var payload map[string]any
	if err := json.Unmarshal(req.body, &payload); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(payload))
	for k := range payload {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"event", "from", "group", "namespace", "reason", "time", "to"}; !slices.Equal(keys, want) {
		t.Errorf("payload keys = %v, want %v", keys, want)
	}
	if payload["to"] != "db-1" {
		t.Errorf("payload = %v", payload)
	}
	if _, err := time.Parse(time.RFC3339, payload["time"].(string)); err != nil {
		t.Errorf("time %v is not RFC 3339 (Send must stamp a zero time): %v", payload["time"], err)
	}
}

func TestDispatcherOmitsSignatureWithoutSecret(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusNoContent))
	d := NewDispatcher(fastOptions(nil))
	runInBackground(t, d)
	d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	eventually(t, "delivery", func() bool { return rcv.count() == 1 })
	if sig, ok := rcv.received()[0].header[SignatureHeader]; ok {
		t.Errorf("unsigned webhook got %s: %v", SignatureHeader, sig)
	}
}

func TestDispatcherFiltersByEvent(t *testing.T) {
	onlyFailovers := newReceiver(t, always(http.StatusOK))
	everything := newReceiver(t, always(http.StatusOK))
	opts := fastOptions(nil)
	opts.Workers = 1 // one FIFO worker: once Failover arrives, MemberDown was handled first
	d := NewDispatcher(opts)
	runInBackground(t, d)
	hooks := []Webhook{
		{URL: onlyFailovers.srv.URL, Events: []string{EventFailover}},
		{URL: everything.srv.URL},
	}

	d.Send(hooks, Event{Group: "g", Event: EventMemberDown})
	d.Send(hooks, Event{Group: "g", Event: EventFailover})
	eventually(t, "both events at the unfiltered hook", func() bool { return everything.count() == 2 })
	eventually(t, "failover at the filtered hook", func() bool { return onlyFailovers.count() == 1 })

	if got := onlyFailovers.received()[0].header.Get(EventHeader); got != EventFailover {
		t.Errorf("filtered hook received %s, want only %s", got, EventFailover)
	}
}

func TestDispatcherRetryPolicy(t *testing.T) {
	tests := []struct {
		firstStatus  int
		wantAttempts int
		wantResult   string
	}{
		{firstStatus: http.StatusInternalServerError, wantAttempts: 2, wantResult: ResultSuccess},
		{firstStatus: http.StatusServiceUnavailable, wantAttempts: 2, wantResult: ResultSuccess},
		{firstStatus: http.StatusTooManyRequests, wantAttempts: 2, wantResult: ResultSuccess},
		{firstStatus: http.StatusRequestTimeout, wantAttempts: 2, wantResult: ResultSuccess},
		{firstStatus: http.StatusBadRequest, wantAttempts: 1, wantResult: ResultRejected},
		{firstStatus: http.StatusUnauthorized, wantAttempts: 1, wantResult: ResultRejected},
		{firstStatus: http.StatusNotFound, wantAttempts: 1, wantResult: ResultRejected},
		{firstStatus: http.StatusFound, wantAttempts: 1, wantResult: ResultRejected},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.firstStatus), func(t *testing.T) {
			rcv := newReceiver(t, func(n int) int {
				if n == 1 {
					return tt.firstStatus
				}
				return http.StatusOK
			})
			d := NewDispatcher(fastOptions(nil))
			runInBackground(t, d)
			d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
			eventually(t, "a final result", func() bool {
				return counterValue(t, d.metrics.deliveries, tt.wantResult) == 1
			})
			if got := rcv.count(); got != tt.wantAttempts {
				t.Errorf("receiver saw %d attempts, want %d", got, tt.wantAttempts)
			}
			ids := map[string]bool{}
			for _, req := range rcv.received() {
				ids[req.header.Get(DeliveryHeader)] = true
			}
			if len(ids) != 1 {
				t.Errorf("retries carried %d delivery IDs, want 1 stable ID", len(ids))
			}
		})
	}
}

func TestDispatcherRetriesServerErrorsUntilSuccess(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	d := NewDispatcher(fastOptions(nil))
	runInBackground(t, d)
	d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	eventually(t, "success", func() bool { return counterValue(t, d.metrics.deliveries, ResultSuccess) == 1 })
	if got := rcv.count(); got != 3 {
		t.Errorf("receiver saw %d attempts, want 3 (500, 500, 200)", got)
	}
}

func TestDispatcherGivesUpAfterMaxAttempts(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusBadGateway))
	opts := fastOptions(nil)
	opts.MaxAttempts = 3
	d := NewDispatcher(opts)
	runInBackground(t, d)
	d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	eventually(t, "failure", func() bool { return counterValue(t, d.metrics.deliveries, ResultFailed) == 1 })
	if got := rcv.count(); got != 3 {
		t.Errorf("receiver saw %d attempts, want MaxAttempts=3", got)
	}
}

func TestDispatcherBackoffSchedule(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusServiceUnavailable))
	clk := clocktesting.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	d := NewDispatcher(DispatcherOptions{Clock: clk, Workers: 1, MaxAttempts: 5, MaxBackoff: 3 * time.Second, AllowLocalTargets: true})
	runInBackground(t, d)
	d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)

	// Defaults: 0.5 s doubling, here capped at 3 s.
	for i, delay := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second} {
		attempt := i + 1
		eventually(t, "backoff timer armed", func() bool { return rcv.count() == attempt && clk.Waiters() == 1 })
		clk.Step(delay - time.Millisecond)
		if clk.Waiters() != 1 || rcv.count() != attempt {
			t.Fatalf("retry %d fired before its %v backoff", attempt, delay)
		}
		clk.Step(time.Millisecond)
	}
	eventually(t, "final failure", func() bool { return counterValue(t, d.metrics.deliveries, ResultFailed) == 1 })
	if rcv.count() != 5 || clk.Waiters() != 0 {
		t.Errorf("%d attempts, %d timers pending; want 5 and none", rcv.count(), clk.Waiters())
	}
}

func TestDispatcherDeadWebhooksDoNotDelaySendOrOtherWebhooks(t *testing.T) {
	hanging := newHangingServer(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/hook"
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	healthy := newReceiver(t, always(http.StatusOK))

	opts := fastOptions(nil)
	opts.AttemptTimeout = 5 * time.Second // the hanging receiver holds its worker for long
	opts.DrainTimeout = -1                // and is abandoned at once when the test stops
	d := NewDispatcher(opts)
	runInBackground(t, d)
	hooks := []Webhook{{URL: hanging.URL}, {URL: closedURL}, {URL: healthy.srv.URL}}

	start := time.Now()
	d.Send(hooks, failover)
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("Send took %v with dead webhooks, want well under 50ms", took)
	}
	eventually(t, "healthy webhook delivery", func() bool { return healthy.count() == 1 })
}

func TestDispatcherQueueOverflowDropsWithoutBlocking(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	opts := fastOptions(nil)
	opts.QueueCapacity = 3
	d := NewDispatcher(opts) // not started: nothing drains the queue
	hooks := []Webhook{{URL: rcv.srv.URL}}

	const sends = 10
	for i := range sends {
		start := time.Now()
		d.Send(hooks, failover)
		if took := time.Since(start); took > 50*time.Millisecond {
			t.Fatalf("Send %d took %v, want well under 50ms", i, took)
		}
	}
	if got := counterValue(t, d.metrics.dropped, DropQueueFull); got != sends-3 {
		t.Errorf("dropped{queue_full} = %v, want %d", got, sends-3)
	}

	runInBackground(t, d)
	eventually(t, "queued deliveries", func() bool { return counterValue(t, d.metrics.deliveries, ResultSuccess) == 3 })
	if got := rcv.count(); got != 3 {
		t.Errorf("receiver got %d events, want the 3 that fit", got)
	}
}

func TestDispatcherDropsInvalidWebhook(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	d := NewDispatcher(fastOptions(nil))
	runInBackground(t, d)
	d.Send([]Webhook{{URL: "ftp://example.com/x"}, {URL: rcv.srv.URL}}, failover)
	if got := counterValue(t, d.metrics.dropped, DropInvalidWebhook); got != 1 {
		t.Errorf("dropped{invalid_webhook} = %v, want 1", got)
	}
	eventually(t, "valid webhook delivery", func() bool { return rcv.count() == 1 })
}

func TestDispatcherDrainsQueueOnStop(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	d := NewDispatcher(fastOptions(nil))
	for range 5 {
		d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stop at once: Start must still deliver what was queued
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rcv.count(); got != 5 {
		t.Errorf("receiver got %d events during drain, want 5", got)
	}
	d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	if got := counterValue(t, d.metrics.dropped, DropShutdown); got != 1 {
		t.Errorf("dropped{shutdown} after stop = %v, want 1", got)
	}
	if err := d.Start(context.Background()); err == nil {
		t.Error("second Start() succeeded, want an error")
	}
}

func TestDispatcherDrainTimeoutAbandonsStuckDeliveries(t *testing.T) {
	hanging := newHangingServer(t)
	opts := fastOptions(nil)
	opts.Workers = 1
	opts.AttemptTimeout = time.Minute
	opts.DrainTimeout = 50 * time.Millisecond
	d := NewDispatcher(opts)
	for range 3 {
		d.Send([]Webhook{{URL: hanging.URL}}, failover)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Start(ctx) }()
	eventually(t, "first delivery in flight", func() bool { return hanging.arrived.Load() == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after its drain timeout")
	}
	if got := counterValue(t, d.metrics.deliveries, ResultFailed); got != 1 {
		t.Errorf("deliveries{failed} = %v, want 1 (the abandoned in-flight one)", got)
	}
	if got := counterValue(t, d.metrics.dropped, DropShutdown); got != 2 {
		t.Errorf("dropped{shutdown} = %v, want 2 (still queued)", got)
	}
}

func TestDispatcherNeverLogsSecrets(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusForbidden
	})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logged strings.Builder
	opts := fastOptions(nil)
	opts.MaxAttempts = 2
	opts.Logger = funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logged.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 10})
	d := NewDispatcher(opts)
	stop := runInBackground(t, d)

	const token, key, pathToken = "TOKEN-4711", "HMAC-KEY-0815", "PATH-T0KEN-42"
	hooks := []Webhook{
		{URL: rcv.srv.URL + "/hooks/" + pathToken + "?token=" + token, Secret: []byte(key)},
		{URL: "http://user:" + token + "@" + closedAddr + "/hooks/" + pathToken + "?token=" + token, Secret: []byte(key)},
	}
	d.Send(hooks, failover)
	eventually(t, "both deliveries finished", func() bool {
		return counterValue(t, d.metrics.deliveries, ResultRejected)+counterValue(t, d.metrics.deliveries, ResultFailed) == 2
	})
	stop()
	d.Send(hooks, failover) // dropped at shutdown, logged

	mu.Lock()
	out := logged.String()
	mu.Unlock()
	for _, secret := range []string{token, key, pathToken, "/hooks", "user:"} {
		if strings.Contains(out, secret) {
			t.Errorf("log leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{rcv.srv.URL + `"`, "http://" + closedAddr + `"`, "retrying", "dropped"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestDispatcherStartStopLeavesNoGoroutines(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	baseline := runtime.NumGoroutine()

	d := NewDispatcher(fastOptions(nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Start(ctx) }()
	for range 20 {
		d.Send([]Webhook{{URL: rcv.srv.URL}}, failover)
	}
	eventually(t, "deliveries", func() bool { return rcv.count() == 20 })
	if runtime.NumGoroutine() < baseline+DefaultWorkers {
		t.Fatalf("only %d goroutines while running, expected the worker pool", runtime.NumGoroutine())
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
