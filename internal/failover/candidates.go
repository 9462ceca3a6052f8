package failover

import (
	"slices"
	"sort"
)

// BestCandidate is the member that should take the role, excluding the members named in exclude: healthy (and not
// rejoining), priority above 0, then highest priority, then most data (Position), then first in spec.members.
func BestCandidate(members []MemberView, exclude ...string) (MemberView, bool) {
	var cands []MemberView
	for _, m := range members {
		if !slices.Contains(exclude, m.Name) && m.Known && m.up() && m.Priority > 0 {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		return MemberView{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return better(cands[i], cands[j]) })
	return cands[0], true
}

// better orders candidates: priority, then data position, then spec order.
func better(a, b MemberView) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	switch {
	case a.Position != nil && b.Position == nil:
		return true
	case a.Position == nil && b.Position != nil:
		return false
	case a.Position != nil && b.Position != nil:
		if c := a.Position.Cmp(b.Position); c != 0 {
			return c > 0
		}
	}
	return a.Index < b.Index
}
