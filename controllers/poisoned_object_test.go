package controllers_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var crdGVK = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}

// withoutValidation strips every rule but the types from an OpenAPI schema: what a CRD installed
// before today's rules would have admitted.
func withoutValidation(node any) {
	switch n := node.(type) {
	case map[string]any:
		for _, k := range []string{"x-kubernetes-validations", "pattern", "maxLength", "minLength", "minimum", "maximum", "enum", "format"} {
			delete(n, k)
		}
		for _, v := range n {
			withoutValidation(v)
		}
	case []any:
		for _, v := range n {
			withoutValidation(v)
		}
	}
}

// relaxCRDs replaces understudy's CRDs by copies without validation and returns a function that
// puts the real ones back.
func relaxCRDs(names ...string) (restore func()) {
	saved := map[string]map[string]any{}
	for _, name := range names {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(crdGVK)
		Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Name: name}, crd)).To(Succeed())
		spec, _, _ := unstructured.NestedMap(crd.Object, "spec")
		saved[name] = spec
		relaxed := crd.DeepCopy()
		relaxedSpec, _, _ := unstructured.NestedMap(relaxed.Object, "spec")
		withoutValidation(relaxedSpec)
		Expect(unstructured.SetNestedMap(relaxed.Object, relaxedSpec, "spec")).To(Succeed())
		Expect(k8sClient.Update(suiteCtx, relaxed)).To(Succeed())
	}
	return func() {
		for name, spec := range saved {
			crd := &unstructured.Unstructured{}
			crd.SetGroupVersionKind(crdGVK)
			Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Name: name}, crd)).To(Succeed())
			Expect(unstructured.SetNestedMap(crd.Object, spec, "spec")).To(Succeed())
			Expect(k8sClient.Update(suiteCtx, crd)).To(Succeed())
		}
	}
}

// poisoned builds an object from a manifest with unstructured fields (the typed client could not
// even write these values).
func poisoned(ns, manifest string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte(manifest), &obj.Object)).To(Succeed())
	obj.SetNamespace(ns)
	return obj
}

const poisonedGroup = `
apiVersion: understudy.dev/v1alpha1
kind: FailoverGroup
metadata: {name: bad}
spec:
  members:
    - {name: a, priority: 100, address: {host: 127.0.0.1, port: 1}}
    - {name: b, priority: 50, address: {host: 127.0.0.1, port: 2}}
  healthCheck: {tcp: {}, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2}
  failover: {leaseDurationSeconds: 3, maxDataLoss: five minutes}
`

const poisonedIntGroup = `
apiVersion: understudy.dev/v1alpha1
kind: FailoverGroup
metadata: {name: overflow}
spec:
  members:
    - {name: a, priority: 99999999999, address: {host: 127.0.0.1, port: 1}}
    - {name: b, priority: 50, address: {host: 127.0.0.1, port: 2}}
  healthCheck: {tcp: {}}
`

const poisonedTarget = `
apiVersion: understudy.dev/v1alpha1
kind: BackupTarget
metadata: {name: bad}
spec: {path: /backups, retention: forever}
`

const poisonedSchedule = `
apiVersion: understudy.dev/v1alpha1
kind: RestoreSchedule
metadata: {name: bad}
spec: {failoverGroupRef: {name: bad}, interval: every minute, offset: "9999999999h"}
`

