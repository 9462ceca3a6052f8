package controllers_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"
	"sigs.k8s.io/external-dns/endpoint"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

// readyOf is the group's Ready condition as "Status Reason: Message" ("" while there is none).
func readyOf(ns, name string) string {
	return conditionString(ns, name, v1alpha1.ConditionReady)
}

func conditionString(ns, name, condType string) string {
	c := conditionOf(ns, name, condType)
	if c == nil {
		return ""
	}
	return string(c.Status) + " " + c.Reason + ": " + c.Message
}

// dnsRecordsOf are a DNSEndpoint's records as name -> "TYPE targets" (nil when it does not exist).
func dnsRecordsOf(ns, name string) map[string]string {
	var de externaldnsv1alpha1.DNSEndpoint
	if err := k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &de); err != nil {
		return nil
	}
	out := map[string]string{}
	for _, ep := range de.Spec.Endpoints {
		out[ep.DNSName] = ep.RecordType + " " + ep.Targets.String()
	}
	return out
}

func dnsEndpointGone(ns, name string) bool {
	return apierrors.IsNotFound(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &externaldnsv1alpha1.DNSEndpoint{}))
}

// markDNSRead does what ExternalDNS's crd source does when it reads a DNSEndpoint: it sets
// status.observedGeneration to the generation it read.
func markDNSRead(ns, name string) {
	Eventually(func() error {
		var de externaldnsv1alpha1.DNSEndpoint
		if err := k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &de); err != nil {
			return err
		}
		de.Status.ObservedGeneration = de.Generation
		return k8sClient.Status().Update(suiteCtx, &de)
	}).Should(Succeed())
}

var _ = Describe("DNS routing and ownership", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
	})

	servers := func() (*memberServer, *memberServer) {
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		return a, b
	}

	It("reports DNSPublished from the DNSEndpoint's observedGeneration and is Ready only once ExternalDNS read it", func() {
		a, b := servers()
		g := groupOf(ns, "db", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "db.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() map[string]string { return dnsRecordsOf(ns, "db") }).Should(Equal(map[string]string{"db.example.com": "CNAME a.example.com"}))
		Eventually(func() string { return conditionString(ns, "db", controllers.ConditionDNSPublished) }).Should(MatchRegexp(
			`^False Pending: waiting for ExternalDNS to read generation \d+ of DNSEndpoint db \(status.observedGeneration is 0\)`))
		Eventually(func() string { return readyOf(ns, "db") }).Should(HavePrefix("False DNSNotPublished: waiting for ExternalDNS"))
		Consistently(func() string { return readyOf(ns, "db") }, time.Second).Should(HavePrefix("False DNSNotPublished"))

		markDNSRead(ns, "db")
		Eventually(func() string { return conditionString(ns, "db", controllers.ConditionDNSPublished) }).Should(MatchRegexp(
			`^True Published: ExternalDNS has read generation \d+ of DNSEndpoint db$`))
		Eventually(func() string { return readyOf(ns, "db") }).Should(HavePrefix("True Active: member a is active"))

		// A failover writes a new generation: not Ready until ExternalDNS has read that one too.
		a.Stop()
		Eventually(func() map[string]string { return dnsRecordsOf(ns, "db") }).Should(Equal(map[string]string{"db.example.com": "CNAME b.example.com"}))
		Eventually(func() string { return readyOf(ns, "db") }).Should(HavePrefix("False DNSNotPublished: waiting for ExternalDNS to read generation"))
		markDNSRead(ns, "db")
		Eventually(func() string { return readyOf(ns, "db") }).Should(HavePrefix("True Active: member b is active"))
	})

	It("deletes its DNSEndpoint and read-only Service when the spec stops naming them", func() {
		a, b := servers()
		g := groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Routing.ReadOnlyService = &v1alpha1.ReadOnlyService{Name: "web-ro", Ports: []v1alpha1.ServicePort{{Port: 80}}}
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "web.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() map[string]string { return dnsRecordsOf(ns, "web") }).Should(HaveKey("web.example.com"))
		Eventually(func() map[string]string { return selectorOf(ns, "web-ro") }).ShouldNot(BeNil())
		Eventually(func() *metav1.Condition { return conditionOf(ns, "web", controllers.ConditionDNSPublished) }).ShouldNot(BeNil())

		updateGroup(ns, "web", func(g *v1alpha1.FailoverGroup) {
			g.Spec.Routing.DNS = nil
			g.Spec.Routing.ReadOnlyService = nil
		})
		Eventually(func() bool { return dnsEndpointGone(ns, "web") }).Should(BeTrue())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "web-ro"}, &corev1.Service{}))
		}).Should(BeTrue())
		Eventually(func() *metav1.Condition { return conditionOf(ns, "web", controllers.ConditionDNSPublished) }).Should(BeNil())
		Eventually(func() string { return readyOf(ns, "web") }).Should(HavePrefix("True Active: "))
		Expect(selectorOf(ns, "web")).To(Equal(map[string]string{"member": "a"}), "the Service still named stays")
	})

	It("gives a hostname to the group that publishes it first; the second reports RoutingConflict", func() {
		a, b := servers()
		first := groupOf(ns, "first", memberAt("a", 100, a), memberAt("b", 50, b))
		first.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "shared.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, first)).To(Succeed())
		Eventually(func() map[string]string { return dnsRecordsOf(ns, "first") }).Should(HaveKey("shared.example.com"))

		second := groupOf(ns, "second", memberAt("x", 100, b), memberAt("y", 50, a))
		second.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "other.example.com", ReadOnlyHostname: "shared.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, second)).To(Succeed())
		Eventually(func() string { return readyOf(ns, "second") }).Should(Equal(
			"False RoutingConflict: hostname shared.example.com is already published by FailoverGroup first; this group publishes no DNS records"))
		Consistently(func() bool { return dnsEndpointGone(ns, "second") }, 2*time.Second).Should(BeTrue())
		Expect(dnsRecordsOf(ns, "first")).To(Equal(map[string]string{"shared.example.com": "CNAME a.example.com"}))
	})

	It("leaves a DNSEndpoint it does not own untouched", func() {
		a, b := servers()
		foreign := &externaldnsv1alpha1.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
			Spec: externaldnsv1alpha1.DNSEndpointSpec{Endpoints: []*endpoint.Endpoint{
				endpoint.NewEndpointWithTTL("mine.example.com", "A", 60, "192.0.2.1")}}}
		Expect(k8sClient.Create(suiteCtx, foreign)).To(Succeed())
		g := groupOf(ns, "db", memberAt("a", 100, a), memberAt("b", 50, b))
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "db.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return readyOf(ns, "db") }).Should(Equal("False RoutingConflict: DNSEndpoint db exists and is not " +
			"owned by this group: it is left untouched and the group publishes no DNS records"))
		Consistently(func() map[string]string { return dnsRecordsOf(ns, "db") }, time.Second).Should(Equal(map[string]string{"mine.example.com": "A 192.0.2.1"}))
		Expect(k8sClient.Get(suiteCtx, client.ObjectKeyFromObject(foreign), foreign)).To(Succeed())
		Expect(foreign.OwnerReferences).To(BeEmpty())
	})

	It("refuses members whose targets mix CNAME and A records, and writes no records", func() {
		a, b := servers()
		mb := memberAt("b", 50, b)
		mb.DNSTarget = "10.0.0.2"
		g := groupOf(ns, "mixed", memberAt("a", 100, a), mb)
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "mixed.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return readyOf(ns, "mixed") }).Should(HavePrefix(
			"False InvalidSpec: spec.routing.dns: members mix record types (CNAME for a, A/AAAA for b)"))
		Expect(conditionString(ns, "mixed", controllers.ConditionDNSPublished)).To(HavePrefix("False NotPublished: DNS records are not updated"))
		Consistently(func() bool { return dnsEndpointGone(ns, "mixed") }, time.Second).Should(BeTrue())
		Expect(selectorOf(ns, "mixed")).To(Equal(map[string]string{"member": "a"}), "the Service routes all the same")
	})
})

