// Command understudy is the understudy operator: it keeps active/passive stateful services available
// (health checks, a Lease-held active role, automatic failover, routing, and SQL Server log shipping).
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"

	understudyv1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/internal/addresspolicy"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(understudyv1alpha1.AddToScheme(scheme))
	utilruntime.Must(externaldnsv1alpha1.AddToScheme(scheme))
	return scheme
}

// managerFlags are the command-line settings of the manager.
type managerFlags struct {
	metricsAddr             string
	metricsSecure           bool
	metricsCertDir          string
	probeAddr               string
	leaderElect             bool
	leaderElectionID        string
	leaderElectionNamespace string
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	watchNamespaces         string
	operatorImage           string
	kubeconfig              string
	localBackupRoots        string
	memberAddressAllow      string
	webhookAllowLocal       bool
	zap                     zap.Options
}

func parseManagerFlags(args []string) (*managerFlags, error) {
	f := &managerFlags{zap: zap.Options{Development: false}}
	fs := flag.NewFlagSet("understudy", flag.ContinueOnError)
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", "",
		"Address the Prometheus metrics endpoint binds to (default :8443 with --metrics-secure, :8080 without); \"0\" disables it.")
	fs.BoolVar(&f.metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, only to clients whose bearer token the API server authenticates (TokenReview) and authorizes for get on the non-resource URL /metrics (SubjectAccessReview); false serves plain HTTP to anyone.")
	fs.StringVar(&f.metricsCertDir, "metrics-cert-dir", "",
		"Directory with the metrics server's certificate and key (tls.crt, tls.key; e.g. a mounted kubernetes.io/tls Secret, reloaded when it changes); empty: a self-signed certificate made at start.")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz endpoints bind to.")
	fs.BoolVar(&f.leaderElect, "leader-elect", false, "Elect a leader among replicas with a Lease, so only one operator acts at a time.")
	fs.StringVar(&f.leaderElectionID, "leader-election-id", "understudy.understudy.dev", "Name of the leader election Lease.")
	fs.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the pod's namespace).")
	fs.DurationVar(&f.leaseDuration, "leader-election-lease-duration", 15*time.Second,
		"How long the other replicas wait before taking over the leader Lease from a leader that stopped renewing it (a crash; a clean shutdown releases it at once).")
	fs.DurationVar(&f.renewDeadline, "leader-election-renew-deadline", 10*time.Second,
		"How long the leader keeps trying to renew its Lease before it steps down; shorter than the lease duration.")
	fs.DurationVar(&f.retryPeriod, "leader-election-retry-period", 2*time.Second, "How often leader election clients try to acquire or renew the Lease.")
	fs.StringVar(&f.watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces to watch; empty watches all namespaces.")
	fs.StringVar(&f.operatorImage, "operator-image", os.Getenv("OPERATOR_IMAGE"), "The operator's own image, run by Jobs that prune old backup files (`understudy prune`).")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "Path to a kubeconfig; default: $KUBECONFIG, the in-cluster config, then ~/.kube/config.")
	fs.StringVar(&f.localBackupRoots, "local-backup-root", "", "Comma-separated backup directories mounted in the operator's container at the same path as in the SQL Server pods; backups under them are listed directly instead of from msdb history.")
	fs.BoolVar(&f.webhookAllowLocal, "webhook-allow-local-targets", false,
		"Let webhook notifications reach loopback, link-local (cloud metadata) and the API server's addresses, which are refused by default.")
	fs.StringVar(&f.memberAddressAllow, "member-address-allow", "", "Comma-separated CIDRs and host-name suffixes (.db.example.com) that members' spec addresses must match; <namespace>=<entry> applies to one namespace, whose own entries then replace the others there; empty allows any address the API accepts (never link-local or cloud metadata addresses).")
	f.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	// client-go's leader elector refuses anything else at start-up (its jitter factor is 1.2); say so
	// while parsing flags.
	if f.retryPeriod <= 0 || f.renewDeadline*10 <= f.retryPeriod*12 || f.leaseDuration <= f.renewDeadline {
		return nil, fmt.Errorf("leader election timing: need lease duration (%s) > renew deadline (%s) > 1.2 x retry period (%s) > 0",
			f.leaseDuration, f.renewDeadline, f.retryPeriod)
	}
	if f.metricsAddr == "" {
		f.metricsAddr = ":8080"
		if f.metricsSecure {
			f.metricsAddr = ":8443"
		}
	}
	if f.metricsCertDir != "" && !f.metricsSecure {
		return nil, errors.New("--metrics-cert-dir needs --metrics-secure")
	}
	return f, nil
}

