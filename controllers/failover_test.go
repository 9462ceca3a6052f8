package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/internal/lease"
)

var _ = Describe("FailoverGroup failover", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
	})

	It("elects the highest-priority healthy member and routes to it", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		createPod(ns, "a-0", "10.0.0.1", map[string]string{"member": "a"})
		createPod(ns, "b-0", "10.0.0.2", map[string]string{"member": "b"})
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 100, a), memberAt("b", 200, b)))).To(Succeed())

		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("b"))
		Eventually(func() map[string]string { return selectorOf(ns, "web") }).Should(Equal(map[string]string{"member": "b"}))
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))
		g := getGroup(ns, "web")
		Expect(g.Status.ActiveMember).To(Equal("b"))
		Expect(g.Status.Healthy).To(Equal("2/2"))
		Expect(g.Status.LastFailover.Reason).To(Equal("InitialElection"))
		Expect(*conditionOf(ns, "web", v1alpha1.ConditionReady)).To(HaveField("Status", metav1.ConditionTrue))
		Expect(conditionOf(ns, "web", v1alpha1.ConditionReady).ObservedGeneration).To(Equal(g.Generation))
		Eventually(func() string { return podLabels(ns, "b-0")[v1alpha1.LabelRole] }).Should(Equal("active"))
		Eventually(func() string { return podLabels(ns, "a-0")[v1alpha1.LabelRole] }).Should(Equal("standby"))
		l := leaseOf(ns, "web")
		Expect(ptr.Deref(l.Spec.LeaseDurationSeconds, 0)).To(Equal(int32(3)))
		Expect(l.OwnerReferences).To(HaveLen(1))
		Expect(l.OwnerReferences[0].Name).To(Equal("web"))
	})

	It("fails over when the active member dies, never before its Lease expires", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b)))).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))

		a.Stop()
		killed := time.Now()
		// Follow the Lease: its last renewal by "a" bounds the earliest legal takeover.
		var lastRenew time.Time
		Eventually(func() string {
			l := leaseOf(ns, "web")
			if h := lease.Holder(l); h != "b" {
				lastRenew = lease.RenewTime(l)
				return h
			}
			return "b"
		}).Should(Equal("b"))
		took := time.Since(killed)
		Eventually(func() string { return getGroup(ns, "web").Status.LastFailover.Reason }).Should(Equal("Failover"))
		g := getGroup(ns, "web")
		Expect(g.Status.LastFailover.From).To(Equal("a"))
		Expect(g.Status.LastFailover.StartedAt.Time).To(BeTemporally(">=", lastRenew.Add(3*time.Second).Truncate(time.Second)),
			"failover started before the Lease (renewed %s) expired", lastRenew)
		Expect(took).To(BeNumerically("<", 6*time.Second), "with period 1s x 2 and a 3s Lease")
		Eventually(func() map[string]string { return selectorOf(ns, "web") }).Should(Equal(map[string]string{"member": "b"}))
		Eventually(func() v1alpha1.MemberRole { return memberRole(ns, "web", "a") }).Should(Equal(v1alpha1.RoleFenced))
		Expect(ptr.Deref(leaseOf(ns, "web").Spec.LeaseTransitions, 0)).To(Equal(int32(1)))
		GinkgoWriter.Printf("failover took %s after the listener closed\n", took)
	})

	It("never elects a member with priority 0", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		b.Stop()
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 0, a), memberAt("b", 100, b)))).To(Succeed())
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseNoActive))
		Consistently(func() string { return activeOf(ns, "web") }, 3*time.Second).Should(BeEmpty())
		Expect(memberRole(ns, "web", "a")).To(Equal(v1alpha1.RoleDisabled))
		Expect(selectorOf(ns, "web")).NotTo(HaveKeyWithValue("member", "a"))
		b.Start()
		DeferCleanup(b.Stop)
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("b"))
	})

	It("only reports in Manual mode", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(b.Stop)
		g := groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Failover.Mode = v1alpha1.FailoverManual
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))
		a.Stop()
		Eventually(func() metav1.ConditionStatus {
			c := conditionOf(ns, "web", v1alpha1.ConditionFailoverRequired)
			if c == nil {
				return ""
			}
			return c.Status
		}).Should(Equal(metav1.ConditionTrue))
		Expect(conditionOf(ns, "web", v1alpha1.ConditionFailoverRequired).Message).To(ContainSubstring(`switch over to "b" by hand`))
		Consistently(func() string { return activeOf(ns, "web") }, 5*time.Second).Should(Equal("a"))
	})

	It("does nothing while paused", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(b.Stop)
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b)))).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))
		updateGroup(ns, "web", func(g *v1alpha1.FailoverGroup) { g.Spec.Failover.Paused = true })
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhasePaused))
		a.Stop()
		Consistently(func() string { return activeOf(ns, "web") }, 5*time.Second).Should(Equal("a"))
		Expect(selectorOf(ns, "web")).To(Equal(map[string]string{"member": "a"}))

		updateGroup(ns, "web", func(g *v1alpha1.FailoverGroup) { g.Spec.Failover.Paused = false })
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("b"))
	})

	It("fails back to the preferred member only after the hold-down", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		g := groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Failover.Failback = v1alpha1.FailbackAutomatic
		g.Spec.Failover.FailbackDelaySeconds = 4
		g.Spec.HealthCheck.SuccessThreshold = 2
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))
		a.Stop()
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("b"))

		a.Start()
		back := time.Now()
		Eventually(func() bool { return memberHealthy(ns, "web", "a") }).Should(BeTrue())
		Expect(activeOf(ns, "web")).To(Equal("b"), "failback before the hold-down")
		Eventually(func() string { return getGroup(ns, "web").Status.LastFailover.Reason }).Should(Equal("Failback"))
		Expect(time.Since(back)).To(BeNumerically(">=", 4*time.Second))
		g = getGroup(ns, "web")
		Expect(g.Status.ActiveMember).To(Equal("a"))
		Expect(g.Status.FailoverCount).To(Equal(int64(3)))
		Eventually(func() map[string]string { return selectorOf(ns, "web") }).Should(Equal(map[string]string{"member": "a"}))
		Eventually(func() v1alpha1.MemberRole { return memberRole(ns, "web", "b") }).Should(Equal(v1alpha1.RoleStandby))
	})
})

func memberStatus(ns, name, member string) v1alpha1.MemberStatus {
	for _, m := range getGroup(ns, name).Status.Members {
		if m.Name == member {
			return m
		}
	}
	return v1alpha1.MemberStatus{}
}

func memberRole(ns, name, member string) v1alpha1.MemberRole {
	return memberStatus(ns, name, member).Role
}

func memberHealthy(ns, name, member string) bool { return memberStatus(ns, name, member).Healthy }
