// Command imagepack packs static binaries into a single-layer image and writes it as a docker-save
// tarball, so images can be built and imported into containerd (`ctr -n k8s.io images import`) or
// kind (`kind load image-archive`) without Docker or a registry.
//
//	go run ./hack/imagepack -o bin/images/understudy.tar -tag understudy:e2e \
//	    -entrypoint /understudy -user 65532:65532 bin/understudy=/understudy
//
// Each argument is SRC=DEST: the file SRC on this machine becomes DEST (mode 0755, owned by root) in
// the image. Everything is deterministic (zero timestamps), so the same binaries give the same image
// ID.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "imagepack:", err)
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func run(args []string) error {
	fs := flag.NewFlagSet("imagepack", flag.ContinueOnError)
	out := fs.String("o", "", "output tarball (docker-save format)")
	tag := fs.String("tag", "", "image reference, e.g. understudy:e2e (docker.io/library/ is implied without a registry)")
	entrypoint := fs.String("entrypoint", "", "entrypoint, space-separated")
	user := fs.String("user", "", "user[:group] the container runs as, e.g. 65532:65532")
	osName := fs.String("os", "linux", "image OS")
	arch := fs.String("arch", "amd64", "image architecture")
	var envs multiFlag
	fs.Var(&envs, "env", "KEY=VALUE in the image config (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *tag == "" || fs.NArg() == 0 {
		return fmt.Errorf("usage: imagepack -o OUT.tar -tag NAME:TAG [-entrypoint CMD] [-user UID:GID] SRC=DEST...")
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", *tag, err)
	}
	layerTar, err := buildLayer(fs.Args())
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS = *osName
	cf.Architecture = *arch
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.User = *user
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, envs...)
	if *entrypoint != "" {
		cf.Config.Entrypoint = strings.Fields(*entrypoint)
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(path.Dir(*out), 0o755); err != nil {
		return err
	}
	return tarball.WriteToFile(*out, ref, img)
}

// buildLayer returns an uncompressed tar with each SRC=DEST file and its parent directories.
func buildLayer(specs []string) ([]byte, error) {
	type entry struct{ src, dest string }
	var files []entry
	dirs := map[string]bool{}
	for _, s := range specs {
		src, dest, ok := strings.Cut(s, "=")
		if !ok || src == "" || !strings.HasPrefix(dest, "/") {
			return nil, fmt.Errorf("argument %q: want SRC=/ABSOLUTE/DEST", s)
		}
		dest = path.Clean(dest)
		files = append(files, entry{src, dest})
		for d := path.Dir(dest); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	// Directories every image needs (/tmp for Go's os.TempDir, /etc for passwd-less user lookups).
	dirs["/tmp"] = true
	dirs["/etc"] = true
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	sortedDirs := make([]string, 0, len(dirs))
	for d := range dirs {
		sortedDirs = append(sortedDirs, d)
	}
	sort.Strings(sortedDirs)
	for _, d := range sortedDirs {
		mode := int64(0o755)
		if d == "/tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: mode, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	// A minimal passwd/group so tools that resolve the user by ID find a name (like distroless).
	etc := map[string]string{
		"/etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
		"/etc/group":  "root:x:0:\nnonroot:x:65532:\n",
	}
	for _, p := range []string{"/etc/group", "/etc/passwd"} {
		data := etc[p]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, data); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.dest, "/"), Mode: 0o755, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
