package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
)

// During the routing step of any unplanned move (an automatic or a forced failover) the member
// failed over away from must stay Fenced: labelled standby, it would be selected by the read-only
// Service while it may still hold writes the new primary never saw.
func TestRolesKeepTheOldPrimaryFencedInEveryUnplannedMove(t *testing.T) {
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Name: "sales"}, Spec: v1alpha1.FailoverGroupSpec{
		Members: []v1alpha1.Member{{Name: "ds1", Priority: 200}, {Name: "ds2", Priority: 100}}}}
	w := &world{health: map[string]memberHealth{"ds1": {known: true, healthy: true}, "ds2": {known: true, healthy: true}}}
	tests := []struct {
		reason failover.Reason
		step   v1alpha1.FailoverStep
		want   v1alpha1.MemberRole
	}{
		{failover.ReasonFailover, v1alpha1.StepPromoted, v1alpha1.RoleFenced},
		{failover.ReasonFailover, v1alpha1.StepRouted, v1alpha1.RoleFenced},
		{failover.ReasonForced, v1alpha1.StepPromoted, v1alpha1.RoleFenced},
		{failover.ReasonForced, v1alpha1.StepRouted, v1alpha1.RoleFenced},
		{failover.ReasonSwitchover, v1alpha1.StepRouted, v1alpha1.RoleStandby},
		{failover.ReasonFailback, v1alpha1.StepRouted, v1alpha1.RoleStandby},
	}
	for _, tt := range tests {
		p := &v1alpha1.FailoverProgress{From: "ds1", To: "ds2", Reason: string(tt.reason), Step: tt.step}
		roles, _ := memberRoles(g, w, "ds2", p)
		if roles["ds1"] != tt.want {
			t.Errorf("%s at step %s: old primary is %s, want %s", tt.reason, tt.step, roles["ds1"], tt.want)
		}
		if tt.step == v1alpha1.StepRouted && roles["ds2"] != v1alpha1.RoleActive {
			t.Errorf("%s at step %s: new primary is %s, want Active", tt.reason, tt.step, roles["ds2"])
		}
	}
}
