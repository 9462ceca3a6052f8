package v1alpha1

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validGroup() *FailoverGroup {
	return &FailoverGroup{
		ObjectMeta: metav1.ObjectMeta{Name: "sales"},
		Spec: FailoverGroupSpec{
			Members: []Member{
				{Name: "ds1", Priority: 100, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "ds1"}}},
				{Name: "ds2", Priority: 50, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "ds2"}}},
			},
			HealthCheck: HealthCheck{SQLServer: &SQLServerHealthCheck{}, PeriodSeconds: 2, TimeoutSeconds: 1, FailureThreshold: 3, SuccessThreshold: 2},
			Failover:    FailoverPolicy{LeaseDurationSeconds: 8, FailbackDelaySeconds: 300},
			SQLServer:   &SQLServerSpec{Databases: []DatabaseName{"Sales"}},
			LogShipping: &LogShippingSpec{LogBackupInterval: NewDuration(time.Minute)},
		},
	}
}

func TestFailoverGroupValidate(t *testing.T) {
	if err := validGroup().Validate(); err != nil {
		t.Fatalf("valid group refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(g *FailoverGroup)
		want   string
	}{
		{"maxDataLoss not a duration", func(g *FailoverGroup) {
			g.Spec.Failover.MaxDataLoss = &Duration{invalid: "five minutes"}
		}, "spec.failover.maxDataLoss"},
		{"maxDataLoss negative", func(g *FailoverGroup) { g.Spec.Failover.MaxDataLoss = DurationPtr(-time.Second) }, "spec.failover.maxDataLoss"},
		{"maxDataLoss under the log interval", func(g *FailoverGroup) { g.Spec.Failover.MaxDataLoss = DurationPtr(30 * time.Second) }, "at least logShipping.logBackupInterval"},
		{"log interval too long", func(g *FailoverGroup) { g.Spec.LogShipping.LogBackupInterval = NewDuration(48 * time.Hour) }, "spec.logShipping.logBackupInterval"},
		{"statement timeout too short", func(g *FailoverGroup) { g.Spec.SQLServer.StatementTimeout = NewDuration(time.Millisecond) }, "spec.sqlServer.statementTimeout"},
		{"statement timeout not a duration", func(g *FailoverGroup) { g.Spec.SQLServer.StatementTimeout = Duration{invalid: "soon"} }, "spec.sqlServer.statementTimeout"},
		{"backup timeout too long", func(g *FailoverGroup) { g.Spec.SQLServer.BackupRestoreTimeout = NewDuration(100 * time.Hour) }, "spec.sqlServer.backupRestoreTimeout"},
		{"name too long", func(g *FailoverGroup) { g.Name = strings.Repeat("g", 64) }, "metadata.name"},
		{"one member", func(g *FailoverGroup) { g.Spec.Members = g.Spec.Members[:1] }, "2 to 8 members"},
		{"duplicate member", func(g *FailoverGroup) { g.Spec.Members[1].Name = "ds1" }, "Duplicate value"},
		{"identical podSelectors", func(g *FailoverGroup) {
			g.Spec.Members[1].PodSelector.MatchLabels = map[string]string{"app": "ds1"}
		}, "overlaps member ds1's podSelector"},
		{"podSelector a subset of another", func(g *FailoverGroup) {
			g.Spec.Members[1].PodSelector.MatchLabels = map[string]string{"app": "ds1", "zone": "b"}
		}, "overlaps member ds1's podSelector"},
		{"role label in podSelector", func(g *FailoverGroup) {
			g.Spec.Members[1].PodSelector.MatchLabels = map[string]string{LabelRole: "active"}
		}, "spec.members[1].podSelector.matchLabels"},
		{"same address twice", func(g *FailoverGroup) {
			g.Spec.Members[0].Address = &MemberAddress{Host: "db.example.com", Port: 1433}
			g.Spec.Members[1].Address = &MemberAddress{Host: "DB.example.com", Port: 1433}
		}, "spec.members[1].address"},
		{"metadata address", func(g *FailoverGroup) {
			g.Spec.Members[0].Address = &MemberAddress{Host: "169.254.169.254"}
		}, "spec.members[0].address.host"},
		{"zero period", func(g *FailoverGroup) { g.Spec.HealthCheck.PeriodSeconds = 0 }, "spec.healthCheck.periodSeconds"},
		{"lease shorter than detection", func(g *FailoverGroup) { g.Spec.Failover.LeaseDurationSeconds = 5 }, "spec.failover.leaseDurationSeconds"},
		{"no priority above 0", func(g *FailoverGroup) { g.Spec.Members[0].Priority, g.Spec.Members[1].Priority = 0, 0 }, "priority above 0"},
		{"databases differing in case", func(g *FailoverGroup) { g.Spec.SQLServer.Databases = []DatabaseName{"Sales", "sales"} }, "spec.sqlServer.databases[1]"},
		{"system database", func(g *FailoverGroup) { g.Spec.SQLServer.Databases = []DatabaseName{"tempdb"} }, "system databases"},
		{"database name with a bracket", func(g *FailoverGroup) { g.Spec.SQLServer.Databases = []DatabaseName{"a]b"} }, "regular SQL Server identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := validGroup()
			tt.change(g)
			err := g.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidatePath(t *testing.T) {
	for _, p := range []string{"/backups", "/var/opt/mssql/backup", "/mnt/shared/sql"} {
		if err := ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"backups", "/", "/backups/", "/a/../etc", "/a/./b", "//host/share", `/a\b`, "/a\nb", "/proc", "/proc/1/root",
		"/var/run/secrets/kubernetes.io/serviceaccount", "/run/secrets", "/etc/shadow", "/sys/kernel", "/dev/sda", "/a;b", "/a'b"} {
		if err := ValidatePath(p); err == nil {
			t.Errorf("ValidatePath(%q) accepted it", p)
		}
	}
}

func TestBackupTargetAndRestoreScheduleValidate(t *testing.T) {
	bt := &BackupTarget{Spec: BackupTargetSpec{Path: "/backups", Retention: NewDuration(48 * time.Hour)}}
	if err := bt.Validate(); err != nil {
		t.Fatal(err)
	}
	bt.Spec.Retention = Duration{invalid: "forever"}
	if err := bt.Validate(); err == nil || !strings.Contains(err.Error(), "spec.retention") {
		t.Errorf("Validate() = %v", err)
	}
	bt = &BackupTarget{Spec: BackupTargetSpec{URL: "s3://h/b", Retention: NewDuration(48 * time.Hour)}}
	if err := bt.Validate(); err == nil || !strings.Contains(err.Error(), "spec.url") {
		t.Errorf("Validate() = %v", err)
	}
	rs := &RestoreSchedule{Spec: RestoreScheduleSpec{Interval: NewDuration(time.Minute), Offset: NewDuration(20 * time.Second)}}
	if err := rs.Validate(); err != nil {
		t.Fatal(err)
	}
	rs.Spec.Offset = NewDuration(time.Minute)
	if err := rs.Validate(); err == nil || !strings.Contains(err.Error(), "shorter than interval") {
		t.Errorf("Validate() = %v", err)
	}
	rs.Spec.Offset = NewDuration(0)
	rs.Spec.Members = []string{"Bad Name"}
	if err := rs.Validate(); err == nil || !strings.Contains(err.Error(), "spec.members[0]") {
		t.Errorf("Validate() = %v", err)
	}
}
