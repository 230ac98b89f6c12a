package duckstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

// bulkWriter appends a Bulk's buffers on a connection of its own, keeping
// one appender per table open for the length of a transaction, and commits
// after about chunk rows.
type bulkWriter struct {
	ctx   context.Context
	conn  driver.Conn
	chunk int
	rows  int          // rows appended in the open transaction
	fail  func(error)  // tells the Bulk, so that its caller stops early
	err   func() error // the Bulk's error, which stops the writer too
	apps  [numBulkTables]*duckdb.Appender
	inTx  bool
	vers  *versions        // bumped at each commit: readers during a load see each chunk
	days  *[2]atomic.Int64 // counts the day tables' rows for the Bulk
	// selectors are the selector keys written to click_selectors.
	selectors *clickSelectors
	named     *atomic.Int64 // and events_by_name's
}

// The tables a bulk load appends to, in bulkTables order.
const (
	tIdentities = iota
	tKeys
	tCurrent
	tHistory
	tLinks
	tSessions
	tEvents
	tClicks
	tSelectors
	tResponses
	tAnswers
	tFeedback
	tUserDays
	tEventDays
	tEventsByName
	numBulkTables
)

var bulkTables = [numBulkTables]string{"identities", "attr_keys", "attr_current", "attr_history", "user_groups",
	"sessions", "events", "clicks", "click_selectors", "survey_responses", "survey_answers", "feedback", "user_days", "event_days",
	"events_by_name"}

// run appends every buffer that arrives on full and returns it on free,
// until full is closed, and then commits. After an error, its own or
// another writer's, it only recycles buffers; it returns its error, having
// rolled back the open transaction.
func (w *bulkWriter) run(full <-chan *bulkBuf, free chan<- *bulkBuf) error {
	var err error
	for buf := range full {
		if err == nil {
			if err = w.err(); err == nil {
				if err = w.ctx.Err(); err == nil {
					err = w.write(buf)
				}
			}
			if err != nil {
				w.fail(err)
			}
		}
		buf.reset()
		free <- buf
	}
	if err == nil {
		err = w.err() // another writer's
	}
	if err == nil && w.inTx {
		if err = w.commit(); err != nil {
			w.fail(err)
		}
	}
	if err != nil && w.inTx {
		w.closeAppenders()
		if _, rerr := w.exec(context.Background(), "ROLLBACK"); rerr != nil {
			err = errors.Join(err, fmt.Errorf("roll back bulk chunk: %w", rerr))
		}
	}
	if cerr := w.conn.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close bulk connection: %w", cerr)
	}
	return err
}

func (w *bulkWriter) exec(ctx context.Context, q string) (driver.Result, error) {
	return w.conn.(driver.ExecerContext).ExecContext(ctx, q, nil)
}

