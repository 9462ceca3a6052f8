package envtest_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

var _ = Describe("kubectl get failovergroups", func() {
	wantColumns := []string{"Name", "Active", "Phase", "Healthy", "Failover-To", "Lag", "Failovers", "Last Failover", "Age"}

	It("declares the on-call columns, short name and category in the CRD", func() {
		scheme := newTestScheme()
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		var crd apiextensionsv1.CustomResourceDefinition
		Expect(c.Get(ctx, client.ObjectKey{Name: "failovergroups.understudy.dev"}, &crd)).To(Succeed())
		Expect(crd.Spec.Names.ShortNames).To(ConsistOf("fg"))
		Expect(crd.Spec.Names.Categories).To(ConsistOf("understudy"))
		Expect(crd.Spec.Versions).To(HaveLen(1))
		var names []string
		for _, col := range crd.Spec.Versions[0].AdditionalPrinterColumns {
			names = append(names, col.Name)
		}
		Expect(names).To(Equal(wantColumns[1:]))
	})

	It("serves them as a Table, as kubectl get does, with the status values", func() {
		obj := objectFromYAML(minimalGroup)
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		var group v1alpha1.FailoverGroup
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &group)).To(Succeed())
		group.Status = v1alpha1.FailoverGroupStatus{
			ActiveMember: "a", Phase: v1alpha1.PhaseActive, Healthy: "2/2", Lag: "12s", FailoverCount: 3,
			FailoverReadiness: &v1alpha1.FailoverReadiness{Candidate: "b", Reason: "CandidateReady"},
			LastFailover:      &v1alpha1.FailoverRecord{To: "a", Reason: "Failover", StartedAt: metav1.NowMicro(), CompletedAt: ptrNow()},
		}
		Expect(k8sClient.Status().Update(ctx, &group)).To(Succeed())

		table := getTable("/apis/understudy.dev/v1alpha1/namespaces/default/failovergroups/" + group.Name)
		var names []string
		for _, col := range table.ColumnDefinitions {
			names = append(names, col.Name)
		}
		Expect(names).To(Equal(wantColumns))
		Expect(table.Rows).To(HaveLen(1))
		cells := table.Rows[0].Cells
		Expect(cells[0]).To(Equal(group.Name))
		Expect(cells[1:7]).To(Equal([]any{"a", "Active", "2/2", "b", "12s", float64(3)}))
	})

	It("shows the BackupTarget and RestoreSchedule columns", func() {
		bt := getTable("/apis/understudy.dev/v1alpha1/namespaces/default/backuptargets")
		Expect(columnNames(bt)).To(Equal([]string{"Name", "Path", "URL", "Retention", "Ready", "Age"}))
		rs := getTable("/apis/understudy.dev/v1alpha1/namespaces/default/restoreschedules")
		Expect(columnNames(rs)).To(Equal([]string{"Name", "Group", "Mode", "Interval", "Delay", "Ready", "Last Run"}))
	})
})

func columnNames(t *metav1.Table) []string {
	var names []string
	for _, col := range t.ColumnDefinitions {
		names = append(names, col.Name)
	}
	return names
}

// getTable asks the API server for the server-side printed table, exactly as kubectl get does.
func getTable(path string) *metav1.Table {
	restCfg := rest.CopyConfig(cfg)
	restCfg.GroupVersion = &v1alpha1.GroupVersion
	restCfg.APIPath = "/apis"
	restCfg.NegotiatedSerializer = newTestCodecs()
	rc, err := rest.RESTClientFor(restCfg)
	Expect(err).NotTo(HaveOccurred())
	raw, err := rc.Get().AbsPath(path).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		DoRaw(ctx)
	Expect(err).NotTo(HaveOccurred())
	table := &metav1.Table{}
	Expect(json.Unmarshal(raw, table)).To(Succeed())
	return table
}
