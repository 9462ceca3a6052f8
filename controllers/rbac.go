package controllers

// The manager's ClusterRole, one rule per line with the reason for it. controller-gen turns these
// markers into config/rbac/role.yaml (copied into the chart by `make manifests`);
// rbac_audit_test.go compares that role with the requests the operator makes in the controllers
// suite, so a verb the code stops using fails the suite until it is removed here.
//
// Cached kinds need list and watch only (reads come from the informers); get appears only where
// the operator reads past the cache (APIReader) or a Secret (Secrets are never cached).
//
// FailoverGroups: watched; get reads one past the cache before the log-shipping reconciler writes
// its status; update adds and removes the finalizer; patch removes the force-failover annotation
// once used, and drops status field ownership left by plain updates (status_apply.go). Status is
// written by server-side apply (patch), one field manager per reconciler.
// +kubebuilder:rbac:groups=understudy.dev,resources=failovergroups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=understudy.dev,resources=failovergroups/status,verbs=patch
// Setting an ownerReference with blockOwnerDeletion on the Lease, Services and DNSEndpoints needs
// update on the owner's finalizers where the OwnerReferencesPermissionEnforcement plugin runs.
// +kubebuilder:rbac:groups=understudy.dev,resources=failovergroups/finalizers,verbs=update
// RestoreSchedules: watched (they wake their group); status written after each run.
// +kubebuilder:rbac:groups=understudy.dev,resources=restoreschedules,verbs=list;watch
// +kubebuilder:rbac:groups=understudy.dev,resources=restoreschedules/status,verbs=update
// BackupTargets: read past the cache by the log-shipping reconciler (get), cached for status
// writes (list, watch); status lists the newest backups.
// +kubebuilder:rbac:groups=understudy.dev,resources=backuptargets,verbs=get;list;watch
// +kubebuilder:rbac:groups=understudy.dev,resources=backuptargets/status,verbs=update
// Leases: one per group, recording the active member; created, then renewed and taken over with
// update (compare-and-swap on resourceVersion). Garbage-collected with the group.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=list;watch;create;update
// Services: the routed and read-only Services; created owned by the group, their selector patched;
// an owned Service the spec no longer names is deleted.
// +kubebuilder:rbac:groups="",resources=services,verbs=list;watch;create;patch;delete
// Pods: members' pods are watched (readiness, deletion) and their role labels patched.
// +kubebuilder:rbac:groups="",resources=pods,verbs=list;watch;patch
// Secrets: the SQL login, the CA and the webhook keys a group names, read one at a time.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// Events for every role change (the events.k8s.io API; the recorder patches repeats).
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// DNSEndpoints for ExternalDNS: created owned by the group, patched at each failover, deleted
// when the spec stops asking for DNS.
// +kubebuilder:rbac:groups=externaldns.k8s.io,resources=dnsendpoints,verbs=list;watch;create;patch;delete
// Jobs that prune backup files on a volume the operator does not mount (created, never read back:
// the Job's name is derived from what it prunes, and AlreadyExists means it is under way).
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=create
