package envtest_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var dryRunAll = client.DryRunAll

// mutate applies a change to a decoded manifest.
type mutate func(obj map[string]any)

func set(path string, value any) mutate {
	return func(obj map[string]any) {
		Expect(unstructured.SetNestedField(obj, value, strings.Split(path, ".")...)).To(Succeed())
	}
}

func remove(path string) mutate {
	return func(obj map[string]any) { unstructured.RemoveNestedField(obj, strings.Split(path, ".")...) }
}

func members(ms ...map[string]any) mutate {
	list := make([]any, len(ms))
	for i, m := range ms {
		list[i] = m
	}
	return set("spec.members", list)
}

func member(name string, priority int64) map[string]any {
	return map[string]any{"name": name, "priority": priority,
		"address": map[string]any{"host": "10.0.0.9", "port": int64(8080)}}
}

const minimalBackupTarget = `
apiVersion: understudy.dev/v1alpha1
kind: BackupTarget
spec:
  path: /backups
`

const minimalRestoreSchedule = `
apiVersion: understudy.dev/v1alpha1
kind: RestoreSchedule
spec:
  failoverGroupRef: {name: sales}
`

var _ = Describe("API validation", func() {
	DescribeTable("rejects invalid manifests with a message a user understands",
		func(base string, change mutate, wantMessage string) {
			obj := objectFromYAML(base)
			change(obj.Object)
			err := k8sClient.Create(ctx, obj, dryRunAll)
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid %s", obj.GetKind())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantMessage))
		},
		Entry("duplicate member names", minimalGroup,
			members(member("a", 10), member("a", 20)), "Duplicate value"),
		Entry("a single member", minimalGroup,
			members(member("a", 10)), "should have at least 2 items"),
		Entry("nine members", minimalGroup,
			members(member("a", 1), member("b", 1), member("c", 1), member("d", 1), member("e", 1),
				member("f", 1), member("g", 1), member("h", 1), member("i", 1)), "must have at most 8 items"),
		Entry("priority above 1000", minimalGroup,
			members(member("a", 1001), member("b", 10)), "should be less than or equal to 1000"),
		Entry("negative priority", minimalGroup,
			members(member("a", -1), member("b", 10)), "should be greater than or equal to 0"),
		Entry("every priority 0", minimalGroup,
			members(member("a", 0), member("b", 0)), "at least one member needs a priority above 0"),
		Entry("member name that is not a DNS label", minimalGroup,
			members(member("Primary_1", 10), member("b", 10)), "spec.members[0].name"),
		Entry("member with neither podSelector nor address", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1)}, member("b", 1)),
			"a member needs a podSelector (its pods in this cluster) or an address"),
		Entry("podSelector with matchExpressions", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1), "podSelector": map[string]any{
				"matchLabels":      map[string]any{"app": "x"},
				"matchExpressions": []any{map[string]any{"key": "app", "operator": "Exists"}}}}, member("b", 1)),
			"podSelector supports matchLabels only"),
		Entry("two health-check kinds", minimalGroup,
			set("spec.healthCheck.http", map[string]any{"port": int64(80)}), "healthCheck needs exactly one of tcp, http or sqlServer"),
		Entry("no health-check kind", minimalGroup,
			remove("spec.healthCheck.tcp"), "healthCheck needs exactly one of tcp, http or sqlServer"),
		Entry("timeout longer than the period", minimalGroup,
			set("spec.healthCheck.timeoutSeconds", int64(5)), "healthCheck.timeoutSeconds must not exceed periodSeconds"),
		Entry("tcp check without a port when members have none", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1), "address": map[string]any{"host": "db1"}}, member("b", 1)),
			"healthCheck.tcp.port is required unless every member has address.port"),
		Entry("sqlServer health check without sqlServer", minimalGroup,
			func(obj map[string]any) {
				remove("spec.healthCheck.tcp")(obj)
				set("spec.healthCheck.sqlServer", map[string]any{})(obj)
			}, "healthCheck.sqlServer requires spec.sqlServer"),
		Entry("lease shorter than failure detection", minimalGroup,
			set("spec.failover.leaseDurationSeconds", int64(5)), "failover.leaseDurationSeconds must be at least healthCheck.periodSeconds x healthCheck.failureThreshold"),
		Entry("unknown failover mode", minimalGroup,
			set("spec.failover.mode", "Sometimes"), `Unsupported value: "Sometimes"`),
		Entry("maxDataLoss on a group without SQL Server", minimalGroup,
			set("spec.failover.maxDataLoss", "5m"), "failover.maxDataLoss applies only to SQL Server groups"),
		Entry("logShipping without sqlServer", minimalGroup,
			set("spec.logShipping", map[string]any{"backupTargetRef": map[string]any{"name": "b"}}), "logShipping requires spec.sqlServer"),
		Entry("database name with ]", minimalSQLGroup,
			set("spec.sqlServer.databases", []any{"Sales]; DROP DATABASE x; --"}), "spec.sqlServer.databases[0]: Invalid value"),
		Entry("database name with ;", minimalSQLGroup,
			set("spec.sqlServer.databases", []any{"a;b"}), "should match"),
		Entry("a system database", minimalSQLGroup,
			set("spec.sqlServer.databases", []any{"Sales", "MSDB"}), "system databases (master, model, msdb, tempdb, distribution) cannot be shipped"),
		Entry("no databases", minimalSQLGroup,
			set("spec.sqlServer.databases", []any{}), "should have at least 1 items"),
		Entry("bad cron", minimalSQLGroup,
			set("spec.logShipping.fullBackupSchedule", "every night at 2"), "spec.logShipping.fullBackupSchedule: Invalid value"),
		Entry("cron with an hour out of range", minimalSQLGroup,
			set("spec.logShipping.fullBackupSchedule", "0 25 * * *"), "spec.logShipping.fullBackupSchedule: Invalid value"),
		Entry("log backup interval too short", minimalSQLGroup,
			set("spec.logShipping.logBackupInterval", "1s"), "logBackupInterval must be between 10s and 24h"),
		Entry("statement timeout too short", minimalSQLGroup,
			set("spec.sqlServer.statementTimeout", "100ms"), "statementTimeout must be 0s (the default) or between 1s and 10m"),
		Entry("statement timeout not a duration", minimalSQLGroup,
			set("spec.sqlServer.statementTimeout", "half a minute"), "spec.sqlServer.statementTimeout"),
		Entry("backup and restore timeout too long", minimalSQLGroup,
			set("spec.sqlServer.backupRestoreTimeout", "73h"), "backupRestoreTimeout must be 0s (the default) or between 1m and 72h"),
		Entry("unknown TLS mode", minimalSQLGroup,
			set("spec.sqlServer.tls", map[string]any{"mode": "true"}), `Unsupported value: "true"`),
		Entry("trustServerCertificate with Strict", minimalSQLGroup,
			set("spec.sqlServer.tls", map[string]any{"mode": "Strict", "trustServerCertificate": true}),
			"tls.trustServerCertificate cannot be used with tls.mode Strict"),
		Entry("trustServerCertificate with a CA", minimalSQLGroup,
			set("spec.sqlServer.tls", map[string]any{"trustServerCertificate": true, "caSecretRef": map[string]any{"name": "ca"}}),
			"tls.trustServerCertificate skips the verification tls.caSecretRef is for"),
		Entry("certificate settings with Disable", minimalSQLGroup,
			set("spec.sqlServer.tls", map[string]any{"mode": "Disable", "caSecretRef": map[string]any{"name": "ca"}}),
			"tls.mode Disable sends everything in clear"),
		Entry("hostNameInCertificate that is not a name", minimalSQLGroup,
			set("spec.sqlServer.tls", map[string]any{"hostNameInCertificate": "sql_0.example.com"}), "spec.sqlServer.tls.hostNameInCertificate"),
		Entry("empty hostNameInCertificate", minimalSQLGroup,
			set("spec.sqlServer.tls", map[string]any{"hostNameInCertificate": ""}), "spec.sqlServer.tls.hostNameInCertificate"),
		Entry("read-only Service with the same name", minimalGroup,
			set("spec.routing", map[string]any{"service": map[string]any{"name": "db"}, "readOnlyService": map[string]any{"name": "db"}}),
			"routing.readOnlyService must name a different Service"),
		Entry("webhook URL that is not HTTP", minimalGroup,
			set("spec.notifications", map[string]any{"webhooks": []any{map[string]any{"url": "ftp://x"}}}), "spec.notifications.webhooks[0].url"),
		Entry("BackupTarget with both path and url", minimalBackupTarget,
			func(obj map[string]any) {
				set("spec.url", "s3://minio:9000/backups")(obj)
				set("spec.credentialsSecretRef", map[string]any{"name": "s3"})(obj)
			}, "exactly one of path or url must be set"),
		Entry("BackupTarget with neither path nor url", minimalBackupTarget,
			remove("spec.path"), "exactly one of path or url must be set"),
		Entry("BackupTarget files owned by root", minimalBackupTarget,
			set("spec.filesOwner", map[string]any{"uid": int64(0)}), "spec.filesOwner.uid"),
		Entry("BackupTarget files gid out of range", minimalBackupTarget,
			set("spec.filesOwner", map[string]any{"gid": int64(1) << 40}), "spec.filesOwner.gid"),
		Entry("BackupTarget url without credentials", minimalBackupTarget,
			func(obj map[string]any) {
				remove("spec.path")(obj)
				set("spec.url", "s3://minio:9000/backups/sales")(obj)
			}, "url requires credentialsSecretRef"),
		Entry("BackupTarget relative path", minimalBackupTarget,
			set("spec.path", "backups"), "spec.path: Invalid value"),
		Entry("BackupTarget retention under an hour", minimalBackupTarget,
			set("spec.retention", "10m"), "retention must be between 1h and 87600h"),
		Entry("RestoreSchedule offset not shorter than interval", minimalRestoreSchedule,
			set("spec.offset", "2m"), "offset must be shorter than interval"),
		Entry("RestoreSchedule unknown mode", minimalRestoreSchedule,
			set("spec.mode", "ReadOnly"), `Unsupported value: "ReadOnly"`),
		Entry("RestoreSchedule without a group", minimalRestoreSchedule,
			remove("spec.failoverGroupRef"), "spec.failoverGroupRef: Required value"),
		Entry("RestoreSchedule database subset with a system database", minimalRestoreSchedule,
			set("spec.databases", []any{"tempdb"}), "system databases"),
		// Durations: every duration field refuses text the operator could not parse, and bounds.
		Entry("maxDataLoss that is not a duration", minimalSQLGroup,
			set("spec.failover.maxDataLoss", "five minutes"), "spec.failover.maxDataLoss: Invalid value"),
		Entry("maxDataLoss in days", minimalSQLGroup,
			set("spec.failover.maxDataLoss", "1d"), "spec.failover.maxDataLoss: Invalid value"),
		Entry("negative maxDataLoss", minimalSQLGroup,
			set("spec.failover.maxDataLoss", "-5m"), "spec.failover.maxDataLoss: Invalid value"),
		Entry("maxDataLoss that overflows", minimalSQLGroup,
			set("spec.failover.maxDataLoss", "9999999999h"), "spec.failover.maxDataLoss"),
		Entry("maxDataLoss above a week", minimalSQLGroup,
			set("spec.failover.maxDataLoss", "200h"), "failover.maxDataLoss must be between 0s and 168h"),
		Entry("maxDataLoss smaller than the log backup interval", minimalSQLGroup,
			set("spec.failover.maxDataLoss", "30s"), "failover.maxDataLoss must be 0s (never lose shipped data) or at least logShipping.logBackupInterval"),
		Entry("maxDataLoss that is a number", minimalSQLGroup,
			set("spec.failover.maxDataLoss", int64(300)), "spec.failover.maxDataLoss: Invalid value"),
		Entry("logBackupInterval that is not a duration", minimalSQLGroup,
			set("spec.logShipping.logBackupInterval", "every minute"), "spec.logShipping.logBackupInterval: Invalid value"),
		Entry("logBackupInterval that overflows", minimalSQLGroup,
			set("spec.logShipping.logBackupInterval", "9999999999h"), "spec.logShipping.logBackupInterval"),
		Entry("logBackupInterval above a day", minimalSQLGroup,
			set("spec.logShipping.logBackupInterval", "25h"), "logBackupInterval must be between 10s and 24h"),
		Entry("BackupTarget retention that is not a duration", minimalBackupTarget,
			set("spec.retention", "two days"), "spec.retention: Invalid value"),
		Entry("BackupTarget retention that overflows", minimalBackupTarget,
			set("spec.retention", "9999999999h"), "spec.retention"),
		Entry("BackupTarget retention above ten years", minimalBackupTarget,
			set("spec.retention", "90000h"), "retention must be between 1h and 87600h"),
		Entry("RestoreSchedule interval that is not a duration", minimalRestoreSchedule,
			set("spec.interval", "1 minute"), "spec.interval: Invalid value"),
		Entry("RestoreSchedule interval below 10s", minimalRestoreSchedule,
			set("spec.interval", "5s"), "interval must be between 10s and 24h"),
		Entry("RestoreSchedule negative offset", minimalRestoreSchedule,
			set("spec.offset", "-1s"), "spec.offset: Invalid value"),
		Entry("RestoreSchedule offset that is not a duration", minimalRestoreSchedule,
			set("spec.offset", "soon"), "spec.offset: Invalid value"),
		Entry("RestoreSchedule delay that is not a duration", minimalRestoreSchedule,
			set("spec.delay", "1w"), "spec.delay: Invalid value"),
		Entry("RestoreSchedule delay above a week", minimalRestoreSchedule,
			set("spec.delay", "169h"), "delay must be between 0s and 168h"),
		Entry("RestoreSchedule delay that overflows", minimalRestoreSchedule,
			set("spec.delay", "9999999999h"), "spec.delay"),
		// Members.
		Entry("a podSelector on the operator's role label", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1), "podSelector": map[string]any{"matchLabels": map[string]any{"understudy.dev/role": "active"}}},
				member("b", 1)),
			"podSelector must not use the labels the operator sets"),
		Entry("two members with the same address", minimalGroup,
			members(member("a", 10), member("b", 20)), "two members have the same address"),
		Entry("two members with the same address in different case", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1), "address": map[string]any{"host": "DB1.example.com", "port": int64(1433)}},
				map[string]any{"name": "b", "priority": int64(1), "address": map[string]any{"host": "db1.example.com", "port": int64(1433)}}),
			"two members have the same address"),
		Entry("a member at the cloud metadata address", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1), "address": map[string]any{"host": "169.254.169.254", "port": int64(80)}}, member("b", 1)),
			"address.host must not be a link-local, cloud metadata or unspecified address"),
		Entry("a member at an IPv6 link-local address", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1), "address": map[string]any{"host": "fe80::1", "port": int64(80)}}, member("b", 1)),
			"address.host must not be a link-local"),
		Entry("a member at 0.0.0.0", minimalGroup,
			members(map[string]any{"name": "a", "priority": int64(1), "address": map[string]any{"host": "0.0.0.0", "port": int64(80)}}, member("b", 1)),
			"address.host must not be a link-local"),
		Entry("a group name longer than a label value", minimalGroup,
			func(obj map[string]any) { set("metadata.name", strings.Repeat("g", 64))(obj) },
			"metadata.name of a FailoverGroup must be at most 63 characters"),
		Entry("databases that differ only in case", minimalSQLGroup,
			set("spec.sqlServer.databases", []any{"Sales", "SALES"}), "sqlServer.databases names must differ in more than case"),
		Entry("failure threshold of 0", minimalGroup,
			set("spec.healthCheck.failureThreshold", int64(0)), "spec.healthCheck.failureThreshold"),
		Entry("period of 0", minimalGroup,
			set("spec.healthCheck.periodSeconds", int64(0)), "spec.healthCheck.periodSeconds"),
		Entry("lease shorter than a slower detection", minimalGroup,
			func(obj map[string]any) {
				set("spec.healthCheck.periodSeconds", int64(10))(obj)
				set("spec.failover.leaseDurationSeconds", int64(20))(obj)
			}, "failover.leaseDurationSeconds must be at least healthCheck.periodSeconds x healthCheck.failureThreshold"),
		// BackupTarget paths and url.
		Entry("BackupTarget url (object storage not supported yet)", minimalBackupTarget,
			func(obj map[string]any) {
				remove("spec.path")(obj)
				set("spec.url", "s3://minio:9000/backups/sales")(obj)
				set("spec.credentialsSecretRef", map[string]any{"name": "s3"})(obj)
			}, "url (object storage) is not supported yet"),
		Entry("BackupTarget path /", minimalBackupTarget,
			set("spec.path", "/"), "path must name a directory below /"),
		Entry("BackupTarget path with ..", minimalBackupTarget,
			set("spec.path", "/backups/../etc"), "path must not contain . or .. segments"),
		Entry("BackupTarget path under /proc", minimalBackupTarget,
			set("spec.path", "/proc/self"), "path must not be under /proc"),
		Entry("BackupTarget path at the service account token", minimalBackupTarget,
			set("spec.path", "/var/run/secrets/kubernetes.io/serviceaccount"), "path must not be under /proc"),
		Entry("BackupTarget UNC path", minimalBackupTarget,
			set("spec.path", "//fileserver/share"), "path must not start with //"),
		Entry("BackupTarget path with a backslash", minimalBackupTarget,
			set("spec.path", `/backups\sales`), "spec.path: Invalid value"),
		Entry("BackupTarget path with a newline", minimalBackupTarget,
			set("spec.path", "/backups\nGO"), "spec.path: Invalid value"),
		Entry("BackupTarget path with a trailing slash", minimalBackupTarget,
			set("spec.path", "/backups/"), "path must name a directory below /"),
		// RestoreSchedule names.
		Entry("RestoreSchedule member that is not a DNS label", minimalRestoreSchedule,
			set("spec.members", []any{"DS1; DROP"}), "spec.members[0]"),
		Entry("RestoreSchedule member name too long", minimalRestoreSchedule,
			set("spec.members", []any{strings.Repeat("m", 64)}), "spec.members[0]"),
		Entry("RestoreSchedule database with a quote", minimalRestoreSchedule,
			set("spec.databases", []any{"Sales'--"}), "spec.databases[0]"),
	)

	It("accepts the minimal manifests the table starts from", func() {
		for _, m := range []string{minimalGroup, minimalSQLGroup, minimalBackupTarget, minimalRestoreSchedule} {
			Expect(k8sClient.Create(ctx, objectFromYAML(m), dryRunAll)).To(Succeed(), m)
		}
	})

	It("accepts the TLS settings that make sense together", func() {
		for _, tls := range []map[string]any{
			{"mode": "Mandatory", "caSecretRef": map[string]any{"name": "ca"}, "hostNameInCertificate": "sql.shop.svc"},
			{"mode": "Strict", "caSecretRef": map[string]any{"name": "ca"}},
			{"mode": "Optional", "trustServerCertificate": true},
			{"mode": "Mandatory", "hostNameInCertificate": "10.0.0.5"},
			{"mode": "Disable"},
		} {
			obj := objectFromYAML(minimalSQLGroup)
			set("spec.sqlServer.tls", tls)(obj.Object)
			Expect(k8sClient.Create(ctx, obj, dryRunAll)).To(Succeed(), fmt.Sprint(tls))
		}
	})

	It("accepts valid cron expressions and macros", func() {
		for _, c := range []string{"0 2 * * *", "*/15 * * * *", "30 1,13 * * 1-5", "0 0 1 JAN *", "@daily", "@hourly"} {
			obj := objectFromYAML(minimalSQLGroup)
			set("spec.logShipping.fullBackupSchedule", c)(obj.Object)
			Expect(k8sClient.Create(ctx, obj, dryRunAll)).To(Succeed(), c)
		}
	})
})
