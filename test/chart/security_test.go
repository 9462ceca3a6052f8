package chart_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

var _ = Describe("Helm chart: isolation and least privilege", func() {
	Context("NetworkPolicy", func() {
		It("is on by default: ingress to the metrics and probe ports only, egress open", func() {
			objs, _, err := renderChart("understudy-np", nil)
			Expect(err).NotTo(HaveOccurred())
			np := typed(single(objs, "NetworkPolicy"), &networkingv1.NetworkPolicy{})
			dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
			Expect(np.Spec.PodSelector.MatchLabels).To(Equal(dep.Spec.Selector.MatchLabels))
			Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))

			// Ingress names container ports that exist, from any source.
			containerPorts := map[string]int32{}
			for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
				containerPorts[p.Name] = p.ContainerPort
			}
			var ingressPorts []string
			for _, rule := range np.Spec.Ingress {
				Expect(rule.From).To(BeEmpty())
				Expect(rule.Ports).To(HaveLen(1))
				name := rule.Ports[0].Port.StrVal
				Expect(containerPorts).To(HaveKey(name))
				Expect(rule.Ports[0].Protocol).To(HaveValue(Equal(corev1.ProtocolTCP)))
				ingressPorts = append(ingressPorts, name)
			}
			Expect(ingressPorts).To(ConsistOf("metrics", "probes"))
			Expect(containerPorts).To(Equal(map[string]int32{"metrics": 8443, "probes": 8081}))

			// Members and webhook targets can be anywhere on any port: egress is open.
			Expect(np.Spec.Egress).To(Equal([]networkingv1.NetworkPolicyEgressRule{{}}))
			dryRunAll(objs)
		})

		It("restricts metrics sources and egress when asked", func() {
			monitoring := map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}}}
			objs, _, err := renderChart("understudy-np", map[string]any{"networkPolicy": map[string]any{
				"metricsFrom": []any{monitoring},
				"egress": map[string]any{
					"allowAll":  false,
					"apiServer": map[string]any{"cidrs": []any{"10.96.0.1/32", "172.18.0.2/32"}},
					"members":   map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.20.0.0/16"}}}, "ports": []any{1433}},
					"extra": []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "192.0.2.10/32"}}},
						"ports": []any{map[string]any{"port": 443, "protocol": "TCP"}}}},
				},
			}})
			Expect(err).NotTo(HaveOccurred())
			np := typed(single(objs, "NetworkPolicy"), &networkingv1.NetworkPolicy{})
			Expect(np.Spec.Ingress).To(ConsistOf(
				networkingv1.NetworkPolicyIngressRule{
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptrTo(intstr.FromString("metrics")), Protocol: ptrTo(corev1.ProtocolTCP)}},
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}}}},
				},
				networkingv1.NetworkPolicyIngressRule{
					Ports: []networkingv1.NetworkPolicyPort{{Port: ptrTo(intstr.FromString("probes")), Protocol: ptrTo(corev1.ProtocolTCP)}},
				},
			))
			tcp := func(port int32) networkingv1.NetworkPolicyPort {
				return networkingv1.NetworkPolicyPort{Port: ptrTo(intstr.FromInt32(port)), Protocol: ptrTo(corev1.ProtocolTCP)}
			}
			cidr := func(c string) networkingv1.NetworkPolicyPeer {
				return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}}
			}
			Expect(np.Spec.Egress).To(Equal([]networkingv1.NetworkPolicyEgressRule{
				{Ports: []networkingv1.NetworkPolicyPort{tcp(443), tcp(6443)}, To: []networkingv1.NetworkPolicyPeer{cidr("10.96.0.1/32"), cidr("172.18.0.2/32")}},
				{Ports: []networkingv1.NetworkPolicyPort{{Port: ptrTo(intstr.FromInt32(53)), Protocol: ptrTo(corev1.ProtocolUDP)}, tcp(53)}},
				{To: []networkingv1.NetworkPolicyPeer{cidr("10.20.0.0/16")}, Ports: []networkingv1.NetworkPolicyPort{tcp(1433)}},
				{To: []networkingv1.NetworkPolicyPeer{cidr("192.0.2.10/32")}, Ports: []networkingv1.NetworkPolicyPort{tcp(443)}},
			}))
			dryRunAll(objs)
		})

		It("refuses closed egress without members, and can be turned off", func() {
			_, _, err := renderChart("understudy-np", map[string]any{"networkPolicy": map[string]any{"egress": map[string]any{"allowAll": false}}})
			Expect(err).To(MatchError(ContainSubstring("networkPolicy.egress.allowAll=false needs networkPolicy.egress.members.to")))

			objs, _, err := renderChart("understudy-np", map[string]any{"networkPolicy": map[string]any{"enabled": false}})
			Expect(err).NotTo(HaveOccurred())
			Expect(ofKind(objs, "NetworkPolicy")).To(BeEmpty())
		})
	})

	Context("Pod Security Standard restricted", func() {
		It("is what the API server checks: a pod without a seccomp profile is refused in a restricted namespace", func() {
			const ns = "understudy-pss"
			ensureRestrictedNamespace(ns)
			objs, _, err := renderChart(ns, nil)
			Expect(err).NotTo(HaveOccurred())
			dep := single(objs, "Deployment")
			Expect(apply(dep, true)).To(Succeed())
			// The pod of the Deployment, as a Pod: PodSecurity admission enforces on pods.
			pod := podOf(typed(dep, &appsv1.Deployment{}))
			Expect(apply(pod, true)).To(Succeed())

			// The same chart with the seccomp profile removed (null deletes a default value).
			objs, _, err = renderChart(ns, map[string]any{"podSecurityContext": map[string]any{"seccompProfile": nil}})
			Expect(err).NotTo(HaveOccurred())
			weak := typed(single(objs, "Deployment"), &appsv1.Deployment{})
			Expect(restrictedViolations(&weak.Spec.Template.ObjectMeta, &weak.Spec.Template.Spec)).To(ConsistOf(HavePrefix("seccompProfile")))
			Expect(apply(single(objs, "Deployment"), true)).To(MatchError(ContainSubstring(`violate PodSecurity "restricted:latest"`)))
			Expect(apply(podOf(weak), true)).To(MatchError(ContainSubstring("forbidden")))
		})
	})

	Context("operator flags", func() {
		It("passes local backup roots, member address rules and webhook local targets", func() {
			objs, _, err := renderChart("understudy-flags", map[string]any{
				"localBackupRoots":  []any{"/var/opt/mssql/backup", "/mnt/more"},
				"memberAddresses":   map[string]any{"allow": []any{"10.20.0.0/16", ".db.example.com"}},
				"webhooks":          map[string]any{"allowLocalTargets": true},
				"extraVolumes":      []any{map[string]any{"name": "backups", "persistentVolumeClaim": map[string]any{"claimName": "mssql-backups"}}},
				"extraVolumeMounts": []any{map[string]any{"name": "backups", "mountPath": "/var/opt/mssql/backup"}},
				"metrics":           map[string]any{"certSecret": "understudy-metrics-cert"},
			})
			Expect(err).NotTo(HaveOccurred())
			dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
			spec := dep.Spec.Template.Spec
			Expect(spec.Containers[0].Args).To(ContainElements(
				"--local-backup-root=/var/opt/mssql/backup,/mnt/more",
				"--member-address-allow=10.20.0.0/16,.db.example.com",
				"--webhook-allow-local-targets",
				"--metrics-cert-dir=/etc/understudy/metrics-certs",
			))
			Expect(spec.Containers[0].VolumeMounts).To(ConsistOf(
				corev1.VolumeMount{Name: "metrics-certs", MountPath: "/etc/understudy/metrics-certs", ReadOnly: true},
				corev1.VolumeMount{Name: "backups", MountPath: "/var/opt/mssql/backup"},
			))
			Expect(spec.Volumes).To(HaveLen(2))
			Expect(spec.Volumes[0].Secret).To(HaveValue(HaveField("SecretName", "understudy-metrics-cert")))
			Expect(spec.Volumes[1].PersistentVolumeClaim).To(HaveValue(HaveField("ClaimName", "mssql-backups")))
			// Still restricted: PVC and Secret volumes are allowed.
			expectHardenedPod(dep)
			dryRunAll(objs)
		})

		It("passes none of them by default", func() {
			objs, _, err := renderChart("understudy-flags", nil)
			Expect(err).NotTo(HaveOccurred())
			spec := typed(single(objs, "Deployment"), &appsv1.Deployment{}).Spec.Template.Spec
			for _, prefix := range []string{"--local-backup-root", "--member-address-allow", "--webhook-allow-local-targets", "--metrics-cert-dir"} {
				Expect(spec.Containers[0].Args).NotTo(ContainElement(HavePrefix(prefix)))
			}
			Expect(spec.Volumes).To(BeEmpty())
			Expect(spec.Containers[0].VolumeMounts).To(BeEmpty())
		})
	})

	Context("metrics over HTTPS with authentication and authorization", func() {
		const ns = "understudy-metrics"

		// The chart's RBAC, applied for real, is what lets the operator check scrapers' tokens and a
		// bound scraper read /metrics; controller-runtime's filter (the one main.go installs with
		// --metrics-secure) asks the API server.
		It("serves /metrics to a token bound to the metrics-reader ClusterRole only", func() {
			objs, _, err := renderChart(ns, map[string]any{"metrics": map[string]any{"reader": map[string]any{
				"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "prometheus", "namespace": ns}},
			}}})
			Expect(err).NotTo(HaveOccurred())
			ensureNamespace(ns)
			for _, o := range objs {
				if o.GetKind() == "ServiceAccount" || (strings.HasPrefix(o.GetKind(), "ClusterRole") && strings.Contains(o.GetName(), "-metrics-")) {
					Expect(apply(o, false)).To(Succeed())
				}
			}
			clientset, err := kubernetes.NewForConfigAndClient(cfg, httpClient)
			Expect(err).NotTo(HaveOccurred())
			for _, name := range []string{"prometheus", "nobody"} {
				_, err := clientset.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred())
			}
			token := func(sa string) string {
				tr, err := clientset.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa,
					&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(600))}}, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred())
				return tr.Status.Token
			}

			// serve starts a secure metrics server whose reviews are made as ServiceAccount sa.
			serve := func(sa string) string {
				conf := rest.AnonymousClientConfig(cfg)
				conf.BearerToken = token(sa)
				hc, err := rest.HTTPClientFor(conf)
				Expect(err).NotTo(HaveOccurred())
				srv, err := metricsserver.NewServer(metricsserver.Options{BindAddress: "127.0.0.1:0", SecureServing: true,
					FilterProvider: filters.WithAuthenticationAndAuthorization}, conf, hc)
				Expect(err).NotTo(HaveOccurred())
				go func() {
					defer GinkgoRecover()
					Expect(srv.Start(ctx)).To(Succeed())
				}()
				var addr string
				Eventually(func() string {
					addr = srv.(interface{ GetBindAddr() string }).GetBindAddr()
					return addr
				}).WithTimeout(10 * time.Second).ShouldNot(BeEmpty())
				return "https://" + addr + "/metrics"
			}
			scraper := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the self-signed certificate
			}}
			scrape := func(url, tok string) int {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				Expect(err).NotTo(HaveOccurred())
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				resp, err := scraper.Do(req)
				Expect(err).NotTo(HaveOccurred())
				_ = resp.Body.Close()
				return resp.StatusCode
			}

			url := serve("understudy") // the chart's ServiceAccount, bound to <fullname>-metrics-auth
			prometheus, nobody := token("prometheus"), token("nobody")
			// RBAC bindings reach the API server's authorizer within moments.
			Eventually(func() int { return scrape(url, prometheus) }).WithTimeout(20*time.Second).WithPolling(250*time.Millisecond).
				Should(Equal(http.StatusOK), "a ServiceAccount bound by metrics.reader.subjects")
			Expect(scrape(url, "")).To(Equal(http.StatusUnauthorized), "no token")
			// controller-runtime answers a token the API server refuses with 500 ("invalid bearer token").
			Expect(scrape(url, "not-a-token")).To(BeElementOf(http.StatusUnauthorized, http.StatusInternalServerError), "a token the API server does not know")
			Expect(scrape(url, nobody)).To(Equal(http.StatusForbidden), "a ServiceAccount without the metrics-reader ClusterRole")

			// Plain HTTP is not served on the HTTPS port.
			plain, err := http.Get(strings.Replace(url, "https://", "http://", 1))
			if err == nil {
				Expect(plain.StatusCode).To(Equal(http.StatusBadRequest))
				_ = plain.Body.Close()
			}

			// Without the metrics-auth ClusterRole the operator cannot check any token: nobody reads.
			unbound := serve("nobody")
			Consistently(func() int { return scrape(unbound, prometheus) }).WithTimeout(2 * time.Second).WithPolling(500 * time.Millisecond).
				Should(BeNumerically(">=", 400))
		})
	})
})

// podOf is a Deployment's pod template as a Pod in the Deployment's namespace.
func podOf(dep *appsv1.Deployment) *unstructured.Unstructured {
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: dep.Namespace, Name: dep.Name + "-pod", Labels: dep.Spec.Template.Labels},
		Spec:       *dep.Spec.Template.Spec.DeepCopy(),
	}
	u, err := runtimeToUnstructured(pod)
	Expect(err).NotTo(HaveOccurred())
	return u
}

func runtimeToUnstructured(obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "status")
	return &unstructured.Unstructured{Object: m}, nil
}
