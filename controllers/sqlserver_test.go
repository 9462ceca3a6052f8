package controllers_test

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/microsoft/go-mssqldb"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// sqlMember is a SQL Server member: a simulator instance (test/mssqlsim, not SQL Server) over TCP.
type sqlMember struct {
	srv  *mssqlsim.Server
	name string
}

func startSim(name string) *sqlMember { return startSimWith(name, mssqlsim.Options{}) }

// startSimWith is startSim with opts (an edition, a time zone...); the address, data directory and
// name are the suite's.
func startSimWith(name string, opts mssqlsim.Options) *sqlMember {
	opts.Addr, opts.DataDir, opts.InstanceName = "127.0.0.1:0", GinkgoT().TempDir(), name
	srv, err := mssqlsim.Start(opts)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = srv.Close() })
	return &sqlMember{srv: srv, name: name}
}

// groupCondition reads condition t of group sales in ns, for Eventually.
func groupCondition(ns, t string) func() *metav1.Condition {
	return func() *metav1.Condition { return meta.FindStatusCondition(getGroup(ns, "sales").Status.Conditions, t) }
}

func (m *sqlMember) db(database string) *sql.DB {
	db, err := sql.Open("sqlserver", m.srv.SADSN(database))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(db.Close)
	return db
}

func countRows(db *sql.DB) (int, error) {
	var n int
	err := db.QueryRow("SELECT COUNT(*) FROM dbo.Orders").Scan(&n)
	return n, err
}

