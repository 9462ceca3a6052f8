package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/test/envtestutil"
)

// cluster is the local control plane (the envtest kube-apiserver and etcd, with understudy's
// CRDs) and the operator running in this process against it.
type cluster struct {
	env        *envtest.Environment
	cfg        *rest.Config
	client     client.Client // uncached: every read goes to the API server
	kubeconfig string        // an admin kubeconfig file for kubectl

	stopOperator context.CancelFunc
	operatorDone chan error
}

func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme, externaldnsv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}

// startCluster starts kube-apiserver and etcd with their state under dir, installs the CRDs and
// writes a kubeconfig. Stop must be called even when it fails (it stops what did start).
func startCluster(dir string) (*cluster, error) {
	env, err := envtestutil.NewEnvironment()
	if err != nil {
		return nil, err
	}
	// Everything the control plane writes goes under the demo's directory, removed at the end.
	etcdDir, certDir := filepath.Join(dir, "etcd"), filepath.Join(dir, "kube-apiserver")
	for _, d := range []string{etcdDir, certDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	env.ControlPlane.Etcd = &envtest.Etcd{DataDir: etcdDir}
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir}
	c := &cluster{env: env}
	cfg, err := env.Start()
	if err != nil {
		return c, fmt.Errorf("start kube-apiserver and etcd: %w", err)
	}
	c.cfg = cfg
	scheme, err := newScheme()
	if err != nil {
		return c, err
	}
	if c.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return c, err
	}
	c.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.kubeconfig, env.KubeConfig, 0o600); err != nil {
		return c, err
	}
	return c, nil
}

// startOperator runs understudy's controllers in this process, watching one namespace, exactly as
// the manager binary does (without leader election, metrics and health endpoints).
func (c *cluster) startOperator(namespace string) error {
	scheme, err := newScheme()
	if err != nil {
		return err
	}
	if err := c.client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return fmt.Errorf("create namespace %s: %w", namespace, err)
	}
	shutdown := 5 * time.Second
	mgr, err := ctrl.NewManager(c.cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		Cache:                   controllers.CacheOptions(map[string]cache.Config{namespace: {}}),
		GracefulShutdownTimeout: &shutdown,
	})
	if err != nil {
		return fmt.Errorf("new manager: %w", err)
	}
	// The demo's operator runs in-process and sees the backup directory the simulators write to.
	if err := controllers.SetupWithManager(mgr, controllers.Options{LocalBackupRoots: []string{os.TempDir()}}); err != nil {
		return fmt.Errorf("set up controllers: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stopOperator, c.operatorDone = cancel, make(chan error, 1)
	go func() { c.operatorDone <- mgr.Start(ctx) }()
	return nil
}

// Stop stops the operator, then the control plane. It is safe on a partly started cluster.
func (c *cluster) Stop() error {
	var errs []error
	if c.stopOperator != nil {
		c.stopOperator()
		select {
		case err := <-c.operatorDone:
			if err != nil {
				errs = append(errs, fmt.Errorf("operator: %w", err))
			}
		case <-time.After(15 * time.Second):
			errs = append(errs, errors.New("operator did not stop within 15s"))
		}
		c.stopOperator = nil
	}
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop kube-apiserver and etcd: %w", err))
		}
		c.env = nil
	}
	return errors.Join(errs...)
}
