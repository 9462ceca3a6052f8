//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// The SQL Server scenario's names and timings. The members are mssqlsim (test/mssqlsim), the
// project's TDS simulator, not SQL Server.
const (
	sqlNamespace  = "e2e-sql"
	sqlGroup      = "sales"
	sqlService    = "sales-sql"
	sqlSecret     = "sales-sql-login" // the operator's least-privilege login: username, password, sid
	sqlSASecret   = "mssql-sa"        // password: the members' sa, used by the DBA's pods (sqlinit, sqlscript) and the writer
	sqlScripts    = "understudy-login-sql"
	sqlCASecret   = "sales-sql-ca" // ca.crt: the CA the operator trusts (spec.sqlServer.tls.caSecretRef)
	sqlTLSSecret  = "mssql-tls"    // tls.crt, tls.key, ca.crt: the members' certificate (mssql-conf network.tlscert/tlskey)
	sqlHeadless   = "mssql"        // the StatefulSets' headless Service: pods are <pod>.mssql.<namespace>.svc
	sqlTLSPath    = "/var/opt/mssql/tls"
	sqlCAPath     = "/etc/sql-ca"
	sqlTarget     = "shared-backups"
	sqlDatabase   = "Sales"
	sqlPassword   = "E2e-Passw0rd!"
	sqlLogin      = "understudy"
	sqlLoginPass  = "E2e-Operat0r-Pass!"
	sqlLoginSID   = "0x0E2E0000000000000000000000005A1E" // chosen once for both members
	sqlScriptPath = "/sql"
	sqlBackupPath = "/var/opt/mssql/backup"
	sqlDataPath   = "/var/opt/mssql/data"

	sqlLogInterval = 10 * time.Second
	writerPort     = "8080"
)

// sqlMembers are the two instances: member name -> @@SERVERNAME.
var sqlMembers = map[string]string{"ds1": "DS1", "ds2": "DS2"}

// hostPathRoot is the node directory under which this run keeps the members' data and the shared
// backup directory (hostPath volumes; a fresh subdirectory per run). On the local cluster it is under
// the cluster's state directory, which `hack/local-cluster.sh down` removes.
func hostPathRoot() string {
	root := os.Getenv("E2E_HOSTPATH_ROOT")
	if root == "" {
		if dir := os.Getenv("UNDERSTUDY_CLUSTER_DIR"); dir != "" {
			root = filepath.Join(dir, "hostpath")
		} else {
			root = "/var/tmp/understudy-e2e"
		}
	}
	return filepath.Join(root, fmt.Sprintf("run-%d", suiteStart.Unix()))
}

// sqlStatefulSet is one SQL Server member: a StatefulSet with one mssqlsim pod, its data directory
// and the shared backup directory on hostPath volumes (the single node's disk), so a pod that is
// deleted and created again comes back with its databases, as a SQL Server pod with a volume would.
// It runs as SQL Server does in its image, uid 10001, non-root. fsGroup is not applied to hostPath
// volumes (nor to NFS), so the directories are created owned by 10001 first (sqlHostDirs), as
// docs/sqlserver.md says to do for such volumes.
func sqlStatefulSet(member, root string) *appsv1.StatefulSet {
	labels := map[string]string{"app": "mssql", "member": member}
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: "mssql-" + member, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr(int32(1)),
			ServiceName: sqlHeadless,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr(int64(2)),
					SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(sqlServerUID), RunAsGroup: ptr(sqlServerUID),
						RunAsNonRoot: ptr(true), FSGroup: ptr(sqlServerUID)},
					Containers: []corev1.Container{{
						Name:            "mssql",
						Image:           mssqlImage,
						ImagePullPolicy: pullPolicy,
						Command:         []string{"/mssqlsim"},
						// TLS as SQL Server with mssql-conf network.tlscert/tlskey and network.forceencryption=1.
						Args: []string{"-listen", ":1433", "-data-dir", sqlDataPath, "-instance-name", sqlMembers[member],
							"-sa-password", "$(MSSQL_SA_PASSWORD)",
							"-tls-cert", sqlTLSPath + "/tls.crt", "-tls-key", sqlTLSPath + "/tls.key", "-force-encryption"},
						Env:   []corev1.EnvVar{secretEnv("MSSQL_SA_PASSWORD", sqlSASecret, "password")},
						Ports: []corev1.ContainerPort{{Name: "tds", ContainerPort: 1433}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(1433)}},
							PeriodSeconds: 1,
						},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: sqlDataPath}, {Name: "backup", MountPath: sqlBackupPath},
							{Name: "tls", MountPath: sqlTLSPath, ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{
						{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: sqlTLSSecret}}},
						{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(root, member), Type: &dirOrCreate}}},
						{Name: "backup", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(root, "backup"), Type: &dirOrCreate}}},
					},
				},
			},
		},
	}
}

