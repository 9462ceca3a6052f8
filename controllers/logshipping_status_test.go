package controllers

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func shippingGroup(members ...v1alpha1.MemberStatus) *v1alpha1.FailoverGroup {
	g := &v1alpha1.FailoverGroup{Spec: v1alpha1.FailoverGroupSpec{
		SQLServer:   &v1alpha1.SQLServerSpec{Databases: []v1alpha1.DatabaseName{"Sales"}},
		LogShipping: &v1alpha1.LogShippingSpec{LogBackupInterval: v1alpha1.NewDuration(10 * time.Second)}}}
	for _, m := range members {
		g.Spec.Members = append(g.Spec.Members, v1alpha1.Member{Name: m.Name, Priority: 100})
	}
	g.Status.Members = members
	return g
}

func TestLogShippingCondition(t *testing.T) {
	g := shippingGroup()
	g.Generation = 4
	tests := []struct {
		name     string
		problems []string
		err      error
		status   metav1.ConditionStatus
		reason   string
		message  string
	}{
		{"shipping", nil, nil, metav1.ConditionTrue, v1alpha1.ReasonLogShippingShipping, "log backups every 10s; largest restore lag 3s"},
		{"problems", []string{"restore on b: x", "prune: y"}, nil, metav1.ConditionFalse, v1alpha1.ReasonLogShippingDegraded, "restore on b: x; prune: y"},
		{"a failed step wins over problems", []string{"prune: y"}, errors.New("list backups: gone"), metav1.ConditionFalse, v1alpha1.ReasonLogShippingFailed, "list backups: gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := logShippingCondition(g, 3*time.Second, tt.problems, tt.err)
			if c.Status != tt.status || c.Reason != tt.reason || c.Message != tt.message || c.ObservedGeneration != 4 || c.Type != v1alpha1.ConditionLogShipping {
				t.Errorf("got %+v, want %s %s %q", c, tt.status, tt.reason, tt.message)
			}
		})
	}
}

func TestLargestStandbyLag(t *testing.T) {
	members := []v1alpha1.MemberStatus{
		{Name: "a", Role: v1alpha1.RoleActive, Databases: []v1alpha1.DatabasePosition{{Name: "Sales", LagSeconds: 99}}},
		{Name: "b", Role: v1alpha1.RoleStandby, Databases: []v1alpha1.DatabasePosition{{Name: "Sales", LagSeconds: 7}, {Name: "Hr", LagSeconds: 12}}},
		{Name: "c", Role: v1alpha1.RoleFenced, Databases: []v1alpha1.DatabasePosition{{Name: "Sales", LagSeconds: 5}}},
	}
	if got := largestStandbyLag(members); got != 12*time.Second {
		t.Errorf("largestStandbyLag = %s, want 12s (the active member's position is not a lag)", got)
	}
	if got := largestStandbyLag(nil); got != 0 {
		t.Errorf("largestStandbyLag(nil) = %s", got)
	}
}

func TestPrimaryAndRestoredPositions(t *testing.T) {
	prev := []v1alpha1.DatabasePosition{{Name: "Sales", State: "RESTORING", LSN: "42000000001000001", SalvageFile: "/b/salvage.trn"},
		{Name: "Hr", State: "RESTORING", LSN: "7"}}
	got := primaryPositions(prev, nil)
	want := []v1alpha1.DatabasePosition{{Name: "Sales", State: sqlserver.StateOnline, SalvageFile: "/b/salvage.trn"}, {Name: "Hr", State: sqlserver.StateOnline}}
	if !equalJSON(got, want) {
		t.Errorf("primaryPositions = %+v, want %+v", got, want)
	}
	// The primary's owner and TRUSTWORTHY are recorded, for databases without an entry too.
	got = primaryPositions(prev, map[string]logshipping.DatabaseSettings{"Sales": {Owner: "app", Trustworthy: true}, "Stock": {Owner: "sa"}})
	want = []v1alpha1.DatabasePosition{{Name: "Sales", State: sqlserver.StateOnline, SalvageFile: "/b/salvage.trn", Owner: "app", Trustworthy: true},
		{Name: "Hr", State: sqlserver.StateOnline}, {Name: "Stock", State: sqlserver.StateOnline, Owner: "sa"}}
	if !equalJSON(got, want) {
		t.Errorf("primaryPositions with settings = %+v, want %+v", got, want)
	}

	lsn, err := sqlserver.ParseLSN("43000000002000001")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	results := []logshipping.DatabaseRestoreResult{
		{Database: "Sales", State: "ONLINE (STANDBY)", LastRestoredFile: "/b/2.trn", RedoLSN: lsn, LastRestoreTime: at, Lag: 4500 * time.Millisecond},
		{Database: "Hr", State: "RESTORING"},
	}
	pos := restoredPositions(prev, results, map[string]string{"Hr": "/b/hr-salvage.trn"})
	if len(pos) != 2 {
		t.Fatalf("restoredPositions = %+v", pos)
	}
	s, h := pos[0], pos[1]
	if s.LSN != "43000000002000001" || s.LagSeconds != 4 || s.LastRestoredFile != "/b/2.trn" || s.LastRestoreTime == nil || !s.LastRestoreTime.Time.Equal(at) ||
		s.SalvageFile != "/b/salvage.trn" || s.State != "ONLINE (STANDBY)" {
		t.Errorf("Sales: %+v (the recorded salvage file is kept)", s)
	}
	if h.LSN != "" || h.LastRestoreTime != nil || h.SalvageFile != "/b/hr-salvage.trn" {
		t.Errorf("Hr: %+v (no position known; this cycle's salvage file recorded)", h)
	}
}

