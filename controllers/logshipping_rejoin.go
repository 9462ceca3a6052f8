package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/logshipping"
)

// rejoinFenced acts for every member in failover.RejoinCatchingUp (an old primary that came back
// healthy after an unplanned failover, its databases not yet restoring the new primary's backups):
// first a salvage log backup of what it wrote after its last shipped backup (it then stops
// accepting writes), then a reseed from the new primary's full backup taken after the failover.
// Once its databases are restoring, the failover state machine makes it a standby (RejoinDone).
// Trouble with one member is a problem of the cycle, not its end.
func (r *LogShippingReconciler) rejoinFenced(ctx context.Context, c *shippingCycle) error {
	for _, ms := range c.g.Status.Members {
		if ms.Name == c.holder || rejoinState(c.g, ms.Name) != failover.RejoinCatchingUp {
			continue
		}
		if err := r.rejoin(ctx, c, ms.Name); err != nil {
			c.problems = append(c.problems, err.Error())
		}
	}
	return nil
}

// rejoin salvages and reseeds one member.
func (r *LogShippingReconciler) rejoin(ctx context.Context, c *shippingCycle, member string) error {
	old, err := c.view.client(member)
	if err != nil {
		return wrapRejoin("rejoin", member, err)
	}
	salvaged, err := c.shipper.Salvage(ctx, old, c.view.dbs, c.now)
	r.recordSalvage(c, member, salvaged)
	if err != nil {
		return wrapRejoin("salvage", member, err)
	}
	var notBefore time.Time
	if lf := c.g.Status.LastFailover; lf != nil {
		notBefore = lf.StartedAt.Time
	}
	settings := restoreSettingsFor(c.schedules, member, c.shipper.Target.Checksum)
	results, err := logshipping.Reseed(ctx, old, c.files, c.view.dbs, settings, notBefore, c.now)
	c.restores[member] = results
	if err != nil {
		return wrapRejoin("reseed", member, err)
	}
	r.event(c.g, corev1.EventTypeNormal, v1alpha1.EventReasonRejoined, "Reseed", "%s was reseeded from %s's backups and continues as a standby", member, c.holder)
	return nil
}

// recordSalvage keeps the salvage files for the member's status and says where each went.
func (r *LogShippingReconciler) recordSalvage(c *shippingCycle, member string, salvaged []logshipping.SalvageResult) {
	for _, s := range salvaged {
		if s.File.Path == "" {
			continue
		}
		if c.salvaged[member] == nil {
			c.salvaged[member] = map[string]string{}
		}
		c.salvaged[member][s.Database] = s.File.Path
		r.event(c.g, corev1.EventTypeWarning, v1alpha1.EventReasonSalvaged, "Salvage",
			"%s came back after the failover with writes that were never shipped: saved to %s (restore it elsewhere to recover them)", member, s.File.Path)
	}
}

// wrapRejoin names the rejoin step that failed and the member, as the LogShipping condition shows it.
func wrapRejoin(step, member string, err error) error {
	return fmt.Errorf("%s %s: %w", step, member, err)
}
