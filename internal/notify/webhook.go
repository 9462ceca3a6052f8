package notify

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Webhook is one notification receiver.
type Webhook struct {
	// URL to POST events to (http or https). It may carry a token in its
	// path or query string; only scheme://host[:port] is ever logged.
	URL string
	// Secret is the HMAC-SHA256 key for X-Understudy-Signature; empty means
	// unsigned. Never logged.
	Secret []byte
	// Events limits delivery to these event names (case-insensitive); empty
	// means all events.
	Events []string
}

// Wants reports whether the webhook subscribes to event.
func (w Webhook) Wants(event string) bool {
	if len(w.Events) == 0 {
		return true
	}
	return slices.ContainsFunc(w.Events, func(e string) bool { return strings.EqualFold(e, event) })
}

// Validate reports whether the URL is an absolute http(s) URL. The error
// never contains the URL's query or user info.
func (w Webhook) Validate() error {
	u, err := url.Parse(w.URL)
	if err != nil {
		return fmt.Errorf("webhook URL: %w", withoutURL(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("webhook %s: scheme must be http or https", redactURL(w.URL))
	}
	if u.Host == "" {
		return errors.New("webhook URL has no host")
	}
	return nil
}

// String returns the webhook's URL as scheme://host[:port], without path,
// query, fragment, user info or secret (tokens live in all of them), so a
// Webhook can be printed safely.
func (w Webhook) String() string {
	return redactURL(w.URL)
}

// GoString is like String, so %#v does not print the secret either.
func (w Webhook) GoString() string {
	return "notify.Webhook(" + w.String() + ")"
}

// MarshalLog implements logr.Marshaler so logging a Webhook value prints
// only the redacted URL.
func (w Webhook) MarshalLog() any {
	return w.String()
}

// redactURL renders raw as scheme://host[:port].
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<invalid URL>"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

// withoutURL strips the *url.Error wrapper, whose message repeats the full
// URL (and so any token in it), keeping the underlying cause.
func withoutURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// redactErr strips the *url.Error wrapper and, as defence in depth, replaces
// any remaining copy of rawURL's user info, path or query in the text, so an
// error can be logged or put in an Event.
func redactErr(err error, rawURL string) error {
	err = withoutURL(err)
	u, perr := url.Parse(rawURL)
	if err == nil || perr != nil {
		return err
	}
	text := err.Error()
	redacted := text
	for _, part := range []string{rawURL, u.User.String(), u.RawQuery, u.EscapedPath(), u.Path, u.Fragment} {
		if len(part) > 1 {
			redacted = strings.ReplaceAll(redacted, part, "<redacted>")
		}
	}
	if redacted == text {
		return err
	}
	return &redactedError{err: err, text: redacted}
}

// redactedError has a redacted text and unwraps to the original error.
type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
