package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("A standby whose database is ONLINE read-write (against mssqlsim)", func() {
	It("is not healthy, not a candidate, never promoted, and its data is left alone", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		// Someone created the database on the standby too (or recovered it by hand).
		_, err := ds2.db("master").Exec("CREATE DATABASE [Sales]")
		Expect(err).NotTo(HaveOccurred())
		own := ds2.db("Sales")
		_, err = own.Exec("CREATE TABLE dbo.Orders (id INT NOT NULL, note NVARCHAR(100))")
		Expect(err).NotTo(HaveOccurred())
		_, err = own.Exec("INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", -99, "ds2's own row")
		Expect(err).NotTo(HaveOccurred())
		createSQLGroup(ns, ds1, ds2)

		Eventually(func() string { return activeOf(ns, "sales") }, 30*time.Second).Should(Equal("ds1"))
		Eventually(func() string { return conditionOf(ns, "sales", v1alpha1.ConditionDegraded).Reason }, 30*time.Second).
			Should(Equal(v1alpha1.ReasonDegradedStandbyNotRestoring))
		ms := memberStatus(ns, "sales", "ds2")
		Expect(ms.Healthy).To(BeFalse())
		Expect(ms.Message).To(And(HavePrefix(v1alpha1.ReasonDegradedStandbyNotRestoring+":"), ContainSubstring("database Sales is ONLINE")))
		Expect(conditionOf(ns, "sales", v1alpha1.ConditionFailoverReady).Status).To(Equal(metav1.ConditionFalse))

		// The primary dies: nothing is promoted, ds2's database is not the group's.
		moves := func() string {
			g := getGroup(ns, "sales")
			out := g.Status.ActiveMember
			if g.Status.LastFailover != nil {
				out += " after " + g.Status.LastFailover.Reason + " to " + g.Status.LastFailover.To
			}
			if g.Status.InProgress != nil {
				out += ", moving to " + g.Status.InProgress.To
			}
			return out
		}
		before := moves()
		Expect(before).To(HavePrefix("ds1"))
		ds1.srv.Crash()
		Eventually(func() string { return conditionOf(ns, "sales", v1alpha1.ConditionAvailable).Reason }, 30*time.Second).
			Should(Equal(v1alpha1.ReasonAvailableActiveMemberDown))
		Consistently(moves, 8*time.Second, 200*time.Millisecond).Should(Equal(before))
		Expect(countRows(own)).To(Equal(1))
	})
})
