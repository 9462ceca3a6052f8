package controllers_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

// statusManagers is who owns the group's status fields: "<manager> <operation>" of each entry of
// the status subresource.
func statusManagers(g *v1alpha1.FailoverGroup) []string {
	var out []string
	for _, e := range g.ManagedFields {
		if e.Subresource == "status" {
			out = append(out, e.Manager+" "+string(e.Operation))
		}
	}
	return out
}

// readinessOf is the group's status.failoverReadiness (empty while there is none).
func readinessOf(ns, name string) v1alpha1.FailoverReadiness {
	if r := getGroup(ns, name).Status.FailoverReadiness; r != nil {
		return *r
	}
	return v1alpha1.FailoverReadiness{}
}

var _ = Describe("Status fields, one owner each (server-side apply)", func() {
	It("keeps both reconcilers' fields steady while both write at once", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		createSQLGroup(ns, ds1, ds2)
		Eventually(func() string { return firstRestoredLSN(ns, "sales", "ds2") }, 60*time.Second).ShouldNot(BeEmpty())
		Eventually(func() bool { return memberStatus(ns, "sales", "ds2").Healthy }, 30*time.Second).Should(BeTrue())
		Eventually(func() []string { return statusManagers(getGroup(ns, "sales")) }, 30*time.Second).Should(ConsistOf(
			controllers.FieldManagerFailover+" Apply", controllers.FieldManagerLogShipping+" Apply"))

		// Every spec change makes both reconcilers write the status (observedGeneration, conditions).
		var mu sync.Mutex
		var flaps []string
		flap := func(s string) {
			mu.Lock()
			defer mu.Unlock()
			flaps = append(flaps, s)
		}
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				g := getGroup(ns, "sales")
				ms := map[string]v1alpha1.MemberStatus{}
				for _, m := range g.Status.Members {
					ms[m.Name] = m
				}
				if ms["ds1"].Role != v1alpha1.RoleActive || ms["ds2"].Role != v1alpha1.RoleStandby || !ms["ds2"].Healthy {
					flap("roles or health: " + string(ms["ds1"].Role) + "/" + string(ms["ds2"].Role) + " " + ms["ds2"].Message)
				}
				if len(ms["ds2"].Databases) == 0 || ms["ds2"].Databases[0].LSN == "" {
					flap("ds2 lost its restore position")
				}
				if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionLogShipping); c == nil || c.Status != metav1.ConditionTrue {
					flap("LogShipping condition missing or not True")
				}
				if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
					flap("Ready condition missing or not True")
				}
				if g.Status.Lag == "" {
					flap("lag missing")
				}
			}
		}()
		for i := range 20 {
			updateGroup(ns, "sales", func(g *v1alpha1.FailoverGroup) { g.Spec.Members[1].Priority = int32(100 + i%2) })
			gen := getGroup(ns, "sales").Generation
			Eventually(func() int64 { return getGroup(ns, "sales").Status.ObservedGeneration }, 10*time.Second).Should(Equal(gen))
			Eventually(func() int64 { return conditionOf(ns, "sales", v1alpha1.ConditionLogShipping).ObservedGeneration }, 10*time.Second).Should(Equal(gen))
		}
		close(stop)
		<-done
		Expect(flaps).To(BeEmpty())
		Expect(statusManagers(getGroup(ns, "sales"))).To(ConsistOf(
			controllers.FieldManagerFailover+" Apply", controllers.FieldManagerLogShipping+" Apply"))

		// Log shipping turned off: its fields go, the failover reconciler's stay.
		updateGroup(ns, "sales", func(g *v1alpha1.FailoverGroup) { g.Spec.LogShipping = nil })
		Eventually(func() *metav1.Condition { return conditionOf(ns, "sales", v1alpha1.ConditionLogShipping) }, 10*time.Second).Should(BeNil())
		g := getGroup(ns, "sales")
		for _, e := range g.ManagedFields {
			if e.Manager == controllers.FieldManagerLogShipping && e.FieldsV1 != nil {
				Expect(string(e.FieldsV1.Raw)).NotTo(Or(ContainSubstring("f:lag"), ContainSubstring("f:databases"), ContainSubstring("LogShipping")))
			}
		}
		Expect(meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionLogShipping)).To(BeNil())
		Expect(g.Status.Lag).To(BeEmpty())
		Expect(memberStatus(ns, "sales", "ds2").Databases).To(BeEmpty())
		Expect(memberStatus(ns, "sales", "ds1").Role).To(Equal(v1alpha1.RoleActive))
	})

	It("takes over the fields a plain status update owns, so a field the operator drops is dropped", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		createPod(ns, "a-0", "10.0.0.1", map[string]string{"member": "a"})
		createPod(ns, "b-0", "10.0.0.2", map[string]string{"member": "b"})
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b)))).To(Succeed())
		Eventually(func() string { return readinessOf(ns, "web").Candidate }).Should(Equal("b"))

		// An operator from before server-side apply (or kubectl edit) writes the status with an update.
		g := getGroup(ns, "web")
		g.Status.FailoverReadiness.BlockedByMaxDataLoss = true
		Expect(k8sClient.Status().Update(suiteCtx, g)).To(Succeed())
		Expect(statusManagers(getGroup(ns, "web"))).To(ContainElement(HaveSuffix(" Update")))

		// The failover reconciler takes those fields over and drops the one it does not set.
		Eventually(func() bool { return readinessOf(ns, "web").BlockedByMaxDataLoss }).Should(BeFalse())
		Eventually(func() []string { return statusManagers(getGroup(ns, "web")) }).Should(ConsistOf(controllers.FieldManagerFailover + " Apply"))
		Expect(readinessOf(ns, "web").Candidate).To(Equal("b"))
	})
})
