package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"
	"sigs.k8s.io/external-dns/endpoint"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/routing"
)

// dnsCRDMissing is the message when the DNSEndpoint CRD is not installed.
const dnsCRDMissing = "the DNSEndpoint CRD (externaldns.k8s.io) is not installed: DNS records are not published"

// applyDNS writes the group's DNSEndpoint (same name as the group) and reports in the DNSPublished
// condition whether ExternalDNS has read it. Nothing is written when the DNS spec cannot be
// published (InvalidSpec), when a DNSEndpoint of that name belongs to someone else, or when another
// group or DNSEndpoint already publishes one of the hostnames (RoutingConflict).
func (r *FailoverGroupReconciler) applyDNS(ctx context.Context, g *v1alpha1.FailoverGroup, rs routeState, res *routingResult) error {
	dns := g.Spec.Routing.DNS
	if err := routing.CheckDNS(dns, g.Spec.Members); err != nil {
		res.invalid = joinMsg(res.invalid, err.Error())
		setDNSPublished(g, false, v1alpha1.ReasonDNSPublishedNotPublished, "DNS records are not updated: "+err.Error())
		return nil
	}
	var de externaldnsv1alpha1.DNSEndpoint
	exists := true
	switch err := r.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: g.Name}, &de); {
	case meta.IsNoMatchError(err):
		res.dnsUnavailable = dnsCRDMissing
		res.dnsPending = dnsCRDMissing
		setDNSPublished(g, false, v1alpha1.ReasonDNSPublishedCRDNotInstalled, dnsCRDMissing)
		return nil
	case apierrors.IsNotFound(err):
		exists = false
	case err != nil:
		return fmt.Errorf("get DNSEndpoint %s: %w", g.Name, err)
	}
	if exists && !metav1.IsControlledBy(&de, g) {
		msg := fmt.Sprintf("DNSEndpoint %s exists and is not owned by this group: it is left untouched and the group publishes no DNS records", g.Name)
		res.conflict = joinMsg(res.conflict, msg)
		setDNSPublished(g, false, v1alpha1.ReasonDNSPublishedNotPublished, msg)
		return nil
	}
	if blocked, err := r.dnsHostnameTaken(ctx, g, &de, exists, res); blocked || err != nil {
		return err
	}
	if err := r.writeDNSEndpoint(ctx, g, rs, &de, exists); err != nil {
		return err
	}
	observeDNSPublished(g, &de, res)
	return nil
}

// dnsHostnameTaken reports (RoutingConflict) whether another publisher already has one of the
// group's hostnames; a DNSEndpoint of ours that lost such a race is withdrawn.
func (r *FailoverGroupReconciler) dnsHostnameTaken(ctx context.Context, g *v1alpha1.FailoverGroup, de *externaldnsv1alpha1.DNSEndpoint,
	exists bool, res *routingResult) (bool, error) {
	var ours *externaldnsv1alpha1.DNSEndpoint
	if exists {
		ours = de
	}
	msg, err := r.hostnameConflict(ctx, g, ours)
	if err != nil || msg == "" {
		return false, err
	}
	res.conflict = joinMsg(res.conflict, msg)
	setDNSPublished(g, false, v1alpha1.ReasonDNSPublishedNotPublished, msg)
	if exists { // lost a race with the other publisher: withdraw our records
		if err := r.Delete(ctx, de, client.Preconditions{UID: &de.UID}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return true, fmt.Errorf("withdraw DNSEndpoint %s: %w", g.Name, err)
		}
	}
	return true, nil
}

// writeDNSEndpoint creates the group's DNSEndpoint or patches it when its records or label differ
// (the active hostname's record kept as published while fenced, see routeState.keepDNS).
func (r *FailoverGroupReconciler) writeDNSEndpoint(ctx context.Context, g *v1alpha1.FailoverGroup, rs routeState,
	de *externaldnsv1alpha1.DNSEndpoint, exists bool) error {
	dns := g.Spec.Routing.DNS
	eps := routing.DNSEndpoints(dns, rs.active, rs.readable)
	if rs.keepDNS {
		eps = routing.KeepActiveRecord(dns, eps, de.Spec.Endpoints)
	}
	if !exists {
		*de = externaldnsv1alpha1.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace,
			Labels: map[string]string{v1alpha1.LabelGroup: g.Name}}}
		de.Spec.Endpoints = eps
		if err := controllerutil.SetControllerReference(g, de, r.Scheme); err != nil {
			return fmt.Errorf("own DNSEndpoint %s: %w", g.Name, err)
		}
		if err := r.Create(ctx, de); err != nil {
			return fmt.Errorf("create DNSEndpoint %s: %w", g.Name, err)
		}
	} else if !sameEndpoints(de.Spec.Endpoints, eps) || de.Labels[v1alpha1.LabelGroup] != g.Name {
		patch := client.MergeFrom(de.DeepCopy())
		if de.Labels == nil {
			de.Labels = map[string]string{}
		}
		de.Labels[v1alpha1.LabelGroup] = g.Name
		de.Spec.Endpoints = eps
		if err := r.Patch(ctx, de, patch); err != nil {
			return fmt.Errorf("write DNSEndpoint %s: %w", g.Name, err)
		}
	}
	return nil
}

