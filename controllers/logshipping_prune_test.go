package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestNeededLSNs(t *testing.T) {
	g := &v1alpha1.FailoverGroup{Status: v1alpha1.FailoverGroupStatus{Members: []v1alpha1.MemberStatus{
		{Name: "ds1", Databases: []v1alpha1.DatabasePosition{{Name: "Sales", LSN: "1"}}}, // the primary: ignored
		{Name: "ds2", Databases: []v1alpha1.DatabasePosition{{Name: "Sales", LSN: "900"}, {Name: "Hr", LSN: "70"}}},
		{Name: "ds3", Databases: []v1alpha1.DatabasePosition{{Name: "Sales", LSN: "500"}}},
	}}}
	needed := neededLSNs(g, "ds1", []string{"Sales", "Hr"})
	if got := needed["Sales"].String(); got != "500" {
		t.Errorf("Sales needed from %s, want the lowest standby position 500", got)
	}
	if got := needed["Hr"]; !got.IsZero() {
		t.Errorf("Hr needed from %s, want 0: ds3 has no position, so everything is kept", got)
	}
}

func pruneTestReconciler(t *testing.T) (*LogShippingReconciler, client.Client) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	return &LogShippingReconciler{Client: c, Scheme: scheme, OperatorImage: "registry.example/understudy:0.1.0"}, c
}

// pruneFixture is a group db/sales whose BackupTarget's volume is a PVC, so pruning needs a Job.
func pruneFixture() (*v1alpha1.FailoverGroup, *v1alpha1.BackupTarget, logshipping.Target) {
	return &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "sales", UID: "u1"}},
		&v1alpha1.BackupTarget{Spec: v1alpha1.BackupTargetSpec{Path: "/backups", VolumeClaimName: "mssql-backups"}},
		logshipping.Target{Root: "/backups", Namespace: "db", Group: "sales"}
}

// minuteHistory is what msdb holds for db after days at a 1-minute log interval and a daily full
// backup: every backup ever taken, including files deleted long ago.
func minuteHistory(target logshipping.Target, db string, start time.Time, days int) []sqlserver.BackupFile {
	var out []sqlserver.BackupFile
	lsn := int64(1000)
	for m := 0; m < days*24*60; m++ {
		at := start.Add(time.Duration(m) * time.Minute)
		typ := sqlserver.BackupLog
		if m%(24*60) == 0 {
			typ = sqlserver.BackupFull
		}
		first := sqlserver.MustParseLSN(fmt.Sprint(lsn))
		p, _ := sqlserver.BackupPath(target.Root, target.Namespace, target.Group, db, at, first, typ)
		out = append(out, sqlserver.BackupFile{Path: p, Type: typ, Database: db, FirstLSN: first, LastLSN: sqlserver.MustParseLSN(fmt.Sprint(lsn + 100)),
			FinishedAt: at.Add(3 * time.Second), ForkID: "F1", FirstForkID: "F1", Position: 1})
		if typ == sqlserver.BackupLog {
			lsn += 100
		}
	}
	return out
}

// The prune Job's spec does not grow with the history: 30 days at a 1-minute interval (43,200
// files per database, about 3 MiB of paths) give the same few arguments as one day.
func TestPruneJobStaysSmallWhateverTheHistory(t *testing.T) {
	r, _ := pruneTestReconciler(t)
	g, bt, target := pruneFixture()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sizes := map[int]int{}
	for _, days := range []int{3, 30} {
		now := start.Add(time.Duration(days) * 24 * time.Hour)
		files := logshipping.Files{"Sales": minuteHistory(target, "Sales", start, days), "Hr": minuteHistory(target, "Hr", start, days)}
		job, err := r.pruneJob(g, bt, target, files, now, 48*time.Hour, nil)
		if err != nil || job == nil {
			t.Fatalf("%d days: job %v, %v", days, job, err)
		}
		spec, err := json.Marshal(job.Spec)
		if err != nil {
			t.Fatal(err)
		}
		if len(spec) >= 16<<10 {
			t.Fatalf("%d days: the Job spec is %d bytes", days, len(spec))
		}
		sizes[days] = len(spec)
		t.Logf("%d days: Job spec %d bytes", days, len(spec))
		args := job.Spec.Template.Spec.Containers[0].Args
		if len(args) != 9 || len(job.Spec.Template.Spec.Containers[0].Env) != 0 {
			t.Fatalf("%d days: args %v", days, args)
		}
	}
	if sizes[30] != sizes[3] {
		t.Fatalf("Job spec sizes %v: they depend on the length of the history", sizes)
	}
}

