package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("maxDataLoss", func() {
	It("refuses to promote a standby too far behind until forced by annotation", func() {
		ns, a, _ := startSalesGroup()
		setStandbyLag(ns, 600) // as log shipping reports it: 10 minutes behind

		a.Stop()
		Eventually(func() string {
			if c := conditionOf(ns, "sales", v1alpha1.ConditionFailoverRequired); c != nil && c.Status == metav1.ConditionTrue {
				return c.Reason
			}
			return ""
		}).Should(Equal("MaxDataLossExceeded"))
		Expect(conditionOf(ns, "sales", v1alpha1.ConditionFailoverRequired).Message).To(ContainSubstring("understudy.dev/force-failover=b"))
		Consistently(func() string { return activeOf(ns, "sales") }, 4*time.Second).Should(Equal("a"))

		updateGroup(ns, "sales", func(g *v1alpha1.FailoverGroup) {
			g.Annotations = map[string]string{v1alpha1.AnnotationForceFailover: "b"}
		})
		Eventually(func() string { return getGroup(ns, "sales").Status.LastFailover.Reason }).Should(Equal("Forced"))
		Expect(activeOf(ns, "sales")).To(Equal("b"))
		Eventually(func() map[string]string { return getGroup(ns, "sales").Annotations }).ShouldNot(HaveKey(v1alpha1.AnnotationForceFailover))
		Eventually(func() map[string]string { return selectorOf(ns, "sales") }).Should(Equal(map[string]string{"member": "b"}))
	})

	It("says who would win a failover now: FailoverReady flips when the standby falls behind maxDataLoss and back", func() {
		ns, a, b := startSalesGroup()
		DeferCleanup(a.Stop)
		readiness := func() string {
			c := conditionOf(ns, "sales", v1alpha1.ConditionFailoverReady)
			fr := getGroup(ns, "sales").Status.FailoverReadiness
			if c == nil || fr == nil {
				return ""
			}
			atRisk := "unknown"
			if fr.DataAtRisk != nil {
				atRisk = fr.DataAtRisk.String()
			}
			return string(c.Status) + " " + c.Reason + " candidate=" + fr.Candidate + " atRisk=" + atRisk
		}
		// No restore position yet: b would win, with the data at risk unknown (no limit breaks on that).
		Eventually(readiness).Should(Equal("True CandidateReady candidate=b atRisk=unknown"))
		setStandbyLag(ns, 600)
		Eventually(readiness).Should(Equal("False MaxDataLossExceeded candidate=b atRisk=10m0s"))
		Expect(getGroup(ns, "sales").Status.FailoverReadiness.BlockedByMaxDataLoss).To(BeTrue())
		Expect(conditionOf(ns, "sales", v1alpha1.ConditionFailoverReady).Message).To(ContainSubstring("more than maxDataLoss 5m0s"))
		setStandbyLag(ns, 60)
		Eventually(readiness).Should(Equal("True CandidateReady candidate=b atRisk=1m0s"))
		Expect(getGroup(ns, "sales").Status.FailoverReadiness.BlockedByMaxDataLoss).To(BeFalse())
		// The standby goes down: nobody could take over.
		b.Stop()
		Eventually(readiness).Should(Equal("False NoCandidate candidate= atRisk=unknown"))
		Expect(activeOf(ns, "sales")).To(Equal("a"))
	})
})

// startSalesGroup runs a manager and a SQL Server group "sales" with maxDataLoss 5m over two plain
// TCP members (only the decision is under test: the generic promoter), a (priority 200) active.
func startSalesGroup() (string, *memberServer, *memberServer) {
	ns := newNamespace()
	mgr := startManager(ns, controllers.Options{Promoter: controllers.GenericPromoter{}})
	DeferCleanup(mgr.Stop)
	a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
	DeferCleanup(b.Stop)
	g := groupOf(ns, "sales", memberAt("a", 200, a), memberAt("b", 100, b))
	g.Spec.SQLServer = &v1alpha1.SQLServerSpec{CredentialsSecretRef: v1alpha1.SecretReference{Name: "sql"},
		Databases: []v1alpha1.DatabaseName{"Sales"}}
	g.Spec.Failover.MaxDataLoss = v1alpha1.DurationPtr(5 * time.Minute)
	Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
	Eventually(func() v1alpha1.Phase { return getGroup(ns, "sales").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))
	return ns, a, b
}

// setStandbyLag writes member b's restore position as the log-shipping reconciler does.
func setStandbyLag(ns string, seconds int64) {
	Expect(retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur := getGroup(ns, "sales")
		for i := range cur.Status.Members {
			if cur.Status.Members[i].Name == "b" {
				cur.Status.Members[i].Databases = []v1alpha1.DatabasePosition{{Name: "Sales", LSN: "42000000001200001", LagSeconds: seconds}}
			}
		}
		return k8sClient.Status().Update(suiteCtx, cur)
	})).To(Succeed())
}
