package feedback

import (
	"context"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// Segments tells which users are in a segment; *engine.Engine is one.
type Segments interface {
	MembersAmong(ctx context.Context, site int64, n segment.Node, keys []int64) (map[int64]bool, error)
}

// maxScans bounds the pages read to fill one page of a segment-filtered
// list: a segment that few feedback givers are in yields a short page
// with a cursor rather than a scan of everything.
const maxScans = 20

// List returns feedback matching q, newest first; with seg, only feedback
// from the segment's members. more reports whether a further page may
// exist, continuing after the last item returned (or after last, when a
// segment left the page short).
func List(ctx context.Context, st store.FeedbackItems, seg Segments, site int64, q store.FeedbackQuery, n segment.Node) (items []store.FeedbackItem, last *store.FeedbackItem, err error) {
	if n == nil {
		items, err := st.ListFeedback(ctx, site, q)
		if err != nil || len(items) < q.Limit {
			return items, nil, err
		}
		return items, &items[len(items)-1], nil
	}
	want := q.Limit
	q.Limit = max(4*want, 200)
	for range maxScans {
		batch, err := st.ListFeedback(ctx, site, q)
		if err != nil {
			return nil, nil, err
		}
		var keys []int64
		for _, f := range batch {
			if f.UserKey != 0 {
				keys = append(keys, f.UserKey)
			}
		}
		members, err := seg.MembersAmong(ctx, site, n, keys)
		if err != nil {
			return nil, nil, err
		}
		for i, f := range batch {
			if !members[f.UserKey] {
				continue
			}
			items = append(items, f)
			if len(items) == want {
				return items, &batch[i], nil
			}
		}
		if len(batch) < q.Limit {
			return items, nil, nil
		}
		end := batch[len(batch)-1]
		q.Before, q.BeforeID = end.CreatedAt, end.ID
		last = &end
	}
	return items, last, nil
}
