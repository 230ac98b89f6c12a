package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/sightline/sightline/internal/store"
)

// SocketActor is the actor of the admin socket's entries: the command
// line (sightline site, token, account, delete-user, export-user,
// import), which only the data folder's owner can reach.
const SocketActor = "admin socket"

// Socket records every state-changing command of the admin socket (any
// method but GET and HEAD, the profiler excepted) once answered, as the
// API's are, with the actor "admin socket". The site is the one the
// command names: in its path (PATCH /sites/{id}), its query (?site=) or
// its JSON body ("site"); a created site's is in the answer.
func (l *Log) Socket(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasPrefix(r.URL.Path, "/debug/") {
			next.ServeHTTP(w, r)
			return
		}
		site := r.URL.Query().Get("site")
		if site == "" && r.Body != nil && !strings.HasPrefix(r.URL.Path, "/imports/") {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
			var body struct {
				Site string `json:"site"`
			}
			json.Unmarshal(b, &body)
			site = body.Site
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		created := &createdSite{statusWriter: sw}
		next.ServeHTTP(created, r)
		if site == "" {
			site = r.PathValue("id")
			if r.Pattern == "DELETE /tokens/{id}" {
				site = ""
			}
		}
		if site == "" && r.Pattern == "POST /sites" {
			site = created.site()
		}
		action := r.Pattern
		if action == "" {
			action = r.Method + " " + r.URL.Path
		}
		e := store.AuditEntry{ID: newID(), At: l.now().UTC(), Actor: SocketActor, Action: action, Site: site, Status: sw.status}
		if err := l.store.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
			l.log.Warn("audit log entry not saved", "action", action, "err", err)
		}
	})
}

// createdSite keeps the start of an answer, to read a created site's ID.
type createdSite struct {
	*statusWriter
	head []byte
}

func (c *createdSite) Write(b []byte) (int, error) {
	if n := 4096 - len(c.head); n > 0 {
		c.head = append(c.head, b[:min(n, len(b))]...)
	}
	return c.statusWriter.Write(b)
}

func (c *createdSite) site() string {
	var s struct {
		ID string `json:"id"`
	}
	json.Unmarshal(c.head, &s)
	return s.ID
}
