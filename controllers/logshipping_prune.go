package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

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

// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete

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

// prune deletes backup files older than the BackupTarget's retention that no standby needs: directly
// when the operator sees the backup directory, else with a Job that mounts volumeClaimName and
// runs `understudy prune`. Without either, nothing is deleted (the LogShipping condition says so).
func (r *LogShippingReconciler) prune(ctx context.Context, g *v1alpha1.FailoverGroup, sh *logshipping.Shipper, bt *v1alpha1.BackupTarget,
	holder string, dbs []string, cyc *cycleResult) {
	victims := logshipping.Prune(cyc.files, cyc.now, bt.Spec.Retention.Duration, neededLSNs(g, holder, dbs))
	if len(victims) == 0 {
		return
	}
	paths := make([]string, 0, len(victims))
	for _, f := range victims {
		paths = append(paths, f.Path)
	}
	sort.Strings(paths)
	switch {
	case sh.Target.LocalRoot != "" && sh.Target.LocalRoot == sh.Target.Root:
		deleted, err := logshipping.DeleteFiles(sh.Target.Root, paths)
		if len(deleted) > 0 {
			r.event(g, corev1.EventTypeNormal, "Pruned", "Prune", "deleted %d backup files older than %s that no standby needs", len(deleted), bt.Spec.Retention.Duration)
		}
		if err != nil {
			cyc.problems = append(cyc.problems, fmt.Sprintf("prune: %v", err))
		}
	case bt.Spec.VolumeClaimName != "" && r.OperatorImage != "":
		if err := r.ensurePruneJob(ctx, g, bt, paths); err != nil {
			cyc.problems = append(cyc.problems, fmt.Sprintf("prune job: %v", err))
		}
	default:
		cyc.problems = append(cyc.problems, fmt.Sprintf("%d backup files are past retention but cannot be pruned: the operator does not see %s and the BackupTarget has no volumeClaimName", len(paths), bt.Spec.Path))
	}
}

// ensurePruneJob creates the Job that deletes paths (its name is derived from the list, so the same
// list never runs twice at once).
func (r *LogShippingReconciler) ensurePruneJob(ctx context.Context, g *v1alpha1.FailoverGroup, bt *v1alpha1.BackupTarget, paths []string) error {
	sum := sha256.New()
	for _, p := range paths {
		fmt.Fprintln(sum, p)
	}
	name := fmt.Sprintf("%.40s-prune-%s", g.Name, hex.EncodeToString(sum.Sum(nil))[:10])
	args := append([]string{"prune", "--root", bt.Spec.Path, "--"}, paths...)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: g.Namespace, Labels: map[string]string{v1alpha1.LabelGroup: g.Name}},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To(int32(2)),
			TTLSecondsAfterFinished: ptr.To(int32(3600)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.LabelGroup: g.Name}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name:  "prune",
						Image: r.OperatorImage,
						Args:  args,
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "backups", MountPath: bt.Spec.Path}},
					}},
					Volumes: []corev1.Volume{{Name: "backups", VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: bt.Spec.VolumeClaimName}}}},
				},
			},
		},
	}
	if err := controllerutil.SetControllerReference(g, job, r.Scheme); err != nil {
		return err
	}
	if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create job %s: %w", name, err)
	}
	return nil
}
