//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// The DNS scenario: a FailoverGroup routed by DNS only (spec.routing.dns), the real ExternalDNS
// (v0.21.0, crd source, rfc2136 provider, TXT registry, --interval=1s) run on this host by
// hack/e2e-dns.sh, and BIND9 from Debian as the authoritative server. It checks that the name
// follows the active member through a failover and disappears with the group, and measures how long a
// name does not resolve when its record changes type (CNAME <-> A), which the operator refuses for
// that reason, with a hand-written DNSEndpoint.

const (
	dnsNamespace   = "e2e-dns"
	dnsHostname    = "web.understudy.test"
	dnsMixedName   = "mixed.understudy.test"
	dnsCNAMETarget = "target.understudy.test" // a static A record in the zone (hack/e2e-dns.sh)
	dnsCNAMEAddr   = "198.51.100.99"          // its address
	dnsMixedAddr   = "198.51.100.20"
	dnsPollEvery   = 10 * time.Millisecond
)

var dnsEndpointGVK = schema.GroupVersionKind{Group: "externaldns.k8s.io", Version: "v1alpha1", Kind: "DNSEndpoint"}

// installDNSEndpointCRD applies ExternalDNS's DNSEndpoint CRD (config/crd/external) before the operator
// starts: the operator watches DNSEndpoints only when the CRD exists at its start. Kept when it exists.
func installDNSEndpointCRD() {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "config", "crd", "external", "dnsendpoints.externaldns.k8s.io.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var crd apiextensionsv1.CustomResourceDefinition
	Expect(yaml.Unmarshal(raw, &crd)).To(Succeed())
	if err := k8sClient.Create(ctx, &crd); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
	Eventually(func(g Gomega) {
		var got apiextensionsv1.CustomResourceDefinition
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: crd.Name}, &got)).To(Succeed())
		established := false
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		g.Expect(established).To(BeTrue(), "CRD %s not Established", crd.Name)
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
}

// dnsEnv is what hack/e2e-dns.sh up printed.
type dnsEnv map[string]string

// startDNS runs hack/e2e-dns.sh up (BIND9 and ExternalDNS, installed or built when missing) and
// registers its teardown, with both logs printed when the spec failed. The spec is skipped, with
// the reason, only when a prerequisite cannot be installed (exit status 3).
func startDNS(ns string) dnsEnv {
	script := filepath.Join(repoRoot, "hack", "e2e-dns.sh")
	run := func(args ...string) ([]byte, []byte, error) {
		cmd := exec.CommandContext(ctx, script, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "E2E_DNS_NAMESPACE="+ns)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.Bytes(), stderr.Bytes(), err
	}
	start := time.Now()
	stdout, stderr, err := run("up")
	fmt.Fprintf(GinkgoWriter, "$ hack/e2e-dns.sh up (%.1fs)\n%s%s", time.Since(start).Seconds(), stderr, stdout)
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			out, _, _ := run("status")
			logs, _, _ := run("logs", "200")
			fmt.Fprintf(os.Stderr, "\n### E2E FAILURE DIAGNOSTICS: DNS (zone contents, named and external-dns logs)\n%s\n%s\n", out, logs)
			if raw, err := exec.CommandContext(ctx, kubectlPath(), "--kubeconfig", kubeconfig, "get", "dnsendpoints", "-A", "-o", "yaml").CombinedOutput(); err == nil {
				fmt.Fprintf(os.Stderr, "--- DNSEndpoints\n%s\n", raw)
			}
		}
		_, errOut, err := run("down")
		Expect(err).NotTo(HaveOccurred(), "hack/e2e-dns.sh down: %s", errOut)
	})
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		reason := "DNS scenario SKIPPED: a prerequisite could not be installed: " + lastLine(stderr)
		record("dnsRouting", map[string]any{"skipped": reason})
		fmt.Fprintln(os.Stderr, "e2e: "+reason)
		Skip(reason)
	}
	Expect(err).NotTo(HaveOccurred(), "hack/e2e-dns.sh up failed:\n%s", stderr)
	env := dnsEnv{"upSeconds": strconv.FormatFloat(time.Since(start).Seconds(), 'f', 1, 64)}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	Expect(env["DNS_SERVER"]).NotTo(BeEmpty(), "hack/e2e-dns.sh up printed no DNS_SERVER:\n%s", stdout)
	return env
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// zoneRecords transfers the zone (TSIG-signed AXFR, as ExternalDNS does) and returns "name type data"
// for every record but the SOA and NS records, and the static ones the script wrote.
func zoneRecords(env dnsEnv) []string {
	host, port, _ := strings.Cut(env["DNS_SERVER"], ":")
	out, err := exec.CommandContext(ctx, "dig", "+noall", "+answer", "-p", port, "@"+host,
		"-y", env["TSIG_ALG"]+":"+env["TSIG_NAME"]+":"+env["TSIG_SECRET"], env["DNS_ZONE"], "AXFR").CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "dig AXFR: %s", out)
	var recs []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || strings.HasPrefix(l, ";") {
			continue
		}
		name, typ, data := strings.TrimSuffix(f[0], "."), f[3], strings.Join(f[4:], " ")
		if typ == "SOA" || typ == "NS" || name == "ns1."+env["DNS_ZONE"] || name == dnsCNAMETarget {
			continue
		}
		recs = append(recs, name+" "+typ+" "+data)
	}
	sort.Strings(recs)
	return recs
}

