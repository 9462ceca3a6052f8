//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/test/e2e/memberapi"
)

// ---------------------------------------------------------------------------------------------------
// Objects

func createNamespace(name string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := k8sClient.Create(ctx, ns)
	if err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
	// Pods cannot be created before the namespace's default ServiceAccount exists.
	Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: name, Name: "default"}, &corev1.ServiceAccount{})
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
}

// memberDeployment is one member of a group: one pod of the member server answering its name.
func memberDeployment(ns, app, member string) *appsv1.Deployment {
	labels := map[string]string{"app": app, "member": member}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app + "-" + member, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr(int64(2)),
					Containers: []corev1.Container{{
						Name:            "server",
						Image:           memberImage,
						ImagePullPolicy: pullPolicy,
						Args:            []string{"serve"},
						Env: []corev1.EnvVar{
							{Name: "MEMBER_NAME", Value: member},
							{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
							PeriodSeconds: 1,
						},
						SecurityContext: restrictedContainer(),
					}},
				},
			},
		},
	}
}

// secretEnv is the environment variable name set from key of the Secret secret.
func secretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
}

func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr(true),
		AllowPrivilegeEscalation: ptr(false),
		ReadOnlyRootFilesystem:   ptr(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// webhookReceiver deploys the member server in webhook mode with a ClusterIP Service; it returns the
// Service's base URL (http://<clusterIP>:8080), reachable from the operator's pods and from this host.
func webhookReceiver(ns, secret string) string {
	labels := map[string]string{"app": "webhook-receiver"}
	Expect(k8sClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook"},
		StringData: map[string]string{"hmac-key": secret},
	})).To(Succeed())
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook-receiver", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr(int64(2)),
					Containers: []corev1.Container{{
						Name:            "receiver",
						Image:           memberImage,
						ImagePullPolicy: pullPolicy,
						Args:            []string{"webhook"},
						Env:             []corev1.EnvVar{secretEnv("WEBHOOK_SECRET", "webhook", "hmac-key")},
						Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
							PeriodSeconds: 1,
						},
						SecurityContext: restrictedContainer(),
					}},
				},
			},
		},
	}
	Expect(k8sClient.Create(ctx, dep)).To(Succeed())
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook-receiver"},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	Expect(k8sClient.Create(ctx, svc)).To(Succeed())
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(svc), svc)).To(Succeed())
	Expect(svc.Spec.ClusterIP).NotTo(BeEmpty())
	base := "http://" + svc.Spec.ClusterIP + ":8080"
	Eventually(func() error {
		_, err := fetchDeliveries(base)
		return err
	}).WithTimeout(2*time.Minute).WithPolling(500*time.Millisecond).Should(Succeed(), "webhook receiver not reachable at %s", base)
	return base
}

// Delivery is one webhook request as the receiver recorded it.
type Delivery = memberapi.Delivery

// WebhookEvent is the operator's payload (internal/notify.Event on the wire).
type WebhookEvent struct {
	Group, Namespace, Event, From, To, Reason, Time string
}

func fetchDeliveries(base string) ([]Delivery, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(base + "/deliveries")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("receiver answered %s", resp.Status)
	}
	var out []Delivery
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// group is a generic FailoverGroup over members a (priority 200) and b (priority 100) of app, routed
// by the Service <app>, with the timing of config/samples (probe every 2 s, 3 failures, 8 s Lease).
func group(ns, app, webhookURL string) *v1alpha1.FailoverGroup {
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app}}
	raw := fmt.Sprintf(`{
	  "healthCheck": {"tcp": {"port": 8080}, "periodSeconds": 2, "failureThreshold": 3},
	  "failover": {"mode": "Automatic", "failback": "Never", "leaseDurationSeconds": 8},
	  "routing": {"service": {"name": %q, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
	}`, app)
	// FailoverGroupSpec.UnmarshalJSON replaces the whole spec: the members go in after it.
	Expect(json.Unmarshal([]byte(raw), &g.Spec)).To(Succeed())
	g.Spec.Members = []v1alpha1.Member{
		{Name: "a", Priority: 200, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app, "member": "a"}}},
		{Name: "b", Priority: 100, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app, "member": "b"}}},
	}
	if webhookURL != "" {
		hooks := fmt.Sprintf(`{"webhooks": [{"url": %q, "secretRef": {"name": "webhook", "key": "hmac-key"}, "events": ["Failover", "Switchover", "MemberDown"]}]}`, webhookURL+"/hook")
		Expect(json.Unmarshal([]byte(hooks), &g.Spec.Notifications)).To(Succeed())
	}
	return g
}

