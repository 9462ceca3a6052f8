package sqlserver

import (
	"fmt"
	"testing"
	"time"
)

// These tests pin rules of the restore and prune planners that the other tests left open: each was
// found by flipping one comparison or boolean operator (make mutate) and seeing no test fail.

func TestPlanLogRestoresPins(t *testing.T) {
	long, short := logFile(100, 300, 1), logFile(200, 250, 2)
	tests := []struct {
		name string
		redo int64
		logs []BackupFile
		want []BackupFile
	}{
		{name: "a log covering the redo point is found even when a shorter one that starts later sorts before it by LastLSN",
			redo: 150, logs: []BackupFile{short, long}, want: []BackupFile{long}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, gap := PlanLogRestores(lsnOf(tc.redo), tc.logs, time.Time{})
			if gap != nil || fmt.Sprint(paths(got)) != fmt.Sprint(paths(tc.want)) {
				t.Fatalf("apply %v, gap %v; want %v and no gap", paths(got), gap, paths(tc.want))
			}
		})
	}
}

func TestCompareByLSNRangePins(t *testing.T) {
	named := func(f BackupFile, path string, set int) BackupFile {
		f.Path, f.Position = path, set
		return f
	}
	tests := []struct {
		name string
		a, b BackupFile // a sorts strictly before b
	}{
		{name: "a lower FirstLSN sorts first whatever the reach and the path",
			a: named(logFile(100, 300, 0), "/b/z.trn", 1), b: named(logFile(200, 250, 0), "/b/a.trn", 1)},
		{name: "files starting at the same LSN are ordered by LastLSN before path",
			a: named(logFile(100, 200, 0), "/b/z.trn", 1), b: named(logFile(100, 300, 0), "/b/a.trn", 1)},
		{name: "files with the same LSN range are ordered by path",
			a: named(logFile(100, 200, 0), "/b/a.trn", 2), b: named(logFile(100, 200, 0), "/b/b.trn", 1)},
		{name: "sets of one file with the same LSN range are ordered by set",
			a: named(logFile(100, 200, 0), "/b/x.trn", 1), b: named(logFile(100, 200, 0), "/b/x.trn", 2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c := compareByLSNRange(tc.a, tc.b); c >= 0 {
				t.Errorf("compare(%s, %s) = %d, want < 0", tc.a.Name(), tc.b.Name(), c)
			}
			if c := compareByLSNRange(tc.b, tc.a); c <= 0 {
				t.Errorf("compare(%s, %s) = %d, want > 0", tc.b.Name(), tc.a.Name(), c)
			}
		})
	}
}

func TestLatestFullPins(t *testing.T) {
	renamed := func(f BackupFile, path string) BackupFile {
		f.Path = path
		return f
	}
	tests := []struct {
		name     string
		files    []BackupFile
		wantFull string
		wantLogs []BackupFile
	}{
		{name: "a log ending exactly at the full backup's LastLSN does not follow it",
			files:    []BackupFile{fullFile(90, 100, 0), logFile(50, 100, 1), logFile(100, 200, 2)},
			wantFull: fullFile(90, 100, 0).Path, wantLogs: []BackupFile{logFile(100, 200, 2)}},
		{name: "the full backup with the highest LastLSN is the newest even when another finished later",
			files:    []BackupFile{fullFile(290, 310, 3), fullFile(90, 100, 5)},
			wantFull: fullFile(290, 310, 3).Path},
		{name: "of full backups ending at the same LSN the one that finished later is the newest, whatever the paths",
			files:    []BackupFile{renamed(fullFile(90, 100, 1), "/b/z.bak"), renamed(fullFile(90, 100, 2), "/b/a.bak")},
			wantFull: "/b/a.bak"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			full, logs, ok := LatestFull(tc.files, time.Time{})
			if !ok || full.Path != tc.wantFull || fmt.Sprint(paths(logs)) != fmt.Sprint(paths(tc.wantLogs)) {
				t.Fatalf("LatestFull = %s %v (%v), want %s %v", full.Path, paths(logs), ok, tc.wantFull, paths(tc.wantLogs))
			}
		})
	}
	t.Run("the choice between full backups alike in LSN and finish time does not depend on the listing order", func(t *testing.T) {
		a, b := renamed(fullFile(90, 100, 1), "/b/a.bak"), renamed(fullFile(90, 100, 1), "/b/b.bak")
		ab, _, _ := LatestFull([]BackupFile{a, b}, time.Time{})
		ba, _, _ := LatestFull([]BackupFile{b, a}, time.Time{})
		if ab.Path != ba.Path {
			t.Fatalf("LatestFull picks %s from [a b] but %s from [b a]", ab.Path, ba.Path)
		}
	})
}