// dnsGroup is a FailoverGroup over members a and b of app routed by DNS only: hostname -> the active
// member's dnsTarget (its pod IP, so a client that resolves the name reaches the member), TTL 1 s, with
// the timing of config/samples like scenario 1.
func dnsGroup(ns, app string, targets map[string]string) *v1alpha1.FailoverGroup {
	raw := fmt.Sprintf(`{
	  "members": [
	    {"name": "a", "priority": 200, "podSelector": {"matchLabels": {"app": %[1]q, "member": "a"}}, "dnsTarget": %[2]q},
	    {"name": "b", "priority": 100, "podSelector": {"matchLabels": {"app": %[1]q, "member": "b"}}, "dnsTarget": %[3]q}
	  ],
	  "healthCheck": {"tcp": {"port": 8080}, "periodSeconds": 2, "failureThreshold": 3},
	  "failover": {"mode": "Automatic", "failback": "Never", "leaseDurationSeconds": 8},
	  "routing": {"dns": {"hostname": %[4]q, "ttl": 1}}
	}`, app, targets["a"], targets["b"], dnsHostname)
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app}}
	Expect(json.Unmarshal([]byte(raw), &g.Spec)).To(Succeed())
	return g
}

func podIP(ns, app, member string) string {
	var pods corev1.PodList
	Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app": app, "member": member})).To(Succeed())
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.PodIP != "" {
			return p.Status.PodIP
		}
	}
	Fail(fmt.Sprintf("no pod IP for member %s of %s/%s", member, ns, app))
	return ""
}

func conditionTrue(fg *v1alpha1.FailoverGroup, t string) bool {
	c := condition(fg, t)
	return c != nil && c.Status == metav1.ConditionTrue
}

func dnsEndpointExists(ns, name string) bool {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(dnsEndpointGVK)
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
	if apierrors.IsNotFound(err) {
		return false
	}
	Expect(err).NotTo(HaveOccurred())
	return true
}

