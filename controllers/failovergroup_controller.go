package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/addresspolicy"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/lease"
	"github.com/understudy-dev/understudy/internal/notify"
	"github.com/understudy-dev/understudy/internal/probe"
)

// finalizerName lets the operator take its role labels off members' pods when a group is deleted
// (owned objects, the Lease, Services and DNSEndpoint, are garbage-collected by owner reference).
const finalizerName = "understudy.dev/cleanup"

// FailoverGroupReconciler keeps exactly one member of each FailoverGroup active.
type FailoverGroupReconciler struct {
	client.Client
	// APIReader reads Secrets without caching every Secret of the cluster.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Clock     clock.WithTicker
	Recorder  recorder.EventRecorder
	Runner    *probe.Runner
	Checkers  probe.Registry
	Notifier  *notify.Dispatcher
	Promoter  Promoter
	Leases    *lease.Store
	// SQL is the SQL Server adapter: health-check logins, per-group state (nil: no SQL checks).
	SQL *sqlGroups
	// Addresses is the installation's allow list for member addresses.
	Addresses addresspolicy.Policy
	// AfterStep, when set, is called after each failover step is recorded in status; an error stops
	// the reconcile there (tests use it to crash the operator in the middle of a failover).
	AfterStep func(group string, step v1alpha1.FailoverStep) error

	probeEvents chan event.GenericEvent
}

// Reconcile reads the world, decides the next step (internal/failover), acts and writes status.
// A write that lost to a newer version of an object (our own previous write not yet in the cache,
// or another writer) is not an error: the next pass reads the newer version and decides again.
func (r *FailoverGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	res, err := r.reconcile(ctx, req)
	if err != nil && apierrors.IsConflict(err) {
		logf.FromContext(ctx).V(1).Info("conflict, reconciling again", "error", err.Error())
		return ctrl.Result{RequeueAfter: requeueSoon}, nil
	}
	return res, err
}

func (r *FailoverGroupReconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	key := req.NamespacedName.String()
	var g v1alpha1.FailoverGroup
	if err := r.Get(ctx, req.NamespacedName, &g); err != nil {
		if apierrors.IsNotFound(err) {
			r.Runner.Remove(key)
			forgetReadiness(key)
			r.SQL.Forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get group: %w", err)
	}
	if !g.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &g, key)
	}
	if verr := r.validate(&g); verr != nil {
		return ctrl.Result{}, r.markGroupInvalid(ctx, &g, key, verr)
	}
	if !controllerutil.ContainsFinalizer(&g, finalizerName) {
		controllerutil.AddFinalizer(&g, finalizerName)
		if err := r.Update(ctx, &g); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}

	w, err := r.observe(ctx, &g, key)
	if err != nil {
		return ctrl.Result{}, err
	}
	d := failover.Decide(w.input(&g))
	logf.FromContext(ctx).V(1).Info("decided", "action", d.Action, "from", d.From, "to", d.To, "message", d.Message)

	switch d.Action {
	case failover.ActionElect, failover.ActionFailover, failover.ActionSwitchover, failover.ActionFailback, failover.ActionResume:
		return r.runFailover(ctx, &g, w, d)
	}
	res := ctrl.Result{RequeueAfter: d.RequeueAfter}
	if d.Renew {
		if err := r.renew(ctx, &g, w); err != nil {
			if errors.Is(err, lease.ErrLostRace) {
				return ctrl.Result{RequeueAfter: requeueSoon}, nil
			}
			return ctrl.Result{}, err
		}
	}
	if err := r.settle(ctx, &g, w, d); err != nil {
		return ctrl.Result{}, err
	}
	if w.recovering {
		res.RequeueAfter = soonest(res.RequeueAfter, seconds(g.Spec.HealthCheck.PeriodSeconds))
	}
	return res, nil
}

// world is one reconcile's snapshot.
type world struct {
	now        time.Time
	pods       map[string]memberPods
	health     map[string]memberHealth
	lease      *coordinationv1.Lease
	recovering bool
	// written is the status as last read or written, to skip writes that change nothing.
	written *v1alpha1.FailoverGroupStatus
}

func (r *FailoverGroupReconciler) observe(ctx context.Context, g *v1alpha1.FailoverGroup, key string) (*world, error) {
	pods, err := r.listMemberPods(ctx, g)
	if err != nil {
		return nil, err
	}
	l, err := r.Leases.Get(ctx, g)
	if err != nil {
		return nil, err
	}
	health, err := r.observeHealth(ctx, g, key, pods, lease.Holder(l))
	if err != nil {
		return nil, err
	}
	w := &world{now: r.Clock.Now(), pods: pods, health: health, lease: l, written: g.Status.DeepCopy()}
	for _, h := range health {
		w.recovering = w.recovering || h.recovering
	}
	return w, nil
}

