package controllers

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
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

func TestEnsurePruneJob(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "sales", UID: "u1"}}
	bt := &v1alpha1.BackupTarget{Spec: v1alpha1.BackupTargetSpec{Path: "/backups", VolumeClaimName: "mssql-backups"}}
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	r := &LogShippingReconciler{Client: c, Scheme: scheme, OperatorImage: "registry.example/understudy:0.1.0"}
	paths := []string{"/backups/db/sales/Sales/20261120T010000Z_1.trn", "/backups/db/sales/Sales/20261120T010100Z_2.trn"}
	for i := 0; i < 2; i++ { // the same list twice: one Job
		if err := r.ensurePruneJob(context.Background(), g, bt, paths); err != nil {
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
	wantArgs := []string{"prune", "--root", "/backups", "--", paths[0], paths[1]}
	if ctr.Image != r.OperatorImage || len(ctr.Args) != len(wantArgs) {
		t.Fatalf("container = %s %v", ctr.Image, ctr.Args)
	}
	for i := range wantArgs {
		if ctr.Args[i] != wantArgs[i] {
			t.Errorf("arg %d = %q, want %q", i, ctr.Args[i], wantArgs[i])
		}
	}
	if pod.Volumes[0].PersistentVolumeClaim.ClaimName != "mssql-backups" || ctr.VolumeMounts[0].MountPath != "/backups" {
		t.Errorf("volume %+v mount %+v", pod.Volumes[0], ctr.VolumeMounts[0])
	}
	if ref := metav1.GetControllerOf(&jobs.Items[0]); ref == nil || ref.UID != "u1" {
		t.Error("the Job is not owned by the group")
	}
}
