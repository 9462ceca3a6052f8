package chart_test

import (
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// leaderElectionRules are the rules the chart's leader-election Role must grant, no more.
var leaderElectionRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
	{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
}

// expectHardenedPod checks the Deployment's pod and container security settings (the restricted
// Pod Security Standard among them), probes and ports (metrics over HTTPS on 8443).
func expectHardenedPod(dep *appsv1.Deployment) {
	Expect(restrictedViolations(&dep.Spec.Template.ObjectMeta, &dep.Spec.Template.Spec)).To(BeEmpty(),
		"the restricted Pod Security Standard")
	pod := dep.Spec.Template.Spec
	Expect(pod.SecurityContext).NotTo(BeNil())
	Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
	Expect(pod.SecurityContext.SeccompProfile).To(HaveValue(HaveField("Type", corev1.SeccompProfileTypeRuntimeDefault)))

	Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	Expect(c.Name).To(Equal("manager"))
	Expect(c.SecurityContext).NotTo(BeNil())
	Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
	Expect(c.SecurityContext.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
	Expect(c.SecurityContext.Capabilities).NotTo(BeNil())
	Expect(c.SecurityContext.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}))
	Expect(c.SecurityContext.Capabilities.Add).To(BeEmpty())
	Expect(c.SecurityContext.Privileged).To(Or(BeNil(), HaveValue(BeFalse())))

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	Expect(ports).To(Equal(map[string]int32{"metrics": 8443, "probes": 8081}))
	Expect(c.Args).To(ContainElements("--metrics-bind-address=:8443", "--metrics-secure=true", "--health-probe-bind-address=:8081"))
	Expect(c.LivenessProbe).NotTo(BeNil())
	Expect(c.LivenessProbe.HTTPGet).To(HaveValue(And(HaveField("Path", "/healthz"), HaveField("Port", intstr.FromString("probes")))))
	Expect(c.ReadinessProbe).NotTo(BeNil())
	Expect(c.ReadinessProbe.HTTPGet).To(HaveValue(And(HaveField("Path", "/readyz"), HaveField("Port", intstr.FromString("probes")))))

	Expect(c.Resources.Requests).To(HaveKey(corev1.ResourceCPU))
	Expect(c.Resources.Requests).To(HaveKey(corev1.ResourceMemory))
	Expect(c.Resources.Limits).To(HaveKey(corev1.ResourceMemory))
}

