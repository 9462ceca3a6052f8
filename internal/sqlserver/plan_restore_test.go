package sqlserver

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var planBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// logFile is a log backup [first, last) that finished minute minutes after
// planBase.
func logFile(first, last int64, minute int) BackupFile {
	return BackupFile{
		Path: fmt.Sprintf("/b/log_%d_%d.trn", first, last), Type: BackupLog, Database: "shop",
		FirstLSN: lsnOf(first), LastLSN: lsnOf(last), FinishedAt: planBase.Add(time.Duration(minute) * time.Minute),
	}
}

// fullFile is a full backup ending at last.
func fullFile(first, last int64, minute int) BackupFile {
	return BackupFile{
		Path: fmt.Sprintf("/b/full_%d.bak", last), Type: BackupFull, Database: "shop",
		FirstLSN: lsnOf(first), LastLSN: lsnOf(last), CheckpointLSN: lsnOf(first), FinishedAt: planBase.Add(time.Duration(minute) * time.Minute),
	}
}

func lsnOf(n int64) LSN { return MustParseLSN(fmt.Sprint(n)) }

func paths(files []BackupFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

func TestPlanLogRestores(t *testing.T) {
	l1, l2, l3, l4 := logFile(100, 200, 1), logFile(200, 300, 2), logFile(300, 400, 3), logFile(400, 500, 4)
	tests := []struct {
		name     string
		redo     int64
		logs     []BackupFile
		notAfter time.Time
		want     []BackupFile
		wantGap  *GapError
	}{
		{name: "nothing to do", redo: 150, logs: nil, want: nil},
		{name: "whole chain", redo: 150, logs: []BackupFile{l1, l2, l3}, want: []BackupFile{l1, l2, l3}},
		{name: "unsorted input", redo: 150, logs: []BackupFile{l3, l1, l2}, want: []BackupFile{l1, l2, l3}},
		{name: "redo at a file boundary", redo: 200, logs: []BackupFile{l1, l2, l3}, want: []BackupFile{l2, l3}},
		{name: "redo equals FirstLSN of the first", redo: 100, logs: []BackupFile{l1, l2}, want: []BackupFile{l1, l2}},
		{name: "already applied files skipped", redo: 400, logs: []BackupFile{l1, l2, l3, l4}, want: []BackupFile{l4}},
		{name: "everything applied", redo: 500, logs: []BackupFile{l1, l2, l3, l4}, want: nil},
		{name: "redo beyond everything", redo: 900, logs: []BackupFile{l1, l2}, want: nil},
		{name: "gap after the redo point", redo: 150, logs: []BackupFile{l1, l3, l4}, want: []BackupFile{l1},
			wantGap: &GapError{Redo: lsnOf(200), NextFirstLSN: lsnOf(300), NextFile: l3.Path}},
		{name: "gap right away", redo: 150, logs: []BackupFile{l2, l3}, want: nil,
			wantGap: &GapError{Redo: lsnOf(150), NextFirstLSN: lsnOf(200), NextFile: l2.Path}},
		{name: "redo before the full's chain (4305)", redo: 50, logs: []BackupFile{l1}, want: nil,
			wantGap: &GapError{Redo: lsnOf(50), NextFirstLSN: lsnOf(100), NextFile: l1.Path}},
		{name: "duplicate copies applied once", redo: 150, logs: []BackupFile{l1, l1, l2, l2}, want: []BackupFile{l1, l2}},
		{name: "overlapping copy-only log reaching further is preferred", redo: 150, logs: []BackupFile{l1, logFile(100, 250, 2), l2, l3},
			want: []BackupFile{logFile(100, 250, 2), l2, l3}},
		{name: "overlap reaching less far is skipped", redo: 150, logs: []BackupFile{l1, logFile(120, 180, 2), l2},
			want: []BackupFile{l1, l2}},
		{name: "full backups ignored", redo: 150, logs: []BackupFile{fullFile(180, 190, 1), l1, l2}, want: []BackupFile{l1, l2}},
		{name: "delay stops at files finished after notAfter", redo: 150, logs: []BackupFile{l1, l2, l3, l4},
			notAfter: planBase.Add(2 * time.Minute), want: []BackupFile{l1, l2}},
		{name: "delay before every file", redo: 150, logs: []BackupFile{l1, l2}, notAfter: planBase, want: nil},
		{name: "unknown finish time waits for the delay", redo: 150,
			logs:     []BackupFile{l1, {Path: "/b/x.trn", Type: BackupLog, FirstLSN: lsnOf(200), LastLSN: lsnOf(300)}},
			notAfter: planBase.Add(time.Hour), want: []BackupFile{l1}},
		{name: "gap reported even past the delay", redo: 150, logs: []BackupFile{l1, l3},
			notAfter: planBase, want: nil,
			wantGap: &GapError{Redo: lsnOf(200), NextFirstLSN: lsnOf(300), NextFile: l3.Path}},
		{name: "files before the gap are still planned", redo: 150, logs: []BackupFile{l1, l2, l4},
			want:    []BackupFile{l1, l2},
			wantGap: &GapError{Redo: lsnOf(300), NextFirstLSN: lsnOf(400), NextFile: l4.Path}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, gap := PlanLogRestores(lsnOf(tc.redo), tc.logs, tc.notAfter)
			if fmt.Sprint(paths(got)) != fmt.Sprint(paths(tc.want)) {
				t.Fatalf("apply %v, want %v", paths(got), paths(tc.want))
			}
			switch {
			case tc.wantGap == nil && gap != nil:
				t.Fatalf("unexpected gap %v", gap)
			case tc.wantGap != nil && gap == nil:
				t.Fatalf("no gap, want %v", tc.wantGap)
			case tc.wantGap != nil:
				if !gap.Redo.Equal(tc.wantGap.Redo) || !gap.NextFirstLSN.Equal(tc.wantGap.NextFirstLSN) || gap.NextFile != tc.wantGap.NextFile {
					t.Fatalf("gap %+v, want %+v", gap, tc.wantGap)
				}
				if gap.Error() == "" {
					t.Fatal("empty gap message")
				}
			}
		})
	}
}

