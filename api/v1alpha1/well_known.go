package v1alpha1

// Annotations and labels the operator reads or writes.
const (
	// AnnotationSwitchoverTo requests a planned switchover to the named member.
	AnnotationSwitchoverTo = "understudy.dev/switchover-to"
	// AnnotationForceFailover allows promotion of the named member even beyond failover.maxDataLoss.
	AnnotationForceFailover = "understudy.dev/force-failover"
	// LabelRole is set on members' pods: active, standby or fenced.
	LabelRole = "understudy.dev/role"
	// LabelGroup is set on members' pods and on objects the operator creates: the group's name.
	LabelGroup = "understudy.dev/group"
	// LabelMember is set on members' pods: the member's name.
	LabelMember = "understudy.dev/member"
)

// Condition types of FailoverGroup.
const (
	// ConditionReady is True when a healthy member is active and routing points at it.
	ConditionReady = "Ready"
	// ConditionAvailable is True when the active member is healthy.
	ConditionAvailable = "Available"
	// ConditionDegraded is True when a standby is unhealthy or the group cannot fail over.
	ConditionDegraded = "Degraded"
	// ConditionLogShipping is True when backups and restores keep up (SQL Server groups).
	ConditionLogShipping = "LogShipping"
	// ConditionFailoverRequired is True in Manual mode (or when paused) when the active member is down.
	ConditionFailoverRequired = "FailoverRequired"
	// ConditionFailoverReady is True when, if the active member failed now, an automatic failover
	// would promote status.failoverReadiness.candidate without breaking failover.maxDataLoss.
	ConditionFailoverReady = "FailoverReady"
)

// ConditionSwitchover reports the last switchover request: True when done, False when refused.
const ConditionSwitchover = "Switchover"

// ConditionDNSPublished says whether ExternalDNS has read the group's current DNSEndpoint: True when
// the DNSEndpoint's status.observedGeneration has reached its metadata.generation. Set only while
// spec.routing.dns is configured; Ready depends on it then.
const ConditionDNSPublished = "DNSPublished"

// ConditionBackupCompression says whether the primary's backups are compressed as the BackupTarget
// asks (spec.compression): False when the primary's edition cannot compress (Express, Web) and
// backups are taken without COMPRESSION. Set by the log-shipping reconciler.
const ConditionBackupCompression = "BackupCompression"

// ConditionForeignLogBackups is True when the primary's msdb records log backups, since its newest
// full backup into the BackupTarget, that were written elsewhere and not WITH COPY_ONLY (another
// tool's backup job): they break the chain the standbys restore. Set by the log-shipping
// reconciler.
const ConditionForeignLogBackups = "ForeignLogBackups"

// ConditionTransactionLogGrowing is True when a database's log on the primary waits for a log
// backup (sys.databases.log_reuse_wait_desc LOG_BACKUP) and the newest log backup in the
// BackupTarget is more than two logBackupIntervals old: in FULL recovery only log backups
// truncate the log, so it grows until they succeed again. Set by the log-shipping reconciler.
const ConditionTransactionLogGrowing = "TransactionLogGrowing"
