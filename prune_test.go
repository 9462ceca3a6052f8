package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunPrune(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "db", "sales", "Sales")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "20261120T010000Z_37000000001200001.trn")
	keep := filepath.Join(dir, "20261122T010000Z_37000000009900001.trn")
	for _, f := range []string{old, keep} {
		if err := os.WriteFile(f, []byte("backup"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(t.TempDir(), "20261120T010000Z_37000000001200001.trn")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := runPrune([]string{"--root", root, "--", old}, &out); err != nil {
		t.Fatalf("prune: %v", err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("the listed file was not deleted")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Error("a file that was not listed was deleted")
	}
	if !strings.Contains(out.String(), "deleted 1 of 1") {
		t.Errorf("output %q", out.String())
	}

	if err := runPrune([]string{"--root", root, outside}, &out); err == nil {
		t.Error("a path outside the root was accepted")
	}
	if _, err := os.Stat(outside); err != nil {
		t.Error("a file outside the root was deleted")
	}
	if err := runPrune([]string{old}, &out); err == nil {
		t.Error("--root missing was accepted")
	}
}

func TestRunPruneExpire(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "db", "sales", "Sales")
	salvage := filepath.Join(root, "db", "sales", "salvage", "Sales")
	for _, d := range []string{dir, salvage} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	write := func(p string, mtime time.Time) string {
		t.Helper()
		if err := os.WriteFile(p, []byte("backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	expired := write(filepath.Join(dir, "20261120T010000Z_37000000001200001.trn"), old)
	kept := write(filepath.Join(dir, "20261122T010000Z_37000000009900001.trn"), old.Add(48*time.Hour))
	touched := write(filepath.Join(dir, "20261120T020000Z_37000000001300001.trn"), old.Add(72*time.Hour)) // appended to since
	salvaged := write(filepath.Join(salvage, "20261120T010000Z_37000000001200001.trn"), old)

	var out bytes.Buffer
	args := []string{"--root", root, "--modified-before", "2026-11-22T00:00:00Z", "--expire", dir + "=2026-11-21T00:00:00Z"}
	if err := runPrune(args, &out); err != nil {
		t.Fatalf("prune: %v", err)
	}
	if _, err := os.Stat(expired); !os.IsNotExist(err) {
		t.Error("the expired file was not deleted")
	}
	for _, p := range []string{kept, touched, salvaged} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was deleted", p)
		}
	}
	if !strings.Contains(out.String(), "deleted 1 expired backup files in 1 database directories") {
		t.Errorf("output %q", out.String())
	}
	for _, bad := range [][]string{
		{"--root", root, "--expire", dir + "=2026-11-21T00:00:00Z"},                                                  // no modification bound
		{"--root", root, "--modified-before", "soon", "--expire", dir + "=2026-11-21T00:00:00Z"},                     // not a time
		{"--root", root, "--modified-before", "2026-11-22T00:00:00Z", "--expire", dir},                               // no time
		{"--root", root, "--modified-before", "2026-11-22T00:00:00Z", "--expire", salvage + "=2030-01-01T00:00:00Z"}, // a salvage directory
		{"--root", root, "--modified-before", "2026-11-22T00:00:00Z"},                                                // bound without --expire
	} {
		if err := runPrune(bad, &out); err == nil {
			t.Errorf("prune %v accepted", bad)
		}
	}
	if _, err := os.Stat(salvaged); err != nil {
		t.Error("a salvage file was deleted")
	}
}
