//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// The scenarios share the operator installed in BeforeSuite and run in order: the last one upgrades
// and uninstalls it.
var _ = Describe("understudy on a real cluster", Ordered, func() {
	const (
		clientInterval = 50 * time.Millisecond
		clientTimeout  = 500 * time.Millisecond
		webhookSecret  = "e2e-hmac-key-0123456789"
	)

	It("(1) fails over through the routed Service when the active member dies, with Events and a signed webhook", func() {
		const ns, app = "e2e-generic", "web"
		createNamespace(ns)
		hookURL := webhookReceiver(ns, webhookSecret)
		url := setUpGroup(ns, app, hookURL)
		kubectl("get", "fg", "-n", ns)

		reader := startReader(url, clientInterval, clientTimeout)
		defer reader.Stop()
		time.Sleep(2 * time.Second) // a baseline of answers from a

		countBefore := getGroup(ns, app).Status.FailoverCount // the initial election counts too
		By("killing the active member a (Deployment and pod deleted, grace period 0)")
		t0 := killMember(ns, app, "a")

		statusAt := waitActive(ns, app, "b")

		By("waiting for the client to get answers from b through the Service")
		Eventually(func() bool { return !reader.firstAfter(t0, "b").IsZero() }).
			WithTimeout(time.Minute).WithPolling(50*time.Millisecond).Should(BeTrue(), "the client never reached b through %s", url)
		time.Sleep(3 * time.Second) // keep reading: no answer from a may come back
		reader.Stop()
		rf := reader.figures(t0, "a", "b")
		Expect(rf.OldAnswersAfterNew).To(BeZero(), "a answered after b did")

		By("kubectl get fg shows b active")
		out := kubectl("get", "fg", app, "-n", ns)
		Expect(activeColumn(out)).To(Equal("b"))

		fg := getGroup(ns, app)
		Expect(fg.Status.LastFailover).NotTo(BeNil())
		Expect(fg.Status.LastFailover.From).To(Equal("a"))
		Expect(fg.Status.LastFailover.To).To(Equal("b"))
		Expect(fg.Status.LastFailover.Reason).To(Equal("Failover"))
		Expect(fg.Status.FailoverCount).To(Equal(countBefore + 1))
		Expect(podsWithRole(ns, app, "active")).To(HaveLen(1))
		Expect(podsWithRole(ns, app, "active")[0]).To(HavePrefix("b/"))

		By("Events show the failover")
		var evs []corev1.Event
		Eventually(func() []string { evs = groupEvents(ns, app); return eventReasons(evs) }).
			WithTimeout(30 * time.Second).Should(ContainElements("FailoverStarted", "FailoverCompleted"))
		kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.kind=FailoverGroup", "--sort-by=.lastTimestamp")

		By("the webhook receiver got the signed Failover event")
		var hook Delivery
		var hookEvent WebhookEvent
		Eventually(func(g Gomega) {
			ds, err := fetchDeliveries(hookURL)
			g.Expect(err).NotTo(HaveOccurred())
			found := false
			for _, d := range ds {
				var e WebhookEvent
				if json.Unmarshal(d.Body, &e) == nil && e.Event == "Failover" {
					hook, hookEvent, found = d, e, true
				}
			}
			g.Expect(found).To(BeTrue(), "no Failover delivery among %d", len(ds))
		}).WithTimeout(time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(hook.SignatureValid).To(BeTrue(), "the X-Understudy-Signature did not verify with the shared key")
		Expect(hook.EventHeader).To(Equal("Failover"))
		Expect(hookEvent.Group).To(Equal(app))
		Expect(hookEvent.Namespace).To(Equal(ns))
		Expect(hookEvent.From).To(Equal("a"))
		Expect(hookEvent.To).To(Equal("b"))
		allDeliveries, _ := fetchDeliveries(hookURL)

		lf := fg.Status.LastFailover
		figures := map[string]any{
			"timing":                                 "healthCheck period 2s x failureThreshold 3, leaseDurationSeconds 8 (config/samples)",
			"kill":                                   "member a's Deployment deleted and its pod deleted with grace period 0",
			"killToClientAnswerFromStandbySeconds":   rf.FirstNewAnswer,
			"killToStatusActiveMemberStandbySeconds": round(statusAt.Sub(t0)),
			"killToWebhookReceivedSeconds":           round(hook.ReceivedAt.Sub(t0)),
			"operatorFailoverStartedAfterKillSeconds_1sResolution": round(lf.StartedAt.Sub(t0)),
			"client":                reader.figures(t0, "a", "b"),
			"webhookSignatureValid": hook.SignatureValid,
			"webhookDeliveries":     len(allDeliveries),
			"events":                eventReasons(evs),
		}
		if lf.CompletedAt != nil {
			figures["operatorFailoverStepsSeconds_1sResolution"] = round(lf.CompletedAt.Sub(lf.StartedAt.Time))
		}
		record("failoverThroughService", figures)
		Expect(rf.FirstNewAnswer).To(BeNumerically(">", 0))
		Expect(rf.FirstNewAnswer).To(BeNumerically("<", 30), "failover through the Service took too long")
	})

	It("(2) SQL Server group: kill the primary, the writer reaches a writable standby through the same Service, the old primary rejoins with salvage, a switchover back loses nothing", func() {
		runSQLScenario()
	})

	It("(3) finishes a failover when the leading operator pod is killed in the middle of it", func() {
		const ns = "e2e-restart"
		createNamespace(ns)
		type run struct {
			name, when string
		}
		runs := []run{
			{"early", "leader pod deleted (grace period 0) right after the active member is killed, before the failover starts"},
			{"inflight", "leader pod deleted (grace period 0) the moment status.inProgress appears"},
		}
		// Deleting a pod, even with grace period 0, sends SIGTERM first: the operator releases its
		// leader Lease on shutdown. A crash does not; on the local cluster the suite can SIGKILL the
		// leader's process through containerd, and the other replica must wait out the leader Lease.
		if containerdSocket() != "" {
			runs = append(runs, run{"sigkill", "leader's manager process SIGKILLed through containerd (no Lease release) the moment status.inProgress appears"})
		}
		all := map[string]any{}
		for _, r := range runs {
			app := "db-" + r.name
			url := setUpGroup(ns, app, "")
			oldLeader := leaderPod()
			Expect(oldLeader).NotTo(BeEmpty())
			oldIdentity := leaderIdentity()
			reader := startReader(url, clientInterval, clientTimeout)
			time.Sleep(time.Second)

			countBefore := getGroup(ns, app).Status.FailoverCount
			By(fmt.Sprintf("[%s] killing member a, then the leader %s", r.name, oldLeader))
			t0 := killMember(ns, app, "a")
			var killedAt time.Time
			stepSeen := "none (before the failover started)"
			if r.name != "early" {
				// Watch for the recorded start of the failover, then kill the leader at once.
				Eventually(func() bool {
					fg := getGroup(ns, app)
					if p := fg.Status.InProgress; p != nil {
						stepSeen = string(p.Step)
						return true
					}
					if fg.Status.ActiveMember == "b" {
						stepSeen = "completed before the kill (missed the window)"
						return true
					}
					return false
				}).WithTimeout(time.Minute).WithPolling(20 * time.Millisecond).Should(BeTrue())
			}
			killedAt = time.Now()
			if r.name == "sigkill" {
				sigkillPod(operatorNamespace, oldLeader)
			} else {
				Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: oldLeader}},
					client.GracePeriodSeconds(0))).To(Succeed())
			}

			By(fmt.Sprintf("[%s] the other replica takes the leadership and finishes the failover", r.name))
			var newLeader string
			var leaderAt time.Time
			Eventually(func() bool {
				// A new holder identity: the other replica, or (after SIGKILL) the restarted container.
				if id := leaderIdentity(); id != "" && id != oldIdentity {
					newLeader = leaderPod()
					leaderAt = time.Now()
					return true
				}
				return false
			}).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(BeTrue())
			Eventually(func(g Gomega) {
				fg := getGroup(ns, app)
				g.Expect(fg.Status.ActiveMember).To(Equal("b"))
				g.Expect(fg.Status.InProgress).To(BeNil())
			}).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
			Eventually(func() bool { return !reader.firstAfter(t0, "b").IsZero() }).
				WithTimeout(time.Minute).WithPolling(50 * time.Millisecond).Should(BeTrue())
			time.Sleep(2 * time.Second)
			reader.Stop()
			rf := reader.figures(t0, "a", "b")

			By(fmt.Sprintf("[%s] exactly one member is active", r.name))
			fg := getGroup(ns, app)
			active := 0
			for _, m := range fg.Status.Members {
				if m.Role == v1alpha1.RoleActive {
					active++
					Expect(m.Name).To(Equal("b"))
				}
			}
			Expect(active).To(Equal(1), "members: %+v", fg.Status.Members)
			Expect(podsWithRole(ns, app, "active")).To(HaveLen(1))
			Expect(podsWithRole(ns, app, "active")[0]).To(HavePrefix("b/"))
			var lease coordinationv1.Lease
			Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: app}, &lease)).To(Succeed())
			Expect(*lease.Spec.HolderIdentity).To(Equal("b"))
			var svc corev1.Service
			Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: app}, &svc)).To(Succeed())
			Expect(svc.Spec.Selector).To(HaveKeyWithValue("member", "b"))
			Expect(rf.OldAnswersAfterNew).To(BeZero())
			Expect(fg.Status.FailoverCount).To(Equal(countBefore+1), "one failover, not two")

			all[r.name] = map[string]any{
				"when":                                 r.when,
				"stepWhenLeaderKilled":                 stepSeen,
				"leaderKilledAfterMemberKillSeconds":   round(killedAt.Sub(t0)),
				"newLeaderAfterLeaderKillSeconds":      round(leaderAt.Sub(killedAt)),
				"oldLeader":                            oldLeader,
				"newLeader":                            newLeader,
				"killToClientAnswerFromStandbySeconds": rf.FirstNewAnswer,
				"client":                               rf,
				"leaseTransitions":                     ptrVal(lease.Spec.LeaseTransitions),
				"events":                               eventReasons(groupEvents(ns, app)),
			}
			// The deleted replica comes back (Deployment): wait for both before the next run.
			Eventually(func(g Gomega) {
				var dep appsv1.Deployment
				g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: operatorNamespace, Name: releaseName}, &dep)).To(Succeed())
				g.Expect(dep.Status.ReadyReplicas).To(Equal(*dep.Spec.Replicas))
			}).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		}
		record("operatorKilledMidFailover", all)
	})

	It("(4) DNS routing with the real ExternalDNS and BIND9: failover moves the answer, deleting the group removes the records", func() {
		runDNSScenario()
	})

	It("(5) helm upgrade and helm uninstall leave the groups and their pods alone", func() {
		type snapshot struct {
			pods   map[string]types.UID
			groups map[string]string // ns/name -> uid/active
		}
		take := func() snapshot {
			s := snapshot{pods: map[string]types.UID{}, groups: map[string]string{}}
			for _, ns := range testNamespaces {
				var pods corev1.PodList
				Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns))).To(Succeed())
				for _, p := range pods.Items {
					restarts := int32(0)
					for _, cs := range p.Status.ContainerStatuses {
						restarts += cs.RestartCount
					}
					s.pods[ns+"/"+p.Name] = types.UID(fmt.Sprintf("%s restarts=%d", p.UID, restarts))
				}
				var fgs v1alpha1.FailoverGroupList
				Expect(k8sClient.List(ctx, &fgs, client.InNamespace(ns))).To(Succeed())
				for _, g := range fgs.Items {
					s.groups[ns+"/"+g.Name] = fmt.Sprintf("%s active=%s failovers=%d", g.UID, g.Status.ActiveMember, g.Status.FailoverCount)
				}
			}
			return s
		}
		before := take()
		Expect(len(before.groups)).To(BeNumerically(">=", 3))
		url := serviceURL("e2e-generic", "web")
		reader := startReader(url, clientInterval, clientTimeout)
		defer reader.Stop()

		By("helm upgrade (a value changes: the operator pods roll)")
		var oldOperatorPods corev1.PodList
		Expect(k8sClient.List(ctx, &oldOperatorPods, client.InNamespace(operatorNamespace))).To(Succeed())
		t0 := time.Now()
		Expect(helmUpgrade(map[string]any{"podAnnotations": map[string]any{"e2e/upgraded": "yes"}})).To(Succeed())
		upgradeTook := time.Since(t0)
		var newOperatorPods corev1.PodList
		Expect(k8sClient.List(ctx, &newOperatorPods, client.InNamespace(operatorNamespace))).To(Succeed())
		for _, p := range newOperatorPods.Items {
			if p.DeletionTimestamp == nil {
				Expect(p.Annotations).To(HaveKeyWithValue("e2e/upgraded", "yes"))
			}
		}
		Eventually(leaderPod).WithTimeout(2 * time.Minute).ShouldNot(BeEmpty())
		// Watch for 5 s while the new leader reconciles every group: nothing may change at any moment.
		Consistently(take).WithTimeout(5*time.Second).WithPolling(250*time.Millisecond).
			Should(Equal(before), "helm upgrade changed the groups or their pods")

		By("helm uninstall")
		t1 := time.Now()
		Expect(helmUninstall()).To(Succeed())
		uninstallTook := time.Since(t1)
		Eventually(func() int {
			var pods corev1.PodList
			Expect(k8sClient.List(ctx, &pods, client.InNamespace(operatorNamespace))).To(Succeed())
			return len(pods.Items)
		}).WithTimeout(2 * time.Minute).Should(BeZero())
		var crds []string
		for _, n := range []string{"failovergroups.understudy.dev", "backuptargets.understudy.dev", "restoreschedules.understudy.dev"} {
			var crd apiextensionsv1.CustomResourceDefinition
			err := k8sClient.Get(ctx, types.NamespacedName{Name: n}, &crd)
			if apierrors.IsNotFound(err) {
				Fail("helm uninstall deleted the CRD " + n)
			}
			Expect(err).NotTo(HaveOccurred())
			crds = append(crds, n)
		}
		Consistently(take).WithTimeout(2*time.Second).WithPolling(250*time.Millisecond).
			Should(Equal(before), "helm uninstall changed the groups or their pods")
		var svc corev1.Service
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: "e2e-generic", Name: "web"}, &svc)).To(Succeed())
		Expect(svc.Spec.Selector).To(HaveKeyWithValue("member", "b"))
		reader.Stop()
		rf := reader.figures(t0, "b", "b")
		Expect(rf.Answers).NotTo(HaveKey("a"))
		errorsSeen := rf.Answers["error"]
		Expect(errorsSeen).To(BeZero(), "the client lost answers during helm upgrade/uninstall: %+v", rf.Answers)

		record("helmUpgradeUninstall", map[string]any{
			"helmUpgradeSeconds":                  round(upgradeTook),
			"helmUninstallSeconds":                round(uninstallTook),
			"groupsUnchanged":                     len(before.groups),
			"podsUnchanged":                       len(before.pods),
			"crdsKept":                            crds,
			"clientAnswersDuringUpgradeUninstall": rf.Answers,
		})
	})
})