// observeDNSPublished sets DNSPublished from the DNSEndpoint's status: ExternalDNS (crd source)
// writes status.observedGeneration = metadata.generation when it reads a generation it had not seen.
// Without an ExternalDNS watching the namespace it stays behind, and so does Ready.
func observeDNSPublished(g *v1alpha1.FailoverGroup, de *externaldnsv1alpha1.DNSEndpoint, res *routingResult) {
	if de.Generation > 0 && de.Status.ObservedGeneration >= de.Generation {
		setDNSPublished(g, true, v1alpha1.ReasonDNSPublishedPublished,
			fmt.Sprintf("ExternalDNS has read generation %d of DNSEndpoint %s", de.Generation, de.Name))
		return
	}
	msg := fmt.Sprintf("waiting for ExternalDNS to read generation %d of DNSEndpoint %s (status.observedGeneration is %d); "+
		"it stays so when no ExternalDNS with --source=crd watches this namespace", de.Generation, de.Name, de.Status.ObservedGeneration)
	res.dnsPending = msg
	setDNSPublished(g, false, v1alpha1.ReasonDNSPublishedPending, msg)
}

func setDNSPublished(g *v1alpha1.FailoverGroup, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{Type: ConditionDNSPublished, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: g.Generation})
}

// sameEndpoints compares records as they are stored.
func sameEndpoints(a, b []*endpoint.Endpoint) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// removeDNS deletes the group's DNSEndpoint once spec.routing.dns is gone (a DNSEndpoint the group
// does not own is never touched). The DNSPublished condition, set while DNS routing was configured,
// says there may be one: without it nothing is looked up, so a cluster without the DNSEndpoint CRD
// is not asked about it at every reconcile.
func (r *FailoverGroupReconciler) removeDNS(ctx context.Context, g *v1alpha1.FailoverGroup) error {
	if meta.FindStatusCondition(g.Status.Conditions, ConditionDNSPublished) == nil {
		return nil
	}
	var de externaldnsv1alpha1.DNSEndpoint
	switch err := r.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: g.Name}, &de); {
	case meta.IsNoMatchError(err), apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("get DNSEndpoint %s: %w", g.Name, err)
	case metav1.IsControlledBy(&de, g):
		if err := r.Delete(ctx, &de, client.Preconditions{UID: &de.UID}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete DNSEndpoint %s: %w", g.Name, err)
		}
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonDNSEndpointDeleted, "Route",
			"deleted DNSEndpoint %s: spec.routing.dns was removed", g.Name)
	}
	meta.RemoveStatusCondition(&g.Status.Conditions, ConditionDNSPublished)
	return nil
}

// hostnameConflict says why the group must not publish its hostnames ("" when it may): another
// DNSEndpoint in the namespace already publishes one of them. One that another group owns wins
// unless both publish the name (a race) and this group is the older; one no group owns always wins.
func (r *FailoverGroupReconciler) hostnameConflict(ctx context.Context, g *v1alpha1.FailoverGroup, ours *externaldnsv1alpha1.DNSEndpoint) (string, error) {
	names := routing.Hostnames(g.Spec.Routing.DNS)
	var list externaldnsv1alpha1.DNSEndpointList
	if err := r.List(ctx, &list, client.InNamespace(g.Namespace)); err != nil {
		if meta.IsNoMatchError(err) {
			return "", nil
		}
		return "", fmt.Errorf("list DNSEndpoints: %w", err)
	}
	published := publishedNames(ours)
	for i := range list.Items {
		de := &list.Items[i]
		if metav1.IsControlledBy(de, g) {
			continue
		}
		theirs := publishedNames(de)
		for _, name := range names {
			if !theirs[name] {
				continue
			}
			owner := controllingGroup(de)
			if owner == "" {
				return fmt.Sprintf("hostname %s is already published by DNSEndpoint %s, which this group does not own; "+
					"the group publishes no DNS records", name, de.Name), nil
			}
			var other v1alpha1.FailoverGroup
			switch err := r.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: owner}, &other); {
			case apierrors.IsNotFound(err):
				continue // its records go with it (garbage collection)
			case err != nil:
				return "", fmt.Errorf("get group %s: %w", owner, err)
			case other.UID != metav1.GetControllerOf(de).UID:
				continue
			}
			if published[name] && olderGroup(g, &other) {
				continue // both published at once: the older group keeps the name
			}
			return fmt.Sprintf("hostname %s is already published by FailoverGroup %s; this group publishes no DNS records", name, owner), nil
		}
	}
	return "", nil
}

// publishedNames are the DNS names a DNSEndpoint holds (normalized).
func publishedNames(de *externaldnsv1alpha1.DNSEndpoint) map[string]bool {
	out := map[string]bool{}
	if de == nil {
		return out
	}
	for _, ep := range de.Spec.Endpoints {
		if ep != nil {
			out[routing.NormalizeHostname(ep.DNSName)] = true
		}
	}
	return out
}

// olderGroup reports whether a was created before b (by name when in the same second).
func olderGroup(a, b *v1alpha1.FailoverGroup) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}
