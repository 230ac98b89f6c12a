package chaos

import (
	"context"
	"net/http"
	"net/url"
	"sync"
)

// stored is what the read API shows of the messages of a site.
type stored struct {
	// count is how often each message ID came back.
	count map[string]int
	// hidden is events the users' summaries count that paging did not
	// show: a second copy of a message sorts beside the first, so a copy
	// at a page boundary may be skipped by the cursor.
	hidden int64
}

// readMessages pages through every user's events through the read API,
// four users at a time.
func readMessages(ctx context.Context, t target, client *http.Client, users int) (stored, error) {
	out := stored{count: map[string]int{}}
	var mu sync.Mutex
	var firstErr error
	parallel(users, 4, func(u int) {
		ids, hidden, err := readUser(ctx, t, client, userID(u))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		for _, id := range ids {
			out.count[id]++
		}
		out.hidden += hidden
	})
	return out, firstErr
}

// readUser returns the message IDs of a user's events, and how many more
// events the user's summary counts.
func readUser(ctx context.Context, t target, client *http.Client, user string) ([]string, int64, error) {
	var summary struct {
		Events int64 `json:"events"`
	}
	found, err := t.get(ctx, client, "/users/"+url.PathEscape(user), &summary)
	if err != nil || !found {
		return nil, 0, err
	}
	var ids []string
	for before := ""; ; {
		q := url.Values{"limit": {"1000"}}
		if before != "" {
			q.Set("before", before)
		}
		var page struct {
			Events []struct {
				MessageID string `json:"message_id"`
			} `json:"events"`
			NextBefore string `json:"next_before"`
		}
		if _, err := t.get(ctx, client, "/users/"+url.PathEscape(user)+"/events?"+q.Encode(), &page); err != nil {
			return nil, 0, err
		}
		for _, e := range page.Events {
			ids = append(ids, e.MessageID)
		}
		if page.NextBefore == "" {
			break
		}
		before = page.NextBefore
	}
	return ids, max(summary.Events-int64(len(ids)), 0), nil
}

// verdict compares what is stored with what was sent.
type verdict struct {
	lost, duplicated, unknown []string
	hidden                    int64
}

// compare checks that every acknowledged ID is stored exactly once, and
// that every stored ID was sent (acknowledged or not).
func compare(s stored, acked []batch, maybe []batch) verdict {
	var v verdict
	sent := map[string]bool{}
	for _, bs := range [][]batch{acked, maybe} {
		for _, b := range bs {
			for _, id := range b.ids {
				sent[id] = true
			}
		}
	}
	for _, b := range acked {
		for _, id := range b.ids {
			if s.count[id] == 0 {
				v.lost = append(v.lost, id)
			}
		}
	}
	for id, n := range s.count {
		if n > 1 {
			v.duplicated = append(v.duplicated, id)
		}
		if !sent[id] {
			v.unknown = append(v.unknown, id)
		}
	}
	v.hidden = s.hidden
	return v
}
