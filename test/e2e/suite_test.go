//go:build e2e

// Package e2e runs understudy on a real cluster (a kubelet, containerd, CNI and kube-proxy: packets
// are routed) and measures what a client sees. It installs the operator with the real Helm chart
// (charts/understudy, image understudy:e2e) and runs five scenarios in order: failover through
// the routed Service with a webhook receiver; a SQL Server group (mssqlsim members, log shipping, a
// writer pod going through the Service, salvage and rejoin, switchover back); the operator's leader
// killed in the middle of a failover; DNS routing through the real ExternalDNS and BIND9
// (hack/e2e-dns.sh); and `helm upgrade`/`helm uninstall` leaving the groups alone.
//
// Run it with `make test-e2e` (brings up hack/local-cluster.sh when KUBECONFIG is not set, tears it
// down afterwards), or against any cluster that already has the images understudy:e2e,
// understudy-e2e-member:e2e and understudy-e2e-mssqlsim:e2e (hack/kind-up.sh):
//
//	KUBECONFIG=... go test -tags e2e -v -timeout 30m ./test/e2e/
//
// Every scenario records its figures; the suite writes them to test/e2e/results.json.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

const (
	operatorNamespace = "understudy-system"
	releaseName       = "understudy"
	leaderLeaseName   = "understudy.understudy.dev"
)

// testNamespaces are created by the scenarios (and deleted before a new run on a reused cluster).
var testNamespaces = []string{"e2e-generic", "e2e-sql", "e2e-restart", dnsNamespace}

var (
	operatorImage = envOr("E2E_OPERATOR_IMAGE", "understudy:e2e")
	memberImage   = envOr("E2E_MEMBER_IMAGE", "understudy-e2e-member:e2e")
	mssqlImage    = envOr("E2E_MSSQL_IMAGE", "understudy-e2e-mssqlsim:e2e")
	pullPolicy    = corev1.PullPolicy(envOr("E2E_PULL_POLICY", "Never"))

	ctx        context.Context
	cancel     context.CancelFunc
	kubeconfig string
	cfg        *rest.Config
	k8sClient  client.Client
	clientset  *kubernetes.Clientset
	repoRoot   string
	suiteStart time.Time

	resultsMu sync.Mutex
	results   = map[string]any{}
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// record stores a scenario's figures for results.json and prints them.
func record(scenario string, figures map[string]any) {
	resultsMu.Lock()
	results[scenario] = figures
	resultsMu.Unlock()
	b, _ := json.MarshalIndent(figures, "", "  ")
	fmt.Fprintf(GinkgoWriter, "\n=== %s: measured ===\n%s\n", scenario, b)
	fmt.Printf("\n=== %s: measured ===\n%s\n", scenario, b)
}

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "understudy end-to-end suite (real cluster)")
}

var _ = BeforeSuite(func() {
	suiteStart = time.Now()
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Join(filepath.Dir(file), "..", "..")

	kubeconfig = os.Getenv("KUBECONFIG")
	Expect(kubeconfig).NotTo(BeEmpty(), "KUBECONFIG must name the cluster to test (make test-e2e sets it up)")
	var err error
	cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	cfg.QPS, cfg.Burst = 50, 100
	scheme := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())

	By("waiting for a Ready node")
	Eventually(func(g Gomega) {
		var nodes corev1.NodeList
		g.Expect(k8sClient.List(ctx, &nodes)).To(Succeed())
		g.Expect(nodes.Items).NotTo(BeEmpty())
		for _, n := range nodes.Items {
			g.Expect(nodeReady(&n)).To(BeTrue(), "node %s not Ready", n.Name)
		}
	}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())

	By("removing what an earlier run on this cluster left")
	cleanUpEarlierRun()

	By("installing ExternalDNS's DNSEndpoint CRD (the DNS scenario), then the operator with the Helm chart charts/understudy")
	installDNSEndpointCRD()
	start := time.Now()
	Expect(helmInstall()).To(Succeed())
	installTook := time.Since(start)
	var dep appsv1.Deployment
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: releaseName}, &dep)).To(Succeed())
	By("waiting for a leader among the operator replicas")
	var leader string
	Eventually(func() string { leader = leaderPod(); return leader }).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).ShouldNot(BeEmpty())
	ver, _ := clientset.Discovery().ServerVersion()
	info := map[string]any{
		"helmInstallSeconds":    round(installTook),
		"operatorReplicas":      *dep.Spec.Replicas,
		"leaderElectedAfterSec": round(time.Since(start)),
		"operatorImage":         operatorImage,
		"operatorPodSecurity":   restrictedNamespaceLabels["pod-security.kubernetes.io/enforce"],
	}
	if ver != nil {
		info["serverVersion"] = ver.GitVersion
	}
	record("install", info)
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
})