func TestPlanLogRestoresDoesNotReorderInput(t *testing.T) {
	logs := []BackupFile{logFile(300, 400, 3), logFile(100, 200, 1), logFile(200, 300, 2)}
	before := fmt.Sprint(paths(logs))
	if got, _ := PlanLogRestores(lsnOf(150), logs, time.Time{}); len(got) != 3 {
		t.Fatalf("apply %v", paths(got))
	}
	if after := fmt.Sprint(paths(logs)); after != before {
		t.Fatalf("input reordered: %s -> %s", before, after)
	}
}

func TestLatestFull(t *testing.T) {
	f1, f2 := fullFile(90, 100, 0), fullFile(290, 310, 3)
	l1, l2, l3, l4 := logFile(50, 200, 1), logFile(200, 300, 2), logFile(300, 400, 4), logFile(400, 500, 5)
	tests := []struct {
		name     string
		files    []BackupFile
		notAfter time.Time
		wantFull string
		wantLogs []BackupFile
		wantOK   bool
	}{
		{name: "no files", wantOK: false},
		{name: "logs only", files: []BackupFile{l1, l2}, wantOK: false},
		{name: "single full", files: []BackupFile{f1, l1, l2}, wantFull: f1.Path, wantLogs: []BackupFile{l1, l2}, wantOK: true},
		{name: "newest full and the logs after it", files: []BackupFile{l4, f2, l3, f1, l1, l2}, wantFull: f2.Path,
			wantLogs: []BackupFile{l3, l4}, wantOK: true},
		{name: "full finished after notAfter is not used", files: []BackupFile{f1, f2, l1, l2, l3}, notAfter: planBase.Add(2 * time.Minute),
			wantFull: f1.Path, wantLogs: []BackupFile{l1, l2, l3}, wantOK: true},
		{name: "copy-only full can seed", files: []BackupFile{f1, func() BackupFile { f := f2; f.IsCopyOnly = true; return f }(), l3},
			wantFull: f2.Path, wantLogs: []BackupFile{l3}, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			full, logs, ok := LatestFull(tc.files, tc.notAfter)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if full.Path != tc.wantFull || fmt.Sprint(paths(logs)) != fmt.Sprint(paths(tc.wantLogs)) {
				t.Fatalf("full %s logs %v, want %s %v", full.Path, paths(logs), tc.wantFull, paths(tc.wantLogs))
			}
			// The logs chain from the full backup.
			apply, gap := PlanLogRestores(full.LastLSN, logs, time.Time{})
			if gap != nil || len(apply) != len(logs) {
				t.Fatalf("chain from %s: %v %v", full.Path, paths(apply), gap)
			}
		})
	}
}

