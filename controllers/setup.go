// Package controllers holds the thin reconcilers of understudy: they read the world, hand it to the
// plain-Go domain packages under internal/, act on the result and write status.
package controllers

import (
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Options are shared by every controller.
type Options struct {
	// Clock tells the time; tests inject a fake one.
	Clock clock.WithTicker
}

// SetupWithManager registers every understudy controller with the manager.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	fg := &FailoverGroupReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Clock: opts.Clock}
	if err := fg.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failovergroup controller: %w", err)
	}
	return nil
}
