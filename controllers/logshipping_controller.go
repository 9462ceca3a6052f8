package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/lease"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/notify"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// LogShippingReconciler ships transaction-log backups for SQL Server groups with
// spec.logShipping: backups on the member that holds the Lease, restores on the standbys that a
// RestoreSchedule selects, and status on the group, the BackupTarget and the RestoreSchedule.
//
// One reconcile is one cycle: a list of steps (shippingSteps), each in the file of its concern
// (logshipping_backup.go, _restore.go, _rejoin.go, _prune.go), run in order until one fails. A
// failed step fails the cycle: the LogShipping condition says why and the error goes back to
// controller-runtime, which retries with backoff (shippingRetryLimiter) and counts it. Trouble a
// cycle can ship past (one standby's restore, a prune) is a problem: the condition is Degraded
// and the cycle goes on.
type LogShippingReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Clock    clock.PassiveClock
	Recorder recorder.EventRecorder
	// Notifier sends the groups' webhook notifications (LogChainBroken); nil: none are sent.
	Notifier *notify.Dispatcher
	// APIReader reads the webhooks' Secrets without caching every Secret of the cluster, and the
	// group's status before it is written (so a write never carries an older cached copy).
	APIReader client.Reader
	SQL       *sqlGroups
	Leases    *lease.Store
	// OperatorImage runs the prune Jobs (`understudy prune`); empty: no Jobs.
	OperatorImage string
}

// shippingCycle is what one cycle works with and what it did and saw.
type shippingCycle struct {
	g      *v1alpha1.FailoverGroup
	holder string
	now    time.Time

	view      *sqlGroupView
	shipper   *logshipping.Shipper
	target    *v1alpha1.BackupTarget
	primary   *sqlserver.Client
	schedules []v1alpha1.RestoreSchedule

	settings    map[string]logshipping.DatabaseSettings // the primary's databases' owner and TRUSTWORTHY
	backups     []logshipping.BackupResult
	compression *logshipping.Compression            // nil when the primary's edition could not be read
	foreign     map[string][]sqlserver.BackupRecord // other tools' log backups, by database; nil when unread
	logGrowth   []logshipping.LogGrowth             // logs waiting for a log backup too long; nil when unread
	files       logshipping.Files
	restores    map[string][]logshipping.DatabaseRestoreResult // by member
	salvaged    map[string]map[string]string                   // member -> database -> salvage file
	next        time.Duration
	problems    []string
}

func (c *shippingCycle) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// shippingStep is one step of a cycle; an error ends the cycle.
type shippingStep func(ctx context.Context, c *shippingCycle) error

// shippingSteps are the steps of a cycle, in order.
func (r *LogShippingReconciler) shippingSteps() []shippingStep {
	return []shippingStep{
		r.connect,         // the members' pools, the Shipper of the BackupTarget, the primary
		r.preparePrimary,  // FULL recovery on the primary's databases
		r.loadSchedules,   // the group's valid RestoreSchedules
		r.backUp,          // full and log backups that are due, the catalogue, BackupTarget status
		r.rejoinFenced,    // an old primary back after an unplanned failover: salvage, reseed
		r.restoreStandbys, // each schedule's standbys whose interval passed
		r.pruneBackups,    // files past retention that no standby needs
		r.observeShipping, // backup age and restore lag metrics
	}
}

