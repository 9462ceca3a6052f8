// Package image_test checks the Dockerfile's recipe without a container engine: it copies exactly what
// the builder stage COPYs into a fresh build context, runs the builder stage's `go build` command
// there, and checks that the result is what the final distroless stage needs: a static, stripped,
// trimmed linux binary at the path the final stage copies, that prints the injected version.
package image_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/test/envtestutil"
)

const modulePath = "github.com/understudy-dev/understudy"

// stage is one FROM ... stage of the Dockerfile.
type stage struct {
	from, name string
	// instructions are the stage's lines after FROM, continuation lines joined.
	instructions []instruction
}

type instruction struct{ op, args string }

// parseDockerfile reads the Dockerfile's stages (enough of the syntax for ours: FROM, ARG, WORKDIR,
// COPY, RUN, USER, ENTRYPOINT, with backslash continuations and comments).
func parseDockerfile(t *testing.T, path string) []*stage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []*stage
	var logical strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	flush := func() {
		line := strings.TrimSpace(logical.String())
		logical.Reset()
		if line == "" {
			return
		}
		op, args, _ := strings.Cut(line, " ")
		op = strings.ToUpper(op)
		args = strings.TrimSpace(args)
		if op == "FROM" {
			s := &stage{from: args}
			if f := strings.Fields(args); len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.from, s.name = f[0], f[2]
			}
			stages = append(stages, s)
			return
		}
		if len(stages) == 0 {
			if op == "ARG" {
				return // a global ARG
			}
			t.Fatalf("Dockerfile: %s before FROM", op)
		}
		cur := stages[len(stages)-1]
		cur.instructions = append(cur.instructions, instruction{op: op, args: args})
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			logical.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		logical.WriteString(line)
		flush()
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

func (s *stage) all(op string) []string {
	var out []string
	for _, in := range s.instructions {
		if in.op == op {
			out = append(out, in.args)
		}
	}
	return out
}

