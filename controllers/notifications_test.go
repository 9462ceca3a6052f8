package controllers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/internal/notify"
)

// receivedHook is one request a test webhook receiver got.
type receivedHook struct {
	body        map[string]any
	signatureOK bool
}

// hookReceiver is a test webhook on 127.0.0.1 that records what it gets, checking each signature
// against secret.
type hookReceiver struct {
	url string
	mu  sync.Mutex
	got []receivedHook
}

func newHookReceiver(secret []byte) *hookReceiver {
	h := &hookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		h.mu.Lock()
		h.got = append(h.got, receivedHook{body: body, signatureOK: notify.Verify(secret, r.Header, raw, time.Now(), 0) == nil})
		h.mu.Unlock()
	}))
	DeferCleanup(srv.Close)
	h.url = srv.URL
	return h
}

// find is the first notification of that event received (nil: none).
func (h *hookReceiver) find(event string) *receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.got {
		if h.got[i].body["event"] == event {
			return &h.got[i]
		}
	}
	return nil
}

// count is how many notifications of that event were received.
func (h *hookReceiver) count(event string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.got {
		if r.body["event"] == event {
			n++
		}
	}
	return n
}

// eventReasons are the reasons of the Events in namespace ns.
func eventReasons(ns string) []string {
	var list eventsv1.EventList
	Expect(k8sClient.List(suiteCtx, &list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Reason)
	}
	return out
}

var _ = Describe("Notifications", func() {
	It("signs webhook payloads, is not slowed by a dead webhook, and records Events", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{WebhookAllowLocalTargets: true}) // the receivers are on 127.0.0.1
		DeferCleanup(mgr.Stop)
		secret := []byte("s3cret-hmac-key")
		Expect(k8sClient.Create(suiteCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
			Data: map[string][]byte{"hmac-key": secret}})).To(Succeed())

		good := newHookReceiver(secret)
		release := make(chan struct{})
		dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select { // hangs until the test ends
			case <-release:
			case <-r.Context().Done():
			}
		}))
		DeferCleanup(dead.Close)
		DeferCleanup(func() { close(release) })

		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(b.Stop)
		g := groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Notifications = &v1alpha1.Notifications{Webhooks: []v1alpha1.Webhook{
			{URL: dead.URL + "/hang"},
			{URL: good.url + "/hook", SecretRef: &v1alpha1.SecretKeySelector{Name: "hook", Key: "hmac-key"},
				Events: []v1alpha1.NotificationEvent{"Failover", "MemberDown"}},
		}}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))

		a.Stop()
		killed := time.Now()
		Eventually(func() string { return getGroup(ns, "web").Status.LastFailover.Reason }).Should(Equal("Failover"))
		took := time.Since(killed)
		Expect(took).To(BeNumerically("<", 6*time.Second), "a hanging webhook must not delay the failover")

		find := good.find
		Eventually(func() *receivedHook { return find("Failover") }).ShouldNot(BeNil())
		fo := find("Failover")
		Expect(fo.signatureOK).To(BeTrue())
		Expect(fo.body).To(HaveKeyWithValue("group", "web"))
		Expect(fo.body).To(HaveKeyWithValue("namespace", ns))
		Expect(fo.body).To(HaveKeyWithValue("from", "a"))
		Expect(fo.body).To(HaveKeyWithValue("to", "b"))
		Expect(fo.body).To(HaveKeyWithValue("reason", "Failover"))
		Expect(fo.body).To(HaveKey("time"))
		Eventually(func() *receivedHook { return find("MemberDown") }).ShouldNot(BeNil())
		Expect(find("MemberUp")).To(BeNil(), "filtered out by the webhook's events list")

		Eventually(func() []string { return eventReasons(ns) }).Should(ContainElements("Elected", "MemberDown", "FailoverStarted", "Fenced", "LeaseTaken", "FailoverCompleted"))
	})

	It("sends Failback, not Switchover, when the role returns to the preferred member", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{WebhookAllowLocalTargets: true})
		DeferCleanup(mgr.Stop)
		hook := newHookReceiver(nil)
		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(a.Stop)
		DeferCleanup(b.Stop)
		g := groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b))
		g.Spec.Failover.Failback = v1alpha1.FailbackAutomatic
		g.Spec.Failover.FailbackDelaySeconds = 2
		g.Spec.Notifications = &v1alpha1.Notifications{Webhooks: []v1alpha1.Webhook{{URL: hook.url + "/hook",
			Events: []v1alpha1.NotificationEvent{v1alpha1.NotifyFailover, v1alpha1.NotifySwitchover, v1alpha1.NotifyFailback}}}}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() string { return activeOf(ns, "web") }).Should(Equal("a"))
		a.Stop()
		Eventually(func() *receivedHook { return hook.find(v1alpha1.NotifyFailover) }).ShouldNot(BeNil())
		a.Start()
		Eventually(func() string { return getGroup(ns, "web").Status.LastFailover.Reason }).Should(Equal(v1alpha1.FailoverReasonFailback))

		Eventually(func() *receivedHook { return hook.find(v1alpha1.NotifyFailback) }).ShouldNot(BeNil())
		fb := hook.find(v1alpha1.NotifyFailback)
		Expect(fb.body).To(HaveKeyWithValue("group", "web"))
		Expect(fb.body).To(HaveKeyWithValue("from", "b"))
		Expect(fb.body).To(HaveKeyWithValue("to", "a"))
		Expect(fb.body).To(HaveKeyWithValue("reason", v1alpha1.FailoverReasonFailback))
		Consistently(func() *receivedHook { return hook.find(v1alpha1.NotifySwitchover) }, time.Second).Should(BeNil(),
			"a failback is notified as Failback only")
		Eventually(func() []string { return eventReasons(ns) }).Should(ContainElements(
			v1alpha1.EventReasonFailbackStarted, v1alpha1.EventReasonFailbackCompleted))
	})
})

