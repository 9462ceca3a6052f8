package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// writeGroupStatus puts the standbys' restore positions, the LAG column and the LogShipping
// condition on the group, by server-side apply of the log-shipping reconciler's fields only
// (status_apply.go). The group is read from the API server first, so the databases of members not
// restored in this cycle are written back as stored, never from an older cached copy.
func (r *LogShippingReconciler) writeGroupStatus(ctx context.Context, c *shippingCycle, cycleErr error) error {
	var cur v1alpha1.FailoverGroup
	if err := r.liveReader().Get(ctx, client.ObjectKeyFromObject(c.g), &cur); err != nil {
		return client.IgnoreNotFound(err)
	}
	before := logShippingOwned(&cur)
	for i := range cur.Status.Members {
		ms := &cur.Status.Members[i]
		switch results, restored := c.restores[ms.Name]; {
		case ms.Name == cur.Status.ActiveMember:
			ms.Databases = primaryPositions(ms.Databases, c.settings)
		case restored:
			ms.Databases = restoredPositions(ms.Databases, results, c.salvaged[ms.Name])
		}
	}
	lag := largestStandbyLag(cur.Status.Members)
	cur.Status.Lag = lag.String()
	meta.SetStatusCondition(&cur.Status.Conditions, logShippingCondition(&cur, lag, c.problems, cycleErr))
	for _, cond := range primaryConditions(&cur, c) {
		meta.SetStatusCondition(&cur.Status.Conditions, cond)
	}
	if equalJSON(before, logShippingOwned(&cur)) && appliedBy(&cur, FieldManagerLogShipping) {
		return nil
	}
	if err := applyLogShippingStatus(ctx, r.Client, &cur); err != nil {
		return fmt.Errorf("write log-shipping status: %w", err)
	}
	return nil
}

// releaseShippingStatus removes the log-shipping reconciler's fields from a group that no longer
// ships logs (an apply of nothing drops what the field manager owned).
func (r *LogShippingReconciler) releaseShippingStatus(ctx context.Context, g *v1alpha1.FailoverGroup) error {
	if !appliedBy(g, FieldManagerLogShipping) {
		return nil
	}
	if err := applyGroupStatus(ctx, r.Client, g, &v1alpha1.FailoverGroupStatus{}, "", FieldManagerLogShipping); err != nil {
		return fmt.Errorf("remove log-shipping status: %w", err)
	}
	return nil
}

func (r *LogShippingReconciler) liveReader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}

// primaryPositions: the primary has no restore position; it keeps only what it still owns (a
// salvage file).
func primaryPositions(prev []v1alpha1.DatabasePosition, settings map[string]logshipping.DatabaseSettings) []v1alpha1.DatabasePosition {
	var dbs []v1alpha1.DatabasePosition
	for _, d := range prev {
		pos := v1alpha1.DatabasePosition{Name: d.Name, State: sqlserver.StateOnline, SalvageFile: d.SalvageFile, Owner: d.Owner, Trustworthy: d.Trustworthy}
		if s, ok := settings[d.Name]; ok {
			pos.Owner, pos.Trustworthy = s.Owner, s.Trustworthy
		}
		dbs = append(dbs, pos)
	}
	// A member elected first was never a standby: its databases get their entry here.
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		if !slices.ContainsFunc(dbs, func(d v1alpha1.DatabasePosition) bool { return d.Name == name }) {
			s := settings[name]
			dbs = append(dbs, v1alpha1.DatabasePosition{Name: name, State: sqlserver.StateOnline, Owner: s.Owner, Trustworthy: s.Trustworthy})
		}
	}
	return dbs
}

// restoredPositions are a standby's databases after this cycle's restores; a salvage file made in
// this cycle replaces the one recorded.
func restoredPositions(prev []v1alpha1.DatabasePosition, results []logshipping.DatabaseRestoreResult, salvaged map[string]string) []v1alpha1.DatabasePosition {
	prevSalvage := map[string]string{}
	for _, d := range prev {
		prevSalvage[d.Name] = d.SalvageFile
	}
	var dbs []v1alpha1.DatabasePosition
	for _, res := range results {
		pos := v1alpha1.DatabasePosition{Name: res.Database, State: res.State, LastRestoredFile: res.LastRestoredFile,
			LagSeconds: int64(res.Lag / time.Second), SalvageFile: prevSalvage[res.Database]}
		if f := salvaged[res.Database]; f != "" {
			pos.SalvageFile = f
		}
		if !res.RedoLSN.IsZero() {
			pos.LSN = res.RedoLSN.String()
		}
		if !res.LastRestoreTime.IsZero() {
			t := metav1.NewTime(res.LastRestoreTime)
			pos.LastRestoreTime = &t
		}
		dbs = append(dbs, pos)
	}
	return dbs
}

// largestStandbyLag is the largest restore lag over the members that are not active.
func largestStandbyLag(members []v1alpha1.MemberStatus) time.Duration {
	var lag time.Duration
	for _, m := range members {
		if m.Role == v1alpha1.RoleActive {
			continue
		}
		for _, d := range m.Databases {
			lag = max(lag, time.Duration(d.LagSeconds)*time.Second)
		}
	}
	return lag
}

// logShippingCondition: Shipping, Degraded (problems the cycle shipped past) or Failed (the cycle
// stopped at a step).
func logShippingCondition(g *v1alpha1.FailoverGroup, lag time.Duration, problems []string, cycleErr error) metav1.Condition {
	cond := metav1.Condition{Type: v1alpha1.ConditionLogShipping, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonLogShippingShipping,
		Message:            fmt.Sprintf("log backups every %s; largest restore lag %s", g.Spec.LogShipping.LogBackupInterval.Duration, lag),
		ObservedGeneration: g.Generation}
	switch {
	case cycleErr != nil:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonLogShippingFailed, cycleErr.Error()
	case len(problems) > 0:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonLogShippingDegraded, strings.Join(problems, "; ")
	}
	return cond
}

// updateStatus is the one way this reconciler writes the status of an object it alone writes (a
// RestoreSchedule, a BackupTarget): read obj again, let change edit it, write when it changed,
// again on a conflict. obj is left as written.
func updateStatus[T client.Object](ctx context.Context, c client.Client, obj T, change func(T)) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		before, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		change(obj)
		// Compared as JSON: specs keep unexported fields (v1alpha1's undecodable) that reflection
		// cannot compare.
		if after, err := json.Marshal(obj); err == nil && bytes.Equal(before, after) {
			return nil
		}
		return c.Status().Update(ctx, obj)
	})
}

// observeShipping sets the backup age and restore lag metrics.
func (r *LogShippingReconciler) observeShipping(_ context.Context, c *shippingCycle) error {
	key := c.g.Namespace + "/" + c.g.Name
	for _, db := range c.view.dbs {
		if newest, ok := c.files.Newest(db); ok && !newest.FinishedAt.IsZero() {
			backupAge.WithLabelValues(key, db).Set(c.now.Sub(newest.FinishedAt).Seconds())
		}
	}
	for member, results := range c.restores {
		for _, res := range results {
			restoreLag.WithLabelValues(key, member, res.Database).Set(res.Lag.Seconds())
		}
	}
	return nil
}
