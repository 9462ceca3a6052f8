package notify

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names exported by this package.
const (
	DeliveriesMetric = "understudy_webhook_deliveries_total"
	DroppedMetric    = "understudy_webhook_dropped_total"
)

// Delivery results (label "result" of DeliveriesMetric).
const (
	// ResultSuccess: the receiver answered 2xx.
	ResultSuccess = "success"
	// ResultRejected: the receiver answered a status that is not retried
	// (e.g. 400, 401, 404, 3xx).
	ResultRejected = "rejected"
	// ResultFailed: retries were exhausted, or shutdown interrupted them.
	ResultFailed = "failed"
	// ResultRefused: the target address may not be reached (loopback,
	// link-local, cloud metadata, API server, deny list); not retried.
	ResultRefused = "refused"
)

// Drop reasons (label "reason" of DroppedMetric).
const (
	// DropQueueFull: Send found the queue full.
	DropQueueFull = "queue_full"
	// DropShutdown: sent after the Dispatcher stopped, or still queued when
	// its drain timeout ran out.
	DropShutdown = "shutdown"
	// DropInvalidWebhook: the webhook URL is not a valid http(s) URL.
	DropInvalidWebhook = "invalid_webhook"
	// DropPayloadTooLarge: the encoded event is larger than MaxPayloadBytes.
	DropPayloadTooLarge = "payload_too_large"
)

// Metrics holds the webhook collectors. Create it with NewMetrics, register
// it (e.g. into controller-runtime's metrics.Registry) and pass it to
// NewDispatcher.
type Metrics struct {
	deliveries *prometheus.CounterVec
	dropped    *prometheus.CounterVec
}

// NewMetrics returns unregistered webhook metrics:
//   - understudy_webhook_deliveries_total{result} (success|rejected|failed|refused),
//   - understudy_webhook_dropped_total{reason} (queue_full|shutdown|invalid_webhook|payload_too_large).
func NewMetrics() *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: DeliveriesMetric,
			Help: "Webhook deliveries by final result.",
		}, []string{"result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: DroppedMetric,
			Help: "Webhook deliveries dropped without being attempted to completion.",
		}, []string{"reason"}),
	}
	for _, result := range []string{ResultSuccess, ResultRejected, ResultFailed, ResultRefused} {
		m.deliveries.WithLabelValues(result)
	}
	for _, reason := range []string{DropQueueFull, DropShutdown, DropInvalidWebhook, DropPayloadTooLarge} {
		m.dropped.WithLabelValues(reason)
	}
	return m
}

// Register registers all webhook collectors with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.deliveries, m.dropped} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	return nil
}
