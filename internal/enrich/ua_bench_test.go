package enrich_test

import (
	"testing"

	"github.com/sightline/sightline/internal/enrich"
)

// benchUAs is a small mix of real user agents, roughly in the proportions a
// typical site sees.
var benchUAs = []string{
	uaChromeWindows,
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
	uaSafariIPhone,
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	uaSafariMac,
	uaEdgeWindows,
	uaFirefoxLinux,
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
	uaSafariIPad,
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
	uaGooglebot,
}

// BenchmarkUAParse measures the hot path of ingestion: one parse per message.
// The parallel variant shows whether the parser scales across cores.
func BenchmarkUAParse(b *testing.B) {
	p := enrich.NewUAParser()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p.Parse(benchUAs[i%len(benchUAs)])
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				p.Parse(benchUAs[i%len(benchUAs)])
			}
		})
	})
}