func TestScheduleRestores(t *testing.T) {
	standbyDBs := []v1alpha1.DatabasePosition{{Name: "Sales", State: "RESTORING"}}
	g := shippingGroup(
		v1alpha1.MemberStatus{Name: "a", Role: v1alpha1.RoleActive, Healthy: true},
		v1alpha1.MemberStatus{Name: "b", Role: v1alpha1.RoleStandby, Healthy: true},
		v1alpha1.MemberStatus{Name: "old", Role: v1alpha1.RoleFenced, Healthy: true, Databases: []v1alpha1.DatabasePosition{{Name: "Sales", State: "ONLINE"}}},
		v1alpha1.MemberStatus{Name: "down", Role: v1alpha1.RoleFenced, Healthy: false, Databases: standbyDBs},
		v1alpha1.MemberStatus{Name: "back", Role: v1alpha1.RoleFenced, Healthy: true, Databases: standbyDBs},
		v1alpha1.MemberStatus{Name: "other", Role: v1alpha1.RoleStandby, Healthy: true},
	)
	c := &shippingCycle{g: g, holder: "a"}
	rs := &v1alpha1.RestoreSchedule{Spec: v1alpha1.RestoreScheduleSpec{Members: []string{"b", "old", "down", "back", "a"}}}
	tests := map[string]bool{
		"a":     false, // the primary
		"b":     true,
		"old":   false, // CatchingUp: rejoinFenced salvages and reseeds it
		"down":  false, // WaitingForHealth
		"back":  true,  // Rejoined: its databases restore again
		"other": false, // not selected by the schedule
	}
	for member, want := range tests {
		if got := scheduleRestores(c, rs, member); got != want {
			t.Errorf("scheduleRestores(%s) = %v, want %v", member, got, want)
		}
	}
}

func TestStatusOwnershipSplit(t *testing.T) {
	g := shippingGroup(
		v1alpha1.MemberStatus{Name: "a", Role: v1alpha1.RoleActive, Healthy: true, Databases: []v1alpha1.DatabasePosition{{Name: "Sales", State: "ONLINE"}}},
		v1alpha1.MemberStatus{Name: "b", Role: v1alpha1.RoleStandby, Healthy: true},
		v1alpha1.MemberStatus{Name: "gone", Role: v1alpha1.RoleStandby, Databases: []v1alpha1.DatabasePosition{{Name: "Sales"}}},
	)
	g.Spec.Members = g.Spec.Members[:2] // "gone" left the spec
	g.Status.Lag, g.Status.Phase = "3s", v1alpha1.PhaseActive
	g.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady}, {Type: v1alpha1.ConditionLogShipping}}

	f := failoverOwned(&g.Status)
	if f.Lag != "" || len(f.Conditions) != 1 || f.Conditions[0].Type != v1alpha1.ConditionReady || f.Phase != v1alpha1.PhaseActive || len(f.Members) != 3 {
		t.Errorf("failoverOwned = %+v", f)
	}
	for _, m := range f.Members {
		if m.Databases != nil {
			t.Errorf("failoverOwned keeps %s's databases", m.Name)
		}
	}
	l := logShippingOwned(g)
	if l.Lag != "3s" || len(l.Conditions) != 1 || l.Conditions[0].Type != v1alpha1.ConditionLogShipping || l.Phase != "" {
		t.Errorf("logShippingOwned = %+v", l)
	}
	if len(l.Members) != 1 || l.Members[0].Name != "a" || l.Members[0].Role != "" || l.Members[0].Healthy {
		t.Errorf("logShippingOwned members = %+v, want only a's databases (b has none, gone left the spec)", l.Members)
	}
	if len(g.Status.Members[0].Databases) != 1 || g.Status.Lag != "3s" {
		t.Error("the split changed the status it was given")
	}
}