// sqlServerUID is the uid (and gid) SQL Server runs as in mcr.microsoft.com/mssql/server.
const sqlServerUID = int64(10001)

// sqlHostDirs creates the members' data directories and the shared backup directory under root,
// owned by SQL Server's uid with mode 0770: what a DBA does to an NFS export for SQL Server.
func sqlHostDirs(root string) {
	for _, d := range []string{"ds1", "ds2", "backup"} {
		p := filepath.Join(root, d)
		Expect(os.MkdirAll(p, 0o770)).To(Succeed())
		Expect(os.Chown(p, int(sqlServerUID), int(sqlServerUID))).To(Succeed())
		Expect(os.Chmod(p, 0o770)).To(Succeed())
	}
}

// sqlHeadlessService is the StatefulSets' governing Service (clusterIP None): it gives each pod
// spec.subdomain and so the DNS name its certificate is issued for.
func sqlHeadlessService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlHeadless},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "mssql"},
			Ports: []corev1.ServicePort{{Name: "tds", Port: 1433}}},
	}
}

// sqlPodDNSName is the stable name of a member's pod, which its certificate carries and the
// operator verifies.
func sqlPodDNSName(member string) string {
	return "mssql-" + member + "-0." + sqlHeadless + "." + sqlNamespace + ".svc"
}

// sqlTLSSecrets makes a throwaway CA and one certificate for both members' pod names and the
// routed Service (what the writer verifies), as cert-manager would issue (docs/sqlserver.md): the
// Secret the members mount, and the Secret with only the CA that the FailoverGroup refers to.
func sqlTLSSecrets() []*corev1.Secret {
	dir, err := os.MkdirTemp("", "e2e-sql-pki-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = os.RemoveAll(dir) })
	var names []string
	for _, m := range []string{"ds1", "ds2"} {
		names = append(names, sqlPodDNSName(m), sqlPodDNSName(m)+".cluster.local")
	}
	names = append(names, sqlService+"."+sqlNamespace+".svc")
	pki, err := mssqlsim.WriteTestPKI(dir, names...)
	Expect(err).NotTo(HaveOccurred())
	crt, err := os.ReadFile(pki.CertFile)
	Expect(err).NotTo(HaveOccurred())
	key, err := os.ReadFile(pki.KeyFile)
	Expect(err).NotTo(HaveOccurred())
	return []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlTLSSecret}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": crt, "tls.key": key, "ca.crt": pki.CAPEM}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlCASecret}, Data: map[string][]byte{"ca.crt": pki.CAPEM}},
	}
}

// sqlClientPod runs the member server image in a SQL mode (sqlinit, sqlscript or writer) with the
// sa login, verifying the server certificate against the CA for tlsName.
func sqlClientPod(name, mode, tlsName string, env ...corev1.EnvVar) *corev1.Pod {
	env = append(env,
		corev1.EnvVar{Name: "SQL_DATABASE", Value: sqlDatabase},
		corev1.EnvVar{Name: "SQL_USER", Value: "sa"},
		secretEnv("SQL_PASSWORD", sqlSASecret, "password"),
		corev1.EnvVar{Name: "SQL_CA_FILE", Value: sqlCAPath + "/ca.pem"},
		corev1.EnvVar{Name: "SQL_TLS_NAME", Value: tlsName},
	)
	restart := corev1.RestartPolicyOnFailure
	var probe *corev1.Probe
	if mode == "writer" {
		restart = corev1.RestartPolicyNever // a restarted writer would forget what it was told
		probe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 1}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			RestartPolicy:                 restart,
			TerminationGracePeriodSeconds: ptr(int64(2)),
			Containers: []corev1.Container{{
				Name:            mode,
				Image:           memberImage,
				ImagePullPolicy: pullPolicy,
				Args:            []string{mode},
				Env:             env,
				ReadinessProbe:  probe,
				SecurityContext: restrictedContainer(),
				VolumeMounts:    []corev1.VolumeMount{{Name: "ca", MountPath: sqlCAPath, ReadOnly: true}},
			}},
			// go-mssqldb's certificate parameter wants a .pem file.
			Volumes: []corev1.Volume{{Name: "ca", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: sqlCASecret, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.pem"}}}}}},
		},
	}
}

