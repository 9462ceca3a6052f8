package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestCompressionCondition(t *testing.T) {
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
	express := sqlserver.ServerInfo{Edition: "Express Edition (64-bit)", EngineEdition: 4}
	developer := sqlserver.ServerInfo{Edition: "Developer Edition (64-bit)", EngineEdition: 3}
	tests := []struct {
		name    string
		comp    logshipping.Compression
		status  metav1.ConditionStatus
		reason  string
		message string
	}{
		{"not requested", logshipping.Compression{}, metav1.ConditionTrue, v1alpha1.ReasonBackupCompressionNotRequested,
			"BackupTarget nfs has compression: false"},
		{"compressed", logshipping.Compression{Requested: true, Server: developer}, metav1.ConditionTrue, v1alpha1.ReasonBackupCompressionCompressed,
			"backups on a (Developer Edition (64-bit)) are taken WITH COMPRESSION"},
		{"express", logshipping.Compression{Requested: true, Server: express}, metav1.ConditionFalse, v1alpha1.ReasonBackupCompressionEditionCannotCompress,
			"a runs Express Edition (64-bit), which cannot compress backups: they are taken without COMPRESSION (BackupTarget nfs spec.compression: false says so and clears this)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compressionCondition(g, "nfs", "a", tt.comp)
			if c.Type != v1alpha1.ConditionBackupCompression || c.Status != tt.status || c.Reason != tt.reason || c.Message != tt.message || c.ObservedGeneration != 4 {
				t.Fatalf("condition %+v, want %s %s %q (generation 4)", c, tt.status, tt.reason, tt.message)
			}
		})
	}
}

func TestForeignLogBackupsCondition(t *testing.T) {
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rec := func(p string) sqlserver.BackupRecord {
		return sqlserver.BackupRecord{BackupFile: sqlserver.BackupFile{Path: p, Type: sqlserver.BackupLog, FinishedAt: at}}
	}
	none := foreignLogBackupsCondition(g, "nfs", "a", map[string][]sqlserver.BackupRecord{})
	if none.Status != metav1.ConditionFalse || none.Reason != v1alpha1.ReasonForeignLogBackupsNone || none.ObservedGeneration != 2 ||
		none.Message != "every log backup on a since the newest full backup is in BackupTarget nfs" {
		t.Fatalf("no foreign backups: %+v", none)
	}
	found := foreignLogBackupsCondition(g, "nfs", "a", map[string][]sqlserver.BackupRecord{
		"Stock": {rec("/x/s.trn")},
		"Sales": {rec("/x/1.trn"), rec("/x/2.trn"), rec("/x/3.trn"), rec("/x/4.trn"), rec("/x/5.trn")},
	})
	want := "log backups on a written outside BackupTarget nfs, not WITH COPY_ONLY, break the standbys' chain (a full backup and a reseed follow each): " +
		"Sales: /x/1.trn (2026-12-04T10:00:00Z), /x/2.trn (2026-12-04T10:00:00Z), /x/3.trn (2026-12-04T10:00:00Z), and 2 more; " +
		"Stock: /x/s.trn (2026-12-04T10:00:00Z). Stop the other backup job or make it use COPY_ONLY"
	if found.Type != v1alpha1.ConditionForeignLogBackups || found.Status != metav1.ConditionTrue || found.Reason != v1alpha1.ReasonForeignLogBackupsFound || found.Message != want {
		t.Fatalf("foreign backups: %+v\nwant message %q", found, want)
	}
}

func TestLogGrowthCondition(t *testing.T) {
	g := &v1alpha1.FailoverGroup{ObjectMeta: metav1.ObjectMeta{Generation: 3},
		Spec: v1alpha1.FailoverGroupSpec{LogShipping: &v1alpha1.LogShippingSpec{LogBackupInterval: v1alpha1.NewDuration(time.Minute)}}}
	ok := logGrowthCondition(g, "a", []logshipping.LogGrowth{})
	if ok.Status != metav1.ConditionFalse || ok.Reason != v1alpha1.ReasonTransactionLogTruncated || ok.ObservedGeneration != 3 ||
		ok.Message != "the logs on a were backed up within 2 x logBackupInterval (2m0s)" {
		t.Fatalf("no growth: %+v", ok)
	}
	since := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	grow := logGrowthCondition(g, "a", []logshipping.LogGrowth{{Database: "Sales", Since: since}})
	want := "the log on a waits for a log backup (log_reuse_wait_desc LOG_BACKUP) and none reached the target for more than 2 x logBackupInterval (2m0s): " +
		"Sales since 2026-12-04T10:00:00Z. In FULL recovery only log backups truncate it, so it grows until they succeed"
	if grow.Type != v1alpha1.ConditionTransactionLogGrowing || grow.Status != metav1.ConditionTrue || grow.Reason != v1alpha1.ReasonTransactionLogWaitingForBackup || grow.Message != want {
		t.Fatalf("growth: %+v\nwant message %q", grow, want)
	}
}
