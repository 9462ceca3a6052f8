package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"k8s.io/apimachinery/pkg/util/wait"
)

// maxResponseBytes is how much of a receiver's response is read (and
// discarded) so the connection can be reused; a longer body is not read
// further and the connection is closed.
const maxResponseBytes = 64 << 10

// deliver POSTs job, retrying retryable failures with exponential backoff,
// and records the final result.
func (d *Dispatcher) deliver(ctx context.Context, job delivery) {
	log := d.log.WithValues("webhook", job.target, "event", job.event, "delivery", job.id)
	delays := wait.Backoff{Duration: d.initialBackoff, Factor: 2, Steps: d.maxAttempts, Cap: d.maxBackoff}
	for attempt := 1; ; attempt++ {
		retryable, err := d.attempt(ctx, job)
		switch {
		case err == nil:
			d.metrics.deliveries.WithLabelValues(ResultSuccess).Inc()
			log.V(1).Info("webhook delivered", "attempts", attempt)
			return
		case errors.Is(err, ErrTargetRefused):
			d.metrics.deliveries.WithLabelValues(ResultRefused).Inc()
			log.Error(err, "webhook target refused", "attempts", attempt)
			return
		case !retryable:
			d.metrics.deliveries.WithLabelValues(ResultRejected).Inc()
			log.Error(err, "webhook delivery rejected", "attempts", attempt)
			return
		case attempt >= d.maxAttempts:
			d.metrics.deliveries.WithLabelValues(ResultFailed).Inc()
			log.Error(err, "webhook delivery failed, giving up", "attempts", attempt)
			return
		}
		delay := delays.Step()
		log.V(1).Info("webhook attempt failed, retrying", "attempt", attempt, "retryIn", delay, "error", err.Error())
		timer := d.clock.NewTimer(delay)
		select {
		case <-timer.C():
		case <-ctx.Done():
			timer.Stop()
			d.metrics.deliveries.WithLabelValues(ResultFailed).Inc()
			log.Error(err, "webhook delivery abandoned at shutdown", "attempts", attempt)
			return
		}
	}
}

// attempt POSTs job once. It reports whether a failure is worth retrying.
func (d *Dispatcher) attempt(ctx context.Context, job delivery) (retryable bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.hook.URL, bytes.NewReader(job.body))
	if err != nil {
		return false, fmt.Errorf("webhook %s: %w", job.target, withoutURL(err))
	}
	if err := d.policy.checkURL(req.URL); err != nil {
		return false, fmt.Errorf("webhook %s: %w", job.target, err)
	}
	// Each attempt is signed afresh: a retry after a long backoff still
	// carries a current timestamp, with the same delivery ID.
	timestamp := d.clock.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "understudy-webhook")
	req.Header.Set(EventHeader, job.event)
	req.Header.Set(DeliveryHeader, job.id)
	req.Header.Set(TimestampHeader, strconv.FormatInt(timestamp, 10))
	if len(job.hook.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(job.hook.Secret, timestamp, job.id, job.body))
	}

	resp, err := d.client.Do(req)
	if err != nil {
		var refused *TargetRefusedError
		if errors.As(err, &refused) {
			return false, fmt.Errorf("webhook %s: %w", job.target, refused)
		}
		return true, fmt.Errorf("webhook %s: %w", job.target, redactErr(err, job.hook.URL))
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	return retryableStatus(resp.StatusCode), fmt.Errorf("webhook %s: receiver answered %d", job.target, resp.StatusCode)
}

// retryableStatus reports whether a non-2xx status may succeed on retry.
func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}