var _ = Describe("DNS records during the first election", func() {
	It("never lists the member being elected under readOnlyHostname", func() {
		ns := newNamespace()
		var mu sync.Mutex
		var atFence map[string]string
		mgr := startManager(ns, controllers.Options{AfterStep: func(_ string, step v1alpha1.FailoverStep) error {
			if step == v1alpha1.StepFenced {
				recs := dnsRecordsOf(ns, "db")
				mu.Lock()
				if atFence == nil {
					atFence = recs
				}
				mu.Unlock()
			}
			return nil
		}})
		DeferCleanup(mgr.Stop)
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		g := groupOf(ns, "db", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "db.example.com", ReadOnlyHostname: "db-ro.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return activeOf(ns, "db") }).Should(Equal("a"))
		mu.Lock()
		first := atFence
		mu.Unlock()
		Expect(first).NotTo(BeNil(), "the fenced step writes the first DNSEndpoint")
		Expect(first).NotTo(HaveKey("db.example.com"), "nobody is active while the role moves")
		Expect(first["db-ro.example.com"]).NotTo(ContainSubstring("a.example.com"))
		Eventually(func() map[string]string { return dnsRecordsOf(ns, "db") }).Should(Equal(map[string]string{
			"db.example.com": "CNAME a.example.com", "db-ro.example.com": "CNAME b.example.com"}))
	})
})

var _ = Describe("DNS records during a failover", func() {
	It("keep answering with the old member until the route step replaces the answer (never withdrawn)", func() {
		ns := newNamespace()
		var mu sync.Mutex
		var atStep map[v1alpha1.FailoverStep]map[string]string // nil: not recording yet
		mgr := startManager(ns, controllers.Options{AfterStep: func(_ string, step v1alpha1.FailoverStep) error {
			recs := dnsRecordsOf(ns, "db")
			mu.Lock()
			defer mu.Unlock()
			if atStep != nil {
				atStep[step] = recs
			}
			return nil
		}})
		DeferCleanup(mgr.Stop)
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		g := groupOf(ns, "db", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Routing.DNS = &v1alpha1.DNSRouting{Hostname: "db.example.com", TTL: 30}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() map[string]string { return dnsRecordsOf(ns, "db") }).Should(Equal(map[string]string{"db.example.com": "CNAME a.example.com"}))
		mu.Lock()
		atStep = map[v1alpha1.FailoverStep]map[string]string{} // from now on: the first election is over
		mu.Unlock()

		a.Stop()
		Eventually(func() string { return activeOf(ns, "db") }).Should(Equal("b"))
		Eventually(func() map[string]string { return dnsRecordsOf(ns, "db") }).Should(Equal(map[string]string{"db.example.com": "CNAME b.example.com"}))
		mu.Lock()
		defer mu.Unlock()
		Expect(atStep).To(HaveKeyWithValue(v1alpha1.StepFenced, map[string]string{"db.example.com": "CNAME a.example.com"}),
			"fencing must not withdraw the record: an NXDOMAIN answer is cached for the zone's negative TTL")
		Expect(atStep).To(HaveKeyWithValue(v1alpha1.StepLeaseTaken, map[string]string{"db.example.com": "CNAME a.example.com"}))
	})
})
