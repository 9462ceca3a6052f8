package controllers_test

import (
	"database/sql"
	"net/url"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/controllers"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

var _ = Describe("SQL Server TLS (against mssqlsim)", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		mgr := startManager(ns, controllers.Options{})
		DeferCleanup(mgr.Stop)
	})

	// startTLSSim starts a simulator with the given TLS setup and database Sales, created over a
	// connection that verifies pki's CA when the simulator forces encryption.
	startTLSSim := func(name string, opts mssqlsim.TLSOptions) *mssqlsim.Server {
		srv, err := mssqlsim.Start(mssqlsim.Options{Addr: "127.0.0.1:0", DataDir: GinkgoT().TempDir(), InstanceName: name, TLS: opts})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = srv.Close() })
		dsn := srv.SADSN("master")
		if opts.ForceEncryption {
			u, _ := url.Parse(dsn)
			u.Host = "localhost:" + strconv.Itoa(srv.Port())
			u.RawQuery = url.Values{"encrypt": {"true"}, "trustservercertificate": {"true"}}.Encode()
			dsn = u.String()
		}
		db, err := sql.Open("sqlserver", dsn)
		Expect(err).NotTo(HaveOccurred())
		defer db.Close()
		_, err = db.Exec("CREATE DATABASE [Sales]")
		Expect(err).NotTo(HaveOccurred())
		return srv
	}
	// create makes a SQL Server group whose member ds1 is srv at host (by its pods labelled
	// member=ds1 when host is empty); ds2 is a placeholder that is never healthy.
	create := func(srv *mssqlsim.Server, host string, tls *v1alpha1.SQLServerTLS, ca []byte) {
		Expect(k8sClient.Create(suiteCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sql"},
			StringData: map[string]string{"username": "sa", "password": mssqlsim.DefaultSAPassword}})).To(Succeed())
		if ca != nil {
			Expect(k8sClient.Create(suiteCtx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sql-ca"},
				Data: map[string][]byte{"ca.crt": ca}})).To(Succeed())
		}
		m := v1alpha1.Member{Name: "ds1", Priority: 100, Address: &v1alpha1.MemberAddress{Host: host, Port: int32(srv.Port())}}
		port := int32(1433)
		if host == "" {
			m.Address, port = nil, int32(srv.Port())
			m.PodSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"member": "ds1"}}
		}
		g := groupOf(ns, "sales", m, v1alpha1.Member{Name: "ds2", Priority: 0, Address: &v1alpha1.MemberAddress{Host: "127.0.0.1", Port: 1}})
		g.Spec.Routing = nil
		g.Spec.HealthCheck.TCP = nil
		g.Spec.HealthCheck.SQLServer = &v1alpha1.SQLServerHealthCheck{}
		g.Spec.SQLServer = &v1alpha1.SQLServerSpec{CredentialsSecretRef: v1alpha1.SecretReference{Name: "sql"}, Port: port,
			Databases: []v1alpha1.DatabaseName{"Sales"}, TLS: tls}
		Expect(k8sClient.Create(suiteCtx, g)).To(Succeed())
	}

	It("elects a member whose certificate the CA Secret signs for the name it is dialed by", func() {
		pki, err := mssqlsim.WriteTestPKI(GinkgoT().TempDir(), "localhost")
		Expect(err).NotTo(HaveOccurred())
		srv := startTLSSim("TLS1", mssqlsim.TLSOptions{CertFile: pki.CertFile, KeyFile: pki.KeyFile, ForceEncryption: true})
		// No mode: the default, Mandatory, verifying against the CA and "localhost".
		create(srv, "localhost", &v1alpha1.SQLServerTLS{CASecretRef: &v1alpha1.SecretReference{Name: "sql-ca"}}, pki.CAPEM)
		Eventually(func() string { return activeOf(ns, "sales") }, 30).Should(Equal("ds1"))
		Expect(memberStatus(ns, "sales", "ds1").Healthy).To(BeTrue())
	})

	It("dials a StatefulSet pod at its IP and verifies its certificate for <pod>.<service>.<namespace>.svc", func() {
		name := "mssql-ds1-0.mssql." + ns + ".svc"
		pki, err := mssqlsim.WriteTestPKI(GinkgoT().TempDir(), name) // no IP SAN
		Expect(err).NotTo(HaveOccurred())
		srv := startTLSSim("TLS4", mssqlsim.TLSOptions{CertFile: pki.CertFile, KeyFile: pki.KeyFile})
		labels := map[string]string{"member": "ds1"}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mssql-ds1-0", Labels: labels},
			Spec: corev1.PodSpec{Hostname: "mssql-ds1-0", Subdomain: "mssql", Containers: []corev1.Container{{Name: "c", Image: "example"}}}}
		Expect(k8sClient.Create(suiteCtx, pod)).To(Succeed())
		pod.Status.PodIP = srv.Host()
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		Expect(k8sClient.Status().Update(suiteCtx, pod)).To(Succeed())
		create(srv, "", &v1alpha1.SQLServerTLS{CASecretRef: &v1alpha1.SecretReference{Name: "sql-ca"}}, pki.CAPEM)
		Eventually(func() string { return activeOf(ns, "sales") }, 30).Should(Equal("ds1"))
		Expect(memberStatus(ns, "sales", "ds1").Healthy).To(BeTrue())
	})

	It("does not trust SQL Server's self-signed certificate and says what to set", func() {
		srv := startTLSSim("TLS2", mssqlsim.TLSOptions{})
		create(srv, "127.0.0.1", nil, nil)
		Eventually(func() string { return memberStatus(ns, "sales", "ds1").Message }, 30).Should(
			And(ContainSubstring("certificate not trusted"), ContainSubstring("spec.sqlServer.tls.caSecretRef"),
				ContainSubstring("hostNameInCertificate"), HavePrefix(v1alpha1.ReasonDegradedTLSRefused+":")))
		Expect(conditionOf(ns, "sales", v1alpha1.ConditionDegraded).Reason).To(Equal(v1alpha1.ReasonDegradedTLSRefused))
		Consistently(func() string { return activeOf(ns, "sales") }, 3).Should(BeEmpty())
	})

	It("refuses a server that cannot encrypt rather than send the password in clear", func() {
		srv := startTLSSim("TLS3", mssqlsim.TLSOptions{Disabled: true})
		create(srv, "127.0.0.1", &v1alpha1.SQLServerTLS{Mode: v1alpha1.EncryptionOptional}, nil)
		Eventually(func() string { return memberStatus(ns, "sales", "ds1").Message }, 30).Should(
			And(ContainSubstring("refusing to send the login and password unencrypted"), ContainSubstring("spec.sqlServer.tls.mode")))
		Eventually(func() string { return conditionOf(ns, "sales", v1alpha1.ConditionDegraded).Reason }, 10).Should(Equal(v1alpha1.ReasonDegradedTLSRefused))
		Expect(memberStatus(ns, "sales", "ds1").Message).NotTo(ContainSubstring(mssqlsim.DefaultSAPassword))
		Consistently(func() string { return activeOf(ns, "sales") }, 3).Should(BeEmpty())
	})
})
