package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// neededLSNs is, per database, the lowest redo point among the standbys (what must stay
// restorable). A database some standby has no known position for maps to LSN 0: keep everything.
func neededLSNs(g *v1alpha1.FailoverGroup, holder string, dbs []string) map[string]sqlserver.LSN {
	needed := map[string]sqlserver.LSN{}
	for _, db := range dbs {
		var low *sqlserver.LSN
		for _, m := range g.Status.Members {
			if m.Name == holder {
				continue
			}
			var pos sqlserver.LSN
			for _, d := range m.Databases {
				if d.Name == db && d.LSN != "" {
					if p, err := sqlserver.ParseLSN(d.LSN); err == nil {
						pos = p
					}
				}
			}
			if low == nil || pos.Less(*low) {
				low = &pos
			}
		}
		if low != nil {
			needed[db] = *low
		}
	}
	return needed
}

// pruneBackups deletes backup files older than the BackupTarget's retention that no standby needs
// (logshipping.Prune: the newest full backup of the current recovery fork and everything after it
// always stay, so do salvage files). When the operator sees the backup directory it deletes the
// catalogue's prunable files itself; otherwise a Job that mounts volumeClaimName runs
// `understudy prune --expire`, which lists each database directory and deletes what is named before
// a bound computed here (logshipping.PlanExpiry): its arguments are a few per database, whatever the
// length of the history (msdb keeps deleted files for ever). Without either, nothing is deleted (the
// LogShipping condition says so).
//
// Trouble pruning is a problem of the cycle, never its end.
//
// The same decision bounds the msdb history: the catalogue reads it from the oldest backup set kept
// (Catalogue.KeepHistoryFrom), and once files were deleted (or their Job created) the members'
// history before that, less a margin, is deleted (cleanHistory).
func (r *LogShippingReconciler) pruneBackups(ctx context.Context, cyc *shippingCycle) error {
	g, sh, bt := cyc.g, cyc.shipper, cyc.target
	retention := bt.Spec.Retention.Duration
	needed := neededLSNs(g, cyc.holder, cyc.view.dbs)
	floors := logshipping.HistoryFloors(cyc.files, cyc.now, retention, needed)
	for _, db := range cyc.view.dbs {
		if err := sh.Catalogue.KeepHistoryFrom(sh.Target, db, floors[db]); err != nil {
			cyc.problem("prune: %v", err)
		}
	}
	switch {
	case sh.Target.LocalRoot != "" && sh.Target.LocalRoot == sh.Target.Root:
		paths := logshipping.PrunablePaths(logshipping.Prune(cyc.files, cyc.now, retention, needed))
		if len(paths) == 0 {
			return nil
		}
		deleted, err := logshipping.DeleteFiles(sh.Target.Root, paths)
		if len(deleted) > 0 {
			r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonPruned, "Prune", "deleted %d backup files older than %s that no standby needs", len(deleted), retention)
			r.cleanHistory(ctx, cyc, floors)
		}
		if err != nil {
			cyc.problem("prune: %v", err)
		}
	case bt.Spec.VolumeClaimName != "" && r.OperatorImage != "":
		job, err := r.pruneJob(g, bt, sh.Target, cyc.files, cyc.now, retention, needed)
		if err != nil {
			cyc.problem("prune job: %v", err)
			return nil
		}
		if job == nil {
			return nil
		}
		if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
			cyc.problem("prune job: create job %s: %v", job.Name, err)
			return nil
		}
		r.cleanHistory(ctx, cyc, floors)
	default:
		if len(logshipping.Prune(cyc.files, cyc.now, retention, needed)) > 0 {
			cyc.problem("backup files are past retention but cannot be pruned: the operator does not see %s and the BackupTarget has no volumeClaimName", bt.Spec.Path)
		}
	}
	return nil
}

