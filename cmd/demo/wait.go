package main

import (
	"context"
	"fmt"
	"time"
)

// waitFor polls cond every interval until it returns true, the limit passes or ctx ends. An error
// from cond is remembered (and reported on time-out) but does not stop the polling: during a
// failover, errors are part of the story.
func waitFor(ctx context.Context, limit, interval time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("timed out after %s waiting for %s (last error: %w)", limit, what, last)
			}
			return fmt.Errorf("timed out after %s waiting for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-time.After(interval):
		}
	}
}

// pause waits for d unless ctx ends first. It is for pacing the story (letting the writer run),
// never for waiting on a condition.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
