package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
)

var _ = Describe("Database owner and TRUSTWORTHY across a switchover", func() {
	It("records them on the active member and sets them back on the new one (a restore resets both)", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		createSQLGroupWith(ns, ds1, ds2, func(*v1alpha1.FailoverGroup) {
			for _, m := range []*sqlMember{ds1, ds2} {
				_, err := m.db("master").Exec("CREATE LOGIN [app_owner] WITH PASSWORD = N'Owner-Passw0rd!'")
				Expect(err).NotTo(HaveOccurred())
			}
			_, err := ds1.db("master").Exec("ALTER AUTHORIZATION ON DATABASE::[Sales] TO [app_owner]")
			Expect(err).NotTo(HaveOccurred())
			_, err = ds1.db("master").Exec("ALTER DATABASE [Sales] SET TRUSTWORTHY ON")
			Expect(err).NotTo(HaveOccurred())
		})
		settings := func(m *sqlMember) func() []any {
			return func() []any {
				var owner string
				var trustworthy bool
				if err := m.db("master").QueryRow("SELECT SUSER_SNAME(owner_sid), is_trustworthy_on FROM sys.databases WHERE name = N'Sales'").Scan(&owner, &trustworthy); err != nil {
					return []any{err.Error()}
				}
				return []any{owner, trustworthy}
			}
		}
		recorded := func() []any {
			for _, ms := range getGroup(ns, "sales").Status.Members {
				if ms.Name == "ds1" {
					for _, d := range ms.Databases {
						if d.Name == "Sales" {
							return []any{d.Owner, d.Trustworthy}
						}
					}
				}
			}
			return nil
		}
		Eventually(func() string { return activeOf(ns, "sales") }).Should(Equal("ds1"))
		Eventually(recorded, 60*time.Second).Should(Equal([]any{"app_owner", true}))
		// The standby restored Sales: the restore made sa (the operator's login here) its owner.
		Eventually(func() string { return firstRestoredLSN(ns, "sales", "ds2") }, 60*time.Second).ShouldNot(BeEmpty())
		Eventually(func() bool { return memberHealthy(ns, "sales", "ds2") }).Should(BeTrue())

		updateGroup(ns, "sales", func(g *v1alpha1.FailoverGroup) {
			g.Annotations = map[string]string{v1alpha1.AnnotationSwitchoverTo: "ds2"}
		})
		Eventually(func() string { return activeOf(ns, "sales") }, 60*time.Second).Should(Equal("ds2"))
		Eventually(settings(ds2), 30*time.Second).Should(Equal([]any{"app_owner", true}))
		Expect(eventReasons(ns)).NotTo(ContainElement(v1alpha1.EventReasonDatabaseSettingsNotRestored))
	})
})
