package logshipping

import (
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestForeignLogBackups(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rec := func(typ sqlserver.BackupType, p string, minutes int, copyOnly bool) sqlserver.BackupRecord {
		return sqlserver.BackupRecord{BackupFile: sqlserver.BackupFile{Type: typ, Path: p, FinishedAt: t0.Add(time.Duration(minutes) * time.Minute), IsCopyOnly: copyOnly}}
	}
	const group = "/backup/ns/sales"
	ours := func(name string) string { return group + "/Sales/" + name }
	tests := []struct {
		name    string
		history []sqlserver.BackupRecord
		want    []string
	}{
		{"only ours", []sqlserver.BackupRecord{
			rec(sqlserver.BackupFull, ours("a.bak"), 0, false), rec(sqlserver.BackupLog, ours("b.trn"), 1, false),
		}, nil},
		{"a DBA's log backup after our full", []sqlserver.BackupRecord{
			rec(sqlserver.BackupFull, ours("a.bak"), 0, false), rec(sqlserver.BackupLog, "/var/opt/mssql/backup/job.trn", 2, false),
			rec(sqlserver.BackupLog, ours("b.trn"), 3, false),
		}, []string{"/var/opt/mssql/backup/job.trn"}},
		{"a Windows path outside the target", []sqlserver.BackupRecord{
			rec(sqlserver.BackupFull, ours("a.bak"), 0, false), rec(sqlserver.BackupLog, `D:\Backups\Sales.trn`, 2, false),
		}, []string{`D:\Backups\Sales.trn`}},
		{"COPY_ONLY and full backups elsewhere do not break the chain", []sqlserver.BackupRecord{
			rec(sqlserver.BackupFull, ours("a.bak"), 0, false), rec(sqlserver.BackupLog, "/other/c.trn", 2, true),
			rec(sqlserver.BackupFull, "/other/d.bak", 3, false),
		}, nil},
		{"before our newest full: already healed by it", []sqlserver.BackupRecord{
			rec(sqlserver.BackupFull, ours("a.bak"), 0, false), rec(sqlserver.BackupLog, "/other/e.trn", 1, false),
			rec(sqlserver.BackupFull, ours("f.bak"), 2, false),
		}, nil},
		{"no full backup of ours yet", []sqlserver.BackupRecord{rec(sqlserver.BackupLog, "/other/g.trn", 1, false)}, nil},
		{"a sibling directory with the same prefix is not ours", []sqlserver.BackupRecord{
			rec(sqlserver.BackupFull, ours("a.bak"), 0, false), rec(sqlserver.BackupLog, "/backup/ns/sales-old/Sales/h.trn", 1, false),
		}, []string{"/backup/ns/sales-old/Sales/h.trn"}},
		{"our salvage directory is ours", []sqlserver.BackupRecord{
			rec(sqlserver.BackupFull, ours("a.bak"), 0, false), rec(sqlserver.BackupLog, group+"/salvage/Sales/i.trn", 1, false),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := foreignLogBackups(tt.history, group)
			var paths []string
			for _, r := range got {
				paths = append(paths, r.Path)
			}
			if len(paths) != len(tt.want) {
				t.Fatalf("foreign = %v, want %v", paths, tt.want)
			}
			for i := range paths {
				if paths[i] != tt.want[i] {
					t.Fatalf("foreign = %v, want %v", paths, tt.want)
				}
			}
		})
	}
}

func TestExplainAccessDenied(t *testing.T) {
	denied := mssql.Error{Number: 3201, Class: 16, Message: "Cannot open backup device '/b/x.bak'. Operating system error 5(Access is denied.).",
		All: []mssql.Error{{Number: 3201, Class: 16, Message: "Cannot open backup device '/b/x.bak'. Operating system error 5(Access is denied.)."}, {Number: 3013, Class: 16}}}
	if got := explainAccessDenied(denied).Error(); !strings.Contains(got, "runs as uid 10001") {
		t.Fatalf("access denied: %q, want the uid hint", got)
	}
	missing := mssql.Error{Number: 3201, Class: 16, Message: "Cannot open backup device '/b/x.bak'. Operating system error 3(The system cannot find the path specified.)."}
	if got := explainAccessDenied(missing).Error(); got != missing.Error() {
		t.Fatalf("a missing path got the permission hint: %v", got)
	}
}
