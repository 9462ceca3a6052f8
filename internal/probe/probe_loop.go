package probe

import (
	"context"
	"time"

	"k8s.io/utils/clock"
)

// probeLoop is one running probe goroutine for one member.
type probeLoop struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has exited
}

func newProbeLoop(parent context.Context) *probeLoop {
	ctx, cancel := context.WithCancel(parent)
	return &probeLoop{ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// waitExited blocks until every loop in loops has exited.
func waitExited(loops []*probeLoop) {
	for _, loop := range loops {
		<-loop.done
	}
}

// runLoop probes target now and then every period (from the end of one probe
// to the start of the next) until loop is cancelled.
func (r *Runner) runLoop(loop *probeLoop, g *group, m *member, target Target, period time.Duration) {
	defer close(loop.done)
	var timer clock.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		r.probeOnce(loop, g, m, target)
		if timer == nil {
			timer = r.clock.NewTimer(period)
		} else {
			timer.Reset(period)
		}
		select {
		case <-loop.ctx.Done():
			return
		case <-timer.C():
		}
	}
}

// probeOnce runs one check within the group's concurrency bound and the
// target's timeout, and records its result.
func (r *Runner) probeOnce(loop *probeLoop, g *group, m *member, target Target) {
	select {
	case g.slots <- struct{}{}:
	case <-loop.ctx.Done():
		return
	}
	started := r.clock.Now()
	ctx, cancel := context.WithTimeout(loop.ctx, target.Timeout)
	probeErr := r.checkers.Check(ctx, target)
	cancel()
	<-g.slots
	if loop.ctx.Err() != nil {
		return // stopped while probing: the result is meaningless
	}
	r.metrics.observeProbe(target.Kind, probeErr, r.clock.Since(started))
	r.record(loop, g, m, probeErr)
}
