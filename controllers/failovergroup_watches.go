package controllers

import (
	"context"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/lease"
)

// groupChangedSender turns a probe runner's "namespace/name changed" into a reconcile request
// without ever blocking the prober: when the buffer is full, a reconcile of that group is already
// queued or the periodic requeue catches up.
func groupChangedSender(ch chan<- event.GenericEvent) func(string) {
	return func(key string) {
		ns, name, ok := strings.Cut(key, "/")
		if !ok {
			return
		}
		ev := event.GenericEvent{Object: &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}}
		select {
		case ch <- ev:
		default:
		}
	}
}

// SetupWithManager registers the reconciler and what it watches: its groups (spec and
// annotations), health changes from the probe runner, members' pods, the Services it routes,
// changes of Lease holder, and DNSEndpoints when that CRD is installed.
func (r *FailoverGroupReconciler) SetupWithManager(mgr ctrl.Manager, name string) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(&v1alpha1.FailoverGroup{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionPredicate()))).
		WatchesRawSource(source.Channel(r.probeEvents, &handler.EnqueueRequestForObject{})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.groupsOfPod), builder.WithPredicates(podRoutingChanged())).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(r.groupOfService)).
		Owns(&coordinationv1.Lease{}, builder.WithPredicates(leaseHolderChanged()))
	if hasKind(mgr, externaldnsv1alpha1.GroupVersion.WithKind("DNSEndpoint").GroupKind(), externaldnsv1alpha1.GroupVersion.Version) {
		b = b.Owns(&externaldnsv1alpha1.DNSEndpoint{})
	}
	return b.Complete(r)
}

func deletionPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}

// groupsOfPod maps a pod to the groups with a member whose podSelector matches it.
func (r *FailoverGroupReconciler) groupsOfPod(ctx context.Context, obj client.Object) []reconcile.Request {
	var groups v1alpha1.FailoverGroupList
	if err := r.List(ctx, &groups, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, g := range groups.Items {
		for _, m := range g.Spec.Members {
			if m.PodSelector != nil && len(m.PodSelector.MatchLabels) > 0 &&
				labels.SelectorFromSet(m.PodSelector.MatchLabels).Matches(labels.Set(obj.GetLabels())) {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Name}})
				break
			}
		}
	}
	return out
}

// podRoutingChanged passes pod events that matter: creation, deletion, readiness, IP and labels.
func podRoutingChanged() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*corev1.Pod), e.ObjectNew.(*corev1.Pod)
		return podReady(o) != podReady(n) || o.Status.PodIP != n.Status.PodIP ||
			!labels.Equals(o.Labels, n.Labels) || o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero()
	}}
}

// groupOfService maps a Service to the group that claims it.
func (r *FailoverGroupReconciler) groupOfService(ctx context.Context, obj client.Object) []reconcile.Request {
	if g := obj.GetAnnotations()[AnnotationClaimedBy]; g != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: g}}}
	}
	// A Service a group names but does not manage yet (say, one that was just annotated for
	// adoption, or a conflicting one that was deleted) wakes that group at once.
	var groups v1alpha1.FailoverGroupList
	if err := r.List(ctx, &groups, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, g := range groups.Items {
		rt := g.Spec.Routing
		if rt == nil {
			continue
		}
		if (rt.Service != nil && rt.Service.Name == obj.GetName()) || (rt.ReadOnlyService != nil && rt.ReadOnlyService.Name == obj.GetName()) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Name}})
		}
	}
	return out
}

// leaseHolderChanged ignores renewals: only a new holder (or a Lease deleted by hand) matters.
func leaseHolderChanged() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return lease.Holder(e.ObjectOld.(*coordinationv1.Lease)) != lease.Holder(e.ObjectNew.(*coordinationv1.Lease))
		},
	}
}