func runDNSScenario() {
	const ns, app = dnsNamespace, "web"
	scenarioStart := time.Now()
	createNamespace(ns)
	By("starting BIND9 and ExternalDNS (hack/e2e-dns.sh up)")
	env := startDNS(ns)
	server := env["DNS_SERVER"]
	lookup := func(name string, qtype uint16) dnsAnswer {
		a, err := queryDNS(server, name, qtype, time.Second)
		Expect(err).NotTo(HaveOccurred())
		return a
	}
	Expect(zoneRecords(env)).To(BeEmpty(), "the zone is not empty before the scenario")

	By("members a and b, then the group routed by DNS: web.understudy.test -> the active member's pod IP")
	Expect(k8sClient.Create(ctx, memberDeployment(ns, app, "a"))).To(Succeed())
	Expect(k8sClient.Create(ctx, memberDeployment(ns, app, "b"))).To(Succeed())
	waitDeploymentsReady(ns, app+"-a", app+"-b")
	targets := map[string]string{"a": podIP(ns, app, "a"), "b": podIP(ns, app, "b")}
	created := time.Now()
	Expect(k8sClient.Create(ctx, dnsGroup(ns, app, targets))).To(Succeed())
	var firstAnswerAt time.Time
	Eventually(func(g Gomega) {
		a, err := queryDNS(server, dnsHostname, dnsTypeA, time.Second)
		g.Expect(err).NotTo(HaveOccurred())
		if a.first(dnsTypeA) == targets["a"] && firstAnswerAt.IsZero() {
			firstAnswerAt = time.Now()
		}
		g.Expect(a.addresses()).To(Equal([]string{targets["a"]}))
		fg := getGroup(ns, app)
		g.Expect(fg.Status.ActiveMember).To(Equal("a"))
		g.Expect(conditionTrue(fg, "DNSPublished")).To(BeTrue(), "DNSPublished: %+v", condition(fg, "DNSPublished"))
		g.Expect(conditionTrue(fg, "Ready")).To(BeTrue(), "Ready: %+v", condition(fg, "Ready"))
	}).WithTimeout(2*time.Minute).WithPolling(200*time.Millisecond).Should(Succeed(), "the name never pointed at a with the group Ready")
	readyAfter := time.Since(created)
	// ExternalDNS's TXT registry marks the record as its own (owner e2e).
	owner := lookup("a-web.understudy.test", dnsTypeTXT).first(dnsTypeTXT)
	Expect(owner).To(ContainSubstring("external-dns/owner=e2e"))
	Expect(owner).To(ContainSubstring("crd/" + ns + "/" + app))
	// A client that resolves the name reaches the active member.
	Eventually(func() string { m, _ := askMember(targets["a"]); return m }).WithTimeout(30 * time.Second).Should(Equal("a"))

	By("killing the active member a: the name moves to b")
	poller := startDNSPoller(server, dnsHostname, dnsTypeA, dnsPollEvery)
	defer poller.Stop()
	time.Sleep(time.Second)
	t0 := killMember(ns, app, "a")
	statusAt := waitActive(ns, app, "b")
	isB := func(s dnsSample) bool { return s.err == nil && s.answer.first(dnsTypeA) == targets["b"] }
	Eventually(func() bool { return !poller.firstAfter(t0, isB).IsZero() }).
		WithTimeout(time.Minute).WithPolling(50*time.Millisecond).Should(BeTrue(), "%s never resolved to b's %s", dnsHostname, targets["b"])
	dnsAt := poller.firstAfter(t0, isB)
	var publishedAt time.Time
	Eventually(func(g Gomega) {
		fg := getGroup(ns, app)
		g.Expect(conditionTrue(fg, "DNSPublished")).To(BeTrue(), "DNSPublished: %+v", condition(fg, "DNSPublished"))
		g.Expect(conditionTrue(fg, "Ready")).To(BeTrue(), "Ready: %+v", condition(fg, "Ready"))
		publishedAt = time.Now()
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
	time.Sleep(2 * time.Second) // keep asking: a must not come back
	poller.Stop()
	seen := poller.answers(t0)
	var noAddress, failed, aAfterB int
	var bad []string // the first unusable samples, with their time after the kill
	for _, s := range poller.since(t0) {
		switch {
		case s.err != nil:
			failed++
		case len(s.answer.addresses()) == 0:
			noAddress++
		case !s.at.Before(dnsAt) && s.answer.first(dnsTypeA) == targets["a"]:
			aAfterB++
		default:
			continue
		}
		if len(bad) < 10 {
			bad = append(bad, fmt.Sprintf("+%.3fs %s", s.at.Sub(t0).Seconds(), s))
		}
	}
	Expect(noAddress).To(BeZero(), "BIND answered without an address during the failover (A to A; the record must never be withdrawn): %v; all: %v", bad, seen)
	Expect(failed).To(BeZero(), "queries failed (no answer after 3 tries of 500 ms) during the failover: %v; all: %v", bad, seen)
	Expect(aAfterB).To(BeZero(), "the name pointed at a again after b: %v; all: %v", bad, seen)
	Expect(lookup(dnsHostname, dnsTypeA).addresses()).To(Equal([]string{targets["b"]}))
	Eventually(func() string { m, _ := askMember(targets["b"]); return m }).WithTimeout(30 * time.Second).Should(Equal("b"))
	Expect(zoneRecords(env)).To(ConsistOf(
		dnsHostname+" A "+targets["b"],
		HavePrefix("a-web.understudy.test TXT "),
	))

	By("deleting the group: its DNSEndpoint and the records go")
	tDel := time.Now()
	Expect(k8sClient.Delete(ctx, &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app}})).To(Succeed())
	var endpointGoneAt time.Time
	Eventually(func(g Gomega) {
		if endpointGoneAt.IsZero() && !dnsEndpointExists(ns, app) {
			endpointGoneAt = time.Now()
		}
		g.Expect(endpointGoneAt.IsZero()).To(BeFalse(), "DNSEndpoint %s/%s still there", ns, app)
		g.Expect(lookup(dnsHostname, dnsTypeA).Rcode).To(Equal(dnsRcodeNXDomain))
		g.Expect(lookup("a-web.understudy.test", dnsTypeTXT).Rcode).To(Equal(dnsRcodeNXDomain))
	}).WithTimeout(time.Minute).WithPolling(50*time.Millisecond).Should(Succeed(), "the records outlived the group")
	recordsGone := time.Since(tDel)
	Expect(zoneRecords(env)).To(BeEmpty(), "records left in the zone after the group was deleted")
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: app}, &v1alpha1.FailoverGroup{})).NotTo(Succeed())

	By("a name that changes record type (CNAME <-> A, hand-written DNSEndpoint): how long it does not resolve")
	runs := 6
	if v, err := strconv.Atoi(os.Getenv("E2E_DNS_MIXED_RUNS")); err == nil && v > 0 {
		runs = v
	}
	mixed := measureTypeChanges(server, ns, runs)
	Expect(zoneRecords(env)).To(BeEmpty(), "records left in the zone after the DNSEndpoint was deleted")

	setup := fmt.Sprintf("hack/e2e-dns.sh: %s (zone understudy.test, TSIG-signed updates and AXFR) and external-dns %s on the host "+
		"(--source=crd --provider=rfc2136 --registry=txt --policy=sync --interval=%s); DNS asked every 10 ms",
		bindVersion(), externalDNSVersion(env), env["EXTERNAL_DNS_INTERVAL"])
	figures := map[string]any{
		"setup":        setup,
		"timing":       "healthCheck period 2s x failureThreshold 3, leaseDurationSeconds 8 (config/samples); record TTL 1 s",
		"dnsUpSeconds": env["upSeconds"],
		"groupCreatedToReadyWithDNSAnswerSeconds":     round(readyAfter),
		"groupCreatedToFirstDNSAnswerSeconds":         round(firstAnswerAt.Sub(created)),
		"killToStatusActiveMemberStandbySeconds":      round(statusAt.Sub(t0)),
		"killToDNSAnswerStandbySeconds":               round(dnsAt.Sub(t0)),
		"statusActiveMemberToDNSAnswerSeconds":        round(dnsAt.Sub(statusAt)),
		"killToDNSPublishedReadySeconds_100msPolling": round(publishedAt.Sub(t0)),
		"answersDuringFailover":                       seen,
		"answersWithoutAddressDuringFailover":         noAddress,
		"failedQueriesDuringFailover":                 failed,
		"groupDeletedToDNSEndpointGoneSeconds":        round(endpointGoneAt.Sub(tDel)),
		"groupDeletedToNXDOMAINSeconds":               round(recordsGone),
		"recordTypeChange":                            mixed,
		"scenarioSeconds":                             round(time.Since(scenarioStart)),
	}
	record("dnsRouting", figures)
	Expect(dnsAt.Sub(t0)).To(BeNumerically("<", 30*time.Second), "the DNS answer changed too long after the kill")
	Expect(dnsAt.Sub(statusAt)).To(BeNumerically("<", 15*time.Second), "the DNS answer changed too long after status.activeMember")
}

