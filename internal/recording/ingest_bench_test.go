package recording_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/recording"
)

// BenchmarkIngestChunk times the whole upload path of one chunk, as the
// endpoint runs it: read, parse, admit the recording, compress, write the
// blob durably (fsync), index it in DuckDB. Chunks are the 10-second
// chunks of a minute of a typical app page; every six chunks start a new
// recording. Uploads run in parallel (8 at a time, as browsers send them),
// since most of a chunk's time is spent waiting for fsync.
func BenchmarkIngestChunk(b *testing.B) {
	e := newEnv(b)
	now := e.clock.now()
	var bodies [][]byte
	var total int
	for seq, evs := range recording.SplitEvents(recording.SampleEvents(1, now.Add(-time.Minute).UnixMilli(), 1), 10_000) {
		body := recording.ChunkBody("rec-000000000", "v1", "", seq, evs)
		bodies = append(bodies, body)
		total += len(body)
	}
	b.SetBytes(int64(total / len(bodies)))
	b.ReportAllocs()
	b.SetParallelism(4) // 4 × GOMAXPROCS (2 here) uploads at once
	var workers atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		w := workers.Add(1)
		for i := 0; pb.Next(); i++ {
			id := fmt.Appendf(nil, "rec-%02d%07d", w, i/len(bodies))
			body := bytes.Replace(bodies[i%len(bodies)], []byte("rec-000000000"), id, 1)
			rec := httptest.NewRecorder()
			e.svc.ServeRecordingChunk(rec, httptest.NewRequest(http.MethodPost, "/t/rec", bytes.NewReader(body)), e.site)
			if rec.Code != http.StatusOK {
				b.Errorf("chunk %d: %d %s", i, rec.Code, rec.Body)
				return
			}
		}
	})
}
