// Package envtestutil starts the envtest control plane (kube-apiserver + etcd) with understudy's CRDs
// and ExternalDNS's DNSEndpoint CRD installed, for the project's envtest suites.
package envtestutil

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// K8sVersion is the version of the envtest control plane; keep in step with ENVTEST_K8S_VERSION in
// the Makefile.
const K8sVersion = "1.37.0"

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// assetsDir finds kube-apiserver and etcd: KUBEBUILDER_ASSETS when set, else the cache that
// hack/envtest-assets.sh fills.
func assetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	dir := filepath.Join(RepoRoot(), "bin", "k8s", fmt.Sprintf("%s-%s-%s", K8sVersion, runtime.GOOS, runtime.GOARCH))
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("no envtest binaries: set KUBEBUILDER_ASSETS or run hack/envtest-assets.sh (make test does): %w", err)
	}
	return dir, nil
}

// NewEnvironment returns an environment with every CRD the operator uses; call Start on it.
func NewEnvironment() (*envtest.Environment, error) {
	dir, err := assetsDir()
	if err != nil {
		return nil, err
	}
	root := RepoRoot()
	return &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths: []string{
			filepath.Join(root, "config", "crd", "bases"),
			filepath.Join(root, "config", "crd", "external"),
		},
		ErrorIfCRDPathMissing: true,
	}, nil
}

// OperatorUserAgent is the user agent of operators started by tests that record the API calls they
// make (WithAuditLog): the audit log tells their requests from the tests' own.
const OperatorUserAgent = "understudy-operator-under-test"

// auditPolicy records the request metadata (user agent, verb, resource) of every request.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: Metadata
`

// WithAuditLog makes env's kube-apiserver write an audit log (one JSON event per request) to
// dir/audit.log and returns that path.
func WithAuditLog(env *envtest.Environment, dir string) (string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return "", fmt.Errorf("write audit policy: %w", err)
	}
	logPath := filepath.Join(dir, "audit.log")
	env.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policy).
		Set("audit-log-path", logPath).
		Set("audit-log-format", "json").
		Set("audit-log-mode", "blocking")
	return logPath, nil
}
