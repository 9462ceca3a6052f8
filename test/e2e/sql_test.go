//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// memberStatus is the named member's status in g (nil if absent).
func memberStatus(g *v1alpha1.FailoverGroup, name string) *v1alpha1.MemberStatus {
	for i := range g.Status.Members {
		if g.Status.Members[i].Name == name {
			return &g.Status.Members[i]
		}
	}
	return nil
}

func lastLogBackup() time.Time {
	var bt v1alpha1.BackupTarget
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: sqlNamespace, Name: sqlTarget}, &bt)).To(Succeed())
	for _, b := range bt.Status.Backups {
		if b.Group == sqlGroup && b.Database == sqlDatabase && b.LastLog != nil && b.LastLog.FinishedAt != nil {
			return b.LastLog.FinishedAt.Time
		}
	}
	return time.Time{}
}

func scaleStatefulSet(name string, replicas int32) {
	var sts appsv1.StatefulSet
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: sqlNamespace, Name: name}, &sts)).To(Succeed())
	patch := client.MergeFrom(sts.DeepCopy())
	sts.Spec.Replicas = ptr(replicas)
	Expect(k8sClient.Patch(ctx, &sts, patch)).To(Succeed())
}

func waitPodReady(name string) *corev1.Pod {
	var pod corev1.Pod
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: sqlNamespace, Name: name}, &pod)).To(Succeed())
		g.Expect(pod.DeletionTimestamp).To(BeNil())
		ready := false
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		g.Expect(ready).To(BeTrue(), "pod %s not Ready (phase %s)", name, pod.Status.Phase)
	}).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).Should(Succeed(), "pod %s/%s never became Ready", sqlNamespace, name)
	return &pod
}

// waitPodSucceeded waits for a run-to-completion pod (sqlinit, sqlscript) to succeed.
func waitPodSucceeded(pod *corev1.Pod) {
	Eventually(func() corev1.PodPhase {
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		return pod.Status.Phase
	}).WithTimeout(2*time.Minute).WithPolling(500*time.Millisecond).Should(Equal(corev1.PodSucceeded), "%s did not succeed", pod.Name)
}