var _ = Describe("Helm chart charts/understudy", func() {
	It("ships CRDs byte-identical to config/crd/bases, which the API server accepts", func() {
		chrt := loadChart()
		Expect(chrt.Metadata.APIVersion).To(Equal("v2"))
		Expect(chrt.Metadata.Version).To(Equal("0.1.0"))
		Expect(chrt.Metadata.AppVersion).To(Equal("0.1.0"))

		crdFiles := chartFiles(chrt.Files, "crds/")
		expectSameFiles(crdFiles, dirFiles(filepath.Join(repoRoot, "config", "crd", "bases")), "charts/understudy/crds vs config/crd/bases")
		Expect(chrt.CRDObjects()).To(HaveLen(len(crdFiles)))

		var crds []*unstructured.Unstructured
		for _, c := range chrt.CRDObjects() {
			crds = append(crds, decodeDocs(c.File.Data)...)
		}
		Expect(crds).To(HaveLen(3))
		for _, c := range crds {
			Expect(c.GetKind()).To(Equal("CustomResourceDefinition"))
		}
		dryRunAll(crds)
	})

	It("carries the generated RBAC rules in files/manager-rules.yaml", func() {
		rulesFile := decodeDocs(mustRead(filepath.Join(chartDir(), "files", "manager-rules.yaml")))
		Expect(rulesFile).To(HaveLen(1))
		var inFile rbacv1.ClusterRole
		Expect(unstructuredInto(rulesFile[0].Object, &inFile)).To(Succeed())
		Expect(inFile.Rules).To(Equal(generatedRules()), "run 'make manifests'")
	})

	Context("with default values", func() {
		const ns = "understudy-system"
		var objs []*unstructured.Unstructured

		BeforeEach(func() {
			var notes string
			var err error
			objs, notes, err = renderChart(ns, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(notes).To(ContainSubstring("kubectl apply --server-side -f charts/understudy/crds"))
			Expect(notes).To(ContainSubstring("bind the ClusterRole understudy-metrics-reader"))
		})

		It("renders exactly the expected objects, all accepted by the API server", func() {
			Expect(kindsOf(objs)).To(ConsistOf(
				"ClusterRole//understudy-manager",
				"ClusterRole//understudy-metrics-auth",
				"ClusterRole//understudy-metrics-reader",
				"ClusterRoleBinding//understudy-manager",
				"ClusterRoleBinding//understudy-metrics-auth",
				"Deployment/understudy-system/understudy",
				"NetworkPolicy/understudy-system/understudy",
				"PodDisruptionBudget/understudy-system/understudy",
				"Role/understudy-system/understudy-leader-election",
				"RoleBinding/understudy-system/understudy-leader-election",
				"Service/understudy-system/understudy-metrics",
				"ServiceAccount/understudy-system/understudy",
			))
			checkReferences(objs)
			// In a namespace that enforces the restricted Pod Security Standard: PodSecurity
			// admission warns about a Deployment whose pods it would refuse, and apply fails on it.
			ensureRestrictedNamespace(ns)
			dryRunAll(objs)
		})

		It("runs 2 hardened replicas with leader election, spread across nodes", func() {
			dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
			Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
			expectHardenedPod(dep)

			c := dep.Spec.Template.Spec.Containers[0]
			Expect(c.Image).To(Equal("understudy:0.1.0"))
			Expect(c.ImagePullPolicy).To(Equal(corev1.PullIfNotPresent))
			Expect(c.Args).To(ContainElements("--leader-elect", "--leader-election-namespace="+ns, "--zap-log-level=info",
				"--leader-election-lease-duration=15s", "--leader-election-renew-deadline=10s", "--leader-election-retry-period=2s"))
			Expect(c.Args).NotTo(ContainElement(HavePrefix("--watch-namespaces")))
			Expect(dep.Spec.Template.Spec.ServiceAccountName).To(Equal("understudy"))
			Expect(dep.Spec.Template.Spec.PriorityClassName).To(BeEmpty())

			spread := dep.Spec.Template.Spec.TopologySpreadConstraints
			Expect(spread).To(HaveLen(1))
			Expect(spread[0].TopologyKey).To(Equal(corev1.LabelHostname))
			Expect(spread[0].WhenUnsatisfiable).To(Equal(corev1.ScheduleAnyway))
			Expect(spread[0].LabelSelector.MatchLabels).To(Equal(dep.Spec.Selector.MatchLabels))
			Expect(isSubset(dep.Spec.Selector.MatchLabels, dep.Spec.Template.Labels)).To(BeTrue())
		})

		It("grants the generated rules cluster-wide and leader election in its own namespace only", func() {
			cr := typed(find(objs, "ClusterRole", "", "understudy-manager"), &rbacv1.ClusterRole{})
			Expect(cr.Rules).To(Equal(generatedRules()))
			crb := typed(find(objs, "ClusterRoleBinding", "", "understudy-manager"), &rbacv1.ClusterRoleBinding{})
			Expect(crb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name}))
			Expect(crb.Subjects).To(Equal([]rbacv1.Subject{{Kind: "ServiceAccount", Name: "understudy", Namespace: ns}}))

			role := typed(single(objs, "Role"), &rbacv1.Role{})
			Expect(role.Namespace).To(Equal(ns))
			Expect(role.Rules).To(Equal(leaderElectionRules))

			// Metrics authentication: TokenReviews and SubjectAccessReviews, nothing else.
			expectMetricsRBAC(objs, ns)
		})

		It("keeps one replica up during disruptions and exposes metrics", func() {
			dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
			pdb := typed(single(objs, "PodDisruptionBudget"), &policyv1.PodDisruptionBudget{})
			Expect(pdb.Spec.MinAvailable).To(HaveValue(Equal(intstr.FromInt32(1))))
			Expect(pdb.Spec.Selector.MatchLabels).To(Equal(dep.Spec.Selector.MatchLabels))

			svc := typed(single(objs, "Service"), &corev1.Service{})
			Expect(svc.Spec.Ports).To(HaveLen(1))
			Expect(svc.Spec.Ports[0].Name).To(Equal("metrics"))
			Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(8443))
			Expect(svc.Spec.Ports[0].TargetPort).To(Equal(intstr.FromString("metrics")))
			Expect(ofKind(objs, "ServiceMonitor")).To(BeEmpty())
		})
	})

	Context("with one replica, no leader election and custom scheduling", func() {
		It("renders no PodDisruptionBudget nor --leader-elect, and passes scheduling values through", func() {
			objs, _, err := renderChart("understudy-single", map[string]any{
				"replicaCount":      1,
				"leaderElection":    map[string]any{"enabled": false},
				"priorityClassName": "system-cluster-critical",
				"nodeSelector":      map[string]any{"kubernetes.io/os": "linux"},
				"tolerations":       []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}},
				"affinity": map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{
					"nodeSelectorTerms": []any{map[string]any{"matchExpressions": []any{map[string]any{"key": "kubernetes.io/arch", "operator": "In", "values": []any{"amd64"}}}}},
				}}},
				"spreadAcrossNodes": false,
				"image":             map[string]any{"repository": "registry.example.com/understudy", "tag": "v9.9.9", "pullPolicy": "Always"},
				"extraArgs":         []any{"--zap-encoder=console"},
				"logLevel":          2,
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(ofKind(objs, "PodDisruptionBudget")).To(BeEmpty())
			dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
			Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))
			spec := dep.Spec.Template.Spec
			Expect(spec.Containers[0].Args).NotTo(ContainElement("--leader-elect"))
			Expect(spec.Containers[0].Args).To(ContainElements("--zap-encoder=console", "--zap-log-level=2"))
			Expect(spec.Containers[0].Image).To(Equal("registry.example.com/understudy:v9.9.9"))
			Expect(spec.Containers[0].ImagePullPolicy).To(Equal(corev1.PullAlways))
			Expect(spec.PriorityClassName).To(Equal("system-cluster-critical"))
			Expect(spec.NodeSelector).To(Equal(map[string]string{"kubernetes.io/os": "linux"}))
			Expect(spec.Tolerations).To(HaveLen(1))
			Expect(spec.Affinity).NotTo(BeNil())
			Expect(spec.Affinity.NodeAffinity).NotTo(BeNil())
			Expect(spec.TopologySpreadConstraints).To(BeEmpty())
			expectHardenedPod(dep)
			// system-cluster-critical exists in every cluster (and in envtest); the API server
			// checks it.
			dryRunAll(objs)
		})
	})

	Context("in namespaced mode (watchNamespaces: [team-a, team-b])", func() {
		const ns = "understudy-ns"
		var objs []*unstructured.Unstructured

		BeforeEach(func() {
			var err error
			objs, _, err = renderChart(ns, map[string]any{"watchNamespaces": []any{"team-a", "team-b"}})
			Expect(err).NotTo(HaveOccurred())
		})

		It("renders a Role and RoleBinding in each watched namespace and, cluster-wide, only metrics authentication", func() {
			Expect(kindsOf(ofKind(objs, "ClusterRole"))).To(ConsistOf("ClusterRole//understudy-metrics-auth", "ClusterRole//understudy-metrics-reader"))
			Expect(kindsOf(ofKind(objs, "ClusterRoleBinding"))).To(ConsistOf("ClusterRoleBinding//understudy-metrics-auth"))
			expectMetricsRBAC(objs, ns)
			for _, o := range objs {
				if o.GetLabels()["app.kubernetes.io/component"] == "metrics" && strings.HasPrefix(o.GetKind(), "Cluster") {
					continue
				}
				Expect(o.GetNamespace()).NotTo(BeEmpty(), "cluster-scoped object %s in namespaced mode", objectKey(o))
			}
			Expect(kindsOf(ofKind(objs, "Role"))).To(ConsistOf(
				"Role/team-a/understudy-manager",
				"Role/team-b/understudy-manager",
				"Role/understudy-ns/understudy-leader-election",
			))
			for _, watched := range []string{"team-a", "team-b"} {
				role := typed(find(objs, "Role", watched, "understudy-manager"), &rbacv1.Role{})
				Expect(role.Rules).To(Equal(generatedRules()))
				rb := typed(find(objs, "RoleBinding", watched, "understudy-manager"), &rbacv1.RoleBinding{})
				Expect(rb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "understudy-manager"}))
				Expect(rb.Subjects).To(Equal([]rbacv1.Subject{{Kind: "ServiceAccount", Name: "understudy", Namespace: ns}}))
			}
			leader := typed(find(objs, "Role", ns, "understudy-leader-election"), &rbacv1.Role{})
			Expect(leader.Rules).To(Equal(leaderElectionRules))

			dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
			Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElements("--watch-namespaces=team-a,team-b", "--leader-elect"))
			checkReferences(objs)
			dryRunAll(objs)
		})

		It("has no cluster-wide object at all with metrics.secure=false (plain HTTP metrics)", func() {
			objs, _, err := renderChart(ns, map[string]any{"watchNamespaces": []any{"team-a", "team-b"}, "metrics": map[string]any{"secure": false}})
			Expect(err).NotTo(HaveOccurred())
			for _, o := range objs {
				Expect(o.GetNamespace()).NotTo(BeEmpty(), "cluster-scoped object %s in namespaced mode", objectKey(o))
			}
			c := typed(single(objs, "Deployment"), &appsv1.Deployment{}).Spec.Template.Spec.Containers[0]
			Expect(c.Args).To(ContainElements("--metrics-bind-address=:8080", "--metrics-secure=false"))
			Expect(c.Ports).To(ContainElement(And(HaveField("Name", "metrics"), HaveField("ContainerPort", BeEquivalentTo(8080)))))
			dryRunAll(objs)
		})

		It("lets the operator act in the watched namespaces only (SubjectAccessReview)", func() {
			// Apply the ServiceAccount and RBAC for real, then ask the API server's RBAC authorizer.
			for _, o := range objs {
				switch o.GetKind() {
				case "ServiceAccount", "Role", "RoleBinding":
					ensureNamespace(o.GetNamespace())
					Expect(apply(o, false)).To(Succeed())
				case "ClusterRole", "ClusterRoleBinding":
					Expect(apply(o, false)).To(Succeed())
				}
			}
			user := "system:serviceaccount:" + ns + ":understudy"
			can := func(namespace, verb, group, resource string) bool {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User:   user,
					Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: namespace, Verb: verb, Group: group, Resource: resource,
					},
				}}
				Expect(k8sClient.Create(ctx, sar)).To(Succeed())
				return sar.Status.Allowed
			}
			for _, watched := range []string{"team-a", "team-b"} {
				Expect(can(watched, "list", "understudy.dev", "failovergroups")).To(BeTrue(), watched)
				Expect(can(watched, "patch", "understudy.dev", "failovergroups/status")).To(BeTrue(), watched) // server-side apply
				Expect(can(watched, "patch", "", "services")).To(BeTrue(), watched)
			}
			Expect(can("team-c", "list", "understudy.dev", "failovergroups")).To(BeFalse(), "an unwatched namespace")
			Expect(can("", "list", "understudy.dev", "failovergroups")).To(BeFalse(), "all namespaces")
			Expect(can("", "list", "", "pods")).To(BeFalse(), "all namespaces")
			Expect(can(ns, "update", "coordination.k8s.io", "leases")).To(BeTrue(), "leader election Lease")
			Expect(can(ns, "create", "", "events")).To(BeTrue(), "leader election events")
			Expect(can(ns, "list", "understudy.dev", "failovergroups")).To(BeFalse(), "the release namespace is not watched")
			Expect(can("team-a", "delete", "", "secrets")).To(BeFalse())
			Expect(can("", "create", "authentication.k8s.io", "tokenreviews")).To(BeTrue(), "metrics authentication")
			Expect(can("", "create", "authorization.k8s.io", "subjectaccessreviews")).To(BeTrue(), "metrics authorization")
			Expect(can("", "list", "authentication.k8s.io", "tokenreviews")).To(BeFalse())
		})
	})

	Context("with serviceMonitor.enabled", func() {
		It("renders a ServiceMonitor for the metrics Service that prometheus-operator's CRD accepts", func() {
			const ns = "understudy-monitoring"
			objs, _, err := renderChart(ns, map[string]any{"serviceMonitor": map[string]any{
				"enabled": true, "interval": "15s", "scrapeTimeout": "10s", "labels": map[string]any{"release": "prometheus"},
			}})
			Expect(err).NotTo(HaveOccurred())
			sm := single(objs, "ServiceMonitor")
			Expect(sm.GetAPIVersion()).To(Equal("monitoring.coreos.com/v1"))
			Expect(sm.GetNamespace()).To(Equal(ns))
			Expect(sm.GetLabels()).To(HaveKeyWithValue("release", "prometheus"))

			svc := typed(single(objs, "Service"), &corev1.Service{})
			selector, found, err := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue())
			Expect(isSubset(selector, svc.Labels)).To(BeTrue(), "ServiceMonitor selects the metrics Service")
			// The ServiceMonitor must not also select other Services of the release (none today, but
			// the component label keeps it precise).
			Expect(selector).To(HaveKeyWithValue("app.kubernetes.io/component", "metrics"))
			endpoints, _, err := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			Expect(err).NotTo(HaveOccurred())
			Expect(endpoints).To(ConsistOf(And(
				HaveKeyWithValue("port", svc.Spec.Ports[0].Name),
				HaveKeyWithValue("path", "/metrics"),
				HaveKeyWithValue("interval", "15s"),
				HaveKeyWithValue("scrapeTimeout", "10s"),
				// HTTPS with Prometheus' own ServiceAccount token; the self-signed certificate is
				// not verified.
				HaveKeyWithValue("scheme", "https"),
				HaveKeyWithValue("bearerTokenFile", "/var/run/secrets/kubernetes.io/serviceaccount/token"),
				HaveKeyWithValue("tlsConfig", map[string]any{"insecureSkipVerify": true}),
				Not(HaveKey("authorization")),
			)))
			checkReferences(objs)
			dryRunAll(objs)
		})

		It("sends a token from a Secret and verifies a given CA", func() {
			const ns = "understudy-monitoring"
			objs, _, err := renderChart(ns, map[string]any{
				"metrics": map[string]any{"certSecret": "understudy-metrics-cert"},
				"serviceMonitor": map[string]any{
					"enabled":     true,
					"tokenSecret": map[string]any{"name": "prometheus-token"},
					"tlsConfig":   map[string]any{"ca": map[string]any{"secret": map[string]any{"name": "understudy-metrics-cert", "key": "ca.crt"}}},
				},
			})
			Expect(err).NotTo(HaveOccurred())
			endpoints, _, err := unstructured.NestedSlice(single(objs, "ServiceMonitor").Object, "spec", "endpoints")
			Expect(err).NotTo(HaveOccurred())
			Expect(endpoints).To(ConsistOf(And(
				HaveKeyWithValue("scheme", "https"),
				HaveKeyWithValue("authorization", map[string]any{"type": "Bearer", "credentials": map[string]any{"name": "prometheus-token", "key": "token"}}),
				Not(HaveKey("bearerTokenFile")),
				HaveKeyWithValue("tlsConfig", map[string]any{
					"ca":         map[string]any{"secret": map[string]any{"name": "understudy-metrics-cert", "key": "ca.crt"}},
					"serverName": "understudy-metrics." + ns + ".svc",
				}),
			)))
			dryRunAll(objs)
		})

		It("scrapes plain HTTP without a token with metrics.secure=false", func() {
			objs, _, err := renderChart("understudy-monitoring", map[string]any{
				"metrics": map[string]any{"secure": false}, "serviceMonitor": map[string]any{"enabled": true},
			})
			Expect(err).NotTo(HaveOccurred())
			endpoints, _, err := unstructured.NestedSlice(single(objs, "ServiceMonitor").Object, "spec", "endpoints")
			Expect(err).NotTo(HaveOccurred())
			Expect(endpoints).To(ConsistOf(And(HaveKeyWithValue("scheme", "http"), Not(HaveKey("tlsConfig")),
				Not(HaveKey("bearerTokenFile")), Not(HaveKey("authorization")))))
			for _, o := range objs {
				Expect(o.GetName()).NotTo(ContainSubstring("metrics-auth"), "metrics RBAC without metrics.secure")
				Expect(o.GetName()).NotTo(ContainSubstring("metrics-reader"), "metrics RBAC without metrics.secure")
			}
			dryRunAll(objs)
		})

		It("refuses a CA with the self-signed certificate", func() {
			_, _, err := renderChart("understudy-monitoring", map[string]any{"serviceMonitor": map[string]any{
				"enabled": true, "tlsConfig": map[string]any{"ca": map[string]any{"configMap": map[string]any{"name": "ca", "key": "ca.crt"}}},
			}})
			Expect(err).To(MatchError(ContainSubstring("serviceMonitor.tlsConfig.ca needs metrics.certSecret")))
		})

		It("refuses a ServiceMonitor without the metrics Service", func() {
			_, _, err := renderChart("understudy-monitoring", map[string]any{
				"serviceMonitor": map[string]any{"enabled": true},
				"metrics":        map[string]any{"service": map[string]any{"enabled": false}},
			})
			Expect(err).To(MatchError(ContainSubstring("serviceMonitor.enabled needs metrics.service.enabled")))
		})
	})

	DescribeTable("refuses values that break values.schema.json",
		func(values map[string]any, want string) {
			_, _, err := renderChart("understudy-typo", values)
			Expect(err).To(MatchError(ContainSubstring("values don't meet the specifications of the schema")))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a misspelt top-level key", map[string]any{"replicaCont": 3}, "replicaCont"),
		Entry("an unknown top-level key", map[string]any{"leaderElect": true}, "leaderElect"),
		Entry("a misspelt nested key", map[string]any{"image": map[string]any{"tg": "v1"}}, "tg"),
		Entry("a misspelt serviceMonitor key", map[string]any{"serviceMonitor": map[string]any{"enable": true}}, "enable"),
		Entry("a misspelt resources key", map[string]any{"resources": map[string]any{"limit": map[string]any{"cpu": "1"}}}, "limit"),
		Entry("replicaCount of the wrong type", map[string]any{"replicaCount": "two"}, "replicaCount"),
		Entry("watchNamespaces as a string", map[string]any{"watchNamespaces": "a,b"}, "watchNamespaces"),
		Entry("an invalid namespace name", map[string]any{"watchNamespaces": []any{"Team_A"}}, "watchNamespaces"),
		Entry("an unknown pull policy", map[string]any{"image": map[string]any{"pullPolicy": "Sometimes"}}, "pullPolicy"),
		Entry("an unknown log level", map[string]any{"logLevel": "verbose"}, "logLevel"),
		Entry("a leader election duration without a unit", map[string]any{"leaderElection": map[string]any{"leaseDuration": "15"}}, "leaseDuration"),
		Entry("metrics.secure as a string", map[string]any{"metrics": map[string]any{"secure": "yes"}}, "secure"),
		Entry("a misspelt metrics key", map[string]any{"metrics": map[string]any{"secur": false}}, "secur"),
		Entry("a reader subject without a name", map[string]any{"metrics": map[string]any{"reader": map[string]any{"subjects": []any{map[string]any{"kind": "ServiceAccount"}}}}}, "name"),
		Entry("a CA that is neither a Secret nor a ConfigMap", map[string]any{"serviceMonitor": map[string]any{"tlsConfig": map[string]any{"ca": map[string]any{"file": "/ca.crt"}}}}, "file"),
		Entry("a misspelt networkPolicy key", map[string]any{"networkPolicy": map[string]any{"enable": false}}, "enable"),
		Entry("a misspelt egress key", map[string]any{"networkPolicy": map[string]any{"egress": map[string]any{"allowall": false}}}, "allowall"),
		Entry("an API server CIDR that is not one", map[string]any{"networkPolicy": map[string]any{"egress": map[string]any{"apiServer": map[string]any{"cidrs": []any{"kubernetes.default"}}}}}, "cidrs"),
		Entry("a member port out of range", map[string]any{"networkPolicy": map[string]any{"egress": map[string]any{"members": map[string]any{"ports": []any{70000}}}}}, "ports"),
		Entry("a peer with an unknown selector", map[string]any{"networkPolicy": map[string]any{"metricsFrom": []any{map[string]any{"namespaceSelecter": map[string]any{}}}}}, "namespaceSelecter"),
		Entry("a relative local backup root", map[string]any{"localBackupRoots": []any{"backups"}}, "localBackupRoots"),
		Entry("a local backup root with a comma", map[string]any{"localBackupRoots": []any{"/a,/b"}}, "localBackupRoots"),
		Entry("localBackupRoots as a string", map[string]any{"localBackupRoots": "/backups"}, "localBackupRoots"),
		Entry("memberAddresses.allow as a string", map[string]any{"memberAddresses": map[string]any{"allow": "10.0.0.0/8"}}, "allow"),
		Entry("a member address entry with a comma", map[string]any{"memberAddresses": map[string]any{"allow": []any{"10.0.0.0/8,.db.example.com"}}}, "allow"),
		Entry("a misspelt memberAddresses key", map[string]any{"memberAddresses": map[string]any{"allowed": []any{"10.0.0.0/8"}}}, "allowed"),
		Entry("webhooks.allowLocalTargets as a string", map[string]any{"webhooks": map[string]any{"allowLocalTargets": "true"}}, "allowLocalTargets"),
		Entry("an extra volume mount without a path", map[string]any{"extraVolumeMounts": []any{map[string]any{"name": "backups"}}}, "mountPath"),
	)
})