// write appends one buffer, inside the open transaction (beginning one if
// needed), and commits when the transaction has a chunk's rows.
func (w *bulkWriter) write(buf *bulkBuf) error {
	if !w.inTx {
		if _, err := w.exec(w.ctx, "BEGIN TRANSACTION"); err != nil {
			return fmt.Errorf("begin bulk chunk: %w", err)
		}
		w.inTx = true
	}
	var sels []selectorRow // noted by the clicks, appended after them
	steps := [numBulkTables]struct {
		n    int
		fill func(*duckdb.Appender) error
	}{
		tIdentities: {len(buf.identities), func(app *duckdb.Appender) error {
			for i := range buf.identities {
				r := &buf.identities[i]
				if err := app.AppendRow(r.site, r.hash, r.kind, r.id, r.key, r.at); err != nil {
					return err
				}
			}
			return nil
		}},
		tKeys: {len(buf.keys), func(app *duckdb.Appender) error {
			for _, r := range buf.keys {
				if err := app.AppendRow(r.site, uint8(r.entity), r.key, uint8(r.typ), r.at); err != nil {
					return err
				}
			}
			return nil
		}},
		tCurrent: {len(buf.current), func(app *duckdb.Appender) error {
			for i := range buf.current {
				r := &buf.current[i]
				s, n, bo, t := typedColumns(r.value)
				if err := app.AppendRow(r.site, uint8(r.entity), r.key, r.name, uint8(r.value.Type), s, n, bo, t,
					r.at); err != nil {
					return err
				}
			}
			return nil
		}},
		tHistory: {len(buf.history), func(app *duckdb.Appender) error {
			for i := range buf.history {
				r := &buf.history[i]
				s, n, bo, t := typedColumns(r.value)
				if err := app.AppendRow(r.site, uint8(r.entity), r.key, r.name, uint8(r.value.Type), s, n, bo, t,
					r.value.Null, r.at); err != nil {
					return err
				}
			}
			return nil
		}},
		tLinks: {len(buf.links), func(app *duckdb.Appender) error {
			for _, r := range buf.links {
				if err := app.AppendRow(r.site, r.user, r.group, r.at); err != nil {
					return err
				}
			}
			return nil
		}},
		tSessions: {len(buf.sessions), func(app *duckdb.Appender) error {
			for i := range buf.sessions {
				s := &buf.sessions[i]
				if err := app.AppendRow(sessionRow(s)...); err != nil {
					return err
				}
			}
			return nil
		}},
		tEvents: {len(buf.events), func(app *duckdb.Appender) error {
			for i := range buf.events {
				e := &buf.events[i]
				props := e.props
				if props == "" {
					props = "{}"
				}
				if err := app.AppendRow(e.site, e.user, e.session, e.kind, e.name, e.ts, e.received, e.messageID,
					e.url, e.path, e.title, e.referrer, props, uint8(store.SourceServer)); err != nil {
					return err
				}
			}
			return nil
		}},
		tClicks: {buf.clicks(), func(app *duckdb.Appender) error {
			for i := range buf.events {
				e := &buf.events[i]
				sig, name, ok := store.HeatmapSignal(store.Kind(e.kind), e.name)
				if !ok {
					continue
				}
				if err := appendClick(app, e.site, e.user, e.session, sig, name, e.ts, e.url, e.path, e.props,
					w.selectors, &sels); err != nil {
					return err
				}
			}
			return nil
		}},
		tSelectors: {buf.clicks(), func(app *duckdb.Appender) error {
			for _, r := range sels {
				if err := app.AppendRow(r.site, r.key, r.text); err != nil {
					return err
				}
			}
			return nil
		}},
		tResponses: {len(buf.responses), func(app *duckdb.Appender) error {
			for i := range buf.responses {
				if err := app.AppendRow(responseRow(&buf.responses[i])...); err != nil {
					return err
				}
			}
			return nil
		}},
		tAnswers: {len(buf.answers), func(app *duckdb.Appender) error {
			for i := range buf.answers {
				r := &buf.answers[i]
				var num, text driver.Value
				if r.v.Num != nil {
					num = *r.v.Num
				}
				if r.v.Text != nil {
					text = *r.v.Text
				}
				if err := app.AppendRow(r.site, r.survey, r.response, r.v.QuestionID, num, text, r.at); err != nil {
					return err
				}
			}
			return nil
		}},
		tFeedback: {len(buf.feedback), func(app *duckdb.Appender) error {
			for i := range buf.feedback {
				f := &buf.feedback[i]
				if err := app.AppendRow(f.ID, f.SiteID, f.AnonymousID, f.UserID, f.SessionID, f.URL, int8(f.Rating),
					f.Comment, f.Selector, f.CreatedAt.UTC()); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for i, t := range []int{tUserDays, tEventDays} {
		days := bufDays(buf, dayTables[i]).spec()
		steps[t].n, steps[t].fill = days.n, days.fill
		w.days[i].Add(int64(days.n))
	}
	named := namedSpec(bufNamed(buf))
	steps[tEventsByName].n, steps[tEventsByName].fill = named.n, named.fill
	w.named.Add(int64(named.n))
	for t, st := range steps {
		if st.n == 0 {
			continue
		}
		app, err := w.appender(t)
		if err != nil {
			return err
		}
		if err := st.fill(app); err != nil {
			return fmt.Errorf("bulk append to %s: %w", bulkTables[t], err)
		}
	}
	if w.rows += buf.rows; w.rows >= w.chunk {
		return w.commit()
	}
	return nil
}

// appender returns the open appender of table t, opening it if needed.
func (w *bulkWriter) appender(t int) (*duckdb.Appender, error) {
	if w.apps[t] != nil {
		return w.apps[t], nil
	}
	app, err := duckdb.NewAppenderFromConn(duckConn(w.conn), "", bulkTables[t])
	if err != nil {
		return nil, fmt.Errorf("bulk append to %s: %w", bulkTables[t], err)
	}
	w.apps[t] = app
	return app, nil
}

// commit flushes the appenders and commits the transaction.
func (w *bulkWriter) commit() error {
	if err := w.closeAppenders(); err != nil {
		return err
	}
	if _, err := w.exec(w.ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit bulk chunk: %w", err)
	}
	w.vers.site.Add(1)
	w.inTx, w.rows = false, 0
	return nil
}

func (w *bulkWriter) closeAppenders() error {
	var errs []error
	for t, app := range w.apps {
		if app == nil {
			continue
		}
		if err := app.Close(); err != nil {
			errs = append(errs, fmt.Errorf("bulk append to %s: %w", bulkTables[t], err))
		}
		w.apps[t] = nil
	}
	return errors.Join(errs...)
}
