package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
