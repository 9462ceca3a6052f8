package sqlserver

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSelectPrunable(t *testing.T) {
	// Timeline (minutes after planBase): full A at 0, logs every 10 min,
	// full B at 60, more logs. now = planBase + 3h, retention 1h: files
	// finished before planBase+2h are old enough to prune.
	now := planBase.Add(3 * time.Hour)
	retention := time.Hour
	fullA := fullFile(90, 100, 0)
	logs1 := []BackupFile{logFile(50, 200, 10), logFile(200, 300, 20), logFile(300, 400, 30)}
	fullB := fullFile(390, 410, 60)
	logs2 := []BackupFile{logFile(400, 500, 70), logFile(500, 600, 80)}
	recent := logFile(600, 700, 150) // younger than retention
	all := append(append(append(append([]BackupFile{fullA}, logs1...), fullB), logs2...), recent)

	tests := []struct {
		name   string
		files  []BackupFile
		needed map[string]LSN
		want   []string
	}{
		{name: "no standby: everything before the newest full goes",
			files: all, needed: nil,
			want: []string{fullA.Path, logs1[0].Path, logs1[1].Path, logs1[2].Path}},
		{name: "a standby at redo 250 keeps the logs it needs and their base full",
			files: all, needed: map[string]LSN{"shop": lsnOf(250)},
			want: []string{logs1[0].Path}},
		{name: "database names match case-insensitively",
			files: all, needed: map[string]LSN{"SHOP": lsnOf(250)},
			want: []string{logs1[0].Path}},
		{name: "a standby past the newest full needs nothing old",
			files: all, needed: map[string]LSN{"shop": lsnOf(550)},
			want: []string{fullA.Path, logs1[0].Path, logs1[1].Path, logs1[2].Path}},
		{name: "a standby behind every full keeps every log after it, not the fulls",
			files: all, needed: map[string]LSN{"shop": lsnOf(60)},
			want: []string{fullA.Path}},
		{name: "another database's redo point does not protect this one",
			files: all, needed: map[string]LSN{"crm": lsnOf(60)},
			want: []string{fullA.Path, logs1[0].Path, logs1[1].Path, logs1[2].Path}},
		{name: "a lone old full is the newest full and is kept",
			files: []BackupFile{fullA}, want: nil},
		{name: "logs after the newest full are kept even when old",
			files: []BackupFile{fullA, logs1[0], logs1[1]}, want: nil},
		{name: "old logs without any full are pruned when not needed",
			files: []BackupFile{logs1[0], logs1[1]}, want: []string{logs1[0].Path, logs1[1].Path}},
		{name: "unknown finish time is never pruned",
			files: []BackupFile{{Path: "/b/unknown.trn", Type: BackupLog, Database: "shop", FirstLSN: lsnOf(1), LastLSN: lsnOf(2)}, fullB},
			want:  nil},
		{name: "nothing older than retention", files: []BackupFile{recent}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SelectPrunable(tc.files, now, retention, tc.needed)
			if fmt.Sprint(paths(got)) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("prunable %v, want %v", paths(got), tc.want)
			}
		})
	}
}

func TestSelectPrunableRetentionBoundary(t *testing.T) {
	fullNew := fullFile(900, 910, 120)
	old := logFile(100, 200, 0)
	now := old.FinishedAt.Add(time.Hour)
	if got := SelectPrunable([]BackupFile{old, fullNew}, now, time.Hour, nil); len(got) != 0 {
		t.Fatalf("a file exactly retention old was pruned: %v", paths(got))
	}
	if got := SelectPrunable([]BackupFile{old, fullNew}, now.Add(time.Nanosecond), time.Hour, nil); len(got) != 1 || got[0].Path != old.Path {
		t.Fatalf("a file just past retention was kept: %v", paths(got))
	}
}

func TestSelectPrunableSeveralDatabases(t *testing.T) {
	now := planBase.Add(5 * time.Hour)
	shopOld, shopNew := fullFile(10, 20, 0), fullFile(30, 40, 10)
	crmOld, crmNew := fullFile(10, 20, 0), fullFile(30, 40, 10)
	crmOld.Database, crmNew.Database = "crm", "crm"
	crmOld.Path, crmNew.Path = strings.Replace(crmOld.Path, "/b/", "/c/", 1), strings.Replace(crmNew.Path, "/b/", "/c/", 1)
	got := SelectPrunable([]BackupFile{shopNew, crmNew, shopOld, crmOld}, now, time.Hour, nil)
	if want := []string{crmOld.Path, shopOld.Path}; fmt.Sprint(paths(got)) != fmt.Sprint(want) {
		t.Fatalf("prunable %v, want %v (ordered by database)", paths(got), want)
	}
}
