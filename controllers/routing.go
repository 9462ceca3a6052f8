package controllers

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/routing"
)

// AnnotationClaimedBy marks a Service whose selector a group manages; a second group finds it and
// leaves the Service alone.
const AnnotationClaimedBy = "understudy.dev/claimed-by"

// routingResult is what applying routing found.
type routingResult struct {
	// conflict explains why a Service was left alone (claimed by another group).
	conflict string
	// notOwned explains that an existing Service is not ours and only its selector is managed.
	notOwned string
	// dnsUnavailable explains why DNS records could not be written.
	dnsUnavailable string
}

func (rr *routingResult) messages() []string {
	var out []string
	for _, s := range []string{rr.conflict, rr.notOwned, rr.dnsUnavailable} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// routeState says where traffic goes: active is nil while it goes nowhere (fenced).
type routeState struct {
	active   *v1alpha1.Member
	readable []v1alpha1.Member
}

// applyRouting points the Service, the read-only Service and the DNS records at the route state.
func (r *FailoverGroupReconciler) applyRouting(ctx context.Context, g *v1alpha1.FailoverGroup, rs routeState) (*routingResult, error) {
	res := &routingResult{}
	rt := g.Spec.Routing
	if rt == nil {
		return res, nil
	}
	if rt.Service != nil {
		selector := routing.FencedSelector(g.Name)
		if rs.active != nil {
			if sel := routing.ActiveSelector(*rs.active); sel != nil {
				selector = sel
			}
		}
		if err := r.applyService(ctx, g, rt.Service.Name, rt.Service.Ports, corev1.ServiceType(rt.Service.Type), selector, res); err != nil {
			return res, err
		}
	}
	if rt.ReadOnlyService != nil {
		if err := r.applyService(ctx, g, rt.ReadOnlyService.Name, rt.ReadOnlyService.Ports, corev1.ServiceTypeClusterIP,
			routing.ReadOnlySelector(g.Name), res); err != nil {
			return res, err
		}
	}
	if rt.DNS != nil {
		if err := r.applyDNS(ctx, g, rs, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// applyService creates the Service when missing, or sets the selector of an existing one that no
// other group claims.
func (r *FailoverGroupReconciler) applyService(ctx context.Context, g *v1alpha1.FailoverGroup, name string, ports []v1alpha1.ServicePort,
	typ corev1.ServiceType, selector map[string]string, res *routingResult) error {
	var svc corev1.Service
	err := r.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: name}, &svc)
	if apierrors.IsNotFound(err) {
		if len(ports) == 0 {
			res.conflict = joinMsg(res.conflict, fmt.Sprintf("Service %s does not exist and routing lists no ports to create it with", name))
			return nil
		}
		svc = corev1.Service{ObjectMeta: metav1.ObjectMeta{
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
	if err != nil {
		return fmt.Errorf("get service %s: %w", name, err)
	}
	if claimer := svc.Annotations[AnnotationClaimedBy]; claimer != "" && claimer != g.Name {
		var other v1alpha1.FailoverGroup
		switch err := r.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: claimer}, &other); {
		case err == nil:
			res.conflict = joinMsg(res.conflict, fmt.Sprintf("Service %s is already routed by FailoverGroup %s; this group leaves it alone", name, claimer))
			return nil
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("get claiming group %s: %w", claimer, err)
		}
		// The claiming group is gone: the Service is free.
	}
	if !metav1.IsControlledBy(&svc, g) {
		res.notOwned = joinMsg(res.notOwned, fmt.Sprintf("Service %s exists and is not owned by this group: only its selector is managed", name))
	}
	if maps.Equal(svc.Spec.Selector, selector) && svc.Annotations[AnnotationClaimedBy] == g.Name {
		return nil
	}
	patch := client.MergeFrom(svc.DeepCopy())
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	svc.Annotations[AnnotationClaimedBy] = g.Name
	svc.Spec.Selector = selector
	if err := r.Patch(ctx, &svc, patch); err != nil {
		return fmt.Errorf("set selector of service %s: %w", name, err)
	}
	return nil
}

// applyDNS writes the group's DNSEndpoint (same name as the group).
func (r *FailoverGroupReconciler) applyDNS(ctx context.Context, g *v1alpha1.FailoverGroup, rs routeState, res *routingResult) error {
	eps := routing.DNSEndpoints(g.Spec.Routing.DNS, rs.active, rs.readable)
	de := &externaldnsv1alpha1.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace}}
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, de, func() error {
		if de.Labels == nil {
			de.Labels = map[string]string{}
		}
		de.Labels[v1alpha1.LabelGroup] = g.Name
		de.Spec.Endpoints = eps
		return controllerutil.SetControllerReference(g, de, r.Scheme)
	})
	if meta.IsNoMatchError(err) {
		res.dnsUnavailable = "the DNSEndpoint CRD (externaldns.k8s.io) is not installed: DNS records are not published"
		return nil
	}
	if err != nil {
		return fmt.Errorf("write DNSEndpoint %s: %w", g.Name, err)
	}
	return nil
}

// labelPods keeps the role labels of every member's pods in step with roles.
func (r *FailoverGroupReconciler) labelPods(ctx context.Context, g *v1alpha1.FailoverGroup, pods map[string]memberPods,
	roles map[string]v1alpha1.MemberRole, readable map[string]bool) error {
	for _, m := range g.Spec.Members {
		want := routing.PodRoleLabels(g.Name, m.Name, roles[m.Name], readable[m.Name])
		for i := range pods[m.Name].pods {
			p := &pods[m.Name].pods[i]
			if hasLabels(p.Labels, want) {
				continue
			}
			patch := client.MergeFrom(p.DeepCopy())
			if p.Labels == nil {
				p.Labels = map[string]string{}
			}
			maps.Copy(p.Labels, want)
			if err := r.Patch(ctx, p, patch); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("label pod %s of member %s: %w", p.Name, m.Name, err)
			}
		}
	}
	return nil
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// unlabelPods takes the operator's labels off every member's pods.
func (r *FailoverGroupReconciler) unlabelPods(ctx context.Context, pods map[string]memberPods) error {
	keys := []string{v1alpha1.LabelGroup, v1alpha1.LabelMember, v1alpha1.LabelRole, routing.LabelReadable}
	for name, mp := range pods {
		for i := range mp.pods {
			p := &mp.pods[i]
			patch := client.MergeFrom(p.DeepCopy())
			changed := false
			for _, k := range keys {
				if _, ok := p.Labels[k]; ok {
					delete(p.Labels, k)
					changed = true
				}
			}
			if !changed {
				continue
			}
			if err := r.Patch(ctx, p, patch); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("unlabel pod %s of member %s: %w", p.Name, name, err)
			}
		}
	}
	return nil
}
