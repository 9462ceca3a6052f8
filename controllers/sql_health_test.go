package controllers

import (
	"errors"
	"fmt"
	"testing"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestSQLProbeRole(t *testing.T) {
	g := &v1alpha1.FailoverGroup{Status: v1alpha1.FailoverGroupStatus{Members: []v1alpha1.MemberStatus{
		{Name: "a", Role: v1alpha1.RoleActive}, {Name: "b", Role: v1alpha1.RoleStandby},
		{Name: "old", Role: v1alpha1.RoleFenced}, {Name: "off", Role: v1alpha1.RoleDisabled}}}}
	moving := g.DeepCopy()
	moving.Status.InProgress = &v1alpha1.FailoverProgress{From: "a", To: "b", Step: v1alpha1.StepLeaseTaken}
	tests := []struct {
		g              *v1alpha1.FailoverGroup
		member, holder string
		want           sqlserver.Role
	}{
		{g, "a", "a", sqlserver.RolePrimary},
		{g, "a", "", sqlserver.RoleStandbyOrPromoted}, // the first election: any member may win
		{g, "b", "", sqlserver.RoleStandbyOrPromoted},
		{g, "b", "a", sqlserver.RoleStandby},
		{g, "off", "a", sqlserver.RoleStandby},
		{g, "new", "a", sqlserver.RoleStandby},              // not in the status yet
		{g, "old", "a", sqlserver.RoleStandbyOrPromoted},    // fenced: ONLINE until salvaged and reseeded
		{moving, "b", "b", sqlserver.RoleStandbyOrPromoted}, // the target holds the Lease before it is promoted
		{moving, "a", "b", sqlserver.RoleStandbyOrPromoted}, // the member the role moves away from
		{moving, "old", "b", sqlserver.RoleStandbyOrPromoted},
		{moving, "off", "b", sqlserver.RoleStandby},
	}
	for _, tt := range tests {
		if got := sqlProbeRole(tt.g, tt.member, tt.holder); got != tt.want {
			t.Errorf("sqlProbeRole(%s, holder %s, in progress %v) = %s, want %s", tt.member, tt.holder, tt.g.Status.InProgress != nil, got, tt.want)
		}
	}
}

func TestStandbyNotRestoring(t *testing.T) {
	state := func(db string, role sqlserver.Role, got string) error {
		return &sqlserver.DatabaseStateError{Database: db, Role: role, Got: got, Want: "RESTORING or ONLINE (STANDBY)"}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"healthy", nil, false},
		{"unreachable", errors.New("dial tcp: connection refused"), false},
		{"missing (log shipping seeds it)", state("Sales", sqlserver.RoleStandby, sqlserver.StateMissing), false},
		{"recovered by hand", state("Sales", sqlserver.RoleStandby, "ONLINE"), true},
		{"read-only outside standby", state("Sales", sqlserver.RoleStandby, "ONLINE (READ_ONLY)"), true},
		{"offline", state("Sales", sqlserver.RoleStandby, "OFFLINE"), true},
		{"a primary's check", state("Sales", sqlserver.RolePrimary, "RESTORING"), false},
		{"one of several, wrapped", fmt.Errorf("health check of b:1433 as Standby: %w",
			errors.Join(state("Hr", sqlserver.RoleStandby, sqlserver.StateMissing), state("Sales", sqlserver.RoleStandby, "ONLINE"))), true},
	}
	for _, tt := range tests {
		if got := standbyNotRestoring(tt.err); got != tt.want {
			t.Errorf("%s: standbyNotRestoring = %v, want %v", tt.name, got, tt.want)
		}
	}
}