func getGroup(ns, name string) *v1alpha1.FailoverGroup {
	var g v1alpha1.FailoverGroup
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &g)).To(Succeed())
	return &g
}

// waitActive waits (up to a minute, polling every 100 ms) until the group's status.activeMember is
// member and returns when that was first seen.
func waitActive(ns, name, member string) time.Time {
	var at time.Time
	Eventually(func() string {
		fg := getGroup(ns, name)
		if fg.Status.ActiveMember == member && at.IsZero() {
			at = time.Now()
		}
		return fg.Status.ActiveMember
	}).WithTimeout(time.Minute).WithPolling(100*time.Millisecond).Should(Equal(member), "status.activeMember never became %s", member)
	return at
}

func condition(g *v1alpha1.FailoverGroup, t string) *metav1.Condition {
	for i := range g.Status.Conditions {
		if g.Status.Conditions[i].Type == t {
			return &g.Status.Conditions[i]
		}
	}
	return nil
}

// setUpGroup creates members a and b of app, the group (with the webhook when given), and waits until
// a is active, the group Ready and the Service answering from a. It returns the Service's URL.
func setUpGroup(ns, app, webhookURL string) string {
	Expect(k8sClient.Create(ctx, memberDeployment(ns, app, "a"))).To(Succeed())
	Expect(k8sClient.Create(ctx, memberDeployment(ns, app, "b"))).To(Succeed())
	waitDeploymentsReady(ns, app+"-a", app+"-b")
	Expect(k8sClient.Create(ctx, group(ns, app, webhookURL))).To(Succeed())
	Eventually(func(g Gomega) {
		fg := getGroup(ns, app)
		g.Expect(fg.Status.ActiveMember).To(Equal("a"))
		c := condition(fg, "Ready")
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(2 * time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
	var svc corev1.Service
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: app}, &svc)).To(Succeed())
	url := "http://" + svc.Spec.ClusterIP + ":80/"
	Eventually(func() string { m, _ := ask(url, time.Second); return m }).
		WithTimeout(time.Minute).WithPolling(200*time.Millisecond).Should(Equal("a"), "Service %s never answered from a", url)
	return url
}

func waitDeploymentsReady(ns string, names ...string) {
	for _, n := range names {
		Eventually(func(g Gomega) {
			var d appsv1.Deployment
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: n}, &d)).To(Succeed())
			g.Expect(d.Status.ReadyReplicas).To(BeNumerically(">=", 1))
		}).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).Should(Succeed(), "deployment %s/%s not ready", ns, n)
	}
}

// killMember deletes the member's Deployment and, at once, its pods (grace period 0), like a crash of
// the member's node or process: the pods disappear instead of draining.
func killMember(ns, app, member string) time.Time {
	t := time.Now()
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app + "-" + member}}
	Expect(k8sClient.Delete(ctx, dep, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	Expect(k8sClient.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns),
		client.MatchingLabels{"app": app, "member": member}, client.GracePeriodSeconds(0))).To(Succeed())
	return t
}

func podsWithRole(ns, app, role string) []string {
	var pods corev1.PodList
	Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app": app, v1alpha1.LabelRole: role})).To(Succeed())
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p.Labels["member"]+"/"+p.Name)
		}
	}
	sort.Strings(out)
	return out
}

func groupEvents(ns, name string) []corev1.Event {
	var evs corev1.EventList
	Expect(k8sClient.List(ctx, &evs, client.InNamespace(ns))).To(Succeed())
	var out []corev1.Event
	for _, e := range evs.Items {
		if e.InvolvedObject.Kind == "FailoverGroup" && e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return eventTime(&out[i]).Before(eventTime(&out[j])) })
	return out
}

