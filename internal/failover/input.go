package failover

import (
	"math/big"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// MemberView is what the decision needs to know about one member.
type MemberView struct {
	Name     string
	Priority int32
	// Index is the member's position in spec.members (the last tie-breaker).
	Index int
	// Known is false until the first probe result (or pod state) is in.
	Known   bool
	Healthy bool
	// HealthySince is when the member last became healthy.
	HealthySince time.Time
	// Position is how much data the member holds (SQL Server: the lowest restored LSN over the
	// group's databases); nil when unknown or not applicable. Higher wins a priority tie.
	Position *big.Int
	// DataBehind is how far the member's restored data trails the newest shipped backup (SQL
	// Server standbys); nil when unknown or not applicable.
	DataBehind *time.Duration
	// Message is the last probe's message (why it is down).
	Message string
	// Fenced says the status records the member Fenced: the active role was failed over away from
	// it, and it has not rejoined as a standby yet.
	Fenced bool
	// Rejoining says its data is not a standby copy yet (SQL Server: log shipping salvages the
	// unshipped tail and reseeds it, see Rejoin). It is never a candidate nor readable meanwhile.
	Rejoining bool
}

// up is whether the member can serve: healthy, and not a diverged old primary on its way back.
func (m MemberView) up() bool { return m.Healthy && !m.Rejoining }

// LeaseView is the group's Lease as the decision sees it.
type LeaseView struct {
	Exists    bool
	Holder    string
	RenewTime time.Time
	Duration  time.Duration
}

// ExpiresAt is the instant from which another member may take the role.
func (l LeaseView) ExpiresAt() time.Time { return l.RenewTime.Add(l.Duration) }

// Expired reports whether the role may be taken at now.
func (l LeaseView) Expired(now time.Time) bool {
	return !l.Exists || l.Holder == "" || !now.Before(l.ExpiresAt())
}

// RenewAt is when the holder's Lease should next be renewed: renewals happen at most every third of
// the duration, so a thousand groups do not mean a thousand writes a second.
func (l LeaseView) RenewAt() time.Time { return l.RenewTime.Add(l.Duration / 3) }

// Policy is the group's failover policy.
type Policy struct {
	Mode          v1alpha1.FailoverMode
	Failback      v1alpha1.FailbackPolicy
	FailbackDelay time.Duration
	Paused        bool
	// DetectionWindow is period x failureThreshold: how long the initial election waits for every
	// member's first probe result before electing among those it knows.
	DetectionWindow time.Duration
	// MaxDataLoss refuses an automatic failover to a candidate whose DataBehind is larger; nil means
	// no limit, and 0 means never lose shipped data: the candidate's DataBehind must be known and 0.
	MaxDataLoss *time.Duration
}

// Progress is a failover under way (status.inProgress).
type Progress struct {
	From, To string
	Reason   Reason
	Step     v1alpha1.FailoverStep
}

// Input is a snapshot of the world.
type Input struct {
	Now time.Time
	// Created is the group's creation time.
	Created    time.Time
	Members    []MemberView
	Lease      LeaseView
	Policy     Policy
	InProgress *Progress
	// SwitchoverTo is the value of the understudy.dev/switchover-to annotation.
	SwitchoverTo string
	// ForceFailoverTo is the value of the understudy.dev/force-failover annotation: the member that
	// may be promoted even beyond MaxDataLoss.
	ForceFailoverTo string
}

func (in Input) member(name string) (MemberView, bool) {
	for _, m := range in.Members {
		if m.Name == name {
			return m, true
		}
	}
	return MemberView{}, false
}
