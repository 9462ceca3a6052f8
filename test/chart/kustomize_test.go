package chart_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustomizeBuild runs `kustomize build <dir>` with the kustomize library.
func kustomizeBuild(dir string) []*unstructured.Unstructured {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	Expect(err).NotTo(HaveOccurred())
	out, err := resources.AsYaml()
	Expect(err).NotTo(HaveOccurred())
	objs := decodeDocs(out)
	sortObjects(objs)
	return objs
}

var _ = Describe("kustomize install config/default", func() {
	const ns = "understudy-system"
	var objs []*unstructured.Unstructured

	BeforeEach(func() {
		objs = kustomizeBuild(filepath.Join(repoRoot, "config", "default"))
	})

	It("builds to the expected objects, all accepted by the API server", func() {
		Expect(kindsOf(objs)).To(ConsistOf(
			"ClusterRole//understudy-manager-role",
			"ClusterRole//understudy-metrics-auth-role",
			"ClusterRole//understudy-metrics-reader",
			"ClusterRoleBinding//understudy-manager-rolebinding",
			"ClusterRoleBinding//understudy-metrics-auth-rolebinding",
			"CustomResourceDefinition//backuptargets.understudy.dev",
			"CustomResourceDefinition//failovergroups.understudy.dev",
			"CustomResourceDefinition//restoreschedules.understudy.dev",
			"Deployment/understudy-system/understudy-controller-manager",
			"Namespace//understudy-system",
			"Role/understudy-system/understudy-leader-election-role",
			"RoleBinding/understudy-system/understudy-leader-election-rolebinding",
			"Service/understudy-system/understudy-controller-manager-metrics",
			"ServiceAccount/understudy-system/understudy-controller-manager",
		))
		checkReferences(objs)
		// The Namespace enforces the restricted Pod Security Standard (dryRunAll applies it for real
		// first), so a Deployment whose pods it would refuse gets a warning, which apply refuses.
		Expect(typed(single(objs, "Namespace"), &corev1.Namespace{}).Labels).To(And(
			HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"),
			HaveKeyWithValue("pod-security.kubernetes.io/warn", "restricted")))
		dryRunAll(objs)
	})

	It("runs the same hardened, leader-elected manager as the chart with the generated RBAC", func() {
		dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
		Expect(dep.Namespace).To(Equal(ns))
		Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
		expectHardenedPod(dep)
		Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--leader-elect"))
		Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal("understudy:dev"))

		Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElements("--metrics-bind-address=:8443", "--metrics-secure=true"))
		cr := typed(find(objs, "ClusterRole", "", "understudy-manager-role"), &rbacv1.ClusterRole{})
		Expect(cr.Rules).To(Equal(generatedRules()))
		auth := typed(find(objs, "ClusterRoleBinding", "", "understudy-metrics-auth-rolebinding"), &rbacv1.ClusterRoleBinding{})
		Expect(auth.RoleRef.Name).To(Equal("understudy-metrics-auth-role"))
		Expect(auth.Subjects).To(Equal([]rbacv1.Subject{{Kind: "ServiceAccount", Name: "understudy-controller-manager", Namespace: ns}}))
		role := typed(single(objs, "Role"), &rbacv1.Role{})
		Expect(role.Rules).To(Equal(leaderElectionRules))
	})

	It("installs CRDs byte-identical to the chart's", func() {
		chartCRDs := chartFiles(loadChart().Files, "crds/")
		var fromKustomize []*unstructured.Unstructured
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				fromKustomize = append(fromKustomize, o)
			}
		}
		Expect(fromKustomize).To(HaveLen(len(chartCRDs)))
		for _, o := range fromKustomize {
			var fromChart *unstructured.Unstructured
			for _, data := range chartCRDs {
				for _, c := range decodeDocs(data) {
					if c.GetName() == o.GetName() {
						fromChart = c
					}
				}
			}
			Expect(fromChart).NotTo(BeNil(), o.GetName())
			Expect(o.Object).To(Equal(fromChart.Object), o.GetName())
		}
	})
})
