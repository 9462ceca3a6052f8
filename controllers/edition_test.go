package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

var _ = Describe("SQL Server editions", func() {
	It("ships from SQL Server Express without COMPRESSION and says so in the BackupCompression condition", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		express := mssqlsim.Options{Edition: "Express"}
		// The BackupTarget leaves compression at its default (true).
		createSQLGroup(ns, startSimWith("DS1", express), startSimWith("DS2", express))
		Eventually(groupCondition(ns, v1alpha1.ConditionBackupCompression), 60*time.Second).Should(And(Not(BeNil()),
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", v1alpha1.ReasonBackupCompressionEditionCannotCompress),
			HaveField("Message", ContainSubstring("Express Edition (64-bit), which cannot compress backups"))))
		// Backups are taken anyway and the standby restores them.
		Eventually(groupCondition(ns, v1alpha1.ConditionLogShipping), 60*time.Second).Should(And(Not(BeNil()),
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", v1alpha1.ReasonLogShippingShipping)))
		Eventually(func() string { return firstRestoredLSN(ns, "sales", "ds2") }, 60*time.Second).ShouldNot(BeEmpty())
	})
})