// runSQLScenario is scenario 2: a SQL Server group on a real cluster, with the application writing
// through the routed Service the whole time.
func runSQLScenario() {
	createNamespace(sqlNamespace)
	root := hostPathRoot()
	By("two SQL Server members (mssqlsim StatefulSets) with hostPath data and a shared hostPath backup directory under " + root)
	for _, obj := range sqlLoginObjects() {
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	}
	By("TLS: a CA and a certificate for the members' pod names in Secrets " + sqlTLSSecret + " and " + sqlCASecret + "; the members force encryption")
	for _, s := range sqlTLSSecrets() {
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
	}
	Expect(k8sClient.Create(ctx, sqlHeadlessService())).To(Succeed())
	By("the members run non-root as uid 10001, on directories owned by it")
	sqlHostDirs(root)
	for _, m := range []string{"ds1", "ds2"} {
		Expect(k8sClient.Create(ctx, sqlStatefulSet(m, root))).To(Succeed())
	}
	ds1 := waitPodReady("mssql-ds1-0")
	ds2 := waitPodReady("mssql-ds2-0")

	By("creating the application's database on ds1 (a pod running go-mssqldb)")
	initPod := sqlClientPod("sqlinit", "sqlinit", sqlPodDNSName("ds1"), corev1.EnvVar{Name: "SQL_ADDR", Value: ds1.Status.PodIP + ":1433"})
	Expect(k8sClient.Create(ctx, initPod)).To(Succeed())
	waitPodSucceeded(initPod)

	By("the operator's login " + sqlLogin + " (not sa) on both members with one SID, and its db_backupoperator user in " + sqlDatabase + " on ds1: config/samples/sqlserver-operator-*.sql")
	for _, p := range []*corev1.Pod{
		sqlScriptPod("ds1", ds1.Status.PodIP, "sqlserver-operator-login.sql", "sqlserver-operator-database.sql"),
		sqlScriptPod("ds2", ds2.Status.PodIP, "sqlserver-operator-login.sql"),
	} {
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		waitPodSucceeded(p)
	}

	By("applying the BackupTarget, FailoverGroup and RestoreSchedule")
	bt, fg, rs := sqlGroupObjects()
	applied := time.Now()
	for _, obj := range []client.Object{bt, fg, rs} {
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	}
	var electedAt, seededAt time.Time
	Eventually(func(g Gomega) {
		grp := getGroup(sqlNamespace, sqlGroup)
		g.Expect(grp.Status.ActiveMember).To(Equal("ds1"))
		if electedAt.IsZero() {
			electedAt = time.Now()
		}
		ms := memberStatus(grp, "ds2")
		g.Expect(ms).NotTo(BeNil())
		g.Expect(ms.Role).To(Equal(v1alpha1.RoleStandby))
		g.Expect(ms.Databases).NotTo(BeEmpty())
		g.Expect(ms.Databases[0].LSN).NotTo(BeEmpty(), "ds2 not seeded yet")
		g.Expect(meta.IsStatusConditionTrue(grp.Status.Conditions, v1alpha1.ConditionLogShipping)).To(BeTrue(), "LogShipping not True")
		g.Expect(meta.IsStatusConditionTrue(grp.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue(), "Ready not True")
		g.Expect(grp.Status.Healthy).To(Equal("2/2"))
	}).WithTimeout(3*time.Minute).WithPolling(250*time.Millisecond).Should(Succeed(), "ds1 active and ds2 seeded as a standby")
	seededAt = time.Now()
	kubectl("get", "fg,backuptargets,restoreschedules", "-n", sqlNamespace)

	By("starting the writer: one INSERT every 20 ms through the Service " + sqlService + " (go-mssqldb)")
	Expect(k8sClient.Create(ctx, sqlClientPod("writer", "writer", sqlService+"."+sqlNamespace+".svc", corev1.EnvVar{Name: "SQL_SERVICE", Value: sqlService}))).To(Succeed())
	waitPodReady("writer")
	Eventually(func() int { return len(writerStats().Acks) }).WithTimeout(time.Minute).WithPolling(500*time.Millisecond).
		Should(BeNumerically(">=", 100), "the writer got no acknowledged inserts through the Service")
	Expect(writerStats().Acks[0].Server).To(Equal("DS1"))

	// Kill half-way through a log interval, after a log backup the standby has had time to restore
	// up to: the rows at risk are those written since the last shipped backup, as with a real crash.
	By("waiting for a log backup to be shipped, then killing ds1 half a log interval later")
	var lastLog time.Time
	Eventually(func() bool {
		lastLog = lastLogBackup()
		return !lastLog.IsZero() && lastLog.After(seededAt) && time.Since(lastLog) < sqlLogInterval/2-time.Second
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(BeTrue())
	time.Sleep(time.Until(lastLog.Add(sqlLogInterval / 2)))

	countBefore := getGroup(sqlNamespace, sqlGroup).Status.FailoverCount
	t0 := time.Now()
	scaleStatefulSet("mssql-ds1", 0)
	Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: sqlNamespace, Name: "mssql-ds1-0"}},
		client.GracePeriodSeconds(0))).To(Succeed())

	By("waiting for ds2 to be active and for the writer to be acknowledged by DS2 through the same Service")
	activeAt := waitActive(sqlNamespace, sqlGroup, "ds2")
	var firstOnDS2 *Ack
	Eventually(func() *Ack {
		firstOnDS2 = firstAckFrom(writerStats().Acks, "DS2", t0)
		return firstOnDS2
	}).WithTimeout(time.Minute).WithPolling(100*time.Millisecond).ShouldNot(BeNil(), "the writer never wrote to DS2 through %s", sqlService)
	time.Sleep(2 * time.Second)

	By("counting acknowledged rows missing on the new primary")
	var check RowCheck
	Eventually(func() error { return writerGet("/check", &check) }).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
	Expect(check.Server).To(Equal("DS2"))
	stats := writerStats()
	// A deleted pod's process gets SIGTERM and a moment to stop: the writer's open connection can be
	// acknowledged by ds1 for a little while after the delete request. The last of those is the
	// primary's real end.
	var lastOnDS1 *Ack
	ackedByDS1 := 0
	for i := range stats.Acks {
		if stats.Acks[i].Server == "DS1" {
			ackedByDS1++
			lastOnDS1 = &stats.Acks[i]
		}
	}
	Expect(lastOnDS1).NotTo(BeNil())
	lostAtFailover := 0
	var oldestLost time.Time
	for _, m := range check.Missing {
		Expect(m.Server).To(Equal("DS1"), "a row acknowledged by the new primary DS2 is missing: %+v", m)
		lostAtFailover++
		if oldestLost.IsZero() || m.At.Before(oldestLost) {
			oldestLost = m.At
		}
	}
	// What can be lost is what ds1 acknowledged after its last shipped log backup: at most about one
	// log interval of writes (plus the backup's own duration and clock granularity).
	if lostAtFailover > 0 {
		Expect(lastOnDS1.At.Sub(oldestLost)).To(BeNumerically("<", sqlLogInterval+3*time.Second),
			"rows acknowledged more than one log interval before ds1's end were lost (oldest %s before)", lastOnDS1.At.Sub(oldestLost))
	}
	grp := getGroup(sqlNamespace, sqlGroup)
	Expect(grp.Status.LastFailover).NotTo(BeNil())
	Expect(grp.Status.LastFailover.Reason).To(Equal("Failover"))
	Expect(grp.Status.LastFailover.From).To(Equal("ds1"))
	Expect(grp.Status.LastFailover.To).To(Equal("ds2"))
	Expect(grp.Status.FailoverCount).To(Equal(countBefore + 1))
	out := kubectl("get", "fg", sqlGroup, "-n", sqlNamespace)
	Expect(activeColumn(out)).To(Equal("ds2"))
	failover := map[string]any{
		"kill":                                       "ds1's StatefulSet scaled to 0 and its pod deleted with grace period 0, " + fmt.Sprintf("%.1fs after the last log backup", t0.Sub(lastLog).Seconds()),
		"killToStatusActiveDS2Seconds":               round(activeAt.Sub(t0)),
		"killToFirstWriteAcknowledgedByDS2Secs":      round(firstOnDS2.At.Sub(t0)),
		"lastWriteAcknowledgedByDS1AfterKillSeconds": round(lastOnDS1.At.Sub(t0)),
		"rowsAcknowledgedByDS1":                      ackedByDS1,
		"rowsAcknowledgedByDS1ButMissingOnDS2":       lostAtFailover,
		"writesLostSeconds":                          0.0,
		"writerErrorsDuringFailover":                 stats.Errors,
		"writerConnects":                             stats.Connects,
		"estimatedDataLossReportedByOperator":        durationString(grp.Status.LastFailover.EstimatedDataLoss),
		"logBackupInterval":                          sqlLogInterval.String(),
	}
	if lostAtFailover > 0 {
		failover["writesLostSeconds"] = round(lastOnDS1.At.Sub(oldestLost))
	}

	By("bringing ds1 back: it must rejoin as a standby, with its unshipped log salvaged")
	t1 := time.Now()
	scaleStatefulSet("mssql-ds1", 1)
	var salvage string
	Eventually(func(g Gomega) {
		grp := getGroup(sqlNamespace, sqlGroup)
		ms := memberStatus(grp, "ds1")
		g.Expect(ms).NotTo(BeNil())
		g.Expect(ms.Role).To(Equal(v1alpha1.RoleStandby))
		g.Expect(ms.Databases).NotTo(BeEmpty())
		salvage = ms.Databases[0].SalvageFile
		g.Expect(salvage).NotTo(BeEmpty(), "no salvage file reported for ds1")
		g.Expect(ms.Databases[0].LSN).NotTo(BeEmpty())
		g.Expect(grp.Status.Healthy).To(Equal("2/2"))
		g.Expect(grp.Status.ActiveMember).To(Equal("ds2"))
	}).WithTimeout(3*time.Minute).WithPolling(250*time.Millisecond).Should(Succeed(), "ds1 did not rejoin as a standby with a salvage backup")
	rejoin := map[string]any{"scaleUpToStandbyWithSalvageSeconds": round(time.Since(t1)), "salvageFile": salvage}
	Expect(salvage).To(HavePrefix(sqlBackupPath + "/"))
	// On this machine (the local cluster's node) the salvage backup can be looked at directly.
	if fi, err := os.Stat(filepath.Join(root, "backup", strings.TrimPrefix(salvage, sqlBackupPath+"/"))); err == nil {
		Expect(fi.Size()).To(BeNumerically(">", 0))
		rejoin["salvageFileBytes"] = fi.Size()
	}
	Eventually(func() []string { return eventReasons(groupEvents(sqlNamespace, sqlGroup)) }).
		WithTimeout(30 * time.Second).Should(ContainElements("FailoverCompleted", "Salvaged", "Rejoined"))

	By("planned switchover back to ds1 (kubectl annotate), with the writer still writing")
	// Let ds1 restore a log backup or two as a standby first.
	time.Sleep(sqlLogInterval)
	t2 := time.Now()
	kubectl("annotate", "fg", sqlGroup, "-n", sqlNamespace, v1alpha1.AnnotationSwitchoverTo+"=ds1")
	var switchedAt time.Time
	Eventually(func(g Gomega) {
		grp := getGroup(sqlNamespace, sqlGroup)
		g.Expect(grp.Status.ActiveMember).To(Equal("ds1"))
		g.Expect(grp.Status.InProgress).To(BeNil())
		g.Expect(grp.Status.LastFailover).NotTo(BeNil())
		g.Expect(grp.Status.LastFailover.Reason).To(Equal("Switchover"))
		if switchedAt.IsZero() {
			switchedAt = time.Now()
		}
	}).WithTimeout(2*time.Minute).WithPolling(100*time.Millisecond).Should(Succeed(), "the switchover to ds1 did not complete")
	var firstBackOnDS1 *Ack
	Eventually(func() *Ack {
		firstBackOnDS1 = firstAckFrom(writerStats().Acks, "DS1", t2)
		return firstBackOnDS1
	}).WithTimeout(time.Minute).WithPolling(100*time.Millisecond).ShouldNot(BeNil(), "the writer never wrote to DS1 after the switchover")
	time.Sleep(2 * time.Second)
	Eventually(func() error { return writerGet("/check", &check) }).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
	Expect(check.Server).To(Equal("DS1"))
	stats = writerStats()
	var lostAtSwitchover []Ack
	for _, m := range check.Missing {
		if m.Server != "DS1" { // every row ds2 acknowledged must be on ds1 now
			lostAtSwitchover = append(lostAtSwitchover, m)
		}
	}
	Expect(lostAtSwitchover).To(BeEmpty(), "rows acknowledged by ds2 are missing on ds1 after a planned switchover")
	Expect(len(check.Missing)).To(Equal(lostAtFailover), "the rows lost at the failover changed")
	byDS2 := 0
	for _, a := range stats.Acks {
		if a.Server == "DS2" {
			byDS2++
		}
	}
	grp = getGroup(sqlNamespace, sqlGroup)
	Expect(grp.Status.LastFailover.From).To(Equal("ds2"))
	Expect(grp.Status.LastFailover.To).To(Equal("ds1"))
	Expect(podsWithRole(sqlNamespace, "mssql", "active")).To(HaveLen(1))
	Expect(podsWithRole(sqlNamespace, "mssql", "active")[0]).To(HavePrefix("ds1/"))
	kubectl("get", "fg", sqlGroup, "-n", sqlNamespace, "-o", "wide")
	evs := groupEvents(sqlNamespace, sqlGroup)
	switchover := map[string]any{
		"requestToStatusActiveDS1Seconds":          round(switchedAt.Sub(t2)),
		"requestToFirstWriteAcknowledgedByDS1Secs": round(firstBackOnDS1.At.Sub(t2)),
		"writerPauseSeconds":                       round(firstBackOnDS1.At.Sub(lastAckBefore(stats.Acks, firstBackOnDS1.At).At)),
		"rowsAcknowledgedByDS2":                    byDS2,
		"rowsAcknowledgedByDS2ButMissingOnDS1":     len(lostAtSwitchover),
	}
	reasons := eventReasons(evs)
	sort.Strings(reasons)
	record("sqlServerGroup", map[string]any{
		"members":                 "mssqlsim (the project's TDS simulator, not SQL Server) in StatefulSets as uid 10001, hostPath volumes owned by it",
		"tls":                     "members force encryption with a certificate for <pod>.mssql.<namespace>.svc from a test CA; the group trusts the CA (caSecretRef), mode default (Mandatory)",
		"timing":                  "healthCheck sqlServer period 1s x 2, leaseDurationSeconds 3, log backup every 10s, restore every 10s (STANDBY)",
		"appliedToSeededSeconds":  round(seededAt.Sub(applied)),
		"appliedToElectedSeconds": round(electedAt.Sub(applied)),
		"failover":                failover,
		"rejoin":                  rejoin,
		"switchover":              switchover,
		"writerRowsAcknowledged":  len(stats.Acks),
		"events":                  reasons,
	})
	Expect(firstOnDS2.At.Sub(t0)).To(BeNumerically("<", 30*time.Second), "the Service took too long to reach a writable primary")
}

func durationString(d *v1alpha1.Duration) string {
	if d == nil {
		return ""
	}
	return d.Duration.String()
}
