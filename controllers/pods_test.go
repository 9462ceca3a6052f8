package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Members with pods", func() {
	It("fails over when the active pod is deleted, without waiting for probes", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		// Each member's pod "runs" a listener on its own loopback address, same port.
		a := newMemberServer("127.0.0.2")
		DeferCleanup(a.Stop)
		b := newMemberServerAt("127.0.0.3:" + itoa(int(a.Port())))
		DeferCleanup(b.Stop)
		createPod(ns, "a-0", "127.0.0.2", map[string]string{"member": "a"})
		createPod(ns, "b-0", "127.0.0.3", map[string]string{"member": "b"})
		member := func(name string, prio int32) v1alpha1.Member {
			return v1alpha1.Member{Name: name, Priority: prio,
				PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"member": name}}}
		}
		g := groupOf(ns, "web", member("a", 200), member("b", 100))
		g.Spec.HealthCheck.TCP.Port = a.Port()
		// Slow probes: failure detection alone would take 2 x 3 s.
		g.Spec.HealthCheck.PeriodSeconds, g.Spec.HealthCheck.FailureThreshold = 3, 2
		g.Spec.Failover.LeaseDurationSeconds = 6
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))

		// The pod goes away but its "process" still answers probes: only the pod state can tell.
		deletePod(ns, "a-0")
		deleted := time.Now()
		Eventually(func() string { return memberStatus(ns, "web", "a").Message }, 2*time.Second).Should(Equal("no pod matches podSelector"))
		Expect(memberHealthy(ns, "web", "a")).To(BeFalse())
		Expect(time.Since(deleted)).To(BeNumerically("<", 2*time.Second), "marked down at once, not after probes")
		Eventually(func() string { return activeOf(ns, "web") }, 10*time.Second).Should(Equal("b"))
		Eventually(func() map[string]string { return selectorOf(ns, "web") }).Should(Equal(map[string]string{"member": "b"}))
	})
})
