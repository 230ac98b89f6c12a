package recording

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// sampleChunks is a recording of minutes of the sample page, cut into the
// 10-second chunks the recorder sends, as upload bodies.
func sampleChunks(minutes int, start time.Time) [][]byte {
	var bodies [][]byte
	for seq, evs := range SplitEvents(SampleEvents(1, start.UnixMilli(), minutes), 10_000) {
		bodies = append(bodies, ChunkBody("b1", "v1", "", seq, evs))
	}
	return bodies
}

// storedSize compresses the chunks' events as the service stores them and
// returns the raw and stored bytes.
func storedSize(tb testing.TB, enc *zstd.Encoder, bodies [][]byte, now time.Time) (raw, stored int) {
	for _, b := range bodies {
		c, err := parseChunk(b, now)
		if err != nil {
			tb.Fatal(err)
		}
		raw += len(c.Events)
		stored += len(enc.EncodeAll(c.Events, nil))
	}
	return raw, stored
}

// BenchmarkChunkParseCompress times the CPU part of taking a chunk:
// parsing and checking its JSON and compressing its events, on one minute
// of a typical app page. It reports the compression ratio and the stored
// bytes per minute of recording, for a one-minute recording (the page's
// full snapshot included) and as the average over ten minutes.
func BenchmarkChunkParseCompress(b *testing.B) {
	now := time.Now()
	bodies := sampleChunks(1, now.Add(-time.Minute))
	enc, err := newEncoder(1)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	raw, stored := storedSize(b, enc, bodies, now)
	raw10, stored10 := storedSize(b, enc, sampleChunks(10, now.Add(-10*time.Minute)), now)
	var total int
	for _, body := range bodies {
		total += len(body)
	}
	b.SetBytes(int64(total / len(bodies)))
	b.ReportAllocs()
	b.ResetTimer()
	var dst []byte
	for i := 0; b.Loop(); i++ {
		c, err := parseChunk(bodies[i%len(bodies)], now)
		if err != nil {
			b.Fatal(err)
		}
		dst = enc.EncodeAll(c.Events, dst[:0])
	}
	b.ReportMetric(float64(raw)/float64(stored), "ratio")
	b.ReportMetric(float64(stored)/1024, "stored-KB/min(1-min)")
	b.ReportMetric(float64(stored10)/10/1024, "stored-KB/min(10-min)")
	b.ReportMetric(float64(raw10)/10/1024, "raw-KB/min(10-min)")
}

// TestSampleIsRepresentative checks the benchmark's sample: a snapshot of
// about 200 nodes, a minute of events, stored within the SPEC's 50 KB a
// minute.
func TestSampleIsRepresentative(t *testing.T) {
	now := time.Now()
	events := SampleEvents(1, now.Add(-time.Minute).UnixMilli(), 1)
	var snap struct {
		Data struct {
			Node json.RawMessage `json:"node"`
		} `json:"data"`
	}
	if err := json.Unmarshal(events[1], &snap); err != nil {
		t.Fatal(err)
	}
	var count func(n map[string]any) int
	count = func(n map[string]any) int {
		c := 1
		kids, _ := n["childNodes"].([]any)
		for _, k := range kids {
			c += count(k.(map[string]any))
		}
		return c
	}
	var root map[string]any
	json.Unmarshal(snap.Data.Node, &root)
	if n := count(root); n < 180 || n > 260 {
		t.Fatalf("the snapshot has %d nodes, want about 200", n)
	}
	if len(events) < 150 {
		t.Fatalf("%d events in a minute", len(events))
	}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(encoderLevel))
	defer enc.Close()
	raw, stored := storedSize(t, enc, sampleChunks(1, now.Add(-time.Minute)), now)
	t.Logf("one minute: %d bytes of rrweb JSON stored in %d (ratio %.1f)", raw, stored, float64(raw)/float64(stored))
	if stored > 50*1024 {
		t.Fatalf("one minute is stored in %d bytes, over the SPEC's 50 KB", stored)
	}
}
