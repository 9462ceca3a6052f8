package controllers

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/probe"
)

// memberPods are the pods of one member, as seen in this reconcile.
type memberPods struct {
	// hasSelector is true when the member is defined by pods.
	hasSelector bool
	pods        []corev1.Pod
	// ready is the first Ready pod with an IP (by name), or nil.
	ready *corev1.Pod
}

// listMemberPods lists each member's pods in the group's namespace.
func (r *FailoverGroupReconciler) listMemberPods(ctx context.Context, g *v1alpha1.FailoverGroup) (map[string]memberPods, error) {
	return listMemberPods(ctx, r.Client, g)
}

func listMemberPods(ctx context.Context, r client.Reader, g *v1alpha1.FailoverGroup) (map[string]memberPods, error) {
	out := make(map[string]memberPods, len(g.Spec.Members))
	for _, m := range g.Spec.Members {
		if m.PodSelector == nil || len(m.PodSelector.MatchLabels) == 0 {
			out[m.Name] = memberPods{}
			continue
		}
		var list corev1.PodList
		if err := r.List(ctx, &list, client.InNamespace(g.Namespace), client.MatchingLabels(m.PodSelector.MatchLabels)); err != nil {
			return nil, fmt.Errorf("list pods of member %s: %w", m.Name, err)
		}
		pods := list.Items
		sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
		mp := memberPods{hasSelector: true, pods: pods}
		for i := range pods {
			if podReady(&pods[i]) {
				mp.ready = &pods[i]
				break
			}
		}
		out[m.Name] = mp
	}
	return out, nil
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.PodIP == "" {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// probeKind is the kind of probe the spec asks for.
func probeKind(hc v1alpha1.HealthCheck) probe.Kind {
	switch {
	case hc.HTTP != nil:
		return probe.KindHTTP
	case hc.SQLServer != nil:
		return probe.KindSQLServer
	default:
		return probe.KindTCP
	}
}

// probePort is the port a member is probed on.
func probePort(g *v1alpha1.FailoverGroup, m v1alpha1.Member) int32 {
	hc := g.Spec.HealthCheck
	switch {
	case hc.HTTP != nil:
		return hc.HTTP.Port
	case hc.TCP != nil && hc.TCP.Port != 0:
		return hc.TCP.Port
	case hc.SQLServer != nil && g.Spec.SQLServer != nil:
		if m.Address != nil && m.Address.Port != 0 {
			return m.Address.Port
		}
		return g.Spec.SQLServer.Port
	}
	if m.Address != nil {
		return m.Address.Port
	}
	return 0
}

// probeTarget is where a member is probed: its address when set, else its Ready pod's IP. ok is false
// when the member has nowhere to be probed (no address and no Ready pod): it then counts as down.
func probeTarget(g *v1alpha1.FailoverGroup, m v1alpha1.Member, pods memberPods, checkers probe.Registry) (probe.Target, bool) {
	var host string
	switch {
	case m.Address != nil:
		host = m.Address.Host
	case pods.ready != nil:
		host = pods.ready.Status.PodIP
	default:
		return probe.Target{}, false
	}
	port := probePort(g, m)
	if port == 0 {
		return probe.Target{}, false
	}
	kind := probeKind(g.Spec.HealthCheck)
	if !checkers.Supports(kind) {
		kind = probe.KindTCP
	}
	t := probe.Target{
		Kind:    kind,
		Address: net.JoinHostPort(host, strconv.Itoa(int(port))),
		Timeout: seconds(g.Spec.HealthCheck.TimeoutSeconds),
	}
	if hc := g.Spec.HealthCheck.HTTP; hc != nil {
		t.HTTPPath = hc.Path
		if hc.Scheme == "HTTPS" {
			t.HTTPScheme = "https"
		} else {
			t.HTTPScheme = "http"
		}
	}
	return t, true
}