// askMember asks the member server at ip directly (as a client that resolved the name would).
func askMember(ip string) (string, error) { return ask("http://"+ip+":8080/", time.Second) }

func bindVersion() string {
	out, err := exec.Command("named", "-v").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func externalDNSVersion(env dnsEnv) string {
	out, err := exec.Command(env["EXTERNAL_DNS"], "--version").CombinedOutput()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// measureTypeChanges publishes mixed.understudy.test from a DNSEndpoint of its own (no group: the
// operator refuses members that mix hostnames and addresses) and switches its record between CNAME
// and A runs times, asking the server every 10 ms. For each change: the time from the patch to the
// first answer of the new type, and the window in which the name did not resolve (NXDOMAIN) in between.
func measureTypeChanges(server, ns string, runs int) map[string]any {
	const name = "mixed-types"
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(dnsEndpointGVK)
	obj.SetNamespace(ns)
	obj.SetName(name)
	endpoints := func(recordType, target string) []any {
		return []any{map[string]any{"dnsName": dnsMixedName, "recordType": recordType, "recordTTL": int64(1), "targets": []any{target}}}
	}
	Expect(unstructured.SetNestedSlice(obj.Object, endpoints("CNAME", dnsCNAMETarget), "spec", "endpoints")).To(Succeed())
	Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	isType := func(t uint16) func(dnsSample) bool {
		return func(s dnsSample) bool {
			if s.err != nil {
				return false
			}
			if t == dnsTypeCNAME {
				return s.answer.first(dnsTypeCNAME) == dnsCNAMETarget
			}
			return s.answer.first(dnsTypeCNAME) == "" && s.answer.first(dnsTypeA) == dnsMixedAddr
		}
	}
	Eventually(func() bool {
		a, err := queryDNS(server, dnsMixedName, dnsTypeA, time.Second)
		return isType(dnsTypeCNAME)(dnsSample{answer: a, err: err})
	}).WithTimeout(time.Minute).WithPolling(50*time.Millisecond).Should(BeTrue(), "%s never became a CNAME", dnsMixedName)

	type change struct {
		Direction        string   `json:"direction"`
		PatchToNewSec    float64  `json:"patchToNewTypeAnsweredSeconds"`
		NXDomainWindow   float64  `json:"nxdomainWindowSeconds"`
		NXDomainAnswers  int      `json:"nxdomainAnswers"`
		OtherAnswers     []string `json:"answersInOrder"`
		OldTypeAfterGone int      `json:"oldTypeAnswersAfterNew"`
	}
	var changes []change
	current := "CNAME"
	poller := startDNSPoller(server, dnsMixedName, dnsTypeA, dnsPollEvery)
	defer poller.Stop()
	for i := 0; i < runs; i++ {
		// Let ExternalDNS settle (ownership records) and start each change at another point of its 1 s loop.
		time.Sleep(1200*time.Millisecond + time.Duration(i%4)*250*time.Millisecond)
		next, target, newType, oldType := "A", dnsMixedAddr, uint16(dnsTypeA), uint16(dnsTypeCNAME)
		if current == "A" {
			next, target, newType, oldType = "CNAME", dnsCNAMETarget, dnsTypeCNAME, dnsTypeA
		}
		patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"endpoints": endpoints(next, target)}})
		t0 := time.Now()
		Expect(k8sClient.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
		Eventually(func() bool { return !poller.firstAfter(t0, isType(newType)).IsZero() }).
			WithTimeout(time.Minute).WithPolling(20*time.Millisecond).Should(BeTrue(), "%s never became %s", dnsMixedName, next)
		newAt := poller.firstAfter(t0, isType(newType))
		time.Sleep(300 * time.Millisecond)
		c := change{Direction: current + "->" + next, PatchToNewSec: round(newAt.Sub(t0)), OtherAnswers: poller.answers(t0)}
		var firstNX time.Time
		for _, s := range poller.since(t0) {
			switch {
			case s.err == nil && s.answer.Rcode == dnsRcodeNXDomain && s.at.Before(newAt):
				c.NXDomainAnswers++
				if firstNX.IsZero() {
					firstNX = s.at
				}
			case !s.at.Before(newAt) && isType(oldType)(s):
				c.OldTypeAfterGone++
			}
		}
		if !firstNX.IsZero() {
			c.NXDomainWindow = round(newAt.Sub(firstNX))
		}
		changes = append(changes, c)
		fmt.Fprintf(GinkgoWriter, "type change %d: %+v\n", i+1, c)
		current = next
	}
	poller.Stop()

	Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
	Eventually(func(g Gomega) {
		a, err := queryDNS(server, dnsMixedName, dnsTypeA, time.Second)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a.Rcode).To(Equal(dnsRcodeNXDomain))
	}).WithTimeout(time.Minute).WithPolling(50 * time.Millisecond).Should(Succeed())

	stats := func(dir string) map[string]any {
		var ws []float64
		for _, c := range changes {
			if dir == "" || c.Direction == dir {
				ws = append(ws, c.NXDomainWindow)
			}
		}
		return summary(ws)
	}
	for _, c := range changes {
		Expect(c.OldTypeAfterGone).To(BeZero(), "the old record came back: %+v", c)
	}
	return map[string]any{
		"runs":                       len(changes),
		"nxdomainWindowSeconds":      stats(""),
		"nxdomainWindowCNAMEToA":     stats("CNAME->A"),
		"nxdomainWindowAToCNAME":     stats("A->CNAME"),
		"changes":                    changes,
		"pollIntervalMilliseconds":   dnsPollEvery.Milliseconds(),
		"windowIsFirstNXDOMAINToNew": "time from the first NXDOMAIN answer to the first answer of the new type (±10 ms)",
	}
}

// summary is n, min, median and max.
func summary(v []float64) map[string]any {
	if len(v) == 0 {
		return map[string]any{"n": 0}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return map[string]any{"n": len(s), "min": s[0], "median": float64(int(med*1000+0.5)) / 1000, "max": s[len(s)-1]}
}
