package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/internal/addresspolicy"
)

var _ = Describe("The installation's member address allow list", func() {
	It("refuses a group whose member address is not allowed, and probes nothing for it", func() {
		ns := newNamespace()
		policy, err := addresspolicy.Parse([]string{"10.99.0.0/16", ns + "=192.0.2.0/24"})
		Expect(err).NotTo(HaveOccurred())
		mgr := startManager(ns, controllers.Options{MemberAddresses: policy})
		DeferCleanup(mgr.Stop)
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b)))).To(Succeed())

		Eventually(func() *metav1.Condition {
			return meta.FindStatusCondition(getGroup(ns, "web").Status.Conditions, v1alpha1.ConditionReady)
		}).Should(And(Not(BeNil()),
			HaveField("Reason", controllers.ReasonInvalidSpec),
			HaveField("Message", ContainSubstring(`spec.members[0].address.host: "127.0.0.1" is not in this installation's allowed member addresses`))))
		Consistently(func() string { return activeOf(ns, "web") }, "2s").Should(BeEmpty(), "an address outside the allow list must not be probed or elected")
	})
})
