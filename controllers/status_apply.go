package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	acv1alpha1 "github.com/understudy-dev/understudy/api/applyconfiguration/api/v1alpha1"
	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// The two reconcilers that write a FailoverGroup's status do it by server-side apply, each under
// its own field manager and owning only its own fields, so neither can overwrite what the other
// wrote (status.members and status.conditions are map lists: the server merges them by key).
const (
	// FieldManagerFailover owns the status except what log shipping owns: phase, activeMember,
	// healthy, the members' roles and health, failoverReadiness, inProgress, lastFailover,
	// failoverCount, and every condition but LogShipping.
	FieldManagerFailover = "understudy-failover"
	// FieldManagerLogShipping owns status.members[].databases (restore positions), status.lag and
	// the LogShipping condition.
	FieldManagerLogShipping = "understudy-logshipping"
)

// logShippingOwnsCondition says whether the log-shipping reconciler owns condition type t.
func logShippingOwnsCondition(t string) bool {
	switch t {
	case v1alpha1.ConditionLogShipping, v1alpha1.ConditionBackupCompression, v1alpha1.ConditionForeignLogBackups,
		v1alpha1.ConditionTransactionLogGrowing:
		return true
	}
	return false
}

// failoverOwned is st without the log-shipping reconciler's fields.
func failoverOwned(st *v1alpha1.FailoverGroupStatus) *v1alpha1.FailoverGroupStatus {
	out := st.DeepCopy()
	out.Lag = ""
	for i := range out.Members {
		out.Members[i].Databases = nil
	}
	out.Conditions = slices.DeleteFunc(out.Conditions, func(c metav1.Condition) bool { return logShippingOwnsCondition(c.Type) })
	return out
}

// logShippingOwned is g's status reduced to the log-shipping reconciler's fields: lag, the
// LogShipping condition, and the databases of the members in the spec that have any (a member the
// spec dropped is left to the failover reconciler, which removes it).
func logShippingOwned(g *v1alpha1.FailoverGroup) *v1alpha1.FailoverGroupStatus {
	st := &g.Status
	out := &v1alpha1.FailoverGroupStatus{Lag: st.Lag}
	for _, m := range st.Members {
		if len(m.Databases) > 0 && memberByName(g, m.Name) != nil {
			out.Members = append(out.Members, v1alpha1.MemberStatus{Name: m.Name, Databases: m.Databases})
		}
	}
	for _, c := range st.Conditions {
		if logShippingOwnsCondition(c.Type) {
			out.Conditions = append(out.Conditions, c)
		}
	}
	return out
}

// applyFailoverStatus writes the failover reconciler's part of g's status, as a compare-and-swap on
// g's resourceVersion (a failover's steps rely on it: a stale writer gets a Conflict). g is then
// what the server stored, with the other reconciler's fields.
func applyFailoverStatus(ctx context.Context, c client.Client, g *v1alpha1.FailoverGroup) error {
	if err := releaseUpdatedStatus(ctx, c, g); err != nil {
		return err
	}
	return applyGroupStatus(ctx, c, g, failoverOwned(&g.Status), g.ResourceVersion, FieldManagerFailover)
}

// applyLogShippingStatus writes the log-shipping reconciler's part of g's status. It needs no
// compare-and-swap: it is the only writer of those fields, and g was read from the API server
// (not the cache), so nothing it writes back is older than what is stored.
func applyLogShippingStatus(ctx context.Context, c client.Client, g *v1alpha1.FailoverGroup) error {
	if err := releaseUpdatedStatus(ctx, c, g); err != nil {
		return err
	}
	st, err := statusConfig(logShippingOwned(g))
	if err != nil {
		return err
	}
	// A member's other fields are the failover reconciler's, even those whose zero value a typed
	// status would carry (healthy: false).
	for i, m := range st.Members {
		st.Members[i] = acv1alpha1.MemberStatusApplyConfiguration{Name: m.Name, Databases: m.Databases}
	}
	return applyStatusConfig(ctx, c, g, st, "", FieldManagerLogShipping)
}

// statusConfig is st as an apply configuration: every field st sets, and the zero values its JSON
// carries (fields without omitempty).
func statusConfig(st *v1alpha1.FailoverGroupStatus) (*acv1alpha1.FailoverGroupStatusApplyConfiguration, error) {
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	out := &acv1alpha1.FailoverGroupStatusApplyConfiguration{}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return out, nil
}

func applyGroupStatus(ctx context.Context, c client.Client, g *v1alpha1.FailoverGroup, st *v1alpha1.FailoverGroupStatus,
	resourceVersion, manager string) error {
	status, err := statusConfig(st)
	if err != nil {
		return err
	}
	return applyStatusConfig(ctx, c, g, status, resourceVersion, manager)
}

// applyStatusConfig applies status as manager (a compare-and-swap when resourceVersion is set) and
// leaves in g what the server stored.
func applyStatusConfig(ctx context.Context, c client.Client, g *v1alpha1.FailoverGroup, status *acv1alpha1.FailoverGroupStatusApplyConfiguration,
	resourceVersion, manager string) error {
	ac := acv1alpha1.FailoverGroup(g.Name, g.Namespace).WithStatus(status)
	if resourceVersion != "" {
		ac.WithResourceVersion(resourceVersion)
	}
	if err := c.Status().Apply(ctx, ac, client.FieldOwner(manager), client.ForceOwnership); err != nil {
		return err
	}
	// The response is the whole stored object.
	raw, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("decode applied status: %w", err)
	}
	var stored v1alpha1.FailoverGroup
	if err := json.Unmarshal(raw, &stored); err != nil {
		return fmt.Errorf("decode applied status: %w", err)
	}
	g.ResourceVersion, g.Status = stored.ResourceVersion, stored.Status
	return nil
}

// releaseUpdatedStatus gives the status fields plain updates own to the reconcilers that apply
// them (adoptUpdatedStatus), in one patch that expects g's resourceVersion. A no-op when there are
// none, which is every write but the first after an upgrade or a manual status edit.
func releaseUpdatedStatus(ctx context.Context, c client.Client, g *v1alpha1.FailoverGroup) error {
	adopted, changed, err := adoptUpdatedStatus(g.GetManagedFields())
	if err != nil || !changed {
		return err
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": g.ResourceVersion},
		{"op": "replace", "path": "/metadata/managedFields", "value": adopted},
	})
	if err != nil {
		return fmt.Errorf("adopt status fields: %w", err)
	}
	cp := g.DeepCopy() // the response must not replace the status g is about to write
	if err := c.Patch(ctx, cp, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return fmt.Errorf("adopt status fields of plain updates: %w", err)
	}
	g.ResourceVersion, g.ManagedFields = cp.ResourceVersion, cp.ManagedFields
	return nil
}

// appliedBy says whether manager has applied any of g's fields.
func appliedBy(g *v1alpha1.FailoverGroup, manager string) bool {
	return slices.ContainsFunc(g.GetManagedFields(), func(e metav1.ManagedFieldsEntry) bool {
		return e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply
	})
}
