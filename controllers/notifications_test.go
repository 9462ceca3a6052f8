package controllers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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

var _ = Describe("Notifications", func() {
	It("signs webhook payloads, is not slowed by a dead webhook, and records Events", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{WebhookAllowLocalTargets: true}) // the receivers are on 127.0.0.1
		DeferCleanup(mgr.Stop)
		secret := []byte("s3cret-hmac-key")
		Expect(k8sClient.Create(suiteCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
			Data: map[string][]byte{"hmac-key": secret}})).To(Succeed())

		var mu sync.Mutex
		var got []receivedHook
		good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			var body map[string]any
			_ = json.Unmarshal(raw, &body)
			mu.Lock()
			got = append(got, receivedHook{body: body, signatureOK: notify.Verify(secret, r.Header, raw, time.Now(), 0) == nil})
			mu.Unlock()
		}))
		DeferCleanup(good.Close)
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
			{URL: good.URL + "/hook", SecretRef: &v1alpha1.SecretKeySelector{Name: "hook", Key: "hmac-key"},
				Events: []v1alpha1.NotificationEvent{"Failover", "MemberDown"}},
		}}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
		Eventually(func() v1alpha1.Phase { return getGroup(ns, "web").Status.Phase }).Should(Equal(v1alpha1.PhaseActive))

		a.Stop()
		killed := time.Now()
		Eventually(func() string { return getGroup(ns, "web").Status.LastFailover.Reason }).Should(Equal("Failover"))
		took := time.Since(killed)
		Expect(took).To(BeNumerically("<", 6*time.Second), "a hanging webhook must not delay the failover")

		find := func(event string) *receivedHook {
			mu.Lock()
			defer mu.Unlock()
			for i := range got {
				if got[i].body["event"] == event {
					return &got[i]
				}
			}
			return nil
		}
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

		reasons := func() []string {
			var list eventsv1.EventList
			Expect(k8sClient.List(suiteCtx, &list, client.InNamespace(ns))).To(Succeed())
			var out []string
			for _, e := range list.Items {
				out = append(out, e.Reason)
			}
			return out
		}
		Eventually(reasons).Should(ContainElements("Elected", "MemberDown", "FailoverStarted", "Fenced", "LeaseTaken", "FailoverCompleted"))
	})
})
