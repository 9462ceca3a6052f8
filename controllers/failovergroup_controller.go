package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	understudyv1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// FailoverGroupReconciler keeps one member of each FailoverGroup active.
type FailoverGroupReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	Clock  clock.WithTicker
}

// +kubebuilder:rbac:groups=understudy.dev,resources=failovergroups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=understudy.dev,resources=failovergroups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=understudy.dev,resources=failovergroups/finalizers,verbs=update
// +kubebuilder:rbac:groups=understudy.dev,resources=backuptargets;restoreschedules,verbs=get;list;watch
// +kubebuilder:rbac:groups=understudy.dev,resources=backuptargets/status;restoreschedules/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=externaldns.k8s.io,resources=dnsendpoints,verbs=get;list;watch;create;update;patch;delete

// Reconcile reads a FailoverGroup. The failover state machine arrives with the FailoverGroup
// controller issue; this shell only proves the wiring.
func (r *FailoverGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var group understudyv1alpha1.FailoverGroup
	if err := r.Get(ctx, req.NamespacedName, &group); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler.
func (r *FailoverGroupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&understudyv1alpha1.FailoverGroup{}).
		Named("failovergroup").
		Complete(r)
}
