package controllers_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("What an operator on call sees", func() {
	It("kubectl wait --for=condition=Ready and kubectl get fg work, and failovers are counted", func() {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			Skip("kubectl is not installed on this machine")
		}
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		admin, err := testEnv.AddUser(envtest.User{Name: "oncall", Groups: []string{"system:masters"}}, nil)
		Expect(err).NotTo(HaveOccurred())
		kubeconfig, err := admin.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		path := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		Expect(os.WriteFile(path, kubeconfig, 0o600)).To(Succeed())
		run := func(args ...string) string {
			out, err := exec.Command(kubectl, append([]string{"--kubeconfig", path, "-n", ns}, args...)...).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			return string(out)
		}

		a, b := newMemberServer("127.0.0.1"), newMemberServer("127.0.0.1")
		DeferCleanup(b.Stop)
		Expect(k8sClient.Create(suiteCtx, groupOf(ns, "web", memberAt("a", 200, a), memberAt("b", 100, b)))).To(Succeed())
		Expect(run("wait", "--for=condition=Ready", "fg/web", "--timeout=30s")).To(ContainSubstring("condition met"))

		a.Stop()
		Eventually(func() string { return getGroup(ns, "web").Status.LastFailover.Reason }).Should(Equal("Failover"))
		Expect(run("wait", "--for=condition=Ready", "fg/web", "--timeout=30s")).To(ContainSubstring("condition met"))
		table := run("get", "fg")
		GinkgoWriter.Println(table)
		lines := strings.Split(strings.TrimSpace(table), "\n")
		Expect(lines).To(HaveLen(2))
		Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "ACTIVE", "PHASE", "HEALTHY", "FAILOVER-TO", "LAG", "FAILOVERS", "LAST", "FAILOVER", "AGE"}))
		Expect(strings.Fields(lines[1])[:5]).To(Equal([]string{"web", "b", "Degraded", "1/2", "2"}), "no FAILOVER-TO (a is down) and no LAG")
		Expect(gaugeValue("understudy_failover_ready", map[string]string{"group": ns + "/web"})).To(Equal(0.0))

		By("a comes back: it is the member a failover would promote now")
		a.Start()
		DeferCleanup(a.Stop)
		Eventually(func() []string {
			return strings.Fields(strings.Split(strings.TrimSpace(run("get", "fg")), "\n")[1])[:6]
		}).
			Should(Equal([]string{"web", "b", "Active", "2/2", "a", "2"}))
		Expect(run("wait", "--for=condition=FailoverReady", "fg/web", "--timeout=30s")).To(ContainSubstring("condition met"))
		Expect(gaugeValue("understudy_failover_ready", map[string]string{"group": ns + "/web"})).To(Equal(1.0))
		Expect(gaugeValue("understudy_failover_candidate", map[string]string{"group": ns + "/web", "member": "a"})).To(Equal(1.0))

		Expect(counterValue("understudy_failovers_total", map[string]string{"group": ns + "/web", "reason": "Failover"})).To(Equal(1.0))
		Expect(counterValue("understudy_failovers_total", map[string]string{"group": ns + "/web", "reason": "InitialElection"})).To(Equal(1.0))
	})
})

// counterValue reads a counter from the manager's metrics registry (what /metrics serves); -1 when
// there is no such series.
func counterValue(name string, labels map[string]string) float64 {
	return metricValue(name, labels, func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
}

// gaugeValue reads a gauge the same way.
func gaugeValue(name string, labels map[string]string) float64 {
	return metricValue(name, labels, func(m *dto.Metric) float64 { return m.GetGauge().GetValue() })
}

func metricValue(name string, labels map[string]string, value func(*dto.Metric) float64) float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasMetricLabels(m, labels) {
				return value(m)
			}
		}
	}
	return -1
}

func hasMetricLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
