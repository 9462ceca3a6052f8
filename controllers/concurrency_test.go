package controllers_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Two operators acting on one group at once", func() {
	It("never yields two holders: the Lease compare-and-swap lets one win", func() {
		ns := newNamespace()
		a, b, c := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(b.Stop)
		DeferCleanup(c.Stop)
		createPod(ns, "a-0", "10.0.0.1", map[string]string{"member": "a"})
		createPod(ns, "b-0", "10.0.0.2", map[string]string{"member": "b"})
		createPod(ns, "c-0", "10.0.0.3", map[string]string{"member": "c"})
		// Both operators run without leader election (a split brain of the operator itself).
		one := startManager(ns, controllers.Options{ControllerName: "one"})
		DeferCleanup(one.Stop)
		two := startManager(ns, controllers.Options{ControllerName: "two"})
		DeferCleanup(two.Stop)
		// b and c tie on priority, so each operator could pick either if they disagreed.
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b), memberAt("c", 100, c)))).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))

		// Watch for two members labelled active, or two transitions, while the failover runs.
		var mu sync.Mutex
		var violations []string
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if active := podsWithRole(ns, "active"); len(active) > 1 {
					mu.Lock()
					violations = append(violations, "active pods: "+joinNames(active))
					mu.Unlock()
				}
			}
		}()

		a.Stop()
		Eventually(func() string { return activeOf(ns, "web") }).Should(BeElementOf("b", "c"))
		winner := activeOf(ns, "web")
		Eventually(func() *v1alpha1.FailoverProgress { return getGroup(ns, "web").Status.InProgress }).Should(BeNil())
		Consistently(func() string { return activeOf(ns, "web") }, 3*time.Second).Should(Equal(winner))
		close(stop)
		<-done

		Expect(violations).To(BeEmpty())
		Expect(ptr.Deref(leaseOf(ns, "web").Spec.LeaseTransitions, 0)).To(Equal(int32(1)))
		Eventually(func() []string { return podsWithRole(ns, "active") }).Should(Equal([]string{winner + "-0"}))
		Eventually(func() map[string]string { return selectorOf(ns, "web") }).Should(Equal(map[string]string{"member": winner}))
	})
})

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ","
		}
		out += n
	}
	return out
}
