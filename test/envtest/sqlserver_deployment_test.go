package envtest_test

import (
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/test/envtestutil"
)

// The SQL Server deployment sample (config/samples/sqlserver): accepted by the API server, and
// keeping what SQL Server 2022 on Kubernetes needs (docs/sqlserver.md, Set-up on a real cluster).
var _ = Describe("config/samples/sqlserver", func() {
	dir := filepath.Join(envtestutil.RepoRoot(), "config", "samples", "sqlserver")
	load := func(file string) []runtime.Object {
		var out []runtime.Object
		for _, u := range objectsFromFile(filepath.Join(dir, file)) {
			obj, err := k8sClient.Scheme().New(u.GroupVersionKind())
			Expect(err).NotTo(HaveOccurred(), "%s: %s", file, u.GroupVersionKind())
			Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)).To(Succeed(), file)
			out = append(out, obj)
		}
		return out
	}
	statefulSets := func() []*appsv1.StatefulSet {
		var out []*appsv1.StatefulSet
		for _, o := range load("statefulsets.yaml") {
			out = append(out, o.(*appsv1.StatefulSet))
		}
		Expect(out).To(HaveLen(2))
		return out
	}
	sample := func(file string, into any) {
		objs := objectsFromFile(filepath.Join(envtestutil.RepoRoot(), "config", "samples", file))
		Expect(objs).To(HaveLen(1))
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(objs[0].Object, into)).To(Succeed())
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		panic(err)
	}
	for _, path := range files {
		It("accepts "+filepath.Base(path), func() {
			for _, obj := range objectsFromFile(path) {
				obj.SetNamespace("default")
				Expect(k8sClient.Create(ctx, obj.DeepCopy(), dryRunAll)).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
			}
		})
	}

	It("runs SQL Server non-root with fsGroup 10001, Guaranteed QoS of at least 2 GiB, a pinned image and TCP readiness", func() {
		var image string
		for _, ss := range statefulSets() {
			pod := ss.Spec.Template.Spec
			sc := pod.SecurityContext
			Expect(sc).NotTo(BeNil(), ss.Name)
			Expect(sc.FSGroup).To(HaveValue(BeEquivalentTo(10001)), ss.Name)
			Expect(sc.RunAsUser).To(HaveValue(BeEquivalentTo(10001)), ss.Name)
			Expect(sc.RunAsNonRoot).To(HaveValue(BeTrue()), ss.Name)
			Expect(*ss.Spec.Replicas).To(BeEquivalentTo(1), ss.Name)
			Expect(pod.Containers).To(HaveLen(1), ss.Name)
			c := pod.Containers[0]
			Expect(c.Resources.Requests).To(Equal(c.Resources.Limits), "%s: requests = limits", ss.Name)
			Expect(c.Resources.Limits.Memory().Cmp(resource.MustParse("2Gi"))).To(BeNumerically(">=", 0), "%s: memory", ss.Name)
			_, tag, ok := strings.Cut(c.Image, ":")
			Expect(ok && tag != "latest" && !strings.HasSuffix(tag, "-latest")).To(BeTrue(), "%s: image %s is not pinned", ss.Name, c.Image)
			if image == "" {
				image = c.Image
			}
			Expect(c.Image).To(Equal(image), "every member runs the same image")
			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			Expect(env).To(HaveKeyWithValue("ACCEPT_EULA", "Y"))
			Expect(env).To(HaveKey("MSSQL_PID"))
			Expect(c.ReadinessProbe).NotTo(BeNil())
			Expect(c.ReadinessProbe.TCPSocket).NotTo(BeNil(), "%s: readiness must be TCP, not a writability check", ss.Name)
			Expect(c.ReadinessProbe.Exec).To(BeNil())
			Expect(c.LivenessProbe).To(BeNil(), "%s: no liveness probe (a restart during recovery starts it over)", ss.Name)
		}
	})

	It("fits the FailoverGroup and BackupTarget samples: stable names, member pods, the backup volume at the target's path", func() {
		var svc *corev1.Service
		for _, o := range load("services.yaml") {
			svc = o.(*corev1.Service)
		}
		Expect(svc.Spec.ClusterIP).To(Equal(corev1.ClusterIPNone), "a headless Service gives the pods stable names")
		var bt v1alpha1.BackupTarget
		sample("understudy_v1alpha1_backuptarget.yaml", &bt)
		var g v1alpha1.FailoverGroup
		sample("understudy_v1alpha1_failovergroup_sqlserver.yaml", &g)
		podNames := map[string]bool{}
		for _, m := range g.Spec.Members {
			if m.PodSelector != nil {
				podNames[m.PodSelector.MatchLabels["statefulset.kubernetes.io/pod-name"]] = true
			}
		}
		for _, ss := range statefulSets() {
			Expect(ss.Spec.ServiceName).To(Equal(svc.Name), ss.Name)
			Expect(podNames).To(HaveKey(ss.Name+"-0"), "a FailoverGroup member selects pod %s-0", ss.Name)
			for k, v := range svc.Spec.Selector {
				Expect(ss.Spec.Template.Labels).To(HaveKeyWithValue(k, v), ss.Name)
			}
			var mounted bool
			for _, vm := range ss.Spec.Template.Spec.Containers[0].VolumeMounts {
				if vm.MountPath != bt.Spec.Path {
					continue
				}
				for _, v := range ss.Spec.Template.Spec.Volumes {
					if v.Name == vm.Name && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == bt.Spec.VolumeClaimName {
						mounted = true
					}
				}
			}
			Expect(mounted).To(BeTrue(), "%s mounts claim %s at %s", ss.Name, bt.Spec.VolumeClaimName, bt.Spec.Path)
		}
		for _, o := range load("backup-volume.yaml") {
			pvc := o.(*corev1.PersistentVolumeClaim)
			Expect(pvc.Name).To(Equal(bt.Spec.VolumeClaimName))
			Expect(pvc.Spec.AccessModes).To(ContainElement(corev1.ReadWriteMany))
		}
	})
})
