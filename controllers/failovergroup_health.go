package controllers

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/probe"
)

// memberHealth is one member's health as this reconcile sees it.
type memberHealth struct {
	known               bool
	healthy             bool
	consecutiveFailures int
	lastProbe           time.Time
	message             string
	// recovering: up again, but not yet for successThreshold probes in a row.
	recovering bool
}

// observeHealth keeps the probe runner's view of the group current and reads the members' health.
// A member with nowhere to probe (no address and no Ready pod) is down at once. A member the runner
// has just started probing again (a new pod, a changed address) needs successThreshold successes
// before it counts as healthy if it was down before, so a member that failed never flaps back on
// one lucky probe.
func (r *FailoverGroupReconciler) observeHealth(ctx context.Context, g *v1alpha1.FailoverGroup, key string, pods map[string]memberPods, holder string) (map[string]memberHealth, error) {
	hc := g.Spec.HealthCheck
	spec := probe.GroupSpec{
		Period:           seconds(hc.PeriodSeconds),
		FailureThreshold: int(hc.FailureThreshold),
		SuccessThreshold: int(hc.SuccessThreshold),
	}
	out := make(map[string]memberHealth, len(g.Spec.Members))
	for _, m := range g.Spec.Members {
		t, ok := probeTarget(g, m, pods[m.Name], r.Checkers)
		if !ok {
			msg := "no Ready pod"
			if !pods[m.Name].hasSelector {
				msg = "no address to probe"
			} else if len(pods[m.Name].pods) == 0 {
				msg = "no pod matches podSelector"
			}
			out[m.Name] = memberHealth{known: true, healthy: false, message: msg}
			continue
		}
		spec.Members = append(spec.Members, probe.MemberSpec{Name: m.Name, Target: t})
	}
	if err := r.registerSQLTargets(ctx, g, spec.Members, pods, holder); err != nil {
		return nil, err
	}
	if err := r.Runner.Ensure(key, spec); err != nil {
		return nil, fmt.Errorf("configure probes: %w", err)
	}
	snap := r.Runner.Snapshot(key)
	prev := previousMembers(g)
	for _, ms := range spec.Members {
		s := snap[ms.Name]
		h := memberHealth{known: s.Known, healthy: s.Known && s.Healthy, consecutiveFailures: s.ConsecutiveFailures,
			lastProbe: s.LastProbeTime, message: s.LastError}
		if p, seen := prev[ms.Name]; h.healthy && seen && !p.Healthy && p.Role != "" &&
			s.ConsecutiveSuccesses < int(hc.SuccessThreshold) {
			h.healthy = false
			h.recovering = true
			h.message = fmt.Sprintf("recovering: %d of %d successful probes", s.ConsecutiveSuccesses, hc.SuccessThreshold)
		}
		if !s.Known {
			h.message = "waiting for the first probe"
		}
		out[ms.Name] = h
	}
	return out, nil
}

func previousMembers(g *v1alpha1.FailoverGroup) map[string]v1alpha1.MemberStatus {
	out := make(map[string]v1alpha1.MemberStatus, len(g.Status.Members))
	for _, m := range g.Status.Members {
		out[m.Name] = m
	}
	return out
}

// registerSQLTargets tells the SQL Server health checker the group's login for each probed address,
// and the name each member's certificate is verified against.
func (r *FailoverGroupReconciler) registerSQLTargets(ctx context.Context, g *v1alpha1.FailoverGroup, members []probe.MemberSpec,
	pods map[string]memberPods, holder string) error {
	if r.SQL == nil || g.Spec.SQLServer == nil || g.Spec.HealthCheck.SQLServer == nil {
		return nil
	}
	cfg, err := sqlCredentials(ctx, r.APIReader, g)
	if err != nil {
		return fmt.Errorf("configure SQL Server health checks: %w", err)
	}
	dbs := databaseNames(g.Spec.SQLServer.Databases)
	for _, m := range members {
		host, port, err := net.SplitHostPort(m.Target.Address)
		if err != nil {
			return fmt.Errorf("member %s address %q: %w", m.Name, m.Target.Address, err)
		}
		p, _ := strconv.Atoi(port)
		spec := memberByName(g, m.Name)
		if spec == nil {
			return fmt.Errorf("member %s is not in the spec", m.Name)
		}
		c := memberSQLConfig(cfg, g, *spec, pods[m.Name], host, p)
		r.SQL.setProbe(g, m.Name, m.Target.Address, sqlProbeTarget{cfg: c, dbs: dbs, role: sqlProbeRole(g, m.Name, holder)})
	}
	return nil
}
