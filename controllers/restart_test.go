package controllers_test

import (
	"errors"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Operator restarted in the middle of a failover", func() {
	DescribeTable("the next operator finishes it with exactly one active member",
		func(crashAfter v1alpha1.FailoverStep) {
			ns := newNamespace()
			a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
			DeferCleanup(b.Stop)
			createPod(ns, "a-0", "10.0.0.1", map[string]string{"member": "a"})
			createPod(ns, "b-0", "10.0.0.2", map[string]string{"member": "b"})

			var crashed, armed atomic.Bool
			var firstRef atomic.Pointer[runningManager]
			first := startManager(ns, controllers.Options{AfterStep: func(_ string, step v1alpha1.FailoverStep) error {
				if step == crashAfter && armed.Load() && !crashed.Load() {
					crashed.Store(true)
					firstRef.Load().stop() // the process dies here: nothing after this step runs
					return errors.New("simulated crash")
				}
				return nil
			}})
			firstRef.Store(first)
			stopped := false
			DeferCleanup(func() {
				if !stopped {
					first.Stop()
				}
			})
			// The initial election also runs the steps: only crash in the failover to b.
			Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b)))).To(Succeed())
			Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))
			armed.Store(true)
			a.Stop()
			Eventually(crashed.Load).Should(BeTrue())
			first.Stop()
			stopped = true

			g := getGroup(ns, "web")
			Expect(g.Status.InProgress).NotTo(BeNil(), "the failover must be recorded as in progress")
			Expect(g.Status.InProgress.Step).To(Equal(crashAfter))
			Expect(g.Status.InProgress.To).To(Equal("b"))
			countAtCrash := g.Status.FailoverCount

			second := startManager(ns, controllers.Options{})
			DeferCleanup(second.Stop)
			Eventually(func() *v1alpha1.FailoverProgress { return getGroup(ns, "web").Status.InProgress }).Should(BeNil())
			g = getGroup(ns, "web")
			Expect(g.Status.ActiveMember).To(Equal("b"))
			Expect(g.Status.FailoverCount).To(Equal(countAtCrash + 1))
			Expect(g.Status.LastFailover.From).To(Equal("a"))
			Expect(activeOf(ns, "web")).To(Equal("b"))
			Expect(ptr.Deref(leaseOf(ns, "web").Spec.LeaseTransitions, 0)).To(Equal(int32(1)))
			Eventually(func() map[string]string { return selectorOf(ns, "web") }).Should(Equal(map[string]string{"member": "b"}))
			Eventually(func() []string { return podsWithRole(ns, "active") }).Should(Equal([]string{"b-0"}))
			Expect(podsWithRole(ns, "fenced")).To(Equal([]string{"a-0"}))
		},
		Entry("after fencing", v1alpha1.StepFenced),
		Entry("after taking the Lease", v1alpha1.StepLeaseTaken),
	)
})

// podsWithRole lists the pods labelled with a role.
func podsWithRole(ns, role string) []string {
	var pods corev1.PodList
	Expect(k8sClient.List(suiteCtx, &pods, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelRole: role})).To(Succeed())
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	return names
}
