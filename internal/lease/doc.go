// Package lease keeps the record of a FailoverGroup's active member: a coordination.k8s.io/v1 Lease
// named after the group, in its namespace, owned by it.
//
// The Lease is the contract for anyone who needs to know which member is active (an in-pod agent, an
// application, a script): holderIdentity is the active member; renewTime is the last time the
// operator saw that member healthy (renewed at most every leaseDuration/3); leaseDurationSeconds is
// from the group's spec; leaseTransitions counts changes of holder. No member may take the role
// before renewTime + leaseDurationSeconds. Every change is a compare-and-swap on resourceVersion:
// when two writers race, one wins and the other gets ErrLostRace and does nothing.
package lease