// sqlLoginObjects are the Secrets (sa; the operator's login with its SID) and the ConfigMap with
// config/samples/sqlserver-operator-login.sql and sqlserver-operator-database.sql, as
// docs/sqlserver-login.md says to create them.
func sqlLoginObjects() []client.Object {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlScripts}, Data: map[string]string{}}
	for _, f := range []string{"sqlserver-operator-login.sql", "sqlserver-operator-database.sql"} {
		raw, err := os.ReadFile(filepath.Join(repoRoot, "config", "samples", f))
		Expect(err).NotTo(HaveOccurred())
		cm.Data[f] = string(raw)
	}
	return []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlSASecret},
			StringData: map[string]string{"password": sqlPassword}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlSecret},
			StringData: map[string]string{"username": sqlLogin, "password": sqlLoginPass, "sid": sqlLoginSID}},
		cm,
	}
}

// sqlScriptPod runs the login scripts (file names in the ConfigMap) on a member as sa, with their
// scripting variables from the operator's Secret, the way the sample Job runs sqlcmd. It dials the
// pod's IP (the local cluster has no DNS) and verifies the certificate for the pod's name.
func sqlScriptPod(member, podIP string, scripts ...string) *corev1.Pod {
	var paths []string
	for _, s := range scripts {
		paths = append(paths, sqlScriptPath+"/"+s)
	}
	pod := sqlClientPod("sqlscript-"+member, "sqlscript", sqlPodDNSName(member),
		corev1.EnvVar{Name: "SQL_ADDR", Value: podIP + ":1433"},
		corev1.EnvVar{Name: "SQL_SCRIPTS", Value: strings.Join(paths, " ")},
		corev1.EnvVar{Name: "UNDERSTUDY_DATABASE", Value: sqlDatabase},
		secretEnv("UNDERSTUDY_LOGIN", sqlSecret, "username"),
		secretEnv("UNDERSTUDY_PASSWORD", sqlSecret, "password"),
		secretEnv("UNDERSTUDY_SID", sqlSecret, "sid"))
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "sql", MountPath: sqlScriptPath, ReadOnly: true})
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "sql", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: sqlScripts}}}})
	return pod
}

func sqlGroupObjects() (*v1alpha1.BackupTarget, *v1alpha1.FailoverGroup, *v1alpha1.RestoreSchedule) {
	bt := &v1alpha1.BackupTarget{
		ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlTarget},
		Spec:       v1alpha1.BackupTargetSpec{Path: sqlBackupPath, Retention: v1alpha1.NewDuration(48 * time.Hour)},
	}
	member := func(name string, priority int32) v1alpha1.Member {
		return v1alpha1.Member{Name: name, Priority: priority,
			PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "mssql", "member": name}}}
	}
	fg := &v1alpha1.FailoverGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlGroup},
		Spec: v1alpha1.FailoverGroupSpec{
			Members: []v1alpha1.Member{member("ds1", 200), member("ds2", 100)},
			HealthCheck: v1alpha1.HealthCheck{SQLServer: &v1alpha1.SQLServerHealthCheck{},
				PeriodSeconds: 1, TimeoutSeconds: 1, FailureThreshold: 2, SuccessThreshold: 1},
			Failover: v1alpha1.FailoverPolicy{LeaseDurationSeconds: 3},
			SQLServer: &v1alpha1.SQLServerSpec{CredentialsSecretRef: v1alpha1.SecretReference{Name: sqlSecret}, Port: 1433,
				Databases: []v1alpha1.DatabaseName{sqlDatabase}, TLS: &v1alpha1.SQLServerTLS{CASecretRef: &v1alpha1.SecretReference{Name: sqlCASecret}}},
			LogShipping: &v1alpha1.LogShippingSpec{BackupTargetRef: v1alpha1.LocalObjectReference{Name: sqlTarget},
				LogBackupInterval: v1alpha1.NewDuration(sqlLogInterval), FullBackupSchedule: "0 2 * * *"},
			Routing: &v1alpha1.Routing{Service: &v1alpha1.RoutedService{Name: sqlService,
				Ports: []v1alpha1.ServicePort{{Name: "tds", Port: 1433}}}},
		},
	}
	rs := &v1alpha1.RestoreSchedule{
		ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: sqlGroup},
		Spec: v1alpha1.RestoreScheduleSpec{FailoverGroupRef: v1alpha1.LocalObjectReference{Name: sqlGroup},
			Interval: v1alpha1.NewDuration(10 * time.Second), Offset: v1alpha1.NewDuration(2 * time.Second),
			Mode: v1alpha1.RestoreStandby},
	}
	return bt, fg, rs
}