var _ = Describe("SQL Server log shipping and failover (against mssqlsim)", func() {
	It("ships logs to a readable standby and fails over with the loss bounded by one log interval", func() {
		ns := newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 := startSim("DS1"), startSim("DS2")
		backups := createSQLGroup(ns, ds1, ds2)
		master := ds1.db("master")
		sales1 := ds1.db("Sales")
		Eventually(func() string { return activeOf(ns, "sales") }).Should(Equal("ds1"))

		// A writer that counts the inserts the primary acknowledged.
		var acked atomic.Int64
		ctx, stopWriter := context.WithCancel(suiteCtx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; ctx.Err() == nil; i++ {
				if _, err := sales1.ExecContext(ctx, "INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", i, "order"); err != nil {
					return
				}
				acked.Add(1)
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		DeferCleanup(func() { stopWriter(); wg.Wait() })

		// The standby is seeded, then follows in STANDBY (readable) mode.
		sales2 := ds2.db("Sales")
		Eventually(func() (int, error) { return countRows(sales2) }, 60*time.Second, time.Second).Should(BeNumerically(">", 0))
		Eventually(func() string {
			c := meta.FindStatusCondition(getGroup(ns, "sales").Status.Conditions, v1alpha1.ConditionLogShipping)
			if c == nil {
				return ""
			}
			return string(c.Status) + " " + c.Message
		}, 30*time.Second).Should(HavePrefix("True"))
		Eventually(func() string { return memberStatus(ns, "sales", "ds2").Databases[0].LSN }, 30*time.Second).ShouldNot(BeEmpty())
		Expect(gaugeValue("understudy_backup_age_seconds", map[string]string{"group": ns + "/sales", "database": "Sales"})).To(BeNumerically(">=", 0))
		Expect(gaugeValue("understudy_restore_lag_seconds", map[string]string{"group": ns + "/sales", "member": "ds2", "database": "Sales"})).To(BeNumerically(">=", 0))
		Expect(getGroup(ns, "sales").Status.Lag).NotTo(BeEmpty())
		// The application's login is on the standby with the same SID, so it is not orphaned.
		sidOf := func(db *sql.DB) ([]byte, error) {
			var sid []byte
			err := db.QueryRow("SELECT sid FROM sys.sql_logins WHERE name = @p1", "app").Scan(&sid)
			return sid, err
		}
		sid1, err := sidOf(master)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() ([]byte, error) { return sidOf(ds2.db("master")) }, 30*time.Second).Should(Equal(sid1))
		var rs v1alpha1.RestoreSchedule
		Expect(k8sClient.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "sales"}, &rs)).To(Succeed())
		Expect(rs.Status.Members).NotTo(BeEmpty())
		Expect(rs.Status.Members[0].Databases[0].LastRestoredFile).To(HavePrefix(backups))

		// Crash the primary with the writer running, some writes after the last log backup.
		base := acked.Load()
		Eventually(acked.Load, 10*time.Second).Should(BeNumerically(">=", base+100))
		crashed := time.Now()
		ds1.srv.Crash()
		stopWriter()
		wg.Wait()
		ack := acked.Load()

		Eventually(func() string { return getGroup(ns, "sales").Status.LastFailover.Reason }, 30*time.Second).Should(Equal("Failover"))
		Eventually(func() error {
			_, err := sales2.Exec("INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", -1, "after failover")
			return err
		}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
		writable := time.Since(crashed)
		present, err := countRows(sales2)
		Expect(err).NotTo(HaveOccurred())
		present-- // the row written after the failover
		lf := getGroup(ns, "sales").Status.LastFailover
		GinkgoWriter.Printf("SQL failover: acknowledged %d rows, present after promotion %d, lost %d; writable %s after the crash; estimated data loss %v\n",
			ack, present, ack-int64(present), writable.Round(time.Millisecond), lf.EstimatedDataLoss)
		Expect(int64(present)).To(BeNumerically("<=", ack))
		// At 50 writes per second, one 10 s log interval is at most ~500 rows (plus scheduling slack).
		Expect(ack - int64(present)).To(BeNumerically("<=", 700))
		Expect(lf.EstimatedDataLoss).NotTo(BeNil())
		Expect(writable).To(BeNumerically("<", 15*time.Second))

		// The old primary comes back: never routed to; its unshipped writes are salvaged, then it
		// is reseeded from the new primary and rejoins as a standby.
		restarted, err := mssqlsim.Start(mssqlsim.Options{Addr: ds1.srv.Addr(), DataDir: ds1.srv.DataDir(), InstanceName: "DS1"})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = restarted.Close() })
		ds1.srv = restarted
		Consistently(func() map[string]string { return selectorOf(ns, "sales") }, 3*time.Second).Should(Equal(map[string]string{"member": "ds2"}))
		Eventually(func() v1alpha1.MemberRole { return memberRole(ns, "sales", "ds1") }, 60*time.Second).Should(Equal(v1alpha1.RoleStandby))
		salvage := memberStatus(ns, "sales", "ds1").Databases[0].SalvageFile
		Expect(salvage).To(ContainSubstring("/salvage/"))
		Expect(salvage).To(BeAnExistingFile())
		GinkgoWriter.Printf("old primary rejoined as standby; salvage backup %s\n", salvage)

		// A planned switchover back to ds1 loses nothing, with a writer on ds2 until the switch.
		var acked2, inDoubt2 atomic.Int64
		var ackedIDs2 sync.Map // id -> true for every insert ds2 acknowledged
		ctx2, stopWriter2 := context.WithCancel(suiteCtx)
		var wg2 sync.WaitGroup
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := 1; ctx2.Err() == nil; i++ {
				if _, err := sales2.ExecContext(ctx2, "INSERT INTO dbo.Orders (id, note) VALUES (@p1, @p2)", 100000+i, "before switchover"); err == nil {
					acked2.Add(1)
					ackedIDs2.Store(100000+i, true)
				} else {
					inDoubt2.Add(1) // may have committed although no answer came back (session killed)
				}
				select {
				case <-ctx2.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		DeferCleanup(func() { stopWriter2(); wg2.Wait() })
		Eventually(acked2.Load, 10*time.Second).Should(BeNumerically(">=", 50))
		before, err := countRows(sales2)
		Expect(err).NotTo(HaveOccurred())
		updateGroup(ns, "sales", func(g *v1alpha1.FailoverGroup) {
			g.Annotations = map[string]string{v1alpha1.AnnotationSwitchoverTo: "ds1"}
		})
		Eventually(func() string { return getGroup(ns, "sales").Status.LastFailover.Reason }, 60*time.Second).Should(Equal("Switchover"))
		stopWriter2()
		wg2.Wait()
		sales1b := ds1.db("Sales")
		after, err := countRows(sales1b)
		Expect(err).NotTo(HaveOccurred())
		GinkgoWriter.Printf("switchover: ds2 acknowledged %d inserts during the switchover; %d rows on ds2 when it was requested, %d on ds1 after: 0 lost\n",
			acked2.Load(), before, after)
		Expect(after).To(BeNumerically(">=", before))
		// Every insert ds2 acknowledged is on ds1; a row beyond those can only be an insert whose
		// answer was lost when the switchover disconnected the writer (committed, not acknowledged).
		onDS1 := map[int]bool{}
		rows, err := sales1b.Query("SELECT id FROM dbo.Orders WHERE id > 100000")
		Expect(err).NotTo(HaveOccurred())
		for rows.Next() {
			var id int
			Expect(rows.Scan(&id)).To(Succeed())
			onDS1[id] = true
		}
		Expect(rows.Err()).NotTo(HaveOccurred())
		Expect(rows.Close()).To(Succeed())
		missing := 0
		ackedIDs2.Range(func(id, _ any) bool {
			if !onDS1[id.(int)] {
				missing++
			}
			return true
		})
		Expect(missing).To(BeZero(), "inserts acknowledged by ds2 are missing on ds1")
		Expect(int64(after)).To(BeNumerically(">=", int64(present)+1+acked2.Load()))
		Expect(int64(after)).To(BeNumerically("<=", int64(present)+1+acked2.Load()+inDoubt2.Load()))
		Expect(getGroup(ns, "sales").Status.LastFailover.EstimatedDataLoss.Duration).To(Equal(time.Duration(0)))
		// ds2 continues as a standby without a reseed: it is RESTORING ds1's logs.
		Eventually(func() v1alpha1.MemberRole { return memberRole(ns, "sales", "ds2") }, 30*time.Second).Should(Equal(v1alpha1.RoleStandby))
		Eventually(func() string {
			d := memberStatus(ns, "sales", "ds2").Databases
			if len(d) == 0 {
				return ""
			}
			return d[0].State
		}, 40*time.Second).Should(Or(Equal("RESTORING"), Equal("ONLINE (STANDBY)")))
	})
})

