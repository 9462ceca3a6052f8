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

// forkedHistory is a database's backups across a failover, all older than
// retention: fork A (full A at 100, logs to 400, then the old primary's
// unshipped tail to 500 and a late full A2 at 510) and fork B, which the
// new primary started by recovering at A's 400 (its first log spans the
// fork point), with full B at 450 and logs after it. B's full has lower
// LSNs than A2: only the fork tells which chain is current.
type forkedHistory struct {
	fullA, logA1, logA2, logA3, logA4, fullA2 BackupFile
	logB1, fullB, logB2, logB3                BackupFile
	salvage                                   BackupFile
}

func newForkedHistory() forkedHistory {
	on := func(f BackupFile, fork string) BackupFile {
		f.ForkID, f.FirstForkID = fork, fork
		return f
	}
	h := forkedHistory{
		fullA: on(fullFile(90, 100, 0), "A"), logA1: on(logFile(100, 200, 10), "A"), logA2: on(logFile(200, 300, 20), "A"),
		logA3: on(logFile(300, 400, 30), "A"), logA4: on(logFile(400, 500, 40), "A"), fullA2: on(fullFile(480, 510, 45), "A"),
		logB1: on(logFile(400, 430, 60), "B"), fullB: on(fullFile(440, 450, 70), "B"),
		logB2: on(logFile(430, 460, 80), "B"), logB3: on(logFile(460, 470, 90), "B"),
		salvage: on(logFile(500, 520, 50), "A"),
	}
	h.logB1.FirstForkID, h.logB1.ForkPointLSN = "A", lsnOf(400)
	h.salvage.Path = "/b/ns/g/salvage/shop/20260301T125000Z_500.trn"
	return h
}

func (h forkedHistory) all() []BackupFile {
	return []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.salvage, h.logB1, h.fullB, h.logB2, h.logB3}
}

func TestSelectPrunableAfterFailover(t *testing.T) {
	h := newForkedHistory()
	now := planBase.Add(30 * 24 * time.Hour) // everything is far past retention
	bOnly := []BackupFile{h.logB1, h.fullB, h.logB2, h.logB3}
	tests := []struct {
		name   string
		files  []BackupFile
		needed map[string]LSN
		want   []BackupFile
	}{
		{name: "no standby: B's full and its logs stay, fork A goes",
			files: h.all(),
			want:  []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.logB1}},
		{name: "a standby still on fork A before the fork point keeps A's chain up to it and its base full",
			files: h.all(), needed: map[string]LSN{"shop": lsnOf(250)},
			want: []BackupFile{h.logA1, h.logA4, h.fullA2}},
		{name: "a standby at the fork point needs only fork B",
			files: h.all(), needed: map[string]LSN{"shop": lsnOf(400)},
			want: []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2}},
		{name: "a standby on fork B past its full releases every file of fork A",
			files: h.all(), needed: map[string]LSN{"shop": lsnOf(455)},
			want: []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.logB1}},
		{name: "a standby whose chain this catalogue cannot continue keeps everything",
			files: append([]BackupFile{h.fullA}, bOnly...), needed: map[string]LSN{"shop": lsnOf(250)},
			want: nil},
		{name: "a standby with no known position keeps everything",
			files: h.all(), needed: map[string]LSN{"shop": {}},
			want: nil},
		{name: "before B's first full, the full that finished last and what follows stay",
			files: []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.logB1},
			want:  []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4}},
		{name: "only a salvage file: never selected",
			files: []BackupFile{h.salvage}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SelectPrunable(tc.files, now, 24*time.Hour, tc.needed)
			if fmt.Sprint(paths(got)) != fmt.Sprint(paths(tc.want)) {
				t.Fatalf("prunable %v\nwant      %v", paths(got), paths(tc.want))
			}
			for _, f := range got {
				if f.Path == h.fullB.Path || f.Path == h.logB2.Path || f.Path == h.logB3.Path || f.Path == h.salvage.Path {
					t.Fatalf("%s selected", f.Path)
				}
			}
		})
	}
}

func TestSelectPrunableKeepsWholeFiles(t *testing.T) {
	// One file holds three log sets (written without INIT); the standby
	// needs the third: the file stays, and no set of it is returned.
	now := planBase.Add(48 * time.Hour)
	older := fullFile(50, 60, 0)
	full := fullFile(90, 100, 5)
	full2 := fullFile(390, 400, 40)
	var sets []BackupFile
	for i, r := range [][2]int64{{100, 200}, {200, 300}, {300, 400}} {
		f := logFile(r[0], r[1], 10+i)
		f.Path, f.Position = "/b/appended.trn", i+1
		sets = append(sets, f)
	}
	files := append([]BackupFile{older, full, full2}, sets...)
	if got := SelectPrunable(files, now, time.Hour, map[string]LSN{"shop": lsnOf(350)}); fmt.Sprint(paths(got)) != fmt.Sprint([]string{older.Path}) {
		t.Fatalf("prunable %v, want only %s (the file with a needed set stays whole)", paths(got), older.Path)
	}
	got := SelectPrunable(files, now, time.Hour, nil)
	if len(got) != 5 || got[2].Set() != 1 || got[4].Set() != 3 {
		t.Fatalf("with nobody needing them every set goes: %v", got)
	}
}
