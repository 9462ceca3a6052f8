package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// Defaults applied to zero DispatcherOptions fields.
const (
	DefaultQueueCapacity  = 1000
	DefaultWorkers        = 4
	DefaultAttemptTimeout = 5 * time.Second
	DefaultMaxAttempts    = 5
	DefaultInitialBackoff = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultDrainTimeout   = 5 * time.Second
	// DefaultMaxPayloadBytes caps an encoded event; an event is well under
	// 1 KiB unless its reason is huge.
	DefaultMaxPayloadBytes = 64 << 10
)

// DispatcherOptions configure a Dispatcher. Zero values mean the defaults.
type DispatcherOptions struct {
	// Clock stamps events without a time and times backoff and drain; default
	// the real clock.
	Clock clock.Clock
	// Logger for deliveries (V(1)), failures and drops.
	Logger logr.Logger
	// Metrics to record into; default a fresh, unregistered NewMetrics().
	Metrics *Metrics
	// HTTPClient sends the requests; default a client that honours the proxy
	// environment, does not follow redirects and refuses, at connect time
	// (after DNS resolution), the targets AllowLocalTargets and DenyTargets
	// describe. A client given here is used as is: only URLs whose host is
	// an IP literal or localhost are checked then.
	HTTPClient *http.Client
	// AllowLocalTargets lets webhooks reach loopback (127.0.0.0/8, ::1),
	// link-local (169.254.0.0/16 with the cloud metadata address
	// 169.254.169.254, fe80::/10), unspecified (0.0.0.0/8, ::) and other
	// cloud metadata addresses (fd00:ec2::254, 100.100.100.200), and the
	// Kubernetes API server's service address (KUBERNETES_SERVICE_HOST).
	// Off by default: a webhook URL is written by whoever may edit a
	// FailoverGroup, and must not make the operator call its own node or
	// cluster.
	AllowLocalTargets bool
	// DenyTargets are further address ranges webhooks may never reach
	// (e.g. the node or Service network), whatever AllowLocalTargets says.
	DenyTargets []netip.Prefix
	// MaxPayloadBytes caps the encoded event; a larger one is dropped
	// (reason payload_too_large). Default 64 KiB.
	MaxPayloadBytes int
	// QueueCapacity is the number of pending deliveries kept; default 1000.
	QueueCapacity int
	// Workers is the number of concurrent deliveries; default 4.
	Workers int
	// AttemptTimeout bounds one HTTP attempt; default 5 s.
	AttemptTimeout time.Duration
	// MaxAttempts per delivery, including the first; default 5.
	MaxAttempts int
	// InitialBackoff before the first retry, doubled for each further retry;
	// default 0.5 s.
	InitialBackoff time.Duration
	// MaxBackoff caps the delay between retries; default 30 s.
	MaxBackoff time.Duration
	// DrainTimeout is how long Start keeps delivering queued events after its
	// context ends; default 5 s. Negative means not at all.
	DrainTimeout time.Duration
}

// Dispatcher delivers events to webhooks in the background. Send is safe for
// concurrent use and never blocks; Start runs the deliveries.
type Dispatcher struct {
	clock          clock.Clock
	log            logr.Logger
	metrics        *Metrics
	client         *http.Client
	workers        int
	attemptTimeout time.Duration
	maxAttempts    int
	initialBackoff time.Duration
	maxBackoff     time.Duration
	drainTimeout   time.Duration
	maxPayload     int
	policy         targetPolicy

	started atomic.Bool
	mu      sync.RWMutex // guards closing queue against concurrent Send
	closed  bool
	queue   chan delivery
}

// delivery is one event for one webhook.
type delivery struct {
	hook   Webhook
	target string // redacted URL, for logs and errors
	event  string
	id     string
	body   []byte
}

// NewDispatcher returns a Dispatcher; deliveries start when Start is called,
// events sent before are queued.
func NewDispatcher(opts DispatcherOptions) *Dispatcher {
	d := &Dispatcher{
		clock:          opts.Clock,
		log:            opts.Logger,
		metrics:        opts.Metrics,
		client:         opts.HTTPClient,
		workers:        positiveOr(opts.Workers, DefaultWorkers),
		attemptTimeout: positiveOr(opts.AttemptTimeout, DefaultAttemptTimeout),
		maxAttempts:    positiveOr(opts.MaxAttempts, DefaultMaxAttempts),
		initialBackoff: positiveOr(opts.InitialBackoff, DefaultInitialBackoff),
		maxBackoff:     positiveOr(opts.MaxBackoff, DefaultMaxBackoff),
		drainTimeout:   opts.DrainTimeout,
		maxPayload:     positiveOr(opts.MaxPayloadBytes, DefaultMaxPayloadBytes),
		policy:         newTargetPolicy(opts.AllowLocalTargets, opts.DenyTargets),
		queue:          make(chan delivery, positiveOr(opts.QueueCapacity, DefaultQueueCapacity)),
	}
	if d.clock == nil {
		d.clock = clock.RealClock{}
	}
	if d.log.GetSink() == nil {
		d.log = logr.Discard()
	}
	if d.metrics == nil {
		d.metrics = NewMetrics()
	}
	if d.client == nil {
		d.client = newWebhookHTTPClient(d.policy)
	}
	if d.drainTimeout == 0 {
		d.drainTimeout = DefaultDrainTimeout
	}
	return d
}