// createSQLGroup creates database Sales (table dbo.Orders, login app) on ds1 and a log-shipping
// group of ds1 (priority 200) and ds2 with fast timings; it returns the backup directory.
func createSQLGroup(ns string, ds1, ds2 *sqlMember) string {
	return createSQLGroupWith(ns, ds1, ds2, nil)
}

// createSQLGroupWith is createSQLGroup with edit applied to the FailoverGroup before it is created.
func createSQLGroupWith(ns string, ds1, ds2 *sqlMember, edit func(*v1alpha1.FailoverGroup)) string {
	master := ds1.db("master")
	_, err := master.Exec("CREATE DATABASE [Sales]")
	Expect(err).NotTo(HaveOccurred())
	_, err = ds1.db("Sales").Exec("CREATE TABLE dbo.Orders (id INT NOT NULL, note NVARCHAR(100))")
	Expect(err).NotTo(HaveOccurred())
	_, err = master.Exec("CREATE LOGIN [app] WITH PASSWORD = N'App-Passw0rd!'")
	Expect(err).NotTo(HaveOccurred())

	backups := GinkgoT().TempDir()
	Expect(k8sClient.Create(suiteCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sql"},
		StringData: map[string]string{"username": "sa", "password": mssqlsim.DefaultSAPassword}})).To(Succeed())
	Expect(k8sClient.Create(suiteCtx, &v1alpha1.BackupTarget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared"},
		Spec: v1alpha1.BackupTargetSpec{Path: backups, Retention: v1alpha1.NewDuration(48 * time.Hour)}})).To(Succeed())
	member := func(name string, prio int32, m *sqlMember) v1alpha1.Member {
		return v1alpha1.Member{Name: name, Priority: prio, Address: &v1alpha1.MemberAddress{Host: m.srv.Host(), Port: int32(m.srv.Port())},
			PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"member": name}}}
	}
	g := groupOf(ns, "sales", member("ds1", 200, ds1), member("ds2", 100, ds2))
	g.Spec.HealthCheck = v1alpha1.HealthCheck{SQLServer: &v1alpha1.SQLServerHealthCheck{},
		PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: 2, SuccessThreshold: 1}
	g.Spec.SQLServer = &v1alpha1.SQLServerSpec{CredentialsSecretRef: v1alpha1.SecretReference{Name: "sql"}, Port: 1433,
		Databases: []v1alpha1.DatabaseName{"Sales"}, TLS: &v1alpha1.SQLServerTLS{Mode: v1alpha1.EncryptionDisable}}
	g.Spec.LogShipping = &v1alpha1.LogShippingSpec{BackupTargetRef: v1alpha1.LocalObjectReference{Name: "shared"},
		LogBackupInterval: v1alpha1.NewDuration(10 * time.Second), FullBackupSchedule: "0 2 * * *"}
	if edit != nil {
		edit(g)
	}
	Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
	Expect(k8sClient.Create(suiteCtx, &v1alpha1.RestoreSchedule{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sales"},
		Spec: v1alpha1.RestoreScheduleSpec{FailoverGroupRef: v1alpha1.LocalObjectReference{Name: "sales"},
			Interval: v1alpha1.NewDuration(10 * time.Second), Offset: v1alpha1.NewDuration(2 * time.Second),
			Mode: v1alpha1.RestoreStandby}})).To(Succeed())
	return backups
}
