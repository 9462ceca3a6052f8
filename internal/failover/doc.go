// Package failover is the decision core of a FailoverGroup: from a snapshot of the world (members'
// health, the Lease, the policy, a failover in progress, a switchover request) it decides the one
// next thing to do. It performs no I/O, so every rule is table-tested; the controller executes the
// decision.
//
// Timing model: a member is declared down after period x failureThreshold of failed probes; the
// active role may move only once the Lease has expired (renewTime + leaseDuration), and the Lease is
// renewed only while its holder is healthy. So an unplanned failover starts at
// max(detection, renewTime + leaseDuration) after the last renewal.
package failover
