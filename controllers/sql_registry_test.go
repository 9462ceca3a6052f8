package controllers_test

import (
	"net"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("SQL Server per-group registry", func() {
	It("forgets a deleted SQL Server group: no pools, Shipper, probe targets or restore times left", func() {
		ns := newNamespace()
		reg := controllers.NewSQLRegistry()
		mgr := startManager(ns, controllers.Options{SQLRegistry: reg})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		createSQLGroup(ns, ds1, ds2)
		key := types.NamespacedName{Namespace: ns, Name: "sales"}
		addr := net.JoinHostPort(ds1.srv.Host(), strconv.Itoa(ds1.srv.Port()))

		// The group is in use: elected, health-checked, shipping logs, its standby restored.
		Eventually(func() string { return activeOf(ns, "sales") }).Should(Equal("ds1"))
		Eventually(func() bool {
			c := meta.FindStatusCondition(getGroup(ns, "sales").Status.Conditions, v1alpha1.ConditionLogShipping)
			return c != nil && c.Status == "True"
		}, 60*time.Second).Should(BeTrue())
		Eventually(func() string { return firstRestoredLSN(ns, "sales", "ds2") }, 60*time.Second).ShouldNot(BeEmpty())
		Expect(reg.Tracked(key)).To(BeTrue())
		_, _, err := reg.Probe(addr)
		Expect(err).NotTo(HaveOccurred())

		Expect(k8sClient.Delete(suiteCtx, getGroup(ns, "sales"))).To(Succeed())
		// Both reconcilers forget the group (at its finalizer and when it is gone); a log-shipping
		// cycle that was running when the group was deleted may touch it once more, before the
		// log-shipping reconciler sees it gone.
		Eventually(reg.Len, 30*time.Second).Should(BeZero())
		Consistently(reg.Len, 3*time.Second).Should(BeZero()) // nothing brings it back
		_, _, err = reg.Probe(addr)
		Expect(err).To(MatchError(ContainSubstring("no SQL Server login known")))
	})
})