// pruneJobSecurityContext runs prune Jobs as the owner of the backup files (BackupTarget
// spec.filesOwner, by default SQL Server's mssql user 10001 in mcr.microsoft.com/mssql/server), so
// the Job can delete them without root, without capabilities and without an fsGroup (which would
// make the kubelet re-own every file of the backup volume at each mount). With
// pruneContainerSecurityContext it passes the restricted Pod Security Standard, so prune Jobs run
// in namespaces that enforce it.
func pruneJobSecurityContext(bt *v1alpha1.BackupTarget) *corev1.PodSecurityContext {
	uid, gid := bt.Spec.Owner()
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To(uid),
		RunAsGroup:     ptr.To(gid),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func pruneContainerSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Privileged:               ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// pruneJob returns the Job that deletes what retention allows in files' directories, or nil when
// there is nothing to delete. Its name is derived from the bounds (not from the time it is made), so
// the same decision never runs twice at once and a Job is made only when a bound moves.
func (r *LogShippingReconciler) pruneJob(g *v1alpha1.FailoverGroup, bt *v1alpha1.BackupTarget, target logshipping.Target,
	files logshipping.Files, now time.Time, retention time.Duration, needed map[string]sqlserver.LSN) (*batchv1.Job, error) {
	plan, err := logshipping.PlanExpiry(target, files, now, retention, needed)
	if err != nil || len(plan) == 0 {
		return nil, err
	}
	sum := sha256.New()
	args := []string{"prune", "--root", bt.Spec.Path, "--modified-before", now.Add(-retention).UTC().Format(time.RFC3339)}
	for _, e := range plan {
		fmt.Fprintln(sum, e.String())
		args = append(args, "--expire", e.String())
	}
	name := fmt.Sprintf("%.40s-prune-%s", g.Name, hex.EncodeToString(sum.Sum(nil))[:10])
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: g.Namespace, Labels: map[string]string{v1alpha1.LabelGroup: g.Name}},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To(int32(2)),
			TTLSecondsAfterFinished: ptr.To(int32(3600)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.LabelGroup: g.Name}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					// It talks to no API: no token in the pod.
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              pruneJobSecurityContext(bt),
					Containers: []corev1.Container{{
						Name:            "prune",
						Image:           r.OperatorImage,
						Args:            args,
						SecurityContext: pruneContainerSecurityContext(),
						VolumeMounts:    []corev1.VolumeMount{{Name: "backups", MountPath: bt.Spec.Path}},
					}},
					Volumes: []corev1.Volume{{Name: "backups", VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: bt.Spec.VolumeClaimName}}}},
				},
			},
		},
	}
	if err := controllerutil.SetControllerReference(g, job, r.Scheme); err != nil {
		return nil, err
	}
	return job, nil
}

// cleanHistory deletes the members' msdb history that the prune decision no longer needs
// (logshipping.HistoryCutoff, CleanHistory: never past a restoring database's last restore). A
// member that cannot be reached or refuses sp_delete_backuphistory is a problem of the cycle.
func (r *LogShippingReconciler) cleanHistory(ctx context.Context, cyc *shippingCycle, floors map[string]time.Time) {
	cutoff, ok := logshipping.HistoryCutoff(floors, cyc.view.dbs)
	if !ok {
		return
	}
	var members []logshipping.HistoryMember
	for _, m := range cyc.g.Spec.Members {
		c, err := cyc.view.client(m.Name)
		if err != nil {
			cyc.problem("msdb history on %s: %v", m.Name, err)
			continue
		}
		members = append(members, logshipping.HistoryMember{Name: m.Name, Client: c})
	}
	done, err := cyc.shipper.CleanHistory(ctx, members, cutoff)
	var cleaned []string
	for _, d := range done {
		if !d.Before.IsZero() {
			cleaned = append(cleaned, fmt.Sprintf("%s (before %s)", d.Member, d.Before.UTC().Format(time.RFC3339)))
		}
	}
	if len(cleaned) > 0 {
		r.event(cyc.g, corev1.EventTypeNormal, v1alpha1.EventReasonPruned, "Prune", "deleted the msdb backup history that no kept backup and no standby needs on %s", strings.Join(cleaned, ", "))
	}
	if err != nil {
		cyc.problem("%v", err)
	}
}
