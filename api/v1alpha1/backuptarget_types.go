package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackupTargetSpec says where backups are written and read: exactly one of path or url.
// +kubebuilder:validation:XValidation:rule="has(self.path) != has(self.url)",message="exactly one of path or url must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.url)",message="url (object storage) is not supported yet: use path (a shared volume); BACKUP TO URL arrives with the object storage work"
// +kubebuilder:validation:XValidation:rule="!has(self.url) || has(self.credentialsSecretRef)",message="url requires credentialsSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.volumeClaimName) || has(self.path)",message="volumeClaimName applies only to a path target"
type BackupTargetSpec struct {
	// undecodable is set when the stored spec does not fit this type (see DecodeError).
	undecodable undecodable `json:"-"`

	// Path is a directory that every member's SQL Server sees at the same path (a shared volume).
	// Files go to <path>/<namespace>/<group>/<database>/.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/[^;'\x00\\\r\n\t]*$`
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('//')",message="path must not start with // (a UNC path would send the server's credentials to another host)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('(^|/)[.][.]?(/|$)')",message="path must not contain . or .. segments"
	// +kubebuilder:validation:XValidation:rule="self.size() > 1 && !self.endsWith('/')",message="path must name a directory below /, without a trailing /"
	// +kubebuilder:validation:XValidation:rule="!['/proc', '/sys', '/dev', '/etc', '/boot', '/run/secrets', '/var/run/secrets', '/var/lib/kubelet'].exists(p, self == p || self.startsWith(p + '/'))",message="path must not be under /proc, /sys, /dev, /etc, /boot, /run/secrets, /var/run/secrets or /var/lib/kubelet"
	Path string `json:"path,omitempty"`

	// URL is an S3-compatible location for SQL Server 2022 BACKUP TO URL:
	// s3://host[:port]/bucket[/prefix].
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^s3://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^;'\s]*)?$`
	URL string `json:"url,omitempty"`

	// CredentialsSecretRef names a Secret with keys `accessKeyID` and `secretAccessKey` for url.
	// +optional
	CredentialsSecretRef *SecretReference `json:"credentialsSecretRef,omitempty"`

	// Retention is how long backup files are kept once no standby needs them.
	// +kubebuilder:default="48h"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || (duration(self) >= duration('1h') && duration(self) <= duration('87600h'))",message="retention must be between 1h and 87600h (10 years)"
	// +optional
	Retention Duration `json:"retention,omitempty"`

	// Compression adds WITH COMPRESSION to backups.
	// +kubebuilder:default=true
	// +optional
	Compression *bool `json:"compression,omitempty"`

	// Checksum adds WITH CHECKSUM to backups and restores.
	// +kubebuilder:default=true
	// +optional
	Checksum *bool `json:"checksum,omitempty"`

	// VolumeClaimName is the PersistentVolumeClaim that holds path, so the operator can prune old
	// files with a Job that mounts it. Without it, files are not pruned by the operator.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	VolumeClaimName string `json:"volumeClaimName,omitempty"`

	// FilesOwner is the uid and gid that own the backup files, which the prune Job runs as so that
	// it can delete them without root or capabilities: SQL Server's mssql user (10001) in
	// mcr.microsoft.com/mssql/server. Change it when the SQL Server pods run as another user.
	// +optional
	FilesOwner *FilesOwner `json:"filesOwner,omitempty"`
}

// FilesOwner is a non-root uid and gid.
type FilesOwner struct {
	// UID of the files' owner.
	// +kubebuilder:default=10001
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	UID int64 `json:"uid,omitempty"`
	// GID of the files' group.
	// +kubebuilder:default=10001
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=2147483647
	// +optional
	GID int64 `json:"gid,omitempty"`
}

// DefaultFilesOwner is the uid and gid of SQL Server's mssql user in its container image.
const DefaultFilesOwner = int64(10001)

// Owner is the uid and gid of the backup files: FilesOwner, else DefaultFilesOwner for each part.
func (s BackupTargetSpec) Owner() (uid, gid int64) {
	uid, gid = DefaultFilesOwner, DefaultFilesOwner
	if o := s.FilesOwner; o != nil {
		if o.UID > 0 {
			uid = o.UID
		}
		if o.GID > 0 {
			gid = o.GID
		}
	}
	return uid, gid
}

// BackupFile describes one backup file.
type BackupFile struct {
	// File is the path or URL of the backup.
	File string `json:"file"`
	// FirstLSN of the backup (decimal).
	// +optional
	FirstLSN string `json:"firstLSN,omitempty"`
	// LastLSN of the backup (decimal).
	// +optional
	LastLSN string `json:"lastLSN,omitempty"`
	// FinishedAt is when the backup finished.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
}

// DatabaseBackups is the newest full and log backup of one database of one group.
type DatabaseBackups struct {
	// Group is the FailoverGroup's name.
	Group string `json:"group"`
	// Database name.
	Database string `json:"database"`
	// LastFull is the newest full backup.
	// +optional
	LastFull *BackupFile `json:"lastFull,omitempty"`
	// LastLog is the newest log backup.
	// +optional
	LastLog *BackupFile `json:"lastLog,omitempty"`
}

// BackupTargetStatus is the observed state of a BackupTarget.
type BackupTargetStatus struct {
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (the target is reachable and writable).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Backups is the newest backup per group and database.
	// +optional
	Backups []DatabaseBackups `json:"backups,omitempty"`
}

// BackupTarget is where SQL Server backups are written and read.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bt,categories=understudy
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.spec.path`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Retention",type=string,JSONPath=`.spec.retention`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BackupTarget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BackupTargetSpec   `json:"spec"`
	Status BackupTargetStatus `json:"status,omitempty"`
}

// BackupTargetList is a list of BackupTargets.
// +kubebuilder:object:root=true
type BackupTargetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BackupTarget `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BackupTarget{}, &BackupTargetList{})
}
