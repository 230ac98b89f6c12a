// Package s3blob keeps blobs in an S3 bucket (AWS S3, MinIO or any
// service that speaks the S3 protocol), for Sightline nodes that share
// their recordings (issue 19). It implements blob.Store with
// github.com/minio/minio-go/v7 and passes the blobtest suite.
//
// A store is named by a URL:
//
//	s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=REGION&insecure=1&path_style=1&timeout=30s
//
// Every parameter is optional: without endpoint the store is AWS S3
// (s3.amazonaws.com), insecure=1 speaks plain HTTP (a MinIO on loopback),
// path_style=1 puts the bucket in the path rather than the host name
// (MinIO and most self-hosted services; the default guesses from the
// endpoint), and timeout bounds each request (default 30s). The URL
// holds no secrets: credentials come from the environment through
// minio-go's usual chain — AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
// (and AWS_SESSION_TOKEN), MINIO_ROOT_USER/MINIO_ROOT_PASSWORD,
// ~/.aws/credentials (AWS_PROFILE), ~/.mc/config.json, then an EC2/ECS
// instance role — and without any, requests go unsigned.
//
// What S3 guarantees makes the blob.Store promises hold without the
// temporary files that Disk needs: a PUT is atomic (a reader sees the old
// object or the whole new one) and durable once answered, and listings
// are in UTF-8 binary order, which for the ASCII keys blob.CheckKey
// allows is Go's string order. Listings are paged by the service (1,000
// keys a page) and DeletePrefix deletes in batches of up to 1,000 keys a
// request.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/sightline/sightline/internal/blob"
)

// DefaultTimeout bounds one request when the URL names no timeout.
const DefaultTimeout = 30 * time.Second

// maxPrefixLength keeps a key with its prefix within S3's 1,024 bytes.
const maxPrefixLength = 1024 - blob.MaxKeyLength - 1

// Config says where the blobs are and how to reach them.
type Config struct {
	// Endpoint is the service's host:port; empty for AWS S3.
	Endpoint string
	// Bucket holds the blobs; it must exist.
	Bucket string
	// Prefix is put before every key: empty, or ending in a slash.
	Prefix string
	// Region is the bucket's region; empty lets the client ask.
	Region string
	// Insecure speaks plain HTTP instead of HTTPS.
	Insecure bool
	// PathStyle names the bucket in the path, not the host name.
	PathStyle bool
	// Timeout bounds each request (default DefaultTimeout); a Put or Get
	// of a large blob gets more in proportion to its size.
	Timeout time.Duration
	// Creds signs the requests; nil takes them from the environment
	// (see the package's documentation).
	Creds *credentials.Credentials
	// PartSize is the size above which a Put is sent in parts of that
	// size (multipart upload); 0 keeps minio-go's default (16 MiB).
	PartSize uint64
}

// ParseURL reads an s3:// URL (see the package's documentation).
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("s3 URL: %w", err)
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3 URL %q: want s3://BUCKET[/PREFIX]?endpoint=HOST:PORT", raw)
	}
	if u.User != nil {
		return Config{}, errors.New("s3 URL: put no credentials in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	c := Config{Bucket: u.Host, Timeout: DefaultTimeout}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return Config{}, fmt.Errorf("s3 URL %q: bucket %q: %v", raw, c.Bucket, err)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if err := blob.CheckKey(p); err != nil || len(p) > maxPrefixLength {
			return Config{}, fmt.Errorf("s3 URL %q: the prefix %q must be folder names of letters, digits, '-', '_' and '.', at most %d bytes",
				raw, p, maxPrefixLength)
		}
		c.Prefix = p + "/"
	}
	for name, vals := range u.Query() {
		v := vals[len(vals)-1]
		switch name {
		case "endpoint":
			if _, _, err := net.SplitHostPort(v); err != nil && !validHost(v) {
				return Config{}, fmt.Errorf("s3 URL: endpoint %q: want HOST or HOST:PORT", v)
			}
			c.Endpoint = v
		case "region":
			c.Region = v
		case "insecure", "path_style":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("s3 URL: %s=%q: want 1 or 0", name, v)
			}
			if name == "insecure" {
				c.Insecure = b
			} else {
				c.PathStyle = b
			}
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Config{}, fmt.Errorf("s3 URL: timeout=%q: want a duration such as 30s", v)
			}
			c.Timeout = d
		default:
			return Config{}, fmt.Errorf("s3 URL: unknown parameter %q (known: endpoint, region, insecure, path_style, timeout)", name)
		}
	}
	return c, nil
}

