package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestKillKeepsAcknowledgedRecordingChunks checks the promise behind a 200
// from /t/rec: a server killed with SIGKILL while browsers upload chunks
// has, after a restart, every acknowledged chunk once, in seq order; a
// resent acknowledged chunk is a duplicate, and retried unacknowledged
// chunks are stored.
func TestKillKeepsAcknowledgedRecordingChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it for several seconds")
	}
	const origin = "https://app.example.com"
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startServer(t, bin, data)
	var site struct {
		ID       string `json:"id"`
		WriteKey string `json:"write_key"`
	}
	runJSON(t, &site, bin, "site", "create", "recordings", "--origin", origin, "--data", data, "--json")
	var tok struct {
		Token string `json:"token"`
	}
	runJSON(t, &tok, bin, "token", "create", "--site", site.ID, "--scope", "read", "--data", data, "--json")

	base := time.Now().Add(-time.Hour).UnixMilli()
	body := func(w, seq int) []byte {
		ms := base + int64(seq)*100
		return fmt.Appendf(nil, `{"recording":"b%d","anonymousId":"v%d","seq":%d,"start":%d,"end":%d,"events":[`+
			`{"type":5,"data":{"tag":"c","payload":{"w":%d,"seq":%d}},"timestamp":%d},`+
			`{"type":3,"data":{"source":1,"positions":[{"x":%d,"y":1,"id":1,"timeOffset":0}]},"timestamp":%d}]}`,
			w, w, seq, ms, ms+50, w, seq, ms, seq, ms+50)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(ctx context.Context, b []byte) (int, bool, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.url+"/t/rec?k="+url.QueryEscape(site.WriteKey), bytes.NewReader(b))
		req.Header.Set("Origin", origin)
		resp, err := client.Do(req)
		if err != nil {
			return 0, false, err
		}
		defer resp.Body.Close()
		var out struct{ Duplicate bool }
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Duplicate, nil
	}

	type key struct{ w, seq int }
	var mu sync.Mutex
	acked, unacked := map[key]bool{}, map[key]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				code, _, err := post(ctx, body(w, seq))
				mu.Lock()
				if err == nil && code == 200 {
					acked[key{w, seq}] = true
				} else {
					unacked[key{w, seq}] = true
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	time.Sleep(killAfter)
	srv.kill(t)
	cancel()
	wg.Wait()
	client.CloseIdleConnections()
	if len(acked) == 0 {
		t.Fatal("no chunk was acknowledged before the kill")
	}

	srv = startServer(t, bin, data)
	r := reader{url: srv.url, site: site.ID, token: tok.Token}
	// stored returns each sender's chunk seqs, in the order the events
	// come back.
	stored := func() map[int][]int {
		var list struct {
			Recordings []struct {
				ID          string `json:"id"`
				AnonymousID string `json:"anonymous_id"`
			} `json:"recordings"`
		}
		r.get(t, "/recordings?limit=500", &list)
		out := map[int][]int{}
		for _, rec := range list.Recordings {
			var events []struct {
				Type int `json:"type"`
				Data struct {
					Payload struct{ W, Seq int } `json:"payload"`
				} `json:"data"`
			}
			r.get(t, "/recordings/"+rec.ID+"/events", &events)
			for _, e := range events {
				if e.Type == 5 {
					if want := "v" + fmt.Sprint(e.Data.Payload.W); want != rec.AnonymousID {
						t.Errorf("sender %d's chunk in %s's recording", e.Data.Payload.W, rec.AnonymousID)
					}
					out[e.Data.Payload.W] = append(out[e.Data.Payload.W], e.Data.Payload.Seq)
				}
			}
		}
		return out
	}
	check := func(found map[int][]int, want, maybe map[key]bool) {
		t.Helper()
		n := 0
		for w, seqs := range found {
			for i, seq := range seqs {
				n++
				if i > 0 && seqs[i-1] >= seq {
					t.Errorf("sender %d: seq %d after %d", w, seq, seqs[i-1])
				}
				if k := (key{w, seq}); !want[k] && !maybe[k] {
					t.Errorf("sender %d: seq %d stored but never sent", w, seq)
				}
			}
		}
		for k := range want {
			if !slices.Contains(found[k.w], k.seq) {
				t.Errorf("acknowledged chunk %d of sender %d is missing", k.seq, k.w)
			}
		}
		t.Logf("%d chunks stored; %d acknowledged, %d not", n, len(want), len(maybe))
	}
	check(stored(), acked, unacked)

	// Browsers retry what they did not hear back about.
	for k := range acked {
		if code, dup, err := post(context.Background(), body(k.w, k.seq)); err != nil || code != 200 || !dup {
			t.Fatalf("resent acknowledged chunk: %d, duplicate %v, %v", code, dup, err)
		}
		break
	}
	for k := range unacked {
		if code, _, err := post(context.Background(), body(k.w, k.seq)); err != nil || code != 200 {
			t.Fatalf("retried chunk: %d, %v", code, err)
		}
	}
	all := map[key]bool{}
	for k := range acked {
		all[k] = true
	}
	for k := range unacked {
		all[k] = true
	}
	check(stored(), all, nil)
	srv.terminate(t)
}
