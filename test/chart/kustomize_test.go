package chart_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
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
			"ClusterRoleBinding//understudy-manager-rolebinding",
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
		dryRunAll(objs)
	})

	It("runs the same hardened, leader-elected manager as the chart with the generated RBAC", func() {
		dep := typed(single(objs, "Deployment"), &appsv1.Deployment{})
		Expect(dep.Namespace).To(Equal(ns))
		Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
		expectHardenedPod(dep)
		Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--leader-elect"))
		Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal("understudy:dev"))

		cr := typed(single(objs, "ClusterRole"), &rbacv1.ClusterRole{})
		Expect(cr.Rules).To(Equal(generatedRules()))
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
