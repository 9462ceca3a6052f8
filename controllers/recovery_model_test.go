package controllers_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Recovery model and log growth", func() {
	recoveryModel := func(m *sqlMember) func() string {
		return func() string {
			var model string
			Expect(m.db("master").QueryRow("SELECT recovery_model_desc FROM sys.databases WHERE name = N'Sales'").Scan(&model)).To(Succeed())
			return model
		}
	}

	It("leaves a SIMPLE database alone with keepRecoveryModel and says why nothing ships", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		createSQLGroupWith(ns, ds1, ds2, func(g *v1alpha1.FailoverGroup) {
			_, err := ds1.db("master").Exec("ALTER DATABASE [Sales] SET RECOVERY SIMPLE")
			Expect(err).NotTo(HaveOccurred())
			g.Spec.LogShipping.KeepRecoveryModel = true
		})
		Eventually(groupCondition(ns, v1alpha1.ConditionLogShipping), 60*time.Second).Should(And(Not(BeNil()),
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", v1alpha1.ReasonLogShippingFailed),
			HaveField("Message", ContainSubstring("keepRecoveryModel is set"))))
		Consistently(recoveryModel(ds1), 3*time.Second).Should(Equal("SIMPLE"))
		Expect(eventReasons(ns)).NotTo(ContainElement(v1alpha1.EventReasonRecoveryModelChanged))
	})

	It("reports a log that waits for a log backup for more than two intervals (TransactionLogGrowing)", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		backups := createSQLGroup(ns, ds1, ds2)
		Eventually(groupCondition(ns, v1alpha1.ConditionTransactionLogGrowing), 60*time.Second).Should(And(Not(BeNil()),
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", v1alpha1.ReasonTransactionLogTruncated)))

		// The database's backup directory becomes a file: every backup into it fails, while the
		// application keeps writing.
		dir := filepath.Join(backups, ns, "sales", "Sales")
		Expect(os.RemoveAll(dir)).To(Succeed())
		Expect(os.WriteFile(dir, []byte("not a directory"), 0o600)).To(Succeed())
		_, err := ds1.db("Sales").Exec("INSERT INTO dbo.Orders (id, note) VALUES (1, N'after the target broke')")
		Expect(err).NotTo(HaveOccurred())
		Eventually(groupCondition(ns, v1alpha1.ConditionTransactionLogGrowing), 90*time.Second).Should(And(
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", v1alpha1.ReasonTransactionLogWaitingForBackup),
			HaveField("Message", ContainSubstring("Sales since"))))
		Expect(recoveryModel(ds1)()).To(Equal("FULL"))
	})
})