func validHost(h string) bool {
	return h != "" && !strings.ContainsAny(h, "/?#@ ")
}

// String returns the URL c stands for, which holds no secret.
func (c Config) String() string {
	u := url.URL{Scheme: "s3", Host: c.Bucket, Path: "/" + strings.TrimSuffix(c.Prefix, "/")}
	q := url.Values{}
	if c.Endpoint != "" {
		q.Set("endpoint", c.Endpoint)
	}
	if c.Region != "" {
		q.Set("region", c.Region)
	}
	if c.Insecure {
		q.Set("insecure", "1")
	}
	if c.PathStyle {
		q.Set("path_style", "1")
	}
	if c.Timeout != 0 && c.Timeout != DefaultTimeout {
		q.Set("timeout", c.Timeout.String())
	}
	u.RawQuery = q.Encode()
	return strings.TrimSuffix(u.String(), "/")
}

// EnvCredentials is minio-go's usual chain of credentials from the
// environment (see the package's documentation).
func EnvCredentials() *credentials.Credentials {
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.EnvMinio{},
		&credentials.FileAWSCredentials{},
		&credentials.FileMinioClient{},
		&credentials.IAM{Client: &http.Client{Transport: http.DefaultTransport, Timeout: 5 * time.Second}},
	})
}

// Store is a blob.Store in an S3 bucket.
type Store struct {
	client   *minio.Client
	cfg      Config
	bucket   string
	prefix   string
	timeout  time.Duration
	partSize uint64
}

var _ blob.Store = (*Store)(nil)

// Open opens the store an s3:// URL names (see New).
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(ctx, c)
}

// New connects to the bucket c names and checks that it exists and can
// be read with the credentials at hand, so that a wrong name, endpoint or
// key fails at start rather than at the first recording.
func New(ctx context.Context, c Config) (*Store, error) {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	creds := c.Creds
	anonymous := false
	if creds == nil {
		// Looked up once here: without any, the chain would be walked
		// again at every request, waiting each time on the instance
		// metadata service.
		creds = EnvCredentials()
		if v, _ := creds.GetWithContext(nil); v.SignerType.IsAnonymous() {
			anonymous = true
			creds = credentials.NewStatic("", "", "", credentials.SignatureAnonymous)
		}
	}
	tr, err := minio.DefaultTransport(!c.Insecure)
	if err != nil {
		return nil, err
	}
	tr.DialContext = (&net.Dialer{Timeout: c.Timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = c.Timeout
	tr.TLSHandshakeTimeout = min(c.Timeout, 10*time.Second)
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: !c.Insecure, Region: c.Region,
		Transport: tr, BucketLookup: lookup, MaxRetries: 3})
	if err != nil {
		return nil, fmt.Errorf("s3 %s: %w", c, err)
	}
	s := &Store{client: client, cfg: c, bucket: c.Bucket, prefix: c.Prefix, timeout: c.Timeout, partSize: c.PartSize}
	octx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	ok, err := client.BucketExists(octx, c.Bucket)
	if err != nil {
		hint := ""
		if anonymous {
			hint = " (no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
		}
		return nil, fmt.Errorf("s3 bucket %q at %s: %w%s", c.Bucket, endpoint, describe(err), hint)
	}
	if !ok {
		return nil, fmt.Errorf("s3 bucket %q does not exist at %s: create it first (Sightline does not create buckets)", c.Bucket, endpoint)
	}
	return s, nil
}

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// describe adds what the service said to err, when it said something.
func describe(err error) error {
	if r := minio.ToErrorResponse(err); r.Code != "" && !strings.Contains(err.Error(), r.Code) {
		return fmt.Errorf("%w (%s)", err, r.Code)
	}
	return err
}

