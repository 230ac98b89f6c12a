package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/blob/s3blob/s3test"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
)

// TestRecordingsInS3: with --s3, a server keeps the recordings' chunks in
// the bucket, none in the data folder, plays them back from there and
// deletes them there.
func TestRecordingsInS3(t *testing.T) {
	s3 := s3test.Start(t)
	s3.CreateBucket(t, "recordings")
	s3test.SetEnv(t)
	s := startRecServer(t, func(c *config.Config) { c.RecordingsS3 = s3.URL("recordings", "node-a") })
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	for _, seq := range []int{0, 1, 2} {
		s.mustUpload(t, chunk("s3rec", "v1", seq, start), seq == 1)
	}
	rows := s.list(t, "")
	if len(rows) != 1 || rows[0]["chunks"] != 3.0 {
		t.Fatalf("recordings = %v", rows)
	}
	if files := s.blobFiles(t); len(files) != 0 {
		t.Fatalf("chunks written to the data folder too: %v", files)
	}
	if n := s3.Requests("put"); n < 3 {
		t.Fatalf("%d puts to S3 for 3 chunks", n)
	}
	id := rows[0]["id"].(string)
	events := func() (int, string) {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+"/recordings/"+id+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := events()
	for _, seq := range []string{`"seq":0`, `"seq":1`, `"seq":2`} {
		if code != 200 || strings.Count(body, seq) != 1 {
			t.Fatalf("events: %d, %s not once in %.300s", code, seq, body)
		}
	}
	gets := s3.Requests("get")
	if gets == 0 {
		t.Fatal("the events were not read from S3")
	}

	req, _ := http.NewRequest("DELETE", s.base+"/api/v1/sites/"+s.site+"/recordings/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeWrite])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("delete: %s", resp.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s3.Requests("delete")+s3.Requests("delete-batch") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the deleted recording's chunks were not deleted from S3")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := events(); code != 404 {
		t.Fatalf("events after delete: %d", code)
	}
}
