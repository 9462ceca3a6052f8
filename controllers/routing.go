package controllers

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/routing"
)

// AnnotationClaimedBy names the group that routes a Service (one it created, or one it adopted): the
// Service watch maps the Service back to that group, and a second group leaves it alone.
const AnnotationClaimedBy = "understudy.dev/claimed-by"

// routingResult is what applying routing found.
type routingResult struct {
	// conflict explains why a Service, the DNSEndpoint or a hostname was left alone: another group
	// or another owner has it (Ready=False, RoutingConflict).
	conflict string
	// invalid explains why a part of the routing spec cannot be applied (Ready=False, InvalidSpec).
	invalid string
	// dnsUnavailable explains why DNS records could not be written.
	dnsUnavailable string
	// dnsPending explains that ExternalDNS has not read the current records yet (Ready=False,
	// DNSNotPublished; not a degradation: every change of record passes through it).
	dnsPending string
}

func (rr *routingResult) messages() []string {
	var out []string
	for _, s := range []string{rr.conflict, rr.invalid, rr.dnsUnavailable} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// routeState says where traffic goes: active is nil while it goes nowhere (fenced). keepDNS keeps
// the active hostname's DNS record as it is (the fence step: DNS is not a fence, see
// routing.KeepActiveRecord); the read-only records still follow readable.
type routeState struct {
	active   *v1alpha1.Member
	readable []v1alpha1.Member
	keepDNS  bool
}

// applyRouting points the Service, the read-only Service and the DNS records at the route state,
// and lets go of what the spec no longer names: Services and the DNSEndpoint the group owns are
// deleted, adopted Services get their original selector back.
func (r *FailoverGroupReconciler) applyRouting(ctx context.Context, g *v1alpha1.FailoverGroup, rs routeState) (*routingResult, error) {
	res := &routingResult{}
	rt := g.Spec.Routing
	if rt == nil {
		rt = &v1alpha1.Routing{}
	}
	rs.readable = readOnlyTargets(g, rs)
	keep := map[string]bool{}
	if rt.Service != nil {
		keep[rt.Service.Name] = true
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
		keep[rt.ReadOnlyService.Name] = true
		if err := r.applyService(ctx, g, rt.ReadOnlyService.Name, rt.ReadOnlyService.Ports, corev1.ServiceTypeClusterIP,
			routing.ReadOnlySelector(g.Name), res); err != nil {
			return res, err
		}
	}
	if err := r.releaseServices(ctx, g, keep, true); err != nil {
		return res, err
	}
	if rt.DNS != nil {
		if err := r.applyDNS(ctx, g, rs, res); err != nil {
			return res, err
		}
	} else if err := r.removeDNS(ctx, g); err != nil {
		return res, err
	}
	return res, nil
}

// promotingMember is the member a failover in progress is moving the active role to ("" when none).
func promotingMember(g *v1alpha1.FailoverGroup) string {
	if p := g.Status.InProgress; p != nil {
		return p.To
	}
	return ""
}

// readOnlyTargets are the readable members that may receive read-only traffic: never the active
// member nor the one a failover is promoting (the first election lists every healthy member as a
// standby until the new one holds the role).
func readOnlyTargets(g *v1alpha1.FailoverGroup, rs routeState) []v1alpha1.Member {
	promoting := promotingMember(g)
	var out []v1alpha1.Member
	for _, m := range rs.readable {
		if m.Name == promoting || (rs.active != nil && m.Name == rs.active.Name) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// labelPods keeps the role labels of every member's pods in step with roles.
func (r *FailoverGroupReconciler) labelPods(ctx context.Context, g *v1alpha1.FailoverGroup, pods map[string]memberPods,
	roles map[string]v1alpha1.MemberRole, readable map[string]bool) error {
	promoting := promotingMember(g) // not readable while it is being promoted
	for _, m := range g.Spec.Members {
		want := routing.PodRoleLabels(g.Name, m.Name, roles[m.Name], readable[m.Name] && m.Name != promoting)
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