func TestPruneJob(t *testing.T) {
	r, c := pruneTestReconciler(t)
	g, bt, target := pruneFixture()
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	files := logshipping.Files{"Sales": minuteHistory(target, "Sales", start, 3)}
	now := start.Add(72 * time.Hour)
	for i := 0; i < 2; i++ { // the same decision twice, seconds apart: one Job
		job, err := r.pruneJob(g, bt, target, files, now.Add(time.Duration(i)*2*time.Second), 48*time.Hour, nil)
		if err != nil || job == nil {
			t.Fatal(job, err)
		}
		if err := c.Create(context.Background(), job); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	var jobs batchv1.JobList
	if err := c.List(context.Background(), &jobs, client.InNamespace("db")); err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs.Items))
	}
	pod := jobs.Items[0].Spec.Template.Spec
	ctr := pod.Containers[0]
	wantArgs := []string{"prune", "--root", "/backups", "--modified-before", "2026-11-21T00:00:00Z",
		"--expire", "/backups/db/sales/Sales=2026-11-20T23:59:01Z"}
	if ctr.Image != r.OperatorImage || fmt.Sprint(ctr.Args) != fmt.Sprint(wantArgs) {
		t.Fatalf("container = %s %v\nwant args %v", ctr.Image, ctr.Args, wantArgs)
	}
	if pod.Volumes[0].PersistentVolumeClaim.ClaimName != "mssql-backups" || ctr.VolumeMounts[0].MountPath != "/backups" {
		t.Errorf("volume %+v mount %+v", pod.Volumes[0], ctr.VolumeMounts[0])
	}
	if ref := metav1.GetControllerOf(&jobs.Items[0]); ref == nil || ref.UID != "u1" {
		t.Error("the Job is not owned by the group")
	}
	// Nothing past retention: no Job.
	if job, err := r.pruneJob(g, bt, target, files, start.Add(24*time.Hour), 48*time.Hour, nil); err != nil || job != nil {
		t.Fatalf("within retention: %v, %v", job, err)
	}
}

// restrictedViolations evaluates a pod against the restricted Pod Security Standard (latest
// version) with the same checks as the API server's PodSecurity admission.
func restrictedViolations(t *testing.T, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []string {
	t.Helper()
	evaluator, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range evaluator.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}, meta, spec) {
		if !r.Allowed {
			out = append(out, r.ForbiddenReason+": "+r.ForbiddenDetail)
		}
	}
	return out
}

// The prune Job runs in the group's namespace, which may enforce
// pod-security.kubernetes.io/enforce=restricted: its pod must pass that profile, as SQL Server's
// mssql user (10001), with no token.
func TestPruneJobPassesRestrictedPodSecurity(t *testing.T) {
	r, _ := pruneTestReconciler(t)
	g, bt, target := pruneFixture()
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	job, err := r.pruneJob(g, bt, target, logshipping.Files{"Sales": minuteHistory(target, "Sales", start, 3)}, start.Add(72*time.Hour), 48*time.Hour, nil)
	if err != nil || job == nil {
		t.Fatal(job, err)
	}
	pod := job.Spec.Template
	if v := restrictedViolations(t, &pod.ObjectMeta, &pod.Spec); len(v) > 0 {
		t.Fatalf("the prune Job's pod violates the restricted Pod Security Standard: %v", v)
	}
	sc := pod.Spec.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 10001 || sc.RunAsGroup == nil || *sc.RunAsGroup != 10001 || sc.FSGroup != nil {
		t.Errorf("pod security context %+v: want UID and GID 10001 (mssql) and no fsGroup", sc)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Error("the prune pod mounts a ServiceAccount token it does not use")
	}

	// The check itself: the pod as it was before (no pod security context: no seccomp profile, no
	// runAsNonRoot) is refused.
	before := pod.Spec.DeepCopy()
	before.SecurityContext = nil
	if v := restrictedViolations(t, &pod.ObjectMeta, before); len(v) != 2 {
		t.Fatalf("violations of the old pod spec = %v, want seccompProfile and runAsNonRoot", v)
	}
}
