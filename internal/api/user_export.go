package api

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Exporting a user (GDPR articles 15 and 20) answers a zip file, written
// as it is read so that a heavy user's export needs no more memory than
// one page of events or one recording's events at a time. Each file holds
// what the read API shows about the user, in the same JSON:
//
//	README.txt               what the files are
//	user.json                GET /users/{id}: IDs, counts, attributes, companies
//	attribute_history.json   GET /users/{id}/history: every change of every attribute
//	events.jsonl             GET /users/{id}/events, every page: one event a line, newest first
//	sessions.json            GET /users/{id}/sessions, every session
//	survey_responses.json    the survey responses, answers included
//	feedback.json            the feedback given
//	recordings.json          GET /recordings of the user: the list
//	recordings/ID.json       GET /recordings/ID/events: what each recording captured

// exportPage is how many events are read at once.
const exportPage = 1000

// exportREADME is README.txt.
const exportREADME = `Everything Sightline holds about one user, exported %s.

user.json               the user's IDs (user ID and the anonymous IDs joined to it), first and last
                        seen, counts, current attributes with their types, and companies
attribute_history.json  every change of every attribute, oldest first
events.jsonl            every event, one JSON object a line, newest first
sessions.json           every session, with its context and the recordings made during it
survey_responses.json   survey responses with their answers
feedback.json           feedback given with the feedback tab
recordings.json         the session recordings
recordings/ID.json      the events each recording captured (rrweb format)
`

func (a *API) registerExport(mux *http.ServeMux, p string) {
	mux.Handle("GET "+p+"/users/{id}/export", a.auth(store.ScopeAdmin, a.exportUser))
}

// exportUser answers GET /users/{id}/export with the zip.
func (a *API) exportUser(w http.ResponseWriter, r *http.Request, site store.Site) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	begun := false
	err = a.ExportUser(r.Context(), site, id, w, func() {
		name := "sightline-" + site.PublicID + "-" + safeName(id.ID) + ".zip"
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"; filename*=UTF-8''`+url.PathEscape(name))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		begun = true
	})
	if err != nil && begun {
		// The answer has begun: the client must not take a cut zip for
		// the whole export, so the connection is dropped.
		a.log.Warn("user export cut short", "site", site.PublicID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// ExportUser writes the zip of everything held about the user to w. What
// can fail before the first byte (an unknown user) fails before begin is
// called; begin is called before the first byte is written.
func (a *API) ExportUser(ctx context.Context, site store.Site, id store.Identity, w io.Writer, begin func()) error {
	if a.submissions == nil {
		return errors.New("BUG: ExportUser without WithErasure")
	}
	u, err := a.store.User(ctx, site.ID, id)
	if err != nil {
		return err
	}
	subs, err := a.submissions.UserSubmissions(ctx, site.ID, id)
	if err != nil {
		return err
	}
	begin()
	zw := zip.NewWriter(w)
	if err := a.writeExport(ctx, zw, site, id, u, subs); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return nil
}

func (a *API) writeExport(ctx context.Context, zw *zip.Writer, site store.Site, id store.Identity, u store.User, subs store.UserSubmissions) error {
	now := time.Now().UTC()
	file := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
	}
	jsonFile := func(name string, v any) error {
		f, err := file(name)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	f, err := file("README.txt")
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, exportREADME, now.Format(time.RFC3339)); err != nil {
		return err
	}
	if err := jsonFile("user.json", userJSON(u)); err != nil {
		return err
	}
	changes, err := a.store.History(ctx, site.ID, id, "")
	if err != nil {
		return err
	}
	if err := jsonFile("attribute_history.json", map[string]any{"history": historyJSON(changes)}); err != nil {
		return err
	}
	if f, err = file("events.jsonl"); err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	q := store.EventQuery{Limit: exportPage}
	for {
		events, err := a.store.UserEvents(ctx, site.ID, id, q)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := enc.Encode(toUserEventJSON(e)); err != nil {
				return err
			}
		}
		if len(events) < exportPage {
			break
		}
		last := events[len(events)-1]
		q.Before, q.BeforeID = last.Timestamp, last.MessageID
	}
	sessions, err := a.store.UserSessions(ctx, site.ID, id, maxExportSessions)
	if err != nil {
		return err
	}
	recs, err := a.userRecordings(ctx, site.ID, id)
	if err != nil {
		return err
	}
	bySession := map[int64][]string{}
	for i := len(recs) - 1; i >= 0; i-- {
		if s := recs[i].SessionID; s != 0 {
			bySession[s] = append(bySession[s], recs[i].ID)
		}
	}
	if err := jsonFile("sessions.json", map[string]any{"sessions": sessionsJSON(sessions, bySession)}); err != nil {
		return err
	}
	if err := jsonFile("survey_responses.json", map[string]any{"survey_responses": subs.Responses}); err != nil {
		return err
	}
	if err := jsonFile("feedback.json", map[string]any{"feedback": subs.Feedback}); err != nil {
		return err
	}
	list := make([]recordingJSON, 0, len(recs))
	for _, row := range recs {
		list = append(list, recordingOut(row))
	}
	if err := jsonFile("recordings.json", map[string]any{"recordings": list}); err != nil {
		return err
	}
	for _, row := range recs {
		events, err := a.recordings.OpenEvents(ctx, site.ID, row.ID)
		if err != nil {
			return fmt.Errorf("recording %s: %w", row.ID, err)
		}
		f, err := file("recordings/" + safeName(row.ID) + ".json")
		if err != nil {
			return err
		}
		if _, err := events.WriteTo(f); err != nil {
			return fmt.Errorf("recording %s: %w", row.ID, err)
		}
	}
	return nil
}

// maxExportSessions bounds the sessions of one user an export reads at
// once; no real user comes near it.
const maxExportSessions = 1_000_000

// userRecordings lists every recording of the user, newest first.
func (a *API) userRecordings(ctx context.Context, site int64, id store.Identity) ([]store.RecordingRow, error) {
	if a.recordings == nil {
		return nil, nil
	}
	key, err := a.store.UserKey(ctx, site, id)
	if err != nil {
		return nil, err
	}
	var out []store.RecordingRow
	q := store.RecordingQuery{Members: &store.KeySet{SQL: "SELECT CAST(? AS BIGINT) AS u", Args: []any{key}},
		Sort: store.SortDate, Limit: 1000}
	for {
		rows, err := a.recordings.List(ctx, site, q)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if len(rows) < q.Limit {
			return out, nil
		}
		last := rows[len(rows)-1]
		q.After = &store.RecordingCursor{Key: last.SortKey, ID: last.ID}
	}
}

// safeName keeps an ID usable as a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '"' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}
