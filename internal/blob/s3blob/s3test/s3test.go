// Package s3test runs an S3 server inside the test process: gofakes3 with
// its in-memory backend, served over HTTP on a loopback listener, so that
// s3blob's requests go through minio-go and the network as they do
// against MinIO or AWS. It counts requests by kind and can hold them back,
// for tests of paging, batch deletion and timeouts.
//
// Only tests import this package.
package s3test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// AccessKey and SecretKey are the credentials tests sign with; the server
// accepts any.
const (
	AccessKey = "sightline-test"
	SecretKey = "sightline-test-secret"
)

// Server is an in-process S3 server.
type Server struct {
	// Endpoint is the server's host:port.
	Endpoint string
	backend  *s3mem.Backend
	srv      *httptest.Server

	mu       sync.Mutex
	requests map[string]int
	stall    time.Duration
	signed   bool
}

// Start starts a server, stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{backend: s3mem.New(), requests: map[string]int{}}
	fake := gofakes3.New(s.backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	handler := fake.Server()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[kind(r)]++
		stall, signed := s.stall, s.signed
		s.mu.Unlock()
		if signed && r.Header.Get("Authorization") == "" && !r.URL.Query().Has("X-Amz-Signature") {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+
				`<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			return
		}
		if stall > 0 {
			// Read the body first: until it is read, the server does not
			// notice a client that gives up and closes the connection.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case <-time.After(stall):
			case <-r.Context().Done():
				return
			}
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	u, _ := url.Parse(s.srv.URL)
	s.Endpoint = u.Host
	return s
}

// Close stops the server now: its port then refuses connections.
func (s *Server) Close() { s.srv.Close() }

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if err := s.backend.CreateBucket(name); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// URL returns the s3:// URL of a store in bucket under prefix on this
// server.
func (s *Server) URL(bucket, prefix string) string {
	u := "s3://" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u + "?endpoint=" + s.Endpoint + "&insecure=1&path_style=1"
}

// Creds returns the credentials tests sign with.
func Creds() *credentials.Credentials { return credentials.NewStaticV4(AccessKey, SecretKey, "") }

// SetEnv sets the environment's credentials for t, for code that takes
// them from there.
func SetEnv(t testing.TB) {
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
}

// Requests returns how many requests of a kind the server received: list,
// get, head, put, part (of a multipart upload), delete, delete-batch,
// bucket (on the bucket itself) or other.
func (s *Server) Requests(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[kind]
}

// Stall makes each request wait d before it is served (0: none); a client
// that gives up meanwhile is not served.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall = d
}

// RefuseUnsigned makes the server answer 403 AccessDenied to requests
// that carry no signature, as a private bucket does. (It never checks a
// signature.)
func (s *Server) RefuseUnsigned() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signed = true
}

// kind classifies a path-style request.
func kind(r *http.Request) string {
	path := strings.Trim(r.URL.Path, "/")
	q := r.URL.Query()
	object := strings.Contains(path, "/")
	switch {
	case r.Method == http.MethodPost && q.Has("delete"):
		return "delete-batch"
	case r.Method == http.MethodGet && !object && (q.Has("list-type") || q.Has("prefix")):
		return "list"
	case !object:
		return "bucket"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "part"
	case r.Method == http.MethodPut:
		return "put"
	case r.Method == http.MethodGet:
		return "get"
	case r.Method == http.MethodHead:
		return "head"
	case r.Method == http.MethodDelete:
		return "delete"
	}
	return "other"
}
