package probe

import (
	"errors"
	"fmt"
	"time"
)

// DefaultPeriod is the probe period used when a GroupSpec leaves it zero.
const DefaultPeriod = 2 * time.Second

// MemberSpec names one member of a group and how to probe it.
type MemberSpec struct {
	Name   string
	Target Target
}

// GroupSpec is everything the Runner needs to probe one FailoverGroup.
type GroupSpec struct {
	Members []MemberSpec
	// Period between the end of one probe of a member and the start of the
	// next; default DefaultPeriod.
	Period time.Duration
	// FailureThreshold: consecutive failures that make a healthy member
	// unhealthy; default DefaultFailureThreshold.
	FailureThreshold int
	// SuccessThreshold: consecutive successes that make an unhealthy member
	// healthy; default DefaultSuccessThreshold.
	SuccessThreshold int
}

func (s GroupSpec) thresholds() Thresholds {
	return Thresholds{Failure: s.FailureThreshold, Success: s.SuccessThreshold}
}

// normalized returns a copy of s with defaults applied, or an error if a
// member is unnamed, named twice, or has a target that cannot be probed with
// the given registry.
func (s GroupSpec) normalized(checkers Registry) (GroupSpec, error) {
	out := s
	if out.Period <= 0 {
		out.Period = DefaultPeriod
	}
	th := s.thresholds().withDefaults()
	out.FailureThreshold, out.SuccessThreshold = th.Failure, th.Success

	out.Members = make([]MemberSpec, 0, len(s.Members))
	seen := make(map[string]bool, len(s.Members))
	for _, m := range s.Members {
		if m.Name == "" {
			return GroupSpec{}, errors.New("member with empty name")
		}
		if seen[m.Name] {
			return GroupSpec{}, fmt.Errorf("member %q listed twice", m.Name)
		}
		seen[m.Name] = true
		target := m.Target.WithDefaults()
		if err := target.Validate(); err != nil {
			return GroupSpec{}, fmt.Errorf("member %q: %w", m.Name, err)
		}
		if !checkers.Supports(target.Kind) {
			return GroupSpec{}, fmt.Errorf("member %q: no checker registered for kind %q", m.Name, target.Kind)
		}
		out.Members = append(out.Members, MemberSpec{Name: m.Name, Target: target})
	}
	return out, nil
}
