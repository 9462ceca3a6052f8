package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Routing objects", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
	})

	It("publishes DNS records and a read-only Service that follow the roles", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		createPod(ns, "a-0", "10.0.0.1", map[string]string{"member": "a"})
		createPod(ns, "b-0", "10.0.0.2", map[string]string{"member": "b"})
		g := groupOf(ns, "db", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Routing.ReadOnlyService = &v1alpha1.ReadOnlyService{Name: "db-ro", Ports: []v1alpha1.ServicePort{{Port: 1433}}}
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "db.example.com", ReadOnlyHostname: "db-ro.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())

		records := func() map[string]string {
			var de externaldnsv1alpha1.DNSEndpoint
			if err := k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "db"}, &de); err != nil {
				return nil
			}
			out := map[string]string{}
			for _, ep := range de.Spec.Endpoints {
				out[ep.DNSName] = ep.RecordType + " " + ep.Targets.String()
				Expect(int64(ep.RecordTTL)).To(Equal(int64(30)))
			}
			return out
		}
		Eventually(records).Should(Equal(map[string]string{
			"db.example.com": "CNAME a.example.com", "db-ro.example.com": "CNAME b.example.com"}))
		Eventually(func() map[string]string { return selectorOf(ns, "db-ro") }).Should(Equal(map[string]string{
			v1alpha1.LabelGroup: "db", "understudy.dev/readable": "true"}))
		Eventually(func() string { return podLabels(ns, "b-0")["understudy.dev/readable"] }).Should(Equal("true"))
		Expect(podLabels(ns, "a-0")["understudy.dev/readable"]).To(Equal("false"))

		a.Stop()
		Eventually(records).Should(Equal(map[string]string{"db.example.com": "CNAME b.example.com"}))
		Eventually(func() string { return podLabels(ns, "b-0")["understudy.dev/readable"] }).Should(Equal("false"))
	})

	It("leaves a Service claimed by another group alone", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		first := groupOf(ns, "first", memberAt("a", 100, a), memberAt("b", 50, b))
		first.Spec.Routing.Service.Name = "shared"
		Expect(k8sClient.Create(suiteCtx, first)).To(Succeed())
		Eventually(func() map[string]string { return selectorOf(ns, "shared") }).Should(Equal(map[string]string{"member": "a"}))

		second := groupOf(ns, "second", memberAt("x", 100, b), memberAt("y", 50, a))
		second.Spec.Routing.Service.Name = "shared"
		Expect(k8sClient.Create(suiteCtx, second)).To(Succeed())
		Eventually(func() string {
			c := conditionOf(ns, "second", v1alpha1.ConditionReady)
			if c == nil {
				return ""
			}
			return c.Reason + ": " + c.Message
		}).Should(Equal("RoutingConflict: Service shared is owned by FailoverGroup first; this group leaves it alone"))
		Consistently(func() map[string]string { return selectorOf(ns, "shared") }, 2*time.Second).Should(Equal(map[string]string{"member": "a"}))
		var svc corev1.Service
		Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "shared"}, &svc)).To(Succeed())
		Expect(svc.Annotations).To(HaveKeyWithValue(controllers.AnnotationClaimedBy, "first"))
		Expect(metav1.IsControlledBy(&svc, getGroup(ns, "first"))).To(BeTrue())
	})

	It("leaves a Service it did not create untouched and reports RoutingConflict", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "payments"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8443}}, Selector: map[string]string{"app": "payments"}}}
		Expect(k8sClient.Create(suiteCtx, svc)).To(Succeed())
		g := groupOf(ns, "shop", memberAt("a", 100, a), memberAt("b", 50, b))
		g.Spec.Routing.Service.Name = "payments"
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return readyOf(ns, "shop") }).Should(Equal("False RoutingConflict: Service payments exists and was " +
			"not created by this group: it is left untouched; to let the group manage its selector, annotate it " +
			`understudy.dev/adopt="true" (the original selector is restored when the group is deleted)`))
		Consistently(func() map[string]string { return selectorOf(ns, "payments") }, 2*time.Second).Should(Equal(map[string]string{"app": "payments"}))
		Expect(k8sClient.Get(suiteCtx, client.ObjectKeyFromObject(svc), svc)).To(Succeed())
		Expect(svc.OwnerReferences).To(BeEmpty())
		Expect(svc.Annotations).To(BeEmpty())
		Expect(svc.Spec.Ports[0].Port).To(Equal(int32(8443)))
	})

	It("adopts an annotated Service and gives its selector back when the group is deleted", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "existing",
			Annotations: map[string]string{controllers.AnnotationAdopt: "true"}},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}, Selector: map[string]string{"app": "old"}}}
		Expect(k8sClient.Create(suiteCtx, svc)).To(Succeed())
		g := groupOf(ns, "pg", memberAt("a", 100, a), memberAt("b", 50, b))
		g.Spec.Routing.Service = &v1alpha1.RoutedService{Name: "existing"}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() map[string]string { return selectorOf(ns, "existing") }).Should(Equal(map[string]string{"member": "a"}))
		Eventually(func() string { return readyOf(ns, "pg") }).Should(HavePrefix("True Active: "))
		Expect(k8sClient.Get(suiteCtx, client.ObjectKeyFromObject(svc), svc)).To(Succeed())
		Expect(svc.OwnerReferences).To(BeEmpty(), "garbage collection must not delete an adopted Service with the group")
		Expect(svc.Annotations).To(HaveKeyWithValue(controllers.AnnotationOriginalSelector, `{"app":"old"}`))
		Expect(svc.Annotations).To(HaveKeyWithValue(controllers.AnnotationClaimedBy, "pg"))
		Expect(svc.Spec.Ports[0].Port).To(Equal(int32(5432)))

		Expect(k8sClient.Delete(suiteCtx, getGroup(ns, "pg"))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "pg"}, &v1alpha1.FailoverGroup{}))
		}).Should(BeTrue())
		Expect(k8sClient.Get(suiteCtx, client.ObjectKeyFromObject(svc), svc)).To(Succeed())
		Expect(svc.Spec.Selector).To(Equal(map[string]string{"app": "old"}))
		Expect(svc.Annotations).To(Equal(map[string]string{controllers.AnnotationAdopt: "true"}))
	})

	It("owns what it creates and takes its labels off pods when the group is deleted", func() {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		createPod(ns, "a-0", "10.0.0.1", map[string]string{"member": "a"})
		g := groupOf(ns, "web", memberAt("a", 100, a), memberAt("b", 50, b))
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "web.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return podLabels(ns, "a-0")[v1alpha1.LabelRole] }).Should(Equal("active"))
		g = getGroup(ns, "web")

		// envtest runs no garbage collector: check what the cluster's collector acts on, the
		// controller owner reference of every object the group created.
		owned := []client.Object{&corev1.Service{}, &externaldnsv1alpha1.DNSEndpoint{}, leaseOf(ns, "web")}
		for _, obj := range owned {
			Eventually(func() error { return k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "web"}, obj) }).Should(Succeed())
			ref := metav1.GetControllerOf(obj)
			Expect(ref).NotTo(BeNil(), "%T has no controller reference", obj)
			Expect(ref.UID).To(Equal(g.UID))
			Expect(ptr.Deref(ref.BlockOwnerDeletion, false)).To(BeTrue())
		}

		Expect(k8sClient.Delete(suiteCtx, g)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(suiteCtx, client.ObjectKeyFromObject(g), &v1alpha1.FailoverGroup{}))
		}).Should(BeTrue())
		labels := podLabels(ns, "a-0")
		Expect(labels).NotTo(HaveKey(v1alpha1.LabelRole))
		Expect(labels).NotTo(HaveKey(v1alpha1.LabelGroup))
		Expect(labels).To(HaveKeyWithValue("member", "a"))
	})
})
