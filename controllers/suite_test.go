package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/test/envtestutil"
)

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    *runtime.Scheme
	suiteCtx  context.Context
	cancel    context.CancelFunc
	// auditLog is kube-apiserver's audit log, read after the suite to check the operator's RBAC.
	auditLog string
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	RunSpecs(t, "Controllers envtest suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	suiteCtx, cancel = context.WithCancel(context.Background())
	scheme = runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	Expect(externaldnsv1alpha1.AddToScheme(scheme)).To(Succeed())

	var err error
	testEnv, err = envtestutil.NewEnvironment()
	Expect(err).NotTo(HaveOccurred())
	auditDir, err := os.MkdirTemp("", "understudy-audit-")
	Expect(err).NotTo(HaveOccurred())
	auditLog, err = envtestutil.WithAuditLog(testEnv, auditDir)
	Expect(err).NotTo(HaveOccurred())
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	cancel()
	if auditLog != "" {
		checkRBACAgainstAudit(auditLog)
		_ = os.RemoveAll(filepath.Dir(auditLog))
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// runningManager is an operator started by a test.
type runningManager struct {
	stop context.CancelFunc
	done chan struct{}
}

// Stop stops the operator and waits until it has stopped, as a crash or a rolling update would.
func (m *runningManager) Stop() {
	m.stop()
	Eventually(m.done).Should(BeClosed())
}

// startManager runs an operator (without leader election) against envtest, watching one namespace.
func startManager(namespace string, opts controllers.Options) *runningManager {
	return startManagerIn([]string{namespace}, opts)
}

// startManagerIn runs an operator (without leader election) watching the given namespaces.
func startManagerIn(namespaces []string, opts controllers.Options) *runningManager {
	watched := map[string]cache.Config{}
	for _, ns := range namespaces {
		watched[ns] = cache.Config{}
	}
	opCfg := rest.CopyConfig(cfg)
	opCfg.UserAgent = envtestutil.OperatorUserAgent
	mgr, err := ctrl.NewManager(opCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(watched),
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	if opts.LocalBackupRoots == nil {
		opts.LocalBackupRoots = []string{os.TempDir()} // the tests' backup directories are temp dirs
	}
	Expect(controllers.SetupWithManager(mgr, opts)).To(Succeed())
	ctx, stop := context.WithCancel(suiteCtx)
	m := &runningManager{stop: stop, done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(m.done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	return m
}