var _ = Describe("An object the API server should have refused", Ordered, func() {
	var poisonNS, victimNS string
	var a, b *memberServer

	BeforeAll(func() {
		poisonNS, victimNS = newNamespace(), newNamespace()
		restore := relaxCRDs("failovergroups.understudy.dev", "backuptargets.understudy.dev", "restoreschedules.understudy.dev")
		restored := false
		DeferCleanup(func() {
			if !restored {
				restore()
			}
		})
		for _, m := range []string{poisonedGroup, poisonedIntGroup, poisonedTarget, poisonedSchedule} {
			obj := poisoned(poisonNS, m)
			// The apiserver takes a moment to serve the relaxed schema.
			Eventually(func() error { return k8sClient.Create(suiteCtx, obj.DeepCopy()) }).Should(Succeed())
		}
		restore()
		restored = true
		// The real rules are back: the same object is refused now.
		Eventually(func() error {
			obj := poisoned(poisonNS, poisonedGroup)
			obj.SetName("bad-again")
			return k8sClient.Create(suiteCtx, obj, client.DryRunAll)
		}).Should(MatchError(ContainSubstring("spec.failover.maxDataLoss")))

		a, b = newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		Expect(k8sClient.Create(suiteCtx, groupOf(victimNS, "web", memberAt("a", 200, a), memberAt("b", 100, b)))).To(Succeed())
	})

	invalidReady := func(name string) func() *metav1.Condition {
		return func() *metav1.Condition {
			var g v1alpha1.FailoverGroup
			if err := k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: poisonNS, Name: name}, &g); err != nil {
				return nil
			}
			return meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionReady)
		}
	}

	It("is marked InvalidSpec alone while a group in another namespace fails over", func() {
		mgr := startManagerIn([]string{poisonNS, victimNS}, controllers.Options{})
		DeferCleanup(mgr.Stop)

		Eventually(invalidReady("bad")).Should(And(Not(BeNil()),
			HaveField("Reason", controllers.ReasonInvalidSpec),
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Message", ContainSubstring(`spec.failover.maxDataLoss: Invalid value: "five minutes"`))))
		Eventually(invalidReady("overflow")).Should(And(Not(BeNil()),
			HaveField("Reason", controllers.ReasonInvalidSpec),
			HaveField("Message", ContainSubstring("cannot be read"))))
		Expect(getGroup(poisonNS, "bad").Status.Phase).To(Equal(v1alpha1.PhaseInvalid))

		Eventually(func() string { return activeOf(victimNS, "web") }).Should(Equal("a"))
		a.Stop()
		Eventually(func() string { return activeOf(victimNS, "web") }).Should(Equal("b"))
		Eventually(func() map[string]string { return selectorOf(victimNS, "web") }).Should(Equal(map[string]string{"member": "b"}))

		// The schedule and the target are reported too, and the bad objects are stored unchanged.
		var rs v1alpha1.RestoreSchedule
		Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: poisonNS, Name: "bad"}, &rs)).To(Succeed())
		Expect(rs.Spec.Interval.Err()).To(MatchError(ContainSubstring("every minute")))
		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("FailoverGroup"))
		Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: poisonNS, Name: "bad"}, stored)).To(Succeed())
		stillBad, _, _ := unstructured.NestedString(stored.Object, "spec", "failover", "maxDataLoss")
		Expect(stillBad).To(Equal("five minutes"))
		Expect(stored.GetFinalizers()).To(BeEmpty(), "nothing is done for an invalid group")
	})

	It("does not stop a restarted operator, and fixing the spec brings the group back", func() {
		mgr := startManagerIn([]string{poisonNS, victimNS}, controllers.Options{})
		DeferCleanup(mgr.Stop)
		// Fail back to a, which needs a working operator after the restart.
		a.Start()
		b.Stop()
		Eventually(func() string { return activeOf(victimNS, "web") }).Should(Equal("a"))
		Expect(strings.Contains(invalidReady("bad")().Message, "five minutes")).To(BeTrue())

		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("FailoverGroup"))
		Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: poisonNS, Name: "bad"}, stored)).To(Succeed())
		Expect(unstructured.SetNestedField(stored.Object, "5m", "spec", "failover", "maxDataLoss")).To(Succeed())
		Expect(k8sClient.Update(suiteCtx, stored)).To(MatchError(ContainSubstring("applies only to SQL Server groups")),
			"the fixed value still has to pass today's rules")
		unstructured.RemoveNestedField(stored.Object, "spec", "failover", "maxDataLoss")
		Expect(k8sClient.Update(suiteCtx, stored)).To(Succeed())
		Eventually(invalidReady("bad")).Should(HaveField("Reason", Not(Equal(controllers.ReasonInvalidSpec))))
	})
})
