package eventcat_test

import (
	"testing"
	"time"

	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
)

// BenchmarkAdd measures the catalog's work per event on the bulk path
// (and the applier's Go part): scanning a typical properties document
// into the batch.
func BenchmarkAdd(b *testing.B) {
	for _, tc := range []struct{ name, props string }{
		{"empty", ""},
		{"typical", `{"format":"csv","rows":1200,"source":"reports","at":"2026-11-01T10:00:00Z"}`},
		{"click", `{"selector":"main > button:nth-of-type(2)","page_x":302,"page_y":321,"text":"Send invoice"}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var batch eventcat.Batch
			at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.props)))
			for b.Loop() {
				batch.Add(1, store.KindTrack, "Export", at, at, 1, eventcat.SourceBit(store.SourceServer), tc.props)
			}
		})
	}
}
