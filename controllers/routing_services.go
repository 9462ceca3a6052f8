package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/routing"
)

// applyService creates the Service when missing (owned by the group), or sets the selector of an
// existing one the group may manage: one it owns (controller reference), or one whose owner opted in
// with the annotation understudy.dev/adopt="true" and that no other group routes. Any other Service
// is left untouched and reported as a conflict.
func (r *FailoverGroupReconciler) applyService(ctx context.Context, g *v1alpha1.FailoverGroup, name string, ports []v1alpha1.ServicePort,
	typ corev1.ServiceType, selector map[string]string, res *routingResult) error {
	var svc corev1.Service
	err := r.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: name}, &svc)
	if apierrors.IsNotFound(err) {
		return r.createService(ctx, g, name, ports, typ, selector, res)
	}
	if err != nil {
		return fmt.Errorf("get service %s: %w", name, err)
	}
	why, err := r.serviceConflict(ctx, g, &svc)
	if err != nil {
		return err
	}
	if why != "" {
		res.conflict = joinMsg(res.conflict, why)
		return nil
	}
	adopted := !metav1.IsControlledBy(&svc, g)
	_, recorded := svc.Annotations[AnnotationOriginalSelector]
	if maps.Equal(svc.Spec.Selector, selector) && svc.Annotations[AnnotationClaimedBy] == g.Name && (!adopted || recorded) {
		return nil
	}
	patch := client.MergeFrom(svc.DeepCopy())
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	if adopted && !recorded {
		// Record the selector once: a second adopter (after this group is gone without its finalizer)
		// must not record this group's selector as the original.
		orig, err := json.Marshal(svc.Spec.Selector)
		if err != nil {
			return fmt.Errorf("record selector of service %s: %w", name, err)
		}
		svc.Annotations[AnnotationOriginalSelector] = string(orig)
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonServiceAdopted, "Route",
			"adopting Service %s (annotation %s=true): its selector %s is restored when the group lets go of it", name, AnnotationAdopt, orig)
	}
	svc.Annotations[AnnotationClaimedBy] = g.Name
	svc.Spec.Selector = selector
	if err := r.Patch(ctx, &svc, patch); err != nil {
		return fmt.Errorf("set selector of service %s: %w", name, err)
	}
	return nil
}

// createService creates a missing Service owned by the group, selecting selector.
func (r *FailoverGroupReconciler) createService(ctx context.Context, g *v1alpha1.FailoverGroup, name string, ports []v1alpha1.ServicePort,
	typ corev1.ServiceType, selector map[string]string, res *routingResult) error {
	if len(ports) == 0 {
		res.conflict = joinMsg(res.conflict, fmt.Sprintf("Service %s does not exist and routing lists no ports to create it with", name))
		return nil
	}
	svc := corev1.Service{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: g.Namespace,
		Labels:      map[string]string{v1alpha1.LabelGroup: g.Name},
		Annotations: map[string]string{AnnotationClaimedBy: g.Name},
	}}
	svc.Spec.Type = typ
	svc.Spec.Ports = routing.ServicePorts(ports)
	svc.Spec.Selector = selector
	if err := controllerutil.SetControllerReference(g, &svc, r.Scheme); err != nil {
		return fmt.Errorf("own service %s: %w", name, err)
	}
	if err := r.Create(ctx, &svc); err != nil {
		return fmt.Errorf("create service %s: %w", name, err)
	}
	return nil
}