// deadline bounds one call that moves size bytes: the timeout, plus a
// second per MiB for large blobs.
func (s *Store) deadline(ctx context.Context, size int) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout+time.Duration(size>>20)*time.Second)
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	ctx, cancel := s.deadline(ctx, len(data))
	defer cancel()
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)),
		// Content-MD5 lets the service refuse a body damaged on the way;
		// it replaces the SHA-256 streaming signature minio-go would use
		// over plain HTTP, which costs more and which not every
		// S3-compatible service decodes for multipart uploads.
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: s.partSize,
			SendContentMd5: true, DisableContentSha256: true})
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, describe(err))
	}
	return nil
}

// Get implements blob.Store. The blob is read whole before Get returns
// (recording chunks are at most a few MiB), so that a missing blob or a
// failure shows here rather than at the first Read.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, err
	}
	// The deadline is the timeout until the size is known, then grows
	// with the size.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	expire := func() { cancel(fmt.Errorf("no answer within the timeout: %w", context.DeadlineExceeded)) }
	timer := time.AfterFunc(s.timeout, expire)
	defer timer.Stop()
	fail := func(err error) error {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return s.getError(key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fail(err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return nil, fail(err)
	}
	if !timer.Stop() {
		return nil, fail(context.DeadlineExceeded)
	}
	timer.Reset(s.timeout + time.Duration(info.Size>>20)*time.Second)
	buf := bytes.NewBuffer(make([]byte, 0, info.Size))
	if _, err := buf.ReadFrom(obj); err != nil {
		return nil, fail(err)
	}
	return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
}

func (s *Store) getError(key string, err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return fmt.Errorf("blob %s: %w", key, blob.ErrNotFound)
	}
	return fmt.Errorf("get blob %s: %w", key, describe(err))
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	ctx, cancel := s.deadline(ctx, 0)
	defer cancel()
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil &&
		minio.ToErrorResponse(err).Code != "NoSuchKey" {
		return fmt.Errorf("delete blob %s: %w", key, describe(err))
	}
	return nil
}

// DeletePrefix implements blob.Store: it lists the keys and deletes them
// as it goes, up to 1,000 in a request (S3's DeleteObjects).
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: DeletePrefix needs a prefix", blob.ErrInvalidKey)
	}
	if err := blob.CheckPrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make(chan minio.ObjectInfo, 1000)
	listed := make(chan error, 1)
	go func() {
		defer close(keys)
		listed <- s.list(ctx, prefix, func(key string) error {
			select {
			case keys <- minio.ObjectInfo{Key: s.prefix + key}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var errs []error
	for e := range s.client.RemoveObjects(ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
		if len(errs) < 3 {
			errs = append(errs, fmt.Errorf("%s: %w", strings.TrimPrefix(e.ObjectName, s.prefix), describe(e.Err)))
		}
		cancel() // stop listing: the deletion has failed
	}
	// When a deletion failed, the listing stops on the cancelled context:
	// report the deletion's error, not that.
	if err := <-listed; err != nil && len(errs) == 0 {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete blobs %s: %w", prefix, errors.Join(errs...))
	}
	return nil
}

// List implements blob.Store. Objects under the store's prefix whose
// names are not valid keys (put there by something else) are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := blob.CheckPrefix(prefix); err != nil {
		return err
	}
	return s.list(ctx, prefix, fn)
}

func (s *Store) list(ctx context.Context, prefix string, fn func(key string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the listing's requests when fn stops it
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list blobs %q: %w", prefix, describe(obj.Err))
		}
		key := strings.TrimPrefix(obj.Key, s.prefix)
		if blob.CheckKey(key) != nil {
			continue
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return nil
}
