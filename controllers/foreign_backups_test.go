package controllers_test

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Other tools' log backups", func() {
	It("names a log backup another job wrote outside the BackupTarget in the ForeignLogBackups condition", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		createSQLGroup(ns, ds1, ds2)
		condition := groupCondition(ns, v1alpha1.ConditionForeignLogBackups)
		Eventually(condition, 60*time.Second).Should(And(Not(BeNil()),
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", v1alpha1.ReasonForeignLogBackupsNone)))

		// A DBA's maintenance job backs up the primary's log to its own directory; a COPY_ONLY
		// backup next to it is harmless and not named.
		jobDir := GinkgoT().TempDir()
		master := ds1.db("master")
		_, err := master.Exec("BACKUP LOG [Sales] TO DISK = @p1 WITH INIT, COPY_ONLY", filepath.Join(jobDir, "copy.trn"))
		Expect(err).NotTo(HaveOccurred())
		_, err = master.Exec("BACKUP LOG [Sales] TO DISK = @p1 WITH INIT", filepath.Join(jobDir, "job.trn"))
		Expect(err).NotTo(HaveOccurred())
		Eventually(condition, 60*time.Second).Should(And(
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", v1alpha1.ReasonForeignLogBackupsFound),
			HaveField("Message", ContainSubstring(filepath.Join(jobDir, "job.trn"))),
			HaveField("Message", Not(ContainSubstring("copy.trn")))))
	})
})
