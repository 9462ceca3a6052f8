package mssqlsim

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCreateSubdir(t *testing.T) {
	srv := startSim(t)
	db := openDB(t, srv, "")
	root := t.TempDir()
	nested := filepath.Join(root, "ns", "group", "shop")
	mustExec(t, db, "EXEC master.sys.xp_create_subdir @p1", nested)
	if st, err := os.Stat(nested); err != nil || !st.IsDir() {
		t.Fatalf("directory not created: %v", err)
	}
	// Existing directories are fine, and every spelling of the name works.
	mustExec(t, db, "EXEC master..xp_create_subdir @p1", nested)
	mustExec(t, db, "EXECUTE xp_create_subdir N'"+filepath.Join(root, "other")+"'")
	if st, err := os.Stat(filepath.Join(root, "other")); err != nil || !st.IsDir() {
		t.Fatalf("literal argument: %v", err)
	}
	// The backup can go there now.
	mustExec(t, db, "CREATE DATABASE shop")
	mustExec(t, db, "BACKUP DATABASE shop TO DISK = @p1", filepath.Join(nested, "full.bak"))

	blocker := filepath.Join(root, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(blocker, "sub"), "relative/dir"} {
		_, err := db.Exec("EXEC master.sys.xp_create_subdir @p1", bad)
		if me := sqlError(t, err); me.Number != 22048 {
			t.Fatalf("xp_create_subdir %q: got %d, want 22048", bad, me.Number)
		}
	}
	// Other procedures still fail with 2812, also in another schema.
	_, err := db.Exec("EXEC other.xp_create_subdir @p1", nested)
	if me := sqlError(t, err); me.Number != 2812 {
		t.Fatalf("other.xp_create_subdir: got %d, want 2812", me.Number)
	}
}
