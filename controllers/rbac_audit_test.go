package controllers_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/understudy-dev/understudy/test/envtestutil"
)

// The ClusterRole in config/rbac/role.yaml (generated from the +kubebuilder:rbac markers, copied
// into the chart) must grant exactly what the operator uses. Every test's operator runs with its own
// user agent and kube-apiserver writes an audit log; after the suite, every request the operators
// made must be allowed by the role (a missing verb would fail in a real cluster), and, when the
// whole suite ran, every verb the role grants must have been used, or be listed here with the
// reason the suite cannot show it.
var grantedButNotExercised = map[string]string{
	"batch/jobs create": "prune Jobs run only with a volumeClaimName and a real volume (unit-tested in logshipping_prune_test.go)",
	"understudy.dev/failovergroups/finalizers update": "needed only where the OwnerReferencesPermissionEnforcement admission plugin runs; envtest does not enable it",
}

// auditEvent is the part of a kube-apiserver audit event this check reads.
type auditEvent struct {
	Verb      string `json:"verb"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
}

// operatorRequests reads the audit log and returns "group/resource[/subresource] verb" for every
// request an operator under test made.
func operatorRequests(path string) map[string]int {
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	used := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev auditEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.ObjectRef == nil || !strings.HasPrefix(ev.UserAgent, envtestutil.OperatorUserAgent) {
			continue
		}
		res := ev.ObjectRef.Resource
		if ev.ObjectRef.Subresource != "" {
			res += "/" + ev.ObjectRef.Subresource
		}
		used[fmt.Sprintf("%s/%s %s", ev.ObjectRef.APIGroup, res, ev.Verb)]++
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	// Informers start with a streaming list (a watch with sendInitialEvents) on servers that support
	// it, and fall back to list on servers that do not: a watch needs list too.
	for k := range used {
		if res, ok := strings.CutSuffix(k, " watch"); ok {
			used[res+" list"]++
		}
	}
	return used
}

// grantedByRole returns "group/resource verb" for every rule of the generated ClusterRole.
func grantedByRole() map[string]bool {
	data, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var role rbacv1.ClusterRole
	Expect(yaml.Unmarshal(data, &role)).To(Succeed())
	granted := map[string]bool{}
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					granted[fmt.Sprintf("%s/%s %s", g, res, v)] = true
				}
			}
		}
	}
	return granted
}

// checkRBACAgainstAudit is called after the suite, before the control plane stops.
func checkRBACAgainstAudit(auditLog string) {
	used := operatorRequests(auditLog)
	Expect(used).NotTo(BeEmpty(), "no operator request in the audit log: is the user agent set?")
	granted := grantedByRole()
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	GinkgoWriter.Printf("RBAC audit: the operators used %d (resource, verb) pairs: %s\n", len(keys), strings.Join(keys, ", "))
	var missing, unused []string
	for k := range used {
		if !granted[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	Expect(missing).To(BeEmpty(), "the operator made requests its ClusterRole does not allow; add the +kubebuilder:rbac markers")
	cfg, _ := GinkgoConfiguration()
	if len(cfg.FocusStrings) > 0 || len(cfg.SkipStrings) > 0 || cfg.LabelFilter != "" || len(cfg.FocusFiles) > 0 {
		return // only the whole suite exercises every code path
	}
	for k := range granted {
		if used[k] == 0 && grantedButNotExercised[k] == "" {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)
	Expect(unused).To(BeEmpty(), "the ClusterRole grants verbs the operator never used in the whole suite: remove them from the +kubebuilder:rbac markers (or list them in grantedButNotExercised with the reason)")
}
