// Package chart_test proves that both install paths, the Helm chart (charts/understudy) and the
// kustomize overlay (config/default), render to objects a real kube-apiserver (envtest) accepts: every
// rendered object is applied with server-side apply, dry-run and strict field validation, after its
// namespaces are created for real. It also checks what the manifests say (security context, leader
// election, RBAC equal to the generated config/rbac/role.yaml, namespaced mode, values schema).
package chart_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/understudy-dev/understudy/test/envtestutil"
)

var (
	testEnv    *envtest.Environment
	cfg        *rest.Config
	httpClient *http.Client
	mapper     meta.RESTMapper
	k8sClient  client.Client
	ctx        context.Context
	cancel     context.CancelFunc
	repoRoot   string
)

func TestInstall(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Install (Helm chart, kustomize) envtest suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	repoRoot = envtestutil.RepoRoot()

	var err error
	testEnv, err = envtestutil.NewEnvironment()
	Expect(err).NotTo(HaveOccurred())
	// Start without understudy's CRDs: the chart's and kustomize's own CRDs are what is under test,
	// and a dry-run create validates a CRD more thoroughly than an update of an installed one. Only
	// prometheus-operator's ServiceMonitor CRD (a fixture) is installed, for the chart's ServiceMonitor.
	testEnv.CRDDirectoryPaths = []string{filepath.Join("testdata", "monitoring.coreos.com_servicemonitors.yaml")}
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	httpClient, err = rest.HTTPClientFor(cfg)
	Expect(err).NotTo(HaveOccurred())
	mapper, err = apiutil.NewDynamicRESTMapper(cfg, httpClient)
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{HTTPClient: httpClient, Mapper: mapper})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
