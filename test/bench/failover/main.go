// Command failover measures how long understudy takes to move traffic after the active member dies:
// from closing the active member's listener to the routed Service selecting the standby. It runs a
// real kube-apiserver (envtest) and the operator in-process, with members as TCP listeners on
// 127.0.0.1, and prints p50/p95/max for the default timing and for a fast profile.
//
//	KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh) go run ./test/bench/failover -runs 20
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	externaldnsv1alpha1 "sigs.k8s.io/external-dns/apis/v1alpha1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/test/envtestutil"
)

// profile is one timing configuration.
type profile struct {
	name                                string
	period, failureThreshold, leaseSecs int32
}

func main() {
	runs := flag.Int("runs", 20, "failovers measured per profile")
	parallel := flag.Int("parallel", 4, "groups failing over at the same time")
	flag.Parse()
	if err := run(*runs, *parallel); err != nil {
		fmt.Fprintln(os.Stderr, "bench-failover:", err)
		os.Exit(1)
	}
}

func run(runs, parallel int) error {
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	env, err := envtestutil.NewEnvironment()
	if err != nil {
		return err
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("start envtest: %w", err)
	}
	defer func() { _ = env.Stop() }()

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme, externaldnsv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: controllers.CacheOptions(map[string]cache.Config{"bench": {}})})
	if err != nil {
		return err
	}
	if err := controllers.SetupWithManager(mgr, controllers.Options{}); err != nil {
		return err
	}
	go func() { _ = mgr.Start(ctx) }()

	profiles := []profile{
		{name: "defaults (period 2s x 3, lease 8s)", period: 2, failureThreshold: 3, leaseSecs: 8},
		{name: "fast (period 1s x 2, lease 3s)", period: 1, failureThreshold: 2, leaseSecs: 3},
	}
	n := 0
	for _, p := range profiles {
		var mu sync.Mutex
		var took []time.Duration
		var firstErr error
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		for i := 0; i < runs; i++ {
			n++
			name := fmt.Sprintf("g%d", n)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				d, err := oneFailover(ctx, c, name, p)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", name, err)
				}
				took = append(took, d)
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		fmt.Printf("%-36s runs=%d  p50=%s  p95=%s  max=%s  (lease %ds)\n", p.name, len(took),
			pct(took, 50), pct(took, 95), took[len(took)-1].Round(time.Millisecond), p.leaseSecs)
	}
	return nil
}

// oneFailover creates a group of two listeners, waits for it to be Active, closes the active
// listener, and times until the Service selects the standby.
func oneFailover(ctx context.Context, c client.Client, name string, p profile) (time.Duration, error) {
	a, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	b, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer b.Close()
	go acceptAll(a)
	go acceptAll(b)
	member := func(n string, prio int32, l net.Listener) v1alpha1.Member {
		addr := l.Addr().(*net.TCPAddr)
		return v1alpha1.Member{Name: n, Priority: prio, Address: &v1alpha1.MemberAddress{Host: "127.0.0.1", Port: int32(addr.Port)},
			PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"group": name, "member": n}}}
	}
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name}, Spec: v1alpha1.FailoverGroupSpec{
		Members: []v1alpha1.Member{member("a", 200, a), member("b", 100, b)},
		HealthCheck: v1alpha1.HealthCheck{TCP: &v1alpha1.TCPHealthCheck{}, PeriodSeconds: p.period, TimeoutSeconds: 1,
			FailureThreshold: p.failureThreshold, SuccessThreshold: 2},
		Failover: v1alpha1.FailoverPolicy{LeaseDurationSeconds: p.leaseSecs},
		Routing:  &v1alpha1.Routing{Service: &v1alpha1.RoutedService{Name: name, Ports: []v1alpha1.ServicePort{{Port: 80}}}},
	}}
	if err := c.Create(ctx, g); err != nil {
		return 0, err
	}
	want := func(member string) map[string]string { return map[string]string{"group": name, "member": member} }
	if err := waitFor(ctx, 60*time.Second, func() bool {
		var cur v1alpha1.FailoverGroup
		return c.Get(ctx, client.ObjectKeyFromObject(g), &cur) == nil && cur.Status.Phase == v1alpha1.PhaseActive &&
			selectorIs(ctx, c, name, want("a"))
	}); err != nil {
		return 0, fmt.Errorf("group never became active on a: %w", err)
	}
	// Let the member run a while, as in production, so the Lease is at an arbitrary point of its
	// renewal cycle when the member dies.
	time.Sleep(time.Duration(1000+time.Now().UnixNano()%2000) * time.Millisecond)
	_ = a.Close()
	start := time.Now()
	if err := waitFor(ctx, 60*time.Second, func() bool { return selectorIs(ctx, c, name, want("b")) }); err != nil {
		return 0, fmt.Errorf("service never selected b: %w", err)
	}
	return time.Since(start), nil
}

func selectorIs(ctx context.Context, c client.Client, name string, want map[string]string) bool {
	var svc corev1.Service
	return c.Get(ctx, client.ObjectKey{Namespace: "bench", Name: name}, &svc) == nil && maps.Equal(svc.Spec.Selector, want)
}

func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func acceptAll(l net.Listener) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		_ = conn.Close()
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1].Round(time.Millisecond)
}
