package v1alpha1

// The operator's vocabulary: every Kubernetes Event reason, condition reason, failover reason and
// webhook notification event it uses, in one place. hack/apidocs turns this file into the tables of
// docs/api.md ("Events, condition reasons and notifications"), so each constant's comment is its
// documentation and has a fixed form:
//
//   - EventReason...: "Normal: <when>", "Warning: <when>" or "Normal or Warning: <when>" (the Event
//     type first);
//   - Reason... (condition reasons): "True: <when>" or "False: <when>" (the condition's status
//     first); each const block is one condition, its comment starting "Reasons of the <kinds>
//     <condition type> condition." (the condition types are in well_known.go);
//   - FailoverReason... and Notify...: "<when>".
//
// A reason used by two conditions has one constant per condition (same value), because it means
// something different in each. The values never change: users' alerts and scripts match them.

// Kubernetes Event reasons (events.k8s.io) on a FailoverGroup, recorded by the failover controller
// (reporting controller "understudy").
const (
	// Normal: the group had no active member; the named member is being given the role.
	EventReasonElecting = "Electing"
	// Normal: the initial election is done: the member holds the Lease and routing points at it.
	EventReasonElected = "Elected"
	// Warning: the active member is down and its Lease expired (or a forced failover was
	// requested): failing over to the named member.
	EventReasonFailoverStarted = "FailoverStarted"
	// Normal: a planned switchover (annotation understudy.dev/switchover-to) started.
	EventReasonSwitchoverStarted = "SwitchoverStarted"
	// Normal: a failback to the preferred member (failover.failback: Automatic) started.
	EventReasonFailbackStarted = "FailbackStarted"
	// Normal: the old active member was fenced: routing moved away from it.
	EventReasonFenced = "Fenced"
	// Normal: the new active member holds the Lease.
	EventReasonLeaseTaken = "LeaseTaken"
	// Warning: promoting the new active member failed; the step is retried.
	EventReasonPromotionFailed = "PromotionFailed"
	// Warning: after a failover or switchover, a database's owner or TRUSTWORTHY (which a restore
	// resets) could not be set back on the new active member; the message has the statement to run
	// as sysadmin. The failover goes on.
	EventReasonDatabaseSettingsNotRestored = "DatabaseSettingsNotRestored"
	// Normal: an automatic failover completed: routing points at the new member.
	EventReasonFailoverCompleted = "FailoverCompleted"
	// Normal: a forced failover (annotation understudy.dev/force-failover) completed.
	EventReasonForcedCompleted = "ForcedCompleted"
	// Normal: a planned switchover completed.
	EventReasonSwitchoverCompleted = "SwitchoverCompleted"
	// Normal: a failback completed: the preferred member is active again.
	EventReasonFailbackCompleted = "FailbackCompleted"
	// Normal: a failover in progress was given up because another writer already gave the Lease to
	// another member; the group follows the Lease.
	EventReasonFailoverAbandoned = "FailoverAbandoned"
	// Warning: a failover was aborted before it took the role: the member it would promote is no
	// longer healthy.
	EventReasonFailoverAborted = "FailoverAborted"
	// Warning: a switchover request cannot be honoured (unknown, unhealthy or priority-0 member);
	// the annotation is kept and the Switchover condition says why.
	EventReasonSwitchoverRefused = "SwitchoverRefused"
	// Warning: the active member is down but the best candidate is further behind than
	// failover.maxDataLoss: nothing is promoted until a person decides (understudy.dev/force-failover).
	EventReasonFailoverRefused = "FailoverRefused"
	// Warning: the active member is down and policy forbids acting (failover.mode Manual, or paused).
	EventReasonFailoverRequired = "FailoverRequired"
	// Normal: a member that was down is healthy again (healthCheck.successThreshold successful
	// probes in a row).
	EventReasonMemberUp = "MemberUp"
	// Warning: a member became unhealthy (healthCheck.failureThreshold failed probes in a row, or
	// its pods are gone).
	EventReasonMemberDown = "MemberDown"
	// Warning: the group's spec cannot be used (it reached etcd without the API server's
	// validation, or names a member address outside the installation's allow list): it does not fail
	// over until the spec is fixed.
	EventReasonInvalidSpec = "InvalidSpec"
	// Normal: the group adopted an existing Service (annotation understudy.dev/adopt=true); its
	// selector is restored when the group lets go of it.
	EventReasonServiceAdopted = "ServiceAdopted"
	// Normal: a Service the group created was deleted because the group no longer routes it.
	EventReasonServiceDeleted = "ServiceDeleted"
	// Normal or Warning: an adopted Service was released with its original selector restored
	// (Normal), or without, because its understudy.dev/original-selector annotation is unreadable
	// (Warning).
	EventReasonServiceReleased = "ServiceReleased"
	// Normal: the group's DNSEndpoint was deleted because spec.routing.dns was removed.
	EventReasonDNSEndpointDeleted = "DNSEndpointDeleted"
)

