package scaled_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/storetest"
)

// BenchmarkWrite writes page views of 1,000 visitors in a loop on one
// node, in batches of 1 and of 100 messages, and reports messages a
// second.
func BenchmarkWrite(b *testing.B) {
	svc := newServices(b)
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprint("batch=", size), func(b *testing.B) {
			ch, pg := svc.dsns(b)
			db := open(b, ch, pg, nil)
			n := 0
			b.ResetTimer()
			for range b.N {
				batch := make([]store.Message, size)
				for j := range batch {
					n++
					batch[j] = page(fmt.Sprint("v", n%1000), "", fmt.Sprint("m", n), storetest.T0.Add(time.Duration(n)*time.Second))
				}
				if _, err := db.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