// metricsOptions is the metrics server's configuration. Secure (the default): HTTPS, HTTP/1.1 only
// (no HTTP/2: its stream reset and rapid reset attacks, CVE-2023-44487 and CVE-2023-39325), and every
// request authenticated and authorized by the API server, so the operator needs create on
// tokenreviews and subjectaccessreviews (config/rbac/metrics_auth_role.yaml, the chart's
// <fullname>-metrics-auth ClusterRole) and scrapers get on /metrics (<fullname>-metrics-reader).
// A certificate directory must hold tls.crt and tls.key: controller-runtime would otherwise fall
// back to a self-signed certificate without a word, and a missing Secret mount would go unnoticed.
func metricsOptions(f *managerFlags) (metricsserver.Options, error) {
	opts := metricsserver.Options{BindAddress: f.metricsAddr}
	if !f.metricsSecure || f.metricsAddr == "0" {
		return opts, nil
	}
	opts.SecureServing = true
	opts.FilterProvider = filters.WithAuthenticationAndAuthorization
	opts.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	if f.metricsCertDir != "" {
		for _, name := range []string{"tls.crt", "tls.key"} {
			if _, err := os.Stat(filepath.Join(f.metricsCertDir, name)); err != nil {
				return opts, fmt.Errorf("--metrics-cert-dir: %w", err)
			}
		}
		opts.CertDir, opts.CertName, opts.KeyName = f.metricsCertDir, "tls.crt", "tls.key"
	}
	return opts, nil
}

// namespacesOf splits a comma-separated list into cache settings; nil means every namespace.
func namespacesOf(list string) map[string]cache.Config {
	var out map[string]cache.Config
	for _, ns := range strings.Split(list, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		if out == nil {
			out = map[string]cache.Config{}
		}
		out[ns] = cache.Config{}
	}
	return out
}

func runManager(args []string) error {
	f, err := parseManagerFlags(args)
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&f.zap)))
	log := ctrl.Log.WithName("setup")

	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	metrics, err := metricsOptions(f)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  newScheme(),
		Metrics:                 metrics,
		HealthProbeBindAddress:  f.probeAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        f.leaderElectionID,
		LeaderElectionNamespace: f.leaderElectionNamespace,
		LeaseDuration:           &f.leaseDuration,
		RenewDeadline:           &f.renewDeadline,
		RetryPeriod:             &f.retryPeriod,
		// Step down at once on shutdown so the other replica takes over without waiting for expiry.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(namespacesOf(f.watchNamespaces)),
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	addresses, err := addresspolicy.Parse(splitList(f.memberAddressAllow))
	if err != nil {
		return err
	}
	if err := controllers.SetupWithManager(mgr, controllers.Options{Clock: clock.RealClock{}, OperatorImage: f.operatorImage,
		LocalBackupRoots: splitList(f.localBackupRoots), MemberAddresses: addresses, WebhookAllowLocalTargets: f.webhookAllowLocal}); err != nil {
		return fmt.Errorf("set up controllers: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("add ready check: %w", err)
	}
	log.Info("starting understudy", "version", version, "leaderElection", f.leaderElect,
		"watchNamespaces", f.watchNamespaces, "metricsAddress", f.metricsAddr, "metricsSecure", metrics.SecureServing)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("run manager: %w", err)
	}
	return nil
}

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) > 0 && args[0] == "version":
		fmt.Println(version)
	case len(args) > 0 && args[0] == "prune":
		err = runPrune(args[1:], os.Stdout)
	default:
		err = runManager(args)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "understudy:", err)
		os.Exit(1)
	}
}

// restConfig loads --kubeconfig when given, else what controller-runtime finds ($KUBECONFIG,
// in-cluster, ~/.kube/config).
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return ctrl.GetConfig()
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
