package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RestoreMode is the state a standby database is left in between restores.
// +kubebuilder:validation:Enum=Standby;NoRecovery
type RestoreMode string

const (
	// RestoreStandby leaves databases read-only (WITH STANDBY and an undo file): readable standbys.
	RestoreStandby RestoreMode = "Standby"
	// RestoreNoRecovery leaves databases RESTORING (WITH NORECOVERY): not readable, fastest restores.
	RestoreNoRecovery RestoreMode = "NoRecovery"
)

// RestoreScheduleSpec says how standbys restore shipped log backups.
// +kubebuilder:validation:XValidation:rule="!self.offset.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || !self.interval.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || duration(self.offset) < duration(self.interval)",message="offset must be shorter than interval"
type RestoreScheduleSpec struct {
	// undecodable is set when the stored spec does not fit this type (see DecodeError).
	undecodable undecodable `json:"-"`

	// FailoverGroupRef names the SQL Server FailoverGroup whose standbys restore.
	FailoverGroupRef LocalObjectReference `json:"failoverGroupRef"`

	// Members restricts restores to these members when they are standbys; empty means every standby.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +listType=set
	Members []string `json:"members,omitempty"`

	// Interval between restore runs (10s to 24h).
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || (duration(self) >= duration('10s') && duration(self) <= duration('24h'))",message="interval must be between 10s and 24h"
	// +optional
	Interval Duration `json:"interval,omitempty"`

	// Offset after the log backup cadence, so a run finds the newest backup finished.
	// +kubebuilder:default="20s"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || (duration(self) >= duration('0s') && duration(self) <= duration('24h'))",message="offset must be between 0s and 24h"
	// +optional
	Offset Duration `json:"offset,omitempty"`

	// Mode the databases are left in: Standby (read-only) or NoRecovery.
	// +kubebuilder:default=Standby
	// +optional
	Mode RestoreMode `json:"mode,omitempty"`

	// Delay applies only backups older than this: a delayed standby protects against human error.
	// +kubebuilder:default="0s"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || (duration(self) >= duration('0s') && duration(self) <= duration('168h'))",message="delay must be between 0s and 168h"
	// +optional
	Delay Duration `json:"delay,omitempty"`

	// DisconnectUsers puts a STANDBY database in SINGLE_USER WITH ROLLBACK IMMEDIATE around each
	// restore; when false, a restore waits for readers to leave (and is retried next run).
	// +kubebuilder:default=true
	// +optional
	DisconnectUsers *bool `json:"disconnectUsers,omitempty"`

	// Databases restricts restores to a subset of the group's databases; empty means all of them.
	// +optional
	// +kubebuilder:validation:MaxItems=50
	// +listType=set
	Databases []DatabaseName `json:"databases,omitempty"`
}

// RestoreDatabaseStatus is the restore position of one database on one member.
type RestoreDatabaseStatus struct {
	// Name of the database.
	Name string `json:"name"`
	// LastRestoredFile is the last backup file applied (the seed's marker file, as a field).
	// +optional
	LastRestoredFile string `json:"lastRestoredFile,omitempty"`
	// LastRestoredLSN is the redo point after that file (decimal).
	// +optional
	LastRestoredLSN string `json:"lastRestoredLSN,omitempty"`
	// LastRestoreTime is when it was applied.
	// +optional
	LastRestoreTime *metav1.Time `json:"lastRestoreTime,omitempty"`
	// LagSeconds between the newest backup on the primary and the newest restored here.
	// +optional
	LagSeconds int64 `json:"lagSeconds,omitempty"`
	// NeedsFullBackup is set when the log chain is broken (error 4305): a new full backup is taken
	// and this database is reseeded.
	// +optional
	NeedsFullBackup bool `json:"needsFullBackup,omitempty"`
	// Message explains the last error, if any.
	// +optional
	Message string `json:"message,omitempty"`
	// Reason is a machine-readable cause of the last failed restore: ForkedDatabase (error 4330, the
	// standby is on another recovery path: it is reseeded), OtherDatabase (3154, the standby's
	// database is a different database of the same name: left alone, drop or rename it) or
	// ChecksumMissing (3187, a backup without checksums while checksums are verified).
	// +optional
	Reason string `json:"reason,omitempty"`
}

// RestoreMemberStatus is the restore state of one standby.
type RestoreMemberStatus struct {
	// Name of the member.
	Name string `json:"name"`
	// Databases restored on the member.
	// +optional
	// +listType=map
	// +listMapKey=name
	Databases []RestoreDatabaseStatus `json:"databases,omitempty"`
}

// RestoreScheduleStatus is the observed state of a RestoreSchedule.
type RestoreScheduleStatus struct {
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (every selected standby restored within the last interval).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Members is the restore state of each standby.
	// +optional
	// +listType=map
	// +listMapKey=name
	Members []RestoreMemberStatus `json:"members,omitempty"`

	// LastRunTime is when restores last ran.
	// +optional
	LastRunTime *metav1.Time `json:"lastRunTime,omitempty"`
}

// RestoreSchedule says how the standbys of a SQL Server FailoverGroup restore shipped log backups.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rsched,categories=understudy
// +kubebuilder:printcolumn:name="Group",type=string,JSONPath=`.spec.failoverGroupRef.name`
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Interval",type=string,JSONPath=`.spec.interval`
// +kubebuilder:printcolumn:name="Delay",type=string,JSONPath=`.spec.delay`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Run",type=date,JSONPath=`.status.lastRunTime`
type RestoreSchedule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RestoreScheduleSpec   `json:"spec"`
	Status RestoreScheduleStatus `json:"status,omitempty"`
}

// RestoreScheduleList is a list of RestoreSchedules.
// +kubebuilder:object:root=true
type RestoreScheduleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RestoreSchedule `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RestoreSchedule{}, &RestoreScheduleList{})
}
