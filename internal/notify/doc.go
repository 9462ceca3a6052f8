// Package notify delivers FailoverGroup events (failovers, switchovers,
// member health changes, ...) to user-configured webhooks.
//
// # Design
//
// The controller calls [Dispatcher.Send] from its reconcile loop. Send never
// blocks: it filters the webhooks by event, encodes the [Event] once, and puts
// one delivery per webhook on a bounded in-memory queue (default 1000). When
// the queue is full the delivery is dropped, counted in
// understudy_webhook_dropped_total and logged. Notifications are best effort:
// the queue is not persisted, and a receiver may see an event more than once
// (retries after a timeout); the X-Understudy-Delivery header is stable across
// the retries of one delivery so receivers can de-duplicate.
//
// A fixed pool of workers (default 4) POSTs the JSON body with
// Content-Type: application/json, X-Understudy-Event: <event>,
// X-Understudy-Delivery: <id>, X-Understudy-Timestamp: <unix seconds> and,
// when the webhook has a secret, X-Understudy-Signature: v1=<hex
// HMAC-SHA256 of "<timestamp>.<delivery>.<body>"> (see [Sign] and [Verify];
// receivers should refuse timestamps more than 5 minutes off and repeated
// delivery IDs). Each attempt is signed with its own timestamp and has its
// own timeout (default 5 s). Network errors, 5xx, 408 and 429 are retried
// with exponential backoff (0.5 s, 1 s, 2 s, 4 s, ... capped at 30 s) up to
// MaxAttempts (default 5); any other status is final. Redirects are not
// followed. One slow or dead receiver therefore ties up one worker for at
// most MaxAttempts × (timeout + backoff) and never the caller. At most 64 KiB
// of a response is read; events over MaxPayloadBytes are dropped.
//
// Targets: the default HTTP client refuses, when connecting (so after DNS
// resolution), loopback, link-local (with 169.254.169.254), unspecified and
// cloud metadata addresses and the Kubernetes API server's service address,
// unless AllowLocalTargets is set, and DenyTargets always (see
// [TargetRefusedError]). Refused deliveries are not retried.
//
// The Dispatcher is a controller-runtime Runnable: [Dispatcher.Start] runs the
// workers until its context ends, then stops accepting events and keeps
// delivering what is queued for at most DrainTimeout before abandoning the
// rest (counted as dropped).
//
// Secrets never reach logs or errors: webhooks are logged as
// scheme://host[:port] only, since URLs carry tokens in the path, the query
// string or the user info.
package notify