// expectMetricsRBAC checks the metrics authentication RBAC: the operator may create TokenReviews and
// SubjectAccessReviews (the rules of config/rbac/metrics_auth_role.yaml, nothing else), and the
// reader ClusterRole grants get on /metrics only.
func expectMetricsRBAC(objs []*unstructured.Unstructured, ns string) {
	auth := typed(find(objs, "ClusterRole", "", "understudy-metrics-auth"), &rbacv1.ClusterRole{})
	kustomizeAuth := ofKind(decodeDocs(mustRead(filepath.Join(repoRoot, "config", "rbac", "metrics_auth_role.yaml"))), "ClusterRole")
	Expect(kustomizeAuth).To(HaveLen(1))
	Expect(auth.Rules).To(Equal(typed(kustomizeAuth[0], &rbacv1.ClusterRole{}).Rules), "chart vs config/rbac/metrics_auth_role.yaml")
	Expect(auth.Rules).To(Equal([]rbacv1.PolicyRule{
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
	}))
	binding := typed(find(objs, "ClusterRoleBinding", "", "understudy-metrics-auth"), &rbacv1.ClusterRoleBinding{})
	Expect(binding.RoleRef.Name).To(Equal(auth.Name))
	Expect(binding.Subjects).To(Equal([]rbacv1.Subject{{Kind: "ServiceAccount", Name: "understudy", Namespace: ns}}))
	reader := typed(find(objs, "ClusterRole", "", "understudy-metrics-reader"), &rbacv1.ClusterRole{})
	Expect(reader.Rules).To(Equal([]rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}))
	Expect(find(objs, "ClusterRoleBinding", "", "understudy-metrics-reader")).To(BeNil(), "no reader bound by default")
}

// unstructuredInto converts a decoded YAML map into a typed object, refusing unknown fields.
func unstructuredInto(obj map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj, into, true)
}