// Reconcile runs one log-shipping cycle for a group and says when the next is due.
func (r *LogShippingReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var g v1alpha1.FailoverGroup
	if err := r.Get(ctx, req.NamespacedName, &g); err != nil {
		if apierrors.IsNotFound(err) {
			r.SQL.Forget(req.NamespacedName) // the group is gone: its pools, Shipper and restore times too
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if g.Spec.LogShipping == nil || g.Spec.SQLServer == nil {
		return ctrl.Result{}, r.releaseShippingStatus(ctx, &g) // log shipping was turned off
	}
	if !g.DeletionTimestamp.IsZero() || g.Validate() != nil {
		return ctrl.Result{}, nil // an invalid group is reported by the FailoverGroup controller
	}
	work, unlock := r.SQL.lockShipping(ctx, &g)
	defer unlock()
	// The group may have been deleted while this cycle waited for the lock: then it does nothing
	// (and touches none of the group's SQL state, which was forgotten).
	if err := r.Get(ctx, req.NamespacedName, &g); err != nil || !g.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if g.Status.InProgress != nil {
		return ctrl.Result{RequeueAfter: time.Second}, nil // a failover owns the databases now
	}
	return r.ship(ctx, work, &g)
}

// ship runs one cycle on the Lease holder, holding the group's lock; work is cancelled when a
// promotion preempts the cycle.
func (r *LogShippingReconciler) ship(ctx, work context.Context, g *v1alpha1.FailoverGroup) (ctrl.Result, error) {
	interval := g.Spec.LogShipping.LogBackupInterval.Duration
	l, err := r.Leases.Get(ctx, g)
	if err != nil {
		return ctrl.Result{}, err
	}
	holder := lease.Holder(l)
	if !slices.ContainsFunc(g.Spec.Members, func(m v1alpha1.Member) bool { return m.Name == holder }) {
		return ctrl.Result{RequeueAfter: interval}, nil
	}
	c := &shippingCycle{g: g, holder: holder, now: r.Clock.Now(), next: interval,
		restores: map[string][]logshipping.DatabaseRestoreResult{}, salvaged: map[string]map[string]string{}}
	cycleErr := r.runCycle(work, c)
	if work.Err() != nil && ctx.Err() == nil {
		// A promotion preempted the cycle: nothing it did half is reported as a failure; the next
		// cycle, after the failover, starts from what the servers say.
		logf.FromContext(ctx).Info("log-shipping cycle preempted by a promotion", "step error", cycleErr)
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	if err := r.writeGroupStatus(ctx, c, cycleErr); err != nil {
		return ctrl.Result{}, err
	}
	if cycleErr != nil {
		return ctrl.Result{}, cycleErr // backoff from shippingRetryLimiter
	}
	return ctrl.Result{RequeueAfter: max(c.next, time.Second)}, nil
}

// runCycle runs the steps in order and stops at the first that fails.
func (r *LogShippingReconciler) runCycle(ctx context.Context, c *shippingCycle) error {
	for _, step := range r.shippingSteps() {
		if err := step(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// connect opens the members' SQL Server access, the Shipper of the group's BackupTarget and the
// primary's pool. An invalid BackupTarget is marked so on its status.
func (r *LogShippingReconciler) connect(ctx context.Context, c *shippingCycle) error {
	pods, err := listMemberPods(ctx, r.Client, c.g)
	if err != nil {
		return err
	}
	if c.view, err = r.SQL.view(ctx, c.g, pods); err != nil {
		return err
	}
	c.shipper, c.target, err = c.view.shipper(ctx)
	if err != nil {
		if c.target != nil {
			if verr := c.target.Validate(); verr != nil {
				if werr := r.markBackupTargetInvalid(ctx, c.target, verr); werr != nil {
					return werr
				}
			}
		}
		return err
	}
	if c.primary, err = c.view.client(c.holder); err != nil {
		return fmt.Errorf("primary %s: %w", c.holder, err)
	}
	return nil
}

// shippingRetryLimiter spaces the retries of a failed cycle: from half a second, doubling, to at
// most 30 s (a group whose primary is unreachable is tried twice a minute, not every 16 minutes as
// with controller-runtime's default limit).
func shippingRetryLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](500*time.Millisecond, 30*time.Second)
}

// SetupWithManager registers the reconciler: SQL Server groups, and their RestoreSchedules.
func (r *LogShippingReconciler) SetupWithManager(mgr ctrl.Manager, name string) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(&v1alpha1.FailoverGroup{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.RestoreSchedule{}, handler.EnqueueRequestsFromMapFunc(scheduleGroup)).
		WithOptions(controller.Options{RateLimiter: shippingRetryLimiter()}).
		Complete(r)
}

// scheduleGroup wakes the group a RestoreSchedule refers to.
func scheduleGroup(_ context.Context, o client.Object) []reconcile.Request {
	rs, ok := o.(*v1alpha1.RestoreSchedule)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: rs.Namespace, Name: rs.Spec.FailoverGroupRef.Name}}}
}

func (r *LogShippingReconciler) event(g *v1alpha1.FailoverGroup, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(g, nil, eventType, reason, action, note, args...)
	}
}