// ReportAfterSuite writes results.json and, when anything failed, dumps the cluster's logs.
var _ = ReportAfterSuite("results and diagnostics", func(report Report) {
	resultsMu.Lock()
	out := map[string]any{
		"suiteSucceeded": report.SuiteSucceeded,
		"startedAt":      report.StartTime.UTC().Format(time.RFC3339),
		"suiteSeconds":   round(report.EndTime.Sub(report.StartTime)),
		"scenarios":      results,
	}
	var failed []string
	for _, s := range report.SpecReports {
		if s.Failed() {
			failed = append(failed, s.FullText()+": "+s.Failure.Message)
		}
	}
	out["failures"] = failed
	b, err := json.MarshalIndent(out, "", "  ")
	resultsMu.Unlock()
	if err == nil {
		path := envOr("E2E_RESULTS", "results.json")
		if werr := os.WriteFile(path, append(b, '\n'), 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "e2e: write results:", werr)
		} else {
			fmt.Printf("e2e: results written to %s\n", path)
		}
	}
	if !report.SuiteSucceeded && k8sClient != nil {
		dumpDiagnostics()
	}
})

func round(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// ---------------------------------------------------------------------------------------------------
// Helm

func helmSettings() (*action.Configuration, error) {
	settings := cli.New()
	settings.KubeConfig = kubeconfig
	settings.SetNamespace(operatorNamespace)
	ac := new(action.Configuration)
	err := ac.Init(settings.RESTClientGetter(), operatorNamespace, "secret", func(format string, v ...any) {
		fmt.Fprintf(GinkgoWriter, "helm: "+format+"\n", v...)
	})
	return ac, err
}

func chartValues(extra map[string]any) map[string]any {
	repo, tag := splitImage(operatorImage)
	vals := map[string]any{
		"image":    map[string]any{"repository": repo, "tag": tag, "pullPolicy": string(pullPolicy)},
		"logLevel": "debug",
	}
	for k, v := range extra {
		vals[k] = v
	}
	return vals
}

func splitImage(ref string) (string, string) {
	for i := len(ref) - 1; i >= 0; i-- {
		switch ref[i] {
		case ':':
			return ref[:i], ref[i+1:]
		case '/':
			return ref, "latest"
		}
	}
	return ref, "latest"
}

func helmInstall() error {
	if err := createOperatorNamespace(); err != nil {
		return fmt.Errorf("create namespace %s: %w", operatorNamespace, err)
	}
	ac, err := helmSettings()
	if err != nil {
		return err
	}
	ch, err := loader.Load(filepath.Join(repoRoot, "charts", "understudy"))
	if err != nil {
		return err
	}
	inst := action.NewInstall(ac)
	inst.ReleaseName = releaseName
	inst.Namespace = operatorNamespace
	inst.CreateNamespace = true
	inst.Wait = true
	inst.Timeout = 3 * time.Minute
	_, err = inst.RunWithContext(ctx, ch, chartValues(nil))
	return err
}

// cleanUpEarlierRun deletes the test namespaces and uninstalls the release when a cluster is reused.
// Groups carry the operator's finalizer: namespaces go first, while an operator may still run, and a
// finalizer left without an operator (the last scenario uninstalls it) is removed by hand.
func cleanUpEarlierRun() {
	for _, ns := range testNamespaces {
		_ = k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	deadline := time.Now().Add(15 * time.Second)
	Eventually(func() int {
		n := 0
		for _, ns := range testNamespaces {
			if err := k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}); err == nil {
				n++
			}
		}
		if n > 0 && time.Now().After(deadline) {
			var fgs v1alpha1.FailoverGroupList
			if err := k8sClient.List(ctx, &fgs); err == nil {
				for i := range fgs.Items {
					g := &fgs.Items[i]
					if g.DeletionTimestamp != nil && len(g.Finalizers) > 0 {
						patch := client.MergeFrom(g.DeepCopy())
						g.Finalizers = nil
						_ = k8sClient.Patch(ctx, g, patch)
					}
				}
			}
		}
		return n
	}).WithTimeout(3*time.Minute).WithPolling(time.Second).Should(BeZero(), "namespaces of an earlier run are not gone")

	ac, err := helmSettings()
	Expect(err).NotTo(HaveOccurred())
	if _, err := action.NewStatus(ac).Run(releaseName); err == nil {
		Expect(helmUninstall()).To(Succeed())
	}
	_ = k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})
	Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: operatorNamespace}, &corev1.Namespace{}))
	}).WithTimeout(3*time.Minute).WithPolling(time.Second).Should(BeTrue(), "namespace %s of an earlier run is not gone", operatorNamespace)
}

