package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Planned switchover", func() {
	var (
		ns      string
		a, b, c *memberServer
	)
	BeforeEach(func() {
		ns = newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		a, b, c = newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		DeferCleanup(c.Stop)
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b), memberAt("c", 0, c)))).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))
	})

	requestSwitchover := func(to string) {
		updateGroup(ns, "web", func(g *v1alpha1.FailoverGroup) {
			if g.Annotations == nil {
				g.Annotations = map[string]string{}
			}
			g.Annotations[v1alpha1.AnnotationSwitchoverTo] = to
		})
	}
	switchoverCondition := func() *metav1.Condition { return conditionOf(ns, "web", v1alpha1.ConditionSwitchover) }

	It("moves the role to a healthy standby, removes the annotation and records it", func() {
		requestSwitchover("b")
		Eventually(func() string { return getGroup(ns, "web").Status.LastFailover.Reason }).Should(Equal("Switchover"))
		g := getGroup(ns, "web")
		Expect(g.Status.LastFailover.From).To(Equal("a"))
		Expect(g.Status.LastFailover.To).To(Equal("b"))
		Expect(activeOf(ns, "web")).To(Equal("b"))
		Eventually(func() map[string]string { return getGroup(ns, "web").Annotations }).ShouldNot(HaveKey(v1alpha1.AnnotationSwitchoverTo))
		Eventually(func() map[string]string { return selectorOf(ns, "web") }).Should(Equal(map[string]string{"member": "b"}))
		// A planned switchover leaves the old member a standby, not fenced.
		Eventually(func() v1alpha1.MemberRole { return memberRole(ns, "web", "a") }).Should(Equal(v1alpha1.RoleStandby))
	})

	DescribeTable("refuses, keeping the annotation",
		func(target string, prepare func(), wantMessage string) {
			if prepare != nil {
				prepare()
			}
			requestSwitchover(target)
			Eventually(func() string {
				if c := switchoverCondition(); c != nil && c.Status == metav1.ConditionFalse {
					return c.Message
				}
				return ""
			}).Should(ContainSubstring(wantMessage))
			Consistently(func() string { return activeOf(ns, "web") }, 2*time.Second).Should(Equal("a"))
			Expect(getGroup(ns, "web").Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationSwitchoverTo, target))
		},
		Entry("to an unknown member", "zz", nil, `no member named "zz"`),
		Entry("to a member with priority 0", "c", nil, "priority is 0"),
		Entry("to an unhealthy member", "b", func() {
			b.Stop()
			Eventually(func() bool { return memberHealthy(ns, "web", "b") }).Should(BeFalse())
		}, "not healthy"),
	)
})