// serviceConflict says why the group must leave an existing Service alone ("" when it may manage
// it).
func (r *FailoverGroupReconciler) serviceConflict(ctx context.Context, g *v1alpha1.FailoverGroup, svc *corev1.Service) (string, error) {
	if metav1.IsControlledBy(svc, g) {
		return "", nil
	}
	if other := controllingGroup(svc); other != "" {
		return fmt.Sprintf("Service %s is owned by FailoverGroup %s; this group leaves it alone", svc.Name, other), nil
	}
	if svc.Annotations[AnnotationAdopt] != "true" {
		return fmt.Sprintf("Service %s exists and was not created by this group: it is left untouched; to let the group manage its selector, "+
			"annotate it %s=\"true\" (the original selector is restored when the group is deleted)", svc.Name, AnnotationAdopt), nil
	}
	if claimer := svc.Annotations[AnnotationClaimedBy]; claimer != "" && claimer != g.Name {
		var other v1alpha1.FailoverGroup
		switch err := r.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: claimer}, &other); {
		case err == nil:
			return fmt.Sprintf("Service %s is already routed by FailoverGroup %s; this group leaves it alone", svc.Name, claimer), nil
		case !apierrors.IsNotFound(err):
			return "", fmt.Errorf("get group %s routing service %s: %w", claimer, svc.Name, err)
		}
		// The adopting group is gone: the Service is free, its recorded original selector still holds.
	}
	return "", nil
}

// controllingGroup is the name of the FailoverGroup that is the controller owner of obj ("" when
// none is).
func controllingGroup(obj metav1.Object) string {
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.Kind != "FailoverGroup" {
		return ""
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != v1alpha1.GroupVersion.Group {
		return ""
	}
	return ref.Name
}

// releaseServices lets go of the Services the group routes that keep does not name: owned ones are
// deleted (when deleteOwned), adopted ones get their original selector back.
func (r *FailoverGroupReconciler) releaseServices(ctx context.Context, g *v1alpha1.FailoverGroup, keep map[string]bool, deleteOwned bool) error {
	var list corev1.ServiceList
	if err := r.List(ctx, &list, client.InNamespace(g.Namespace)); err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	for i := range list.Items {
		svc := &list.Items[i]
		if keep[svc.Name] {
			continue
		}
		if metav1.IsControlledBy(svc, g) {
			if !deleteOwned {
				continue
			}
			err := r.Delete(ctx, svc, client.Preconditions{UID: &svc.UID})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return fmt.Errorf("delete service %s the group no longer routes: %w", svc.Name, err)
			}
			r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonServiceDeleted, "Route", "deleted Service %s: the group no longer routes it", svc.Name)
			continue
		}
		if svc.Annotations[AnnotationClaimedBy] != g.Name || controllingGroup(svc) != "" {
			continue
		}
		if _, adopted := svc.Annotations[AnnotationOriginalSelector]; !adopted {
			continue
		}
		if err := r.restoreService(ctx, g, svc); err != nil {
			return err
		}
	}
	return nil
}

// restoreService gives an adopted Service its original selector back and removes the annotations
// the group wrote (the owner's understudy.dev/adopt stays).
func (r *FailoverGroupReconciler) restoreService(ctx context.Context, g *v1alpha1.FailoverGroup, svc *corev1.Service) error {
	patch := client.MergeFrom(svc.DeepCopy())
	var orig map[string]string
	if err := json.Unmarshal([]byte(svc.Annotations[AnnotationOriginalSelector]), &orig); err != nil {
		// Edited by hand: do not guess a selector; let go of the Service all the same.
		logf.FromContext(ctx).Info("adopted Service has an unreadable original selector; its selector is left as it is",
			"service", svc.Name, "error", err.Error())
		r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonServiceReleased, "Route",
			"released Service %s without restoring its selector: annotation %s is not a JSON map", svc.Name, AnnotationOriginalSelector)
	} else {
		svc.Spec.Selector = orig
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonServiceReleased, "Route", "released Service %s: its original selector is restored", svc.Name)
	}
	delete(svc.Annotations, AnnotationOriginalSelector)
	delete(svc.Annotations, AnnotationClaimedBy)
	if err := r.Patch(ctx, svc, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("restore selector of service %s: %w", svc.Name, err)
	}
	return nil
}

// releaseRouting is called by the group's finalizer: every Service the group adopted gets its
// original selector back (what it owns is garbage-collected through owner references).
func (r *FailoverGroupReconciler) releaseRouting(ctx context.Context, g *v1alpha1.FailoverGroup) error {
	return r.releaseServices(ctx, g, nil, false)
}