func helmUpgrade(extra map[string]any) error {
	ac, err := helmSettings()
	if err != nil {
		return err
	}
	ch, err := loader.Load(filepath.Join(repoRoot, "charts", "understudy"))
	if err != nil {
		return err
	}
	up := action.NewUpgrade(ac)
	up.Namespace = operatorNamespace
	up.Wait = true
	up.Timeout = 3 * time.Minute
	_, err = up.RunWithContext(ctx, releaseName, ch, chartValues(extra))
	return err
}

func helmUninstall() error {
	ac, err := helmSettings()
	if err != nil {
		return err
	}
	un := action.NewUninstall(ac)
	un.Wait = true
	un.Timeout = 2 * time.Minute
	_, err = un.Run(releaseName)
	return err
}

// ---------------------------------------------------------------------------------------------------
// Diagnostics

func dumpDiagnostics() {
	w := os.Stderr
	banner := func(s string) {
		fmt.Fprintf(w, "\n################################################################################\n"+
			"### E2E FAILURE DIAGNOSTICS: %s\n"+
			"################################################################################\n", s)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
	defer dcancel()

	banner("pods")
	var pods corev1.PodList
	if err := k8sClient.List(dctx, &pods); err == nil {
		for _, p := range pods.Items {
			fmt.Fprintf(w, "%-20s %-50s %-10s node=%s ip=%s labels=%v\n", p.Namespace, p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP, p.Labels)
			for _, cs := range p.Status.ContainerStatuses {
				fmt.Fprintf(w, "    container %s ready=%t restarts=%d state=%+v\n", cs.Name, cs.Ready, cs.RestartCount, cs.State)
			}
		}
	} else {
		fmt.Fprintln(w, "list pods:", err)
	}

	banner("failover groups")
	var fgs v1alpha1.FailoverGroupList
	if err := k8sClient.List(dctx, &fgs); err == nil {
		for _, g := range fgs.Items {
			b, _ := json.MarshalIndent(g.Status, "", "  ")
			fmt.Fprintf(w, "%s/%s status:\n%s\n", g.Namespace, g.Name, b)
		}
	}

	banner("events (all namespaces)")
	var evs corev1.EventList
	if err := k8sClient.List(dctx, &evs); err == nil {
		sort.Slice(evs.Items, func(i, j int) bool { return eventTime(&evs.Items[i]).Before(eventTime(&evs.Items[j])) })
		for _, e := range evs.Items {
			fmt.Fprintf(w, "%s %-18s %-8s %-22s %s/%s: %s\n", eventTime(&e).Format("15:04:05.000"), e.Namespace, e.Type, e.Reason,
				e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
		}
	}

	banner("operator pod logs")
	for _, p := range pods.Items {
		if p.Namespace != operatorNamespace {
			continue
		}
		for _, previous := range []bool{false, true} {
			raw, err := clientset.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Previous: previous, TailLines: ptr(int64(400))}).DoRaw(dctx)
			if err != nil {
				if !previous {
					fmt.Fprintf(w, "--- %s: %v\n", p.Name, err)
				}
				continue
			}
			fmt.Fprintf(w, "--- %s (previous=%t)\n%s\n", p.Name, previous, raw)
		}
	}
	dir := os.Getenv("UNDERSTUDY_CLUSTER_DIR")
	if dir == "" { // hack/local-cluster.sh keeps its kubeconfig next to logs/
		dir = filepath.Dir(kubeconfig)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "kubelet.log")); err == nil {
		for _, name := range []string{"kubelet", "kube-proxy", "containerd"} {
			banner(name + " log (last 150 lines)")
			fmt.Fprintln(w, tailFile(filepath.Join(dir, "logs", name+".log"), 150))
		}
	}
	banner("end of diagnostics")
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	default:
		return e.CreationTimestamp.Time
	}
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := splitLines(string(b))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func ptr[T any](v T) *T { return &v }
