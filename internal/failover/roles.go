package failover

import v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"

// Rejoin is where a member the active role was failed over away from stands on its way back to
// being a standby. Log shipping acts in RejoinCatchingUp: it backs up the old primary's unshipped
// tail (salvage), then restores the new primary's backups over it (reseed).
type Rejoin string

const (
	// RejoinNotFenced: the member was not failed over away from (or has rejoined already).
	RejoinNotFenced Rejoin = ""
	// RejoinWaitingForHealth: fenced and down; nothing can be done until it answers again.
	RejoinWaitingForHealth Rejoin = "WaitingForHealth"
	// RejoinCatchingUp: fenced and healthy, but its data is not a standby copy yet (salvage, then
	// reseed).
	RejoinCatchingUp Rejoin = "CatchingUp"
	// RejoinDone: fenced, healthy and (for members with data) a standby copy: it becomes a standby.
	RejoinDone Rejoin = "Rejoined"
)

// RejoinState is where the member stands on its way back.
func (m MemberView) RejoinState() Rejoin {
	switch {
	case !m.Fenced:
		return RejoinNotFenced
	case !m.Healthy:
		return RejoinWaitingForHealth
	case m.Rejoining:
		return RejoinCatchingUp
	}
	return RejoinDone
}

// Assignment is each member's role, and whether it may serve reads (the read-only Service and
// readOnlyHostname): a healthy standby or disabled member that is not rejoining.
type Assignment struct {
	Roles    map[string]v1alpha1.MemberRole
	Readable map[string]bool
}

// Roles assigns the members their roles, with holder holding the Lease (or "") and p the failover in
// progress (or nil):
//   - from the start of a failover until its route step nobody is active and the member it moves away
//     from is Fenced;
//   - at the route step the target is Active, and the old member stays Fenced after an unplanned move
//     (a failover or a forced one: it may hold writes that were never shipped), not after a planned one;
//   - otherwise the holder is Active;
//   - a member the status records Fenced stays so until it has rejoined (see RejoinState), also
//     while another failover runs;
//   - a standby with priority 0 is Disabled.
func Roles(members []MemberView, holder string, p *Progress) Assignment {
	a := Assignment{Roles: make(map[string]v1alpha1.MemberRole, len(members)), Readable: make(map[string]bool, len(members))}
	for _, m := range members {
		role := roleOf(m, holder, p)
		if role == v1alpha1.RoleStandby && m.Priority == 0 {
			role = v1alpha1.RoleDisabled
		}
		a.Roles[m.Name] = role
		a.Readable[m.Name] = (role == v1alpha1.RoleStandby || role == v1alpha1.RoleDisabled) && m.up()
	}
	return a
}

func roleOf(m MemberView, holder string, p *Progress) v1alpha1.MemberRole {
	switch {
	case p != nil && m.Name == p.From && (p.Step != v1alpha1.StepRouted || p.Reason.Unplanned()):
		return v1alpha1.RoleFenced
	case p != nil && p.Step == v1alpha1.StepRouted && m.Name == p.To:
		return v1alpha1.RoleActive
	case p == nil && m.Name == holder:
		return v1alpha1.RoleActive
	case m.RejoinState() == RejoinWaitingForHealth || m.RejoinState() == RejoinCatchingUp:
		return v1alpha1.RoleFenced
	}
	return v1alpha1.RoleStandby
}
