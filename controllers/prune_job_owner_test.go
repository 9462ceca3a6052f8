package controllers

import (
	"testing"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
)

// The prune Job runs as the BackupTarget's filesOwner, for SQL Server pods that run as another
// user than the image's 10001; each part left at zero keeps 10001.
func TestPruneJobRunsAsTheFilesOwner(t *testing.T) {
	r, _ := pruneTestReconciler(t)
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		owner    *v1alpha1.FilesOwner
		uid, gid int64
	}{
		{nil, 10001, 10001},
		{&v1alpha1.FilesOwner{UID: 20000, GID: 30000}, 20000, 30000},
		{&v1alpha1.FilesOwner{GID: 5000}, 10001, 5000},
	} {
		g, bt, target := pruneFixture()
		bt.Spec.FilesOwner = tc.owner
		job, err := r.pruneJob(g, bt, target, logshipping.Files{"Sales": minuteHistory(target, "Sales", start, 3)}, start.Add(72*time.Hour), 48*time.Hour, nil)
		if err != nil || job == nil {
			t.Fatal(job, err)
		}
		sc := job.Spec.Template.Spec.SecurityContext
		if *sc.RunAsUser != tc.uid || *sc.RunAsGroup != tc.gid || sc.FSGroup != nil {
			t.Errorf("filesOwner %+v: runs as %d:%d (fsGroup %v), want %d:%d", tc.owner, *sc.RunAsUser, *sc.RunAsGroup, sc.FSGroup, tc.uid, tc.gid)
		}
	}
}
