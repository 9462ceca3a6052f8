package mssqlsim

import (
	"bufio"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	mssql "github.com/microsoft/go-mssqldb"
)

// sqlServerUID is the uid SQL Server 2019 and later run as in the container image (user mssql).
const sqlServerUID = 10001

// childDataDirEnv makes the test binary serve a simulator on that data directory instead of
// running tests (runAsChild): how TestNonRootServerHonoursFilePermissions runs one as uid 10001.
const childDataDirEnv = "MSSQLSIM_CHILD_DATA_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDataDirEnv); dir != "" {
		os.Exit(runAsChild(dir))
	}
	os.Exit(m.Run())
}

// runAsChild serves a simulator on dir, prints its address, and stops when stdin closes.
func runAsChild(dir string) int {
	srv, err := Start(Options{DataDir: dir})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	os.Stdout.WriteString("ADDR " + srv.Addr() + "\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
	return 0
}

// TestNonRootServerHonoursFilePermissions runs the simulator as uid 10001, as SQL Server runs in
// its image. BACKUP into a directory that uid cannot write fails as SQL Server's does (3201,
// "Operating system error 5(Access is denied.)", then 3013); into a directory it owns it works,
// and the file belongs to uid 10001, so whatever deletes it later (the prune Job) must be allowed
// to.
func TestNonRootServerHonoursFilePermissions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a process as uid 10001")
	}
	base, err := os.MkdirTemp("", "mssqlsim-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	mkdir := func(name string, uid int) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	data, rootOwned, owned := mkdir("data", sqlServerUID), mkdir("root-owned", 0), mkdir("owned", sqlServerUID)
	// The test binary, where uid 10001 may run it (go test's build directory is root's, 0700).
	bin := filepath.Join(base, "mssqlsim.test")
	copyFile(t, os.Args[0], bin)

	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), childDataDirEnv+"="+data)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: sqlServerUID, Gid: sqlServerUID}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		t.Fatalf("child simulator: %q, %v", line, err)
	}
	dsn := "sqlserver://sa:" + DefaultSAPassword + "@" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR ")) + "?encrypt=disable"
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	mustExec(t, db, "CREATE DATABASE [shop]")

	_, err = db.Exec("BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT", filepath.Join(rootOwned, "shop.bak"))
	var me mssql.Error
	if !errors.As(err, &me) {
		t.Fatalf("backup into a root-owned directory: %v, want SQL errors", err)
	}
	if nums := errorNumbers(me); len(nums) != 2 || nums[0] != 3201 || nums[1] != 3013 {
		t.Fatalf("errors %v, want 3201 then 3013", nums)
	}
	if !strings.Contains(me.All[0].Message, "Operating system error 5(Access is denied.)") {
		t.Fatalf("3201 message %q, want SQL Server's operating-system error 5", me.All[0].Message)
	}
	file := filepath.Join(owned, "shop.bak")
	mustExec(t, db, "BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT", file)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if uid := st.Sys().(*syscall.Stat_t).Uid; uid != sqlServerUID {
		t.Fatalf("backup file owned by uid %d, want %d", uid, sqlServerUID)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