func activeColumn(table string) string {
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 2 {
		return ""
	}
	header := strings.Fields(lines[0])
	row := strings.Fields(lines[1])
	for i, h := range header {
		if h == "ACTIVE" && i < len(row) {
			return row[i]
		}
	}
	return ""
}

func serviceURL(ns, name string) string {
	var svc corev1.Service
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &svc)).To(Succeed())
	return "http://" + svc.Spec.ClusterIP + ":80/"
}

func ptrVal[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// containerdSocket is the local cluster's containerd socket when this process can use it.
func containerdSocket() string {
	dir := os.Getenv("UNDERSTUDY_CLUSTER_DIR")
	if dir == "" {
		dir = filepath.Dir(kubeconfig)
	}
	sock := filepath.Join(dir, "containerd", "containerd.sock")
	if _, err := os.Stat(sock); err != nil {
		return ""
	}
	if _, err := exec.LookPath("ctr"); err != nil {
		return ""
	}
	return sock
}

// sigkillPod kills the pod's first container with SIGKILL through containerd, like a crash.
func sigkillPod(ns, name string) {
	var pod corev1.Pod
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &pod)).To(Succeed())
	Expect(pod.Status.ContainerStatuses).NotTo(BeEmpty())
	id := strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://")
	out, err := exec.CommandContext(ctx, "ctr", "--address", containerdSocket(), "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "ctr tasks kill: %s", out)
}