func positiveOr[T int | time.Duration](v, fallback T) T {
	if v > 0 {
		return v
	}
	return fallback
}

// Send queues ev for every webhook in hooks that wants it and returns at
// once. A zero ev.Time is set to now. Deliveries that do not fit in the
// queue, or arrive after the Dispatcher stopped, are dropped and counted.
func (d *Dispatcher) Send(hooks []Webhook, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = d.clock.Now()
	}
	var body []byte
	for _, hook := range hooks {
		if !hook.Wants(ev.Event) {
			continue
		}
		job := delivery{hook: hook, target: hook.String(), event: ev.Event}
		if err := hook.Validate(); err != nil {
			d.drop(job, DropInvalidWebhook, err)
			continue
		}
		if body == nil {
			encoded, err := json.Marshal(ev)
			if err != nil { // cannot happen for Event's field types
				d.log.Error(err, "encode webhook event", "event", ev.Event)
				return
			}
			body = encoded
		}
		if len(body) > d.maxPayload {
			d.drop(job, DropPayloadTooLarge, fmt.Errorf("encoded event is %d bytes, more than %d", len(body), d.maxPayload))
			continue
		}
		job.hook.Secret = bytes.Clone(hook.Secret)
		job.id = newDeliveryID()
		job.body = body
		d.enqueue(job)
	}
}

func (d *Dispatcher) enqueue(job delivery) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.drop(job, DropShutdown, nil)
		return
	}
	select {
	case d.queue <- job:
	default:
		d.drop(job, DropQueueFull, nil)
	}
}

func (d *Dispatcher) drop(job delivery, reason string, cause error) {
	d.metrics.dropped.WithLabelValues(reason).Inc()
	kv := []any{"reason", reason, "webhook", job.target, "event", job.event}
	if cause != nil {
		kv = append(kv, "error", cause.Error())
	}
	d.log.Info("webhook event dropped", kv...)
}

// Start delivers queued events until ctx ends. Then it stops accepting
// events, keeps delivering the queued ones for at most DrainTimeout, abandons
// the rest (counted as dropped) and returns nil once every worker has exited.
// It implements controller-runtime's manager.Runnable; a Dispatcher can be
// started only once.
func (d *Dispatcher) Start(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return errors.New("webhook dispatcher: already started")
	}
	deliveryCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	var workers sync.WaitGroup
	for range d.workers {
		workers.Go(func() { d.work(deliveryCtx) })
	}
	workersDone := make(chan struct{})
	go func() {
		workers.Wait()
		close(workersDone)
	}()
	d.log.Info("webhook dispatcher started", "workers", d.workers)

	<-ctx.Done()
	d.closeQueue()
	d.drain(workersDone, abandon)
	d.client.CloseIdleConnections()
	d.log.Info("webhook dispatcher stopped")
	return nil
}

// drain waits for the workers to empty the closed queue, abandoning the
// remaining deliveries when DrainTimeout runs out.
func (d *Dispatcher) drain(workersDone <-chan struct{}, abandon context.CancelFunc) {
	if d.drainTimeout < 0 {
		abandon()
		<-workersDone
		return
	}
	timer := d.clock.NewTimer(d.drainTimeout)
	defer timer.Stop()
	select {
	case <-workersDone:
	case <-timer.C():
		d.log.Info("webhook drain timeout reached, abandoning queued deliveries", "drainTimeout", d.drainTimeout)
		abandon()
		<-workersDone
	}
}

func (d *Dispatcher) closeQueue() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	close(d.queue)
}

// work delivers queued jobs until the queue is closed and empty.
func (d *Dispatcher) work(ctx context.Context) {
	for job := range d.queue {
		if ctx.Err() != nil {
			d.drop(job, DropShutdown, nil)
			continue
		}
		d.deliver(ctx, job)
	}
}

func newDeliveryID() string {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(id[:])
}
