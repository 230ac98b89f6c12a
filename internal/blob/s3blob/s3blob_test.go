package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/blob/blobtest"
	"github.com/sightline/sightline/internal/blob/s3blob"
	"github.com/sightline/sightline/internal/blob/s3blob/s3test"
)

var buckets atomic.Int64

// open returns a store in a new bucket of srv, under prefix.
func open(t *testing.T, srv *s3test.Server, prefix string, edit ...func(*s3blob.Config)) *s3blob.Store {
	t.Helper()
	bucket := fmt.Sprintf("bucket-%d", buckets.Add(1))
	srv.CreateBucket(t, bucket)
	return openIn(t, srv, bucket, prefix, edit...)
}

func openIn(t *testing.T, srv *s3test.Server, bucket, prefix string, edit ...func(*s3blob.Config)) *s3blob.Store {
	t.Helper()
	c, err := s3blob.ParseURL(srv.URL(bucket, prefix))
	if err != nil {
		t.Fatal(err)
	}
	c.Creds = s3test.Creds()
	for _, e := range edit {
		e(&c)
	}
	s, err := s3blob.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	t.Run("at the bucket's root", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, srv, "") })
	})
	t.Run("under a prefix", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, srv, "sightline/recordings") })
	})
}

func TestParseURL(t *testing.T) {
	good := []struct {
		url  string
		want s3blob.Config
	}{
		{"s3://recordings", s3blob.Config{Bucket: "recordings", Timeout: s3blob.DefaultTimeout}},
		{"s3://recordings/", s3blob.Config{Bucket: "recordings", Timeout: s3blob.DefaultTimeout}},
		{"s3://rec.example/prod/eu/?region=eu-west-1", s3blob.Config{Bucket: "rec.example", Prefix: "prod/eu/",
			Region: "eu-west-1", Timeout: s3blob.DefaultTimeout}},
		{"s3://rec/p?endpoint=127.0.0.1:9000&insecure=1&path_style=true&timeout=5s", s3blob.Config{Bucket: "rec",
			Prefix: "p/", Endpoint: "127.0.0.1:9000", Insecure: true, PathStyle: true, Timeout: 5 * time.Second}},
		{"s3://rec?endpoint=minio.internal", s3blob.Config{Bucket: "rec", Endpoint: "minio.internal", Timeout: s3blob.DefaultTimeout}},
	}
	for _, tt := range good {
		got, err := s3blob.ParseURL(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
			continue
		}
		// String gives a URL that reads back the same.
		again, err := s3blob.ParseURL(got.String())
		if err != nil || again != got {
			t.Errorf("%q: String() = %q reads back as %+v, %v", tt.url, got.String(), again, err)
		}
	}
	bad := map[string]string{
		"http://rec":                       "want s3://",
		"s3://":                            "bucket",
		"s3://Rec":                         "bucket",
		"s3://ab":                          "bucket",
		"s3://key:secret@rec":              "no credentials in the URL",
		"s3://rec/a//b":                    "prefix",
		"s3://rec/a/../b":                  "prefix",
		"s3://rec/a b":                     "prefix",
		"s3://rec?insecure=maybe":          "insecure",
		"s3://rec?timeout=0s":              "timeout",
		"s3://rec?timeout=soon":            "timeout",
		"s3://rec?endpoint=http://x:9000/": "endpoint",
		"s3://rec?endpiont=x:9000":         `unknown parameter "endpiont"`,
	}
	for u, want := range bad {
		if _, err := s3blob.ParseURL(u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %v, want an error about %q", u, err, want)
		}
	}
}

// A missing bucket, a refused connection and a service that does not
// answer fail at start, with a message that says which.
func TestOpenFailsClearly(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	c, _ := s3blob.ParseURL(srv.URL("no-such-bucket", ""))
	c.Creds = s3test.Creds()
	if _, err := s3blob.New(ctx, c); err == nil || !strings.Contains(err.Error(), `s3 bucket "no-such-bucket" does not exist at `+srv.Endpoint) {
		t.Errorf("missing bucket: %v", err)
	}

	closed := s3test.Start(t)
	addr := closed.Endpoint
	c, _ = s3blob.ParseURL(closed.URL("rec", "") + "&timeout=2s")
	closed.Close()
	c.Creds = s3test.Creds()
	start := time.Now()
	if _, err := s3blob.New(ctx, c); err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), `"rec"`) {
		t.Errorf("nothing listening: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("nothing listening: gave up after %s", d)
	}

	srv.CreateBucket(t, "slow")
	srv.Stall(10 * time.Second)
	defer srv.Stall(0)
	c, _ = s3blob.ParseURL(srv.URL("slow", "") + "&timeout=300ms")
	c.Creds = s3test.Creds()
	start = time.Now()
	_, err := s3blob.New(ctx, c)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
		t.Errorf("no answer: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("no answer: gave up after %s, with a timeout of 300ms", d)
	}
}