// Kubernetes Event reasons (events.k8s.io) on a FailoverGroup, recorded by the log-shipping
// controller (reporting controller "understudy-logshipping", SQL Server groups).
const (
	// Warning: a database on the primary was not in FULL recovery; it was switched to FULL so that
	// its log can be shipped.
	EventReasonRecoveryModelChanged = "RecoveryModelChanged"
	// Warning: a full or log backup on the primary failed.
	EventReasonBackupFailed = "BackupFailed"
	// Warning: a standby cannot continue the log chain (a missing log backup, another recovery fork,
	// a backup without checksums): a new full backup is taken and the database reseeded.
	EventReasonLogChainBroken = "LogChainBroken"
	// Normal: a standby database was reseeded from a full backup.
	EventReasonReseeded = "Reseeded"
	// Warning: an old primary came back after a failover with writes that were never shipped; they
	// were saved to a salvage backup file (restore it elsewhere to recover them).
	EventReasonSalvaged = "Salvaged"
	// Normal: an old primary was reseeded from the new primary's backups and continues as a standby.
	EventReasonRejoined = "Rejoined"
	// Normal: backup files older than the BackupTarget's retention that no standby needs were
	// deleted.
	EventReasonPruned = "Pruned"
)

// Reasons of the FailoverGroup Available condition.
const (
	// True: the member holding the Lease is healthy.
	ReasonAvailableActiveMemberHealthy = "ActiveMemberHealthy"
	// False: the member holding the Lease is down.
	ReasonAvailableActiveMemberDown = "ActiveMemberDown"
	// False: no member holds the active role (before the first election, or no member can take it).
	ReasonAvailableNoActiveMember = "NoActiveMember"
	// False: a failover, switchover, failback or election is under way (status.inProgress).
	ReasonAvailableFailoverInProgress = "FailoverInProgress"
)

// Reasons of the FailoverGroup Ready condition. While the group is not Available, Ready is False
// with the Available condition's reason and message.
const (
	// True: a healthy member is active and routing (Services, DNS) points at it.
	ReasonReadyActive = "Active"
	// False: routing has not been applied yet since the operator started.
	ReasonReadyRoutingPending = "RoutingPending"
	// False: a Service, DNSEndpoint or hostname the group routes belongs to someone else or is
	// published by another group; it is left untouched.
	ReasonReadyRoutingConflict = "RoutingConflict"
	// False: the DNS records are not published yet (ExternalDNS has not read the DNSEndpoint, or its
	// CRD is not installed); see the DNSPublished condition.
	ReasonReadyDNSNotPublished = "DNSNotPublished"
)

// Reasons of the FailoverGroup, BackupTarget and RestoreSchedule Ready condition.
const (
	// False: the spec cannot be used (it reached etcd without the API server's validation, names
	// what is not the group's, or, on a FailoverGroup, has routing that cannot be published): nothing
	// is done for the object until it is fixed, and no other object is affected.
	ReasonInvalidSpec = "InvalidSpec"
)

// Reasons of the FailoverGroup Degraded condition.
const (
	// True: a member is down, no member can take over, or routing reported a problem that does not
	// stop traffic.
	ReasonDegraded = "Degraded"
	// True: a standby's database exists but is not a log-shipping standby (ONLINE read-write,
	// read-only outside STANDBY, OFFLINE...): it was recovered or created there by hand. That member
	// is not healthy, so it is neither a candidate nor promoted, and log shipping leaves its data
	// alone; restore it WITH NORECOVERY from the group's backups, or drop it to have it reseeded.
	ReasonDegradedStandbyNotRestoring = "StandbyNotRestoring"
	// True: the operator refused a member's SQL Server connection over TLS: the server cannot encrypt,
	// so the login and its password would have been sent in clear, or its certificate is not trusted
	// for the name checked. That member is not healthy; its message says which spec.sqlServer.tls
	// setting (mode, caSecretRef, hostNameInCertificate) or server certificate to change.
	ReasonDegradedTLSRefused = "TLSRefused"
	// False: every member is healthy.
	ReasonDegradedAllMembersHealthy = "AllMembersHealthy"
)