func (w *world) leaseDuration(g *v1alpha1.FailoverGroup) time.Duration {
	return seconds(g.Spec.Failover.LeaseDurationSeconds)
}

// input turns the snapshot into the decision's input.
func (w *world) input(g *v1alpha1.FailoverGroup) failover.Input {
	prev := previousMembers(g)
	in := failover.Input{
		Now:     w.now,
		Created: g.CreationTimestamp.Time,
		Policy: failover.Policy{
			Mode:            g.Spec.Failover.Mode,
			Failback:        g.Spec.Failover.Failback,
			FailbackDelay:   seconds(g.Spec.Failover.FailbackDelaySeconds),
			Paused:          g.Spec.Failover.Paused,
			DetectionWindow: seconds(g.Spec.HealthCheck.PeriodSeconds * g.Spec.HealthCheck.FailureThreshold),
		},
		SwitchoverTo:    g.Annotations[v1alpha1.AnnotationSwitchoverTo],
		ForceFailoverTo: g.Annotations[v1alpha1.AnnotationForceFailover],
	}
	if g.Spec.Failover.MaxDataLoss != nil {
		limit := g.Spec.Failover.MaxDataLoss.Duration
		in.Policy.MaxDataLoss = &limit
	}
	if w.lease != nil {
		d := lease.Duration(w.lease)
		if d == 0 {
			d = w.leaseDuration(g)
		}
		in.Lease = failover.LeaseView{Exists: true, Holder: lease.Holder(w.lease), RenewTime: lease.RenewTime(w.lease), Duration: d}
	}
	if p := g.Status.InProgress; p != nil {
		in.InProgress = &failover.Progress{From: p.From, To: p.To, Reason: failover.Reason(p.Reason), Step: p.Step}
	}
	for i, m := range g.Spec.Members {
		h := w.health[m.Name]
		mv := failover.MemberView{Name: m.Name, Priority: m.Priority, Index: i, Known: h.known, Healthy: h.healthy,
			Message: h.message, Fenced: prev[m.Name].Role == v1alpha1.RoleFenced, Rejoining: awaitingRejoin(g, m.Name)}
		if g.Spec.SQLServer != nil {
			mv.Position, mv.DataBehind = dataPosition(prev[m.Name].Databases, len(g.Spec.SQLServer.Databases))
		}
		if h.healthy {
			mv.HealthySince = w.now
			if p, ok := prev[m.Name]; ok && p.Healthy && p.HealthySince != nil {
				mv.HealthySince = p.HealthySince.Time
			}
		}
		in.Members = append(in.Members, mv)
	}
	return in
}

func soonest(a, b time.Duration) time.Duration {
	if a <= 0 || (b > 0 && b < a) {
		return b
	}
	return a
}

// renew moves the Lease's renewTime to the last time the holder was seen healthy: its last probe,
// if that probe succeeded. While failures are accumulating (not yet failureThreshold) the Lease is not
// renewed, so it expires leaseDuration after the last success, not after the failure is declared.
func (r *FailoverGroupReconciler) renew(ctx context.Context, g *v1alpha1.FailoverGroup, w *world) error {
	h := w.health[lease.Holder(w.lease)]
	if !h.healthy || h.consecutiveFailures > 0 {
		return nil
	}
	seen := h.lastProbe
	if seen.IsZero() || seen.After(w.now) {
		seen = w.now // members without probes (none today) count as seen now
	}
	if !seen.After(lease.RenewTime(w.lease)) {
		return nil
	}
	l, err := r.Leases.Renew(ctx, w.lease, w.leaseDuration(g), seen)
	if err != nil {
		return err
	}
	w.lease = l
	return nil
}

// finalize takes the role labels off the members' pods and stops probing.
func (r *FailoverGroupReconciler) finalize(ctx context.Context, g *v1alpha1.FailoverGroup, key string) error {
	r.Runner.Remove(key)
	forgetReadiness(key)
	r.SQL.Forget(client.ObjectKeyFromObject(g))
	if !controllerutil.ContainsFinalizer(g, finalizerName) {
		return nil
	}
	pods, err := r.listMemberPods(ctx, g)
	if err != nil {
		return err
	}
	if err := r.unlabelPods(ctx, pods); err != nil {
		return err
	}
	if err := r.releaseRouting(ctx, g); err != nil {
		return err
	}
	controllerutil.RemoveFinalizer(g, finalizerName)
	if err := r.Update(ctx, g); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}