// A service that stops answering makes each operation fail after its
// timeout, not hang.
func TestOperationsTimeOut(t *testing.T) {
	srv := s3test.Start(t)
	s := open(t, srv, "", func(c *s3blob.Config) { c.Timeout = 300 * time.Millisecond })
	ctx := context.Background()
	if err := s.Put(ctx, "a/b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	srv.Stall(10 * time.Second)
	defer srv.Stall(0)
	ops := map[string]func() error{
		"put":    func() error { return s.Put(ctx, "a/c", []byte("y")) },
		"get":    func() error { _, err := s.Get(ctx, "a/b"); return err },
		"delete": func() error { return s.Delete(ctx, "a/b") },
		"list":   func() error { return s.List(ctx, "a/", func(string) error { return nil }) },
		"delete prefix": func() error {
			return s.DeletePrefix(ctx, "a/")
		},
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		d := time.Since(start)
		if err == nil {
			t.Errorf("%s succeeded against a server that does not answer", name)
		}
		// minio-go tries a request up to 3 times, each bounded by the
		// timeout, with short pauses between.
		if d > 5*time.Second {
			t.Errorf("%s gave up after %s (timeout 300ms): %v", name, d, err)
		}
	}
	srv.Stall(0)
	if got := read(t, s, "a/b"); got != "x" {
		t.Fatalf("after the stall: %q", got)
	}
}

// Listings longer than a page (1,000 keys) are read page by page, and
// DeletePrefix deletes in batches, not key by key.
func TestManyObjects(t *testing.T) {
	srv := s3test.Start(t)
	s := open(t, srv, "p")
	ctx := context.Background()
	const n = 2500
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("7/rec_%03d/%08d.zst", i/10, i%10))
	}
	putAll(t, s, want)
	if err := s.Put(ctx, "8/rec_x/00000000.zst", []byte("other site")); err != nil {
		t.Fatal(err)
	}
	lists := srv.Requests("list")
	var got []string
	if err := s.List(ctx, "7/", func(k string) error { got = append(got, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d keys, want %d in order", len(got), len(want))
	}
	if pages := srv.Requests("list") - lists; pages < 3 {
		t.Errorf("%d keys listed in %d requests: not paged", n, pages)
	}
	// Stopping early stops paging.
	lists = srv.Requests("list")
	seen := 0
	stop := errors.New("enough")
	if err := s.List(ctx, "7/", func(string) error { seen++; return stop }); !errors.Is(err, stop) || seen != 1 {
		t.Fatalf("List = %v after %d keys", err, seen)
	}
	if pages := srv.Requests("list") - lists; pages > 1 {
		t.Errorf("a listing stopped at its first key read %d pages", pages)
	}

	batches, single := srv.Requests("delete-batch"), srv.Requests("delete")
	if err := s.DeletePrefix(ctx, "7/"); err != nil {
		t.Fatal(err)
	}
	if b := srv.Requests("delete-batch") - batches; b < 3 || b > 5 {
		t.Errorf("%d keys deleted in %d batch requests, want 3", n, b)
	}
	if d := srv.Requests("delete") - single; d != 0 {
		t.Errorf("%d keys deleted one by one", d)
	}
	var left []string
	if err := s.List(ctx, "", func(k string) error { left = append(left, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []string{"8/rec_x/00000000.zst"}) {
		t.Fatalf("after DeletePrefix 7/: %d keys left (%.3v)", len(left), left)
	}
}

func putAll(t *testing.T, s blob.Store, keys []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	todo := make(chan string)
	for range 16 {
		wg.Go(func() {
			for k := range todo {
				if err := s.Put(context.Background(), k, []byte(k)); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, k := range keys {
		todo <- k
	}
	close(todo)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A blob larger than the part size goes up in parts (multipart upload)
// and comes back whole.
func TestLargeBlob(t *testing.T) {
	srv := s3test.Start(t)
	s := open(t, srv, "", func(c *s3blob.Config) { c.PartSize = 5 << 20 })
	data := make([]byte, 12<<20+123)
	rand.Read(data)
	ctx := context.Background()
	if err := s.Put(ctx, "big/blob", data); err != nil {
		t.Fatal(err)
	}
	if parts := srv.Requests("part"); parts != 3 {
		t.Errorf("12 MiB in parts of 5 MiB: %d parts, want 3", parts)
	}
	rc, err := s.Get(ctx, "big/blob")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back (%v), want the %d put", len(got), err, len(data))
	}
}

// Stores under two prefixes of one bucket do not see each other's blobs,
// and objects under the prefix whose names are not keys are not listed.
func TestPrefixesApart(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "shared")
	a := openIn(t, srv, "shared", "a")
	ab := openIn(t, srv, "shared", "a/b")
	root := openIn(t, srv, "shared", "")
	ctx := context.Background()
	for _, p := range []struct {
		s   blob.Store
		key string
	}{{a, "1/x"}, {ab, "1/y"}, {root, "1/z"}} {
		if err := p.s.Put(ctx, p.key, []byte(p.key)); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(s blob.Store) []string {
		var ks []string
		if err := s.List(ctx, "", func(k string) error { ks = append(ks, k); return nil }); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	if got := keys(root); !slices.Equal(got, []string{"1/z", "a/1/x", "a/b/1/y"}) {
		t.Errorf("root lists %v", got)
	}
	if got := keys(a); !slices.Equal(got, []string{"1/x", "b/1/y"}) {
		t.Errorf("prefix a lists %v", got)
	}
	if got := keys(ab); !slices.Equal(got, []string{"1/y"}) {
		t.Errorf("prefix a/b lists %v", got)
	}
	if _, err := ab.Get(ctx, "1/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("a/b reads a's blob: %v", err)
	}
	if err := ab.DeletePrefix(ctx, "1/"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a, "1/x"); got != "1/x" {
		t.Errorf("a's blob after a/b's DeletePrefix: %q", got)
	}
}

// The environment's credentials are used when the configuration has none.
func TestEnvironmentCredentials(t *testing.T) {
	s3test.SetEnv(t)
	v, err := s3blob.EnvCredentials().GetWithContext(nil)
	if err != nil || v.AccessKeyID != s3test.AccessKey || v.SecretAccessKey != s3test.SecretKey {
		t.Fatalf("credentials from the environment: %+v, %v", v, err)
	}
	srv := s3test.Start(t)
	srv.CreateBucket(t, "env")
	s, err := s3blob.Open(context.Background(), srv.URL("env", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s blob.Store, key string) string {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Without credentials in the environment, a private bucket refuses the
// start with a message that says what to set.
func TestNoCredentials(t *testing.T) {
	home := t.TempDir()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_SESSION_TOKEN", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY",
		"AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", home+"/none")
	t.Setenv("MC_CONFIG_DIR", home)
	srv := s3test.Start(t)
	srv.CreateBucket(t, "private")
	srv.RefuseUnsigned()
	start := time.Now()
	_, err := s3blob.Open(context.Background(), srv.URL("private", ""))
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "set AWS_ACCESS_KEY_ID") {
		t.Fatalf("open without credentials: %v", err)
	}
	t.Logf("refused in %s: %v", time.Since(start), err)
}

// Any text: ParseURL does not panic, and a URL it accepts names a store
// whose String reads back the same.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://rec", "s3://rec/a/b?endpoint=127.0.0.1:9000&insecure=1&path_style=1&timeout=5s",
		"s3://rec.example/p?region=eu-west-1", "s3://r%2Fx/p", "s3://rec?endpoint=[::1]:9000", "s3://rec/?timeout=1h2m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := s3blob.ParseURL(s)
		if err != nil {
			return
		}
		if c.Bucket == "" || c.Timeout <= 0 || (c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/")) {
			t.Fatalf("ParseURL(%q) = %+v", s, c)
		}
		again, err := s3blob.ParseURL(c.String())
		if err != nil || again != c {
			t.Fatalf("ParseURL(%q) = %+v; its String %q reads back as %+v, %v", s, c, c.String(), again, err)
		}
	})
}