// Reasons of the FailoverGroup FailoverRequired condition.
const (
	// True: the active member is down and policy forbids acting (failover.mode Manual, or paused):
	// a person must switch over.
	ReasonFailoverRequired = "FailoverRequired"
	// True: the active member is down and the best candidate is further behind than
	// failover.maxDataLoss: a person decides (annotation understudy.dev/force-failover).
	ReasonFailoverRequiredMaxDataLossExceeded = "MaxDataLossExceeded"
	// False: no failover is needed.
	ReasonFailoverRequiredNotRequired = "NotRequired"
)

// Reasons of the FailoverGroup FailoverReady condition (and of status.failoverReadiness.reason).
const (
	// True: if the active member failed now, status.failoverReadiness.candidate would be promoted
	// automatically without breaking failover.maxDataLoss.
	ReasonFailoverReadyCandidateReady = "CandidateReady"
	// False: the best candidate is further behind than failover.maxDataLoss: a failover now would
	// be refused.
	ReasonFailoverReadyMaxDataLossExceeded = "MaxDataLossExceeded"
	// False: no standby could take the role (all down, or priority 0).
	ReasonFailoverReadyNoCandidate = "NoCandidate"
	// False: no member holds the active role.
	ReasonFailoverReadyNoActiveMember = "NoActiveMember"
	// False: failover.mode is Manual: nothing would be promoted automatically.
	ReasonFailoverReadyManualMode = "ManualMode"
	// False: the group is paused: nothing would be promoted.
	ReasonFailoverReadyPaused = "Paused"
	// False: a failover, switchover, failback or election is under way.
	ReasonFailoverReadyFailoverInProgress = "FailoverInProgress"
	// False: the spec is invalid: the group does not fail over until it is fixed.
	ReasonFailoverReadyInvalidSpec = "InvalidSpec"
)

// Reasons of the FailoverGroup Switchover condition.
const (
	// True: the requested member holds the role; the annotation was removed.
	ReasonSwitchoverCompleted = "Completed"
	// False: the request cannot be honoured (the message says why); the annotation is kept.
	ReasonSwitchoverRefused = "Refused"
)

// Reasons of the FailoverGroup LogShipping condition (SQL Server groups with spec.logShipping).
const (
	// True: log backups are taken and the standbys restore them.
	ReasonLogShippingShipping = "Shipping"
	// False: the log-shipping cycle failed (the primary unreachable or not ready, the backups
	// unlistable).
	ReasonLogShippingFailed = "LogShippingFailed"
	// False: the cycle ran with problems (a failed backup, a reseed or rejoin that failed, files
	// that cannot be pruned); the message lists them.
	ReasonLogShippingDegraded = "Degraded"
)

// Reasons of the FailoverGroup BackupCompression condition (SQL Server groups with spec.logShipping).
const (
	// True: the BackupTarget asks for compression and the primary's backups are taken WITH
	// COMPRESSION.
	ReasonBackupCompressionCompressed = "Compressed"
	// True: the BackupTarget has compression: false; backups are not compressed.
	ReasonBackupCompressionNotRequested = "NotRequested"
	// False: the BackupTarget asks for compression but the primary's edition (Express or Web) cannot
	// compress backups: they are taken without COMPRESSION.
	ReasonBackupCompressionEditionCannotCompress = "EditionCannotCompress"
)

// Reasons of the FailoverGroup ForeignLogBackups condition (SQL Server groups with spec.logShipping).
const (
	// True: another tool backed up a database's log outside the BackupTarget (not WITH COPY_ONLY):
	// the message names the files. Each such backup breaks the standbys' chain (a full backup and a
	// reseed follow); stop that job, or make it take COPY_ONLY backups.
	ReasonForeignLogBackupsFound = "LogBackupsOutsideTarget"
	// False: every log backup since the newest full backup in the BackupTarget is in it.
	ReasonForeignLogBackupsNone = "NoForeignLogBackups"
)

// Reasons of the FailoverGroup TransactionLogGrowing condition (SQL Server groups with
// spec.logShipping).
const (
	// True: a database's log waits for a log backup (log_reuse_wait_desc LOG_BACKUP) and none
	// reached the BackupTarget for more than two logBackupIntervals: the log grows until log
	// backups succeed (see the LogShipping condition for why they fail).
	ReasonTransactionLogWaitingForBackup = "WaitingForLogBackup"
	// False: every database's log was backed up within two logBackupIntervals, or does not wait
	// for a log backup.
	ReasonTransactionLogTruncated = "LogBackedUp"
)

