// Command demo shows understudy doing its job on one machine with only Go: a local control plane
// (the envtest kube-apiserver and etcd), the operator in-process, two SQL Server instances (the
// project's simulator), log shipping, a crash of the primary and the automatic failover, the old
// primary's return as a standby, and a planned switchover back with no data lost. It narrates with
// real output and measured figures and ends with one line a script can check:
//
//	DEMO SUMMARY: failover ds1->ds2 selector ...; result=PASS
//
// Run it with `make demo`, or:
//
//	KUBEBUILDER_ASSETS="$(hack/envtest-assets.sh)" go run ./cmd/demo
//
// The exit code is 0 on PASS, 1 on FAIL and 130 when interrupted. Ctrl-C cleans up like the end:
// the operator, kube-apiserver, etcd and both instances are stopped and the temporary directory
// that holds every file of the run is removed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func main() {
	kubectl := flag.String("kubectl", "auto", `"auto": use kubectl for "kubectl get" when it is on PATH (falling back to the API server's Table); "off": always the Table API`)
	flag.Parse()
	quietLogs()

	// The first Ctrl-C cancels the story; the handler stays installed during the clean-up so a
	// second one cannot leave kube-apiserver and etcd running.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum := Run(ctx, Options{Out: os.Stdout, Kubectl: *kubectl})
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "demo: interrupted")
		stop()
		os.Exit(130)
	case !sum.Pass():
		stop()
		os.Exit(1)
	}
}

// quietLogs keeps the narration readable: the operator (controller-runtime) and client-go (klog)
// log errors only, to stderr.
func quietLogs() {
	logger := zap.New(zap.Level(zapcore.ErrorLevel), zap.WriteTo(os.Stderr))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
}
