package controllers_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

var _ = Describe("SQL Server bad inputs (against mssqlsim)", func() {
	var (
		ns       string
		ds1, ds2 *sqlMember
	)
	BeforeEach(func() {
		ns = newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
		ds1, ds2 = startSim("DS1"), startSim("DS2")
	})

	create := func(password, path string) {
		Expect(k8sClient.Create(suiteCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sql"},
			StringData: map[string]string{"username": "sa", "password": password}})).To(Succeed())
		Expect(k8sClient.Create(suiteCtx, &v1alpha1.BackupTarget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared"},
			Spec: v1alpha1.BackupTargetSpec{Path: path, Retention: v1alpha1.NewDuration(48 * time.Hour)}})).To(Succeed())
		member := func(name string, prio int32, m *sqlMember) v1alpha1.Member {
			return v1alpha1.Member{Name: name, Priority: prio, Address: &v1alpha1.MemberAddress{Host: m.srv.Host(), Port: int32(m.srv.Port())}}
		}
		g := groupOf(ns, "sales", member("ds1", 200, ds1), member("ds2", 100, ds2))
		g.Spec.Routing = nil
		g.Spec.HealthCheck.TCP = &v1alpha1.TCPHealthCheck{}
		g.Spec.SQLServer = &v1alpha1.SQLServerSpec{CredentialsSecretRef: v1alpha1.SecretReference{Name: "sql"}, Port: 1433,
			Databases: []v1alpha1.DatabaseName{"Sales"}, TLS: &v1alpha1.SQLServerTLS{Mode: v1alpha1.EncryptionDisable}}
		g.Spec.LogShipping = &v1alpha1.LogShippingSpec{BackupTargetRef: v1alpha1.LocalObjectReference{Name: "shared"},
			LogBackupInterval: v1alpha1.NewDuration(10 * time.Second), FullBackupSchedule: "0 2 * * *"}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
	}
	logShipping := func() *metav1.Condition {
		return meta.FindStatusCondition(getGroup(ns, "sales").Status.Conditions, v1alpha1.ConditionLogShipping)
	}
	failing := func() string {
		if c := logShipping(); c != nil && c.Status == metav1.ConditionFalse {
			return c.Message
		}
		return ""
	}

	eventNotes := func(reason string) []string {
		var list eventsv1.EventList
		Expect(k8sClient.List(suiteCtx, &list, client.InNamespace(ns))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Reason == reason {
				out = append(out, e.Note)
			}
		}
		return out
	}

	It("does not elect a member it cannot log in to, and never reveals the password", func() {
		_, err := ds1.db("master").Exec("CREATE DATABASE [Sales]")
		Expect(err).NotTo(HaveOccurred())
		create("Wrong-Secret-123", GinkgoT().TempDir())
		Eventually(func() []string { return eventNotes("PromotionFailed") }, 30*time.Second).Should(
			ContainElement(And(ContainSubstring("ds1"), ContainSubstring("18456"))))
		for _, note := range eventNotes("PromotionFailed") {
			Expect(note).NotTo(ContainSubstring("Wrong-Secret-123"))
		}
		// The election stops at the promote step: nothing is routed, and the group is not Ready.
		g := getGroup(ns, "sales")
		Expect(g.Status.InProgress).NotTo(BeNil())
		Expect(g.Status.InProgress.Step).To(Equal(v1alpha1.StepLeaseTaken))
		Expect(meta.IsStatusConditionTrue(g.Status.Conditions, v1alpha1.ConditionReady)).To(BeFalse())
	})

	It("does not elect a primary whose database is missing", func() {
		create(mssqlsim.DefaultSAPassword, GinkgoT().TempDir())
		Eventually(func() []string { return eventNotes("PromotionFailed") }, 30*time.Second).Should(
			ContainElement(And(ContainSubstring("Sales"), ContainSubstring("ds1"))))
		Expect(meta.IsStatusConditionTrue(getGroup(ns, "sales").Status.Conditions, v1alpha1.ConditionReady)).To(BeFalse())
	})

	It("reports a backup path the server cannot write to, and keeps the data", func() {
		master := ds1.db("master")
		_, err := master.Exec("CREATE DATABASE [Sales]")
		Expect(err).NotTo(HaveOccurred())
		// A path under a regular file: no directory can be created there, even by root.
		file := filepath.Join(GinkgoT().TempDir(), "not-a-directory")
		Expect(os.WriteFile(file, []byte("x"), 0o600)).To(Succeed())
		create(mssqlsim.DefaultSAPassword, file+"/backups")
		Eventually(failing, 30*time.Second).Should(ContainSubstring("backups on ds1"))
		Eventually(func() []string { return eventNotes("BackupFailed") }, 30*time.Second).ShouldNot(BeEmpty())
		var state string
		Expect(master.QueryRow("SELECT state_desc FROM sys.databases WHERE name = @p1", "Sales").Scan(&state)).To(Succeed())
		Expect(state).To(Equal("ONLINE"))
		Expect(getGroup(ns, "sales").Status.ActiveMember).To(Equal("ds1"))
	})

	It("switches a database in SIMPLE recovery to FULL and says so", func() {
		master := ds1.db("master")
		_, err := master.Exec("CREATE DATABASE [Sales]")
		Expect(err).NotTo(HaveOccurred())
		_, err = master.Exec("ALTER DATABASE [Sales] SET RECOVERY SIMPLE")
		Expect(err).NotTo(HaveOccurred())
		create(mssqlsim.DefaultSAPassword, GinkgoT().TempDir())
		Eventually(func() []string { return eventReasons(ns) }, 30*time.Second).Should(ContainElement("RecoveryModelChanged"))
		var model string
		Expect(master.QueryRow("SELECT recovery_model_desc FROM sys.databases WHERE name = @p1", "Sales").Scan(&model)).To(Succeed())
		Expect(model).To(Equal("FULL"))
	})
})