// Reasons of the FailoverGroup DNSPublished condition (only while spec.routing.dns is set).
const (
	// True: ExternalDNS has read the current generation of the group's DNSEndpoint.
	ReasonDNSPublishedPublished = "Published"
	// False: waiting for ExternalDNS to read the current generation of the DNSEndpoint (it stays so
	// when no ExternalDNS with --source=crd watches the namespace).
	ReasonDNSPublishedPending = "Pending"
	// False: the DNSEndpoint CRD (externaldns.k8s.io) is not installed: no DNS records are
	// published.
	ReasonDNSPublishedCRDNotInstalled = "CRDNotInstalled"
	// False: the DNS records are not written: the DNS spec cannot be published, or the DNSEndpoint
	// or a hostname belongs to someone else.
	ReasonDNSPublishedNotPublished = "NotPublished"
)

// Reasons of the BackupTarget Ready condition.
const (
	// True: the operator wrote and listed backups there.
	ReasonBackupTargetWritable = "Writable"
)

// Reasons of the RestoreSchedule Ready condition. ForkedDatabase, OtherDatabase and ChecksumMissing
// are also the status.members[].databases[].reason of the database they concern.
const (
	// True: the selected standbys restored the shipped log backups.
	ReasonRestoreScheduleRestored = "Restored"
	// False: a restore failed (the message says which and why).
	ReasonRestoreScheduleRestoreFailed = "RestoreFailed"
	// False: a standby's log chain is broken: a new full backup is taken and the database reseeded.
	ReasonRestoreScheduleLogChainBroken = "LogChainBroken"
	// False: a standby database is on another recovery fork (4330) and no newer full backup of the
	// primary is known yet to reseed it from.
	ReasonRestoreScheduleForkedDatabase = "ForkedDatabase"
	// False: a standby database of the group database's name is another database (3154): it is
	// left alone; drop or rename it.
	ReasonRestoreScheduleOtherDatabase = "OtherDatabase"
	// False: a backup has no checksums while the BackupTarget verifies them (3187): it is not
	// applied, and the database is reseeded from a newer full backup taken with checksums.
	ReasonRestoreScheduleChecksumMissing = "ChecksumMissing"
)

// Failover reasons: why the active role moved. Recorded in status.lastFailover.reason and
// status.inProgress.reason, as the reason label of the understudy_failovers_total and
// understudy_failover_duration_seconds metrics, and in the reason of the Failover, Switchover and
// Failback notifications.
const (
	// The group had no active member: the highest-priority healthy member was elected.
	FailoverReasonInitialElection = "InitialElection"
	// The active member was down and its Lease expired: an automatic failover.
	FailoverReasonFailover = "Failover"
	// A planned switchover requested by annotation understudy.dev/switchover-to.
	FailoverReasonSwitchover = "Switchover"
	// The role went back to the preferred member (failover.failback: Automatic, after
	// failover.failbackDelaySeconds).
	FailoverReasonFailback = "Failback"
	// A failover beyond failover.maxDataLoss, allowed by annotation understudy.dev/force-failover.
	FailoverReasonForced = "Forced"
)

// Webhook notification events (spec.notifications.webhooks[].events; all when the list is empty).
// The JSON body is {group, namespace, event, from, to, reason, time}.
const (
	// An automatic or forced failover completed: from the old active member to the new one, reason
	// Failover or Forced.
	NotifyFailover = "Failover"
	// A planned switchover completed: from, to, reason Switchover.
	NotifySwitchover = "Switchover"
	// A failback to the preferred member completed: from, to, reason Failback.
	NotifyFailback = "Failback"
	// A member became unhealthy (as the MemberDown Event): from is the member, reason the probe's
	// message.
	NotifyMemberDown = "MemberDown"
	// A member that was down is healthy again (as the MemberUp Event): to is the member, reason
	// "healthy".
	NotifyMemberUp = "MemberUp"
	// The active member is down and policy forbids acting (Manual mode, or paused): from is the
	// active member, to the member a person could switch to.
	NotifyFailoverRequired = "FailoverRequired"
	// A failover was refused because the best candidate is beyond failover.maxDataLoss (from, to),
	// or a switchover request was refused (to); reason says why.
	NotifyFailoverRefused = "FailoverRefused"
	// A standby database's log chain broke (SQL Server log shipping): from is the primary, to the
	// standby, reason names the database and the cause. Sent once per break: again only after the
	// database was reseeded.
	NotifyLogChainBroken = "LogChainBroken"
)
