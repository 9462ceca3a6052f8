package routing

import (
	"maps"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// LabelReadable marks pods of healthy standbys, which the read-only Service selects.
const LabelReadable = "understudy.dev/readable"

// roleNone is a role value no pod ever carries: a selector with it matches nothing.
const roleNone = "none"

// ActiveSelector is the Service selector that sends traffic to member m: its pods' matchLabels.
// It is nil when the member has no pods (an external member is reached through DNS instead).
func ActiveSelector(m v1alpha1.Member) map[string]string {
	if m.PodSelector == nil || len(m.PodSelector.MatchLabels) == 0 {
		return nil
	}
	return maps.Clone(m.PodSelector.MatchLabels)
}

// FencedSelector selects no pod at all: the Service's selector while no member may receive traffic.
func FencedSelector(group string) map[string]string {
	return map[string]string{v1alpha1.LabelGroup: group, v1alpha1.LabelRole: roleNone}
}

// ReadOnlySelector selects the pods of the group's healthy standbys.
func ReadOnlySelector(group string) map[string]string {
	return map[string]string{v1alpha1.LabelGroup: group, LabelReadable: "true"}
}

// PodRoleLabels are the labels the operator keeps on a member's pods.
func PodRoleLabels(group, member string, role v1alpha1.MemberRole, readable bool) map[string]string {
	r := "false"
	if readable {
		r = "true"
	}
	return map[string]string{
		v1alpha1.LabelGroup:  group,
		v1alpha1.LabelMember: member,
		v1alpha1.LabelRole:   RoleLabelValue(role),
		LabelReadable:        r,
	}
}

// RoleLabelValue is the value of understudy.dev/role for a role: active, standby or fenced.
func RoleLabelValue(role v1alpha1.MemberRole) string {
	switch role {
	case v1alpha1.RoleActive:
		return "active"
	case v1alpha1.RoleFenced:
		return "fenced"
	default:
		return "standby"
	}
}