func eventReasons(evs []corev1.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason)
	}
	return out
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// leaderIdentity returns the leader election Lease's holder ("<pod>_<uuid>"), "" if none.
func leaderIdentity() string {
	var l coordinationv1.Lease
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: leaderLeaseName}, &l); err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// leaderPod returns the operator pod holding the leader election Lease, "" if none.
func leaderPod() string {
	var l coordinationv1.Lease
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: leaderLeaseName}, &l); err != nil {
		return ""
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return ""
	}
	if l.Spec.RenewTime != nil && l.Spec.LeaseDurationSeconds != nil &&
		time.Since(l.Spec.RenewTime.Time) > time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second {
		return ""
	}
	name, _, _ := strings.Cut(*l.Spec.HolderIdentity, "_")
	return name
}

// ---------------------------------------------------------------------------------------------------
// kubectl

func kubectlPath() string {
	if p := os.Getenv("KUBECTL"); p != "" {
		return p
	}
	if m, _ := filepath.Glob(filepath.Join(repoRoot, "bin", "cluster", "*", "kubectl")); len(m) > 0 {
		return m[0]
	}
	return "kubectl"
}

func kubectl(args ...string) string {
	cmd := exec.CommandContext(ctx, kubectlPath(), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "kubectl %s: %s", strings.Join(args, " "), out)
	fmt.Fprintf(GinkgoWriter, "$ kubectl %s\n%s", strings.Join(args, " "), out)
	return string(out)
}

// ---------------------------------------------------------------------------------------------------
// The client

// ask sends one request through url and returns the member that answered.
func ask(url string, timeout time.Duration) (string, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	line, err := bufio.NewReader(io.LimitReader(resp.Body, 256)).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	member, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	return member, nil
}

type sample struct {
	at     time.Time
	member string // "" on error
}

// Reader sends a request through the routed Service every interval, each on a new connection (as a
// client reconnecting after a failure would), and keeps what answered.
type Reader struct {
	mu      sync.Mutex
	samples []sample
	stop    context.CancelFunc
	done    chan struct{}
}

func startReader(url string, interval, timeout time.Duration) *Reader {
	rctx, stop := context.WithCancel(ctx)
	r := &Reader{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer GinkgoRecover()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			m, _ := ask(url, timeout)
			r.mu.Lock()
			r.samples = append(r.samples, sample{at: time.Now(), member: m})
			r.mu.Unlock()
			select {
			case <-rctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return r
}

func (r *Reader) Stop() { r.stop(); <-r.done }

// firstAfter returns the time of the first answer from member at or after t (zero if none).
func (r *Reader) firstAfter(t time.Time, member string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.samples {
		if !s.at.Before(t) && s.member == member {
			return s.at
		}
	}
	return time.Time{}
}

// ReaderFigures summarises what the client saw around a failure at t0.
type ReaderFigures struct {
	Requests               int            `json:"requests"`
	FailedRequests         int            `json:"failedRequestsAfterKill"`
	LastOldAnswerAfterKill float64        `json:"lastAnswerFromOldActiveAfterKillSeconds"`
	FirstNewAnswer         float64        `json:"firstAnswerFromNewActiveSeconds"`
	OldAnswersAfterNew     int            `json:"answersFromOldActiveAfterNewActive"`
	Answers                map[string]int `json:"answersByMember"`
}

func (r *Reader) figures(t0 time.Time, oldActive, newActive string) ReaderFigures {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := ReaderFigures{Requests: len(r.samples), Answers: map[string]int{}, LastOldAnswerAfterKill: -1, FirstNewAnswer: -1}
	var firstNew time.Time
	for _, s := range r.samples {
		key := s.member
		if key == "" {
			key = "error"
		}
		f.Answers[key]++
		if s.at.Before(t0) {
			continue
		}
		switch s.member {
		case "":
			if firstNew.IsZero() {
				f.FailedRequests++
			}
		case oldActive:
			if firstNew.IsZero() {
				f.LastOldAnswerAfterKill = round(s.at.Sub(t0))
			} else {
				f.OldAnswersAfterNew++
			}
		case newActive:
			if firstNew.IsZero() {
				firstNew = s.at
				f.FirstNewAnswer = round(s.at.Sub(t0))
			}
		}
	}
	return f
}