var _ = Describe("Notifications from log shipping (against mssqlsim)", func() {
	It("sends LogChainBroken once when a standby's log chain breaks, and reseeds it", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{WebhookAllowLocalTargets: true})
		DeferCleanup(mgr.Stop)
		hook := newHookReceiver(nil)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		createSQLGroup(ns, ds1, ds2)
		updateGroup(ns, "sales", func(g *v1alpha1.FailoverGroup) {
			g.Spec.Notifications = &v1alpha1.Notifications{Webhooks: []v1alpha1.Webhook{{URL: hook.url + "/hook",
				Events: []v1alpha1.NotificationEvent{v1alpha1.NotifyLogChainBroken}}}}
		})
		Eventually(func() string { return activeOf(ns, "sales") }).Should(Equal("ds1"))
		// The standby follows the shipped logs.
		Eventually(func() string { return firstRestoredLSN(ns, "sales", "ds2") }, 60*time.Second).ShouldNot(BeEmpty())

		// A log backup taken behind the operator's back, outside the BackupTarget: the next shipped
		// log backup does not follow what the standby restored.
		sales := ds1.db("Sales")
		_, err := sales.Exec("INSERT INTO dbo.Orders (id, note) VALUES (1, 'before')")
		Expect(err).NotTo(HaveOccurred())
		_, err = sales.Exec("BACKUP LOG [Sales] TO DISK = @p1 WITH INIT", filepath.Join(GinkgoT().TempDir(), "elsewhere.trn"))
		Expect(err).NotTo(HaveOccurred())
		_, err = sales.Exec("INSERT INTO dbo.Orders (id, note) VALUES (2, 'after')")
		Expect(err).NotTo(HaveOccurred())

		Eventually(func() *receivedHook { return hook.find(v1alpha1.NotifyLogChainBroken) }, 60*time.Second).ShouldNot(BeNil())
		lcb := hook.find(v1alpha1.NotifyLogChainBroken)
		Expect(lcb.body).To(HaveKeyWithValue("group", "sales"))
		Expect(lcb.body).To(HaveKeyWithValue("namespace", ns))
		Expect(lcb.body).To(HaveKeyWithValue("from", "ds1"))
		Expect(lcb.body).To(HaveKeyWithValue("to", "ds2"))
		Expect(lcb.body).To(HaveKeyWithValue("reason", HavePrefix("database Sales: ")))
		Eventually(func() []string { return eventReasons(ns) }).Should(ContainElement(v1alpha1.EventReasonLogChainBroken))

		// A full backup is forced and the standby reseeded; the break was notified once.
		Eventually(func() []string { return eventReasons(ns) }, 60*time.Second).Should(ContainElement(v1alpha1.EventReasonReseeded))
		Expect(hook.count(v1alpha1.NotifyLogChainBroken)).To(Equal(1))
	})
})

// firstRestoredLSN is the restore position of a member's first database ("" before log shipping
// reported one).
func firstRestoredLSN(ns, group, member string) string {
	d := memberStatus(ns, group, member).Databases
	if len(d) == 0 {
		return ""
	}
	return d[0].LSN
}
