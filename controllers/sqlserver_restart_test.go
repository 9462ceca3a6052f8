package controllers_test

import (
	"errors"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Operator restarted in the middle of a SQL Server switchover (against mssqlsim)", func() {
	DescribeTable("the next operator finishes it with zero rows lost",
		func(crashAfter v1alpha1.FailoverStep) {
			ns := newNamespace()
			var crashed, armed atomic.Bool
			var firstRef atomic.Pointer[runningManager]
			first := startManager(ns, controllers.Options{AfterStep: func(_ string, step v1alpha1.FailoverStep) error {
				if step == crashAfter && armed.Load() && !crashed.Load() {
					crashed.Store(true)
					firstRef.Load().stop()
					return errors.New("simulated crash")
				}
				return nil
			}})
			firstRef.Store(first)
			stopped := false
			DeferCleanup(func() {
				if !stopped {
					first.Stop()
				}
			})
			ds1, ds2 := startSim("DS1"), startSim("DS2")
			createSQLGroup(ns, ds1, ds2)
			sales1, sales2 := ds1.db("Sales"), ds2.db("Sales")
			for i := 0; i < 200; i++ {
				_, err := sales1.Exec("INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", i, "before switchover")
				Expect(err).NotTo(HaveOccurred())
			}
			// ds2 must be a restored standby before it can take over.
			Eventually(func() (int, error) { return countRows(sales2) }, 60*time.Second, time.Second).Should(BeNumerically(">", 0))
			Eventually(func() bool { return memberHealthy(ns, "sales", "ds2") }).Should(BeTrue())
			want, err := countRows(sales1)
			Expect(err).NotTo(HaveOccurred())

			armed.Store(true)
			updateGroup(ns, "sales", func(g *v1alpha1.FailoverGroup) {
				g.Annotations = map[string]string{v1alpha1.AnnotationSwitchoverTo: "ds2"}
			})
			Eventually(crashed.Load, 30*time.Second).Should(BeTrue())
			first.Stop()
			stopped = true
			Expect(getGroup(ns, "sales").Status.InProgress).NotTo(BeNil())
			Expect(getGroup(ns, "sales").Status.InProgress.Step).To(Equal(crashAfter))

			second := startManager(ns, controllers.Options{})
			DeferCleanup(second.Stop)
			Eventually(func() string { return getGroup(ns, "sales").Status.LastFailover.Reason }, 60*time.Second).Should(Equal("Switchover"))
			Expect(activeOf(ns, "sales")).To(Equal("ds2"))
			Eventually(func() (int, error) { return countRows(sales2) }, 30*time.Second).Should(Equal(want), "rows lost in the switchover")
			_, err = sales2.Exec("INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", -1, "new primary")
			Expect(err).NotTo(HaveOccurred())
		},
		Entry("after fencing (before the tail-log backup)", v1alpha1.StepFenced),
		Entry("after promotion (tail-log restored, not yet routed)", v1alpha1.StepPromoted),
	)
})
