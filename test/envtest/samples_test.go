package envtest_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/understudy-dev/understudy/test/envtestutil"
)

var _ = Describe("config/samples", func() {
	samples, err := filepath.Glob(filepath.Join(envtestutil.RepoRoot(), "config", "samples", "understudy_*.yaml"))
	if err != nil {
		panic(err)
	}

	It("has one sample of each kind, and a TCP and a SQL Server group", func() {
		Expect(samples).To(HaveLen(4))
	})

	for _, path := range samples {
		It("accepts "+filepath.Base(path), func() {
			objs := objectsFromFile(path)
			Expect(objs).NotTo(BeEmpty())
			for _, obj := range objs {
				obj.SetNamespace("default")
				Expect(k8sClient.Create(ctx, obj.DeepCopy(), dryRunAll)).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
			}
		})
	}
})