// on puts f on recovery fork fork.
func on(f BackupFile, fork string) BackupFile {
	f.ForkID, f.FirstForkID = fork, fork
	return f
}

// spanning makes log f the first log of fork to, recovered from fork from at its FirstLSN.
func spanning(f BackupFile, from, to string) BackupFile {
	f.FirstForkID, f.ForkID, f.ForkPointLSN = from, to, f.FirstLSN
	return f
}

func TestSelectPrunablePins(t *testing.T) {
	now := planBase.Add(30 * 24 * time.Hour) // everything is far past retention
	h := newForkedHistory()

	// A single chain with three full backups: a standby between the second and the third.
	fullLow, fullMid, fullHigh := fullFile(90, 100, 0), fullFile(290, 310, 25), fullFile(490, 510, 60)
	chain := []BackupFile{logFile(50, 200, 10), logFile(200, 300, 20), logFile(300, 400, 30), logFile(400, 500, 40), logFile(500, 600, 70)}
	threeFulls := append([]BackupFile{fullMid, fullLow, fullHigh}, chain...)

	// Fork B whose fork point this catalogue does not show (its first log is gone), with two full
	// backups, next to fork A's late full backup with higher LSNs than B's first.
	fullB1 := on(fullFile(440, 450, 70), "B")
	logB1, logB2 := on(logFile(450, 560, 80), "B"), on(logFile(560, 700, 100), "B")
	fullB2 := on(fullFile(640, 650, 95), "B")
	logA, fullA2 := on(logFile(400, 500, 40), "A"), on(fullFile(480, 510, 45), "A")

	// Three forks, Z -> A at 200 -> B at 400: both spanning logs are in the catalogue.
	fullZ, logZ := on(fullFile(90, 100, 0), "Z"), on(logFile(100, 200, 10), "Z")
	logZA, fullA := spanning(logFile(200, 300, 20), "Z", "A"), on(fullFile(290, 310, 25), "A")
	logA2, logA3 := on(logFile(300, 400, 30), "A"), on(logFile(400, 500, 40), "A")
	logAB, fullB, logBB := spanning(logFile(400, 430, 60), "A", "B"), on(fullFile(440, 450, 70), "B"), on(logFile(430, 460, 80), "B")

	lateSalvage := h.salvage
	lateSalvage.FinishedAt = planBase.Add(100 * time.Minute) // the old primary's tail, saved after the failover
	lateFullA := on(fullFile(480, 520, 75), "A")             // fork A's clock ran ahead of fork B's

	sameSecondLog := logFile(400, 500, 60) // finished in the same second as fullFile(390, 410, 60)

	sameTimeA, sameTimeB := logFile(10, 20, 0), logFile(20, 30, 0)
	sameTimeA.Path, sameTimeA.Position = "/b/a.trn", 2
	sameTimeB.Path, sameTimeB.Position = "/b/b.trn", 1

	tests := []struct {
		name   string
		files  []BackupFile
		needed map[string]LSN
		want   []BackupFile
	}{
		{name: "prunable sets are ordered by finish time, not by path",
			files: []BackupFile{fullFile(20, 30, 5), logFile(10, 20, 0), fullFile(900, 910, 120)},
			want:  []BackupFile{logFile(10, 20, 0), fullFile(20, 30, 5)}},
		{name: "prunable sets that finished at the same time are ordered by path before set number",
			files: []BackupFile{sameTimeB, sameTimeA, fullFile(900, 910, 120)},
			want:  []BackupFile{sameTimeA, sameTimeB}},
		{name: "the redo point is the boundary: a log ending exactly at a standby's redo point is not needed",
			files: threeFulls, needed: map[string]LSN{"shop": lsnOf(400)},
			want: []BackupFile{fullLow, chain[0], chain[1], chain[2]}},
		{name: "a standby just seeded from a full backup (redo point at its LastLSN) keeps that full",
			files: threeFulls, needed: map[string]LSN{"shop": fullMid.LastLSN},
			want: []BackupFile{fullLow, chain[0], chain[1]}},
		{name: "a standby's base is the newest full at or before its redo point, whatever the listing order",
			files: threeFulls, needed: map[string]LSN{"shop": lsnOf(350)},
			want: []BackupFile{fullLow, chain[0], chain[1]}},
		{name: "a standby's base full is one of the current fork, even when another fork's full has higher LSNs at or before its redo point",
			files: []BackupFile{fullB1, logA, fullA2, logB1, fullB2, logB2}, needed: map[string]LSN{"shop": lsnOf(600)},
			want: []BackupFile{logA, fullA2, logB1}},
		{name: "without fork ids the full with the highest LastLSN is kept even when a full with lower LSNs finished later",
			files: []BackupFile{fullFile(490, 500, 10), fullFile(290, 300, 20)},
			want:  nil},
		{name: "the current fork's newest full is kept even when a full of an abandoned fork finished later",
			files: []BackupFile{h.fullB, lateFullA, h.logB2},
			want:  nil},
		{name: "before the current fork's first full, the full that finished last is kept whatever the listing order",
			files: append([]BackupFile{h.fullA2, h.fullA, h.logA1, h.logA2, h.logA3, h.logA4}, h.logB1),
			want:  []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4}},
		{name: "a salvage file saved after the failover does not make the abandoned fork current",
			files: []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, lateSalvage, h.logB1, h.fullB, h.logB2, h.logB3},
			want:  []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.logB1}},
		{name: "the fork of the newest backup by finish time is current whatever the listing order, even when an abandoned fork reached higher LSNs",
			files: []BackupFile{h.logB1, h.fullB, h.logB2, h.logB3, h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.salvage},
			want:  []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.logB1}},
		{name: "a log backup past the newest full is kept even when it finished in the same second as the full",
			files: []BackupFile{fullFile(90, 100, 0), fullFile(390, 410, 60), sameSecondLog},
			want:  []BackupFile{fullFile(90, 100, 0)}},
		{name: "a standby on the previous fork before the current fork point keeps that fork's logs, even with an older fork point in the catalogue",
			files: []BackupFile{fullZ, logZ, logZA, fullA, logA2, logA3, logAB, fullB, logBB}, needed: map[string]LSN{"shop": lsnOf(350)},
			want: []BackupFile{fullZ, logZ, logZA, logA3}},
		{name: "without a known fork point every log past the standby's redo point is kept, whichever fork wrote it",
			files: []BackupFile{h.fullA, h.logA1, h.logA2, h.logA3, h.logA4, h.fullA2, h.fullB, h.logB2, h.logB3}, needed: map[string]LSN{"shop": lsnOf(250)},
			want: []BackupFile{h.logA1, h.fullA2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SelectPrunable(tc.files, now, 24*time.Hour, tc.needed)
			if fmt.Sprint(paths(got)) != fmt.Sprint(paths(tc.want)) {
				t.Fatalf("prunable %v\nwant      %v", paths(got), paths(tc.want))
			}
		})
	}
}