// TestPlanLogRestoresFollowsSQLServerRules checks, on random chains with
// duplicates, copy-only overlaps and missing files, that every planned file
// is one SQL Server would accept (FirstLSN <= redo < LastLSN, else 4305 or
// 4326), and that a gap is reported exactly when the chain cannot reach
// the end of the available log.
func TestPlanLogRestoresFollowsSQLServerRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		var chain []BackupFile
		lsn := int64(1000)
		for i := 0; i < 1+rng.IntN(30); i++ {
			next := lsn + 1 + rng.Int64N(500)
			chain = append(chain, logFile(lsn, next, i))
			lsn = next
		}
		end := lsn
		var files []BackupFile
		dropped := false
		for i, f := range chain {
			switch r := rng.IntN(20); {
			case r == 0 && i > 0 && i < len(chain)-1:
				dropped = true // a missing file in the middle
				continue
			case r == 1:
				files = append(files, f) // a duplicate copy
			case r == 2:
				overlap := f
				overlap.Path += ".copyonly"
				overlap.LastLSN = lsnOf(mustInt(t, f.LastLSN) - 1 + rng.Int64N(3))
				files = append(files, overlap)
			}
			files = append(files, f)
		}
		rng.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
		start := mustInt(t, chain[0].FirstLSN) + rng.Int64N(mustInt(t, chain[0].LastLSN)-mustInt(t, chain[0].FirstLSN))
		redo := lsnOf(start)
		apply, gap := PlanLogRestores(redo, files, time.Time{})
		for _, f := range apply {
			if f.FirstLSN.Cmp(redo) > 0 {
				t.Fatalf("round %d: %s would fail with 4305 at redo %s", round, f.Path, redo)
			}
			if f.LastLSN.Cmp(redo) <= 0 {
				t.Fatalf("round %d: %s would fail with 4326 at redo %s", round, f.Path, redo)
			}
			redo = f.LastLSN
		}
		reachedEnd := mustInt(t, redo) >= end // a copy-only overlap may reach past the chain
		if gap == nil && !reachedEnd {
			t.Fatalf("round %d: stopped at %s before %d without a gap", round, redo, end)
		}
		if gap != nil && (reachedEnd || !gap.Redo.Equal(redo)) {
			t.Fatalf("round %d: gap %v after reaching %s (end %d)", round, gap, redo, end)
		}
		if gap != nil && !dropped {
			t.Fatalf("round %d: gap %v with no file missing", round, gap)
		}
	}
}

func mustInt(t *testing.T, l LSN) int64 {
	t.Helper()
	if !l.Big().IsInt64() {
		t.Fatalf("LSN %s does not fit the test's int64 arithmetic", l)
	}
	return l.Big().Int64()
}

func TestPlanLogRestoresScalesToLongRetention(t *testing.T) {
	// 48h of 10s log backups.
	const n = 48 * 360
	logs := make([]BackupFile, n)
	for i := range logs {
		logs[i] = logFile(int64(i)*10, int64(i+1)*10, i)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { logs[i], logs[j] = logs[j], logs[i] })
	start := time.Now()
	apply, gap := PlanLogRestores(lsnOf(5), logs, time.Time{})
	if gap != nil || len(apply) != n {
		t.Fatalf("planned %d of %d, gap %v", len(apply), n, gap)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("planning %d files took %v", n, elapsed)
	}
}
