// Package probe checks the health of FailoverGroup members from outside the
// reconcile loop and tells the controller when a member's health changes.
//
// # Pieces
//
//   - A [Checker] runs one health check against a [Target]. [TCPChecker] and
//     [HTTPChecker] are built in; a [Registry] maps a Target's [Kind] to its
//     Checker so further kinds (e.g. SQL Server) plug in without touching the
//     [Runner].
//   - [State] is the per-member verdict. [State.Observe] folds one probe result
//     into it with a pure, clock-free rule (see below); [State.MarkDown]
//     declares a member failed at once.
//   - [Runner] owns one probe loop per member of every group registered with
//     [Runner.Ensure]. It is a controller-runtime Runnable: [Runner.Start] blocks
//     until its context ends and then stops every loop.
//
// # Health rule
//
// A member starts unknown (Known=false). Its first probe result decides its
// health at once, so that the initial election does not wait for thresholds.
// After that a healthy member becomes unhealthy after FailureThreshold
// consecutive failed probes, and an unhealthy member becomes healthy again after
// SuccessThreshold consecutive successful probes. MarkDown makes a member
// unhealthy immediately (e.g. all its pods are gone); it then needs
// SuccessThreshold successes like any unhealthy member.
//
// # Timing model
//
// Each member is probed immediately when its loop starts and then once per
// Period, measured from the end of the previous probe (probes of one member
// never overlap). A probe lasts at most the Target's Timeout. So a member that
// dies is detected after
//
//	detection time ≈ Period × FailureThreshold
//
// more exactly between (FailureThreshold−1) × Period and
// FailureThreshold × (Period + Timeout), since a dead member often makes each
// probe run into its timeout. A recovered member is trusted again after about
// Period × SuccessThreshold. With the defaults (2 s period, 1 s timeout,
// thresholds 3 and 1) that is about 6 s (at most 9 s) to detect a failure and
// about 2 s to trust a recovery. At most MaxConcurrentPerGroup checks of one
// group run at the same time; a group with more members than that stretches
// its rounds when probes hit their timeout.
//
// # Notifications
//
// RunnerOptions.OnChange is called with the group key only when a member
// becomes known or its Healthy flag flips, never for a probe that leaves the
// verdict unchanged, so a large fleet does not reconcile on every probe. The
// controller typically wires it to a channel watched with source.Channel and
// reads [Runner.Snapshot] while reconciling.
//
// Time is read through an injected k8s.io/utils/clock, so tests drive the
// probe periods with a fake clock.
package probe