// copyPath copies a file or directory tree from the repository into the build context.
func copyPath(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDockerfileBuildsStaticVersionedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the image build (about 2 minutes with a cold build cache)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary is built for linux; run this test on linux")
	}
	root := envtestutil.RepoRoot()
	stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(stages) != 2 || stages[0].name != "builder" {
		t.Fatalf("Dockerfile: want a builder stage and a final stage, got %d stages", len(stages))
	}
	builder, final := stages[0], stages[1]

	// The builder's Go must be the go.mod's (GOTOOLCHAIN would otherwise try to download another).
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if goLine == nil || builder.from != "golang:"+string(goLine[1]) {
		t.Errorf("builder stage FROM %q, want golang:%s (go.mod's go line)", builder.from, goLine[1])
	}

	// The build context: exactly what the builder stage COPYs, relative to WORKDIR.
	workdirs := builder.all("WORKDIR")
	if len(workdirs) != 1 {
		t.Fatalf("builder stage: want one WORKDIR, got %q", workdirs)
	}
	workdir := workdirs[0]
	ctxDir := filepath.Join(t.TempDir(), "src")
	var copied []string
	for _, c := range builder.all("COPY") {
		f := strings.Fields(c)
		if len(f) < 2 || strings.HasPrefix(f[0], "--") {
			t.Fatalf("builder stage: unexpected COPY %q", c)
		}
		dst := f[len(f)-1]
		if strings.HasPrefix(dst, "/") {
			rel, ok := strings.CutPrefix(dst, workdir)
			if !ok {
				t.Fatalf("builder stage: COPY to %s, outside WORKDIR %s", dst, workdir)
			}
			dst = "./" + strings.TrimPrefix(rel, "/")
		}
		for _, src := range f[:len(f)-1] {
			src = filepath.Clean(src)
			st, err := os.Stat(filepath.Join(root, src))
			if err != nil {
				t.Fatalf("builder stage: COPY %s: %v", src, err)
			}
			target := filepath.Join(ctxDir, dst) // a directory's contents go into dst, as in Docker
			if !st.IsDir() && (strings.HasSuffix(dst, "/") || len(f) > 2) {
				target = filepath.Join(ctxDir, dst, filepath.Base(src))
			}
			copyPath(t, filepath.Join(root, src), target)
			copied = append(copied, src)
		}
	}
	for _, forbidden := range []string{"test", "hack", "config", "charts", "bin"} {
		for _, c := range copied {
			if c == forbidden {
				t.Errorf("builder stage COPYs %s/, which the binary must not need", forbidden)
			}
		}
	}
	// Every package of this module the binary imports must be in the context (the build below
	// would fail too; this names the missing directory).
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", root).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != modulePath && !strings.HasPrefix(pkg, modulePath+"/") {
			continue
		}
		dir := strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/")
		if _, err := os.Stat(filepath.Join(ctxDir, dir)); err != nil {
			t.Errorf("the binary imports %s, but the Dockerfile does not COPY %s", pkg, dir)
		}
	}

	// The final stage copies the builder's output and runs it.
	var outPath string
	for _, c := range final.all("COPY") {
		if f := strings.Fields(c); len(f) == 3 && f[0] == "--from=builder" && f[2] == "/understudy" {
			outPath = f[1]
		}
	}
	if outPath == "" {
		t.Fatalf("final stage: no COPY --from=builder <binary> /understudy")
	}
	if got := final.all("ENTRYPOINT"); len(got) != 1 || got[0] != `["/understudy"]` {
		t.Errorf("final stage ENTRYPOINT %q, want [\"/understudy\"]", got)
	}
	// runAsNonRoot (the chart, config/manager) needs a numeric non-root user in the image.
	if got := final.all("USER"); len(got) != 1 || !regexp.MustCompile(`^[1-9][0-9]*(:[0-9]+)?$`).MatchString(got[0]) {
		t.Errorf("final stage USER %q, want one numeric non-root uid", got)
	}

	// The builder's go build command, run in the context with the ARG the user passes.
	var build string
	for _, r := range builder.all("RUN") {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "-o " + outPath} {
		if !strings.Contains(build, want) {
			t.Errorf("builder stage's go build %q lacks %s", build, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	const version = "v0.1.0-imagetest"
	binDir := t.TempDir()
	binary := filepath.Join(binDir, "understudy")
	cmdline := strings.Replace(build, "-o "+outPath, "-o "+binary, 1)
	// A cold build cache compiles every dependency (about 2 minutes on 2 CPUs); a warm one takes seconds.
	buildCtx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(buildCtx, "sh", "-ec", cmdline)
	cmd.Dir = ctxDir
	// The Dockerfile's ARG VERSION, as `docker build --build-arg VERSION=...` sets it.
	cmd.Env = append(os.Environ(), "VERSION="+version)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("builder stage's build (%s) in a context of only %v: %v\n%s", cmdline, copied, err, out)
	}
	t.Logf("built in %s: %s", time.Since(start).Round(time.Millisecond), cmdline)

	// Static: no program interpreter, no dynamic section, no shared libraries.
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %s program header: not statically linked", p.Type)
		}
	}
	if f.Section(".dynamic") != nil || f.Section(".interp") != nil {
		t.Error("binary has a .dynamic or .interp section: not statically linked")
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("binary imports shared libraries %v (%v)", libs, err)
	}
	// -s -w: no symbol table, no DWARF.
	for _, name := range []string{".symtab", ".debug_info", ".zdebug_info"} {
		if f.Section(name) != nil {
			t.Errorf("binary has %s: not stripped (-s -w)", name)
		}
	}
	// The build settings recorded in the binary.
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if info.Main.Path != modulePath {
		t.Errorf("main module %q, want %q", info.Main.Path, modulePath)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "-trimpath": "true"} {
		if settings[key] != want {
			t.Errorf("build setting %s=%q, want %q", key, settings[key], want)
		}
	}
	// (Go does not record -ldflags under -trimpath; the stripped sections above and the version
	// below show they were applied.)
	// -trimpath: no path of the build machine in the binary.
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ctxDir, root} {
		if bytes.Contains(data, []byte(p)) {
			t.Errorf("binary contains the build path %s (-trimpath missing?)", p)
		}
	}

	// The injected version.
	got, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", binary, err, got)
	}
	if strings.TrimSpace(string(got)) != version {
		t.Errorf("%s version printed %q, want %q", binary, got, version)
	}
}
