package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

const (
	dueBatch        = 50  // messages one delivery round takes
	parallel        = 4   // attempts at once
	responseSnippet = 512 // bytes of a response body the log keeps
)

// deliverDue sends the messages that are due.
func (s *Service) deliverDue(ctx context.Context) (bool, error) {
	due, err := s.store.DueAlerts(ctx, s.opts.Now(), dueBatch)
	if err != nil || len(due) == 0 {
		return false, err
	}
	// One destination's messages go one at a time, in order, so that
	// its failure count moves one attempt after the other.
	byDest := map[string][]store.AlertMessage{}
	var order []string
	for _, m := range due {
		k := strconv.FormatInt(m.SiteID, 10) + "/" + m.DestinationID
		if byDest[k] == nil {
			order = append(order, k)
		}
		byDest[k] = append(byDest[k], m)
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, k := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(ms []store.AlertMessage) {
			defer wg.Done()
			defer func() { <-sem }()
			for _, m := range ms {
				if _, err := s.attempt(ctx, m); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}(byDest[k])
	}
	wg.Wait()
	return len(due) == dueBatch, errors.Join(errs...)
}

// attempt sends a message once and records the outcome: delivered on a
// 2xx answer; else retried later, failed after RetryFor, and its
// destination disabled after DisableAfter failures in a row.
func (s *Service) attempt(ctx context.Context, m store.AlertMessage) (store.AlertAttempt, error) {
	// A test-send and the deliverer may pick the same destination: its
	// failure count moves one attempt after the other.
	l, _ := s.sending.LoadOrStore(strconv.FormatInt(m.SiteID, 10)+"/"+m.DestinationID, &sync.Mutex{})
	l.(*sync.Mutex).Lock()
	defer l.(*sync.Mutex).Unlock()
	c, err := s.config(ctx, m.SiteID)
	if err != nil {
		return store.AlertAttempt{}, err
	}
	st, err := s.store.DestinationState(ctx, m.SiteID, m.DestinationID)
	if err != nil {
		return store.AlertAttempt{}, err
	}
	start := s.opts.Now()
	a := store.AlertAttempt{MessageID: m.ID, SiteID: m.SiteID, DestinationID: m.DestinationID, Attempt: m.Attempts + 1, At: start.UTC()}
	d := c.destination(m.DestinationID)
	if d == nil {
		a.Error = "the destination was deleted"
		m.Status, m.DoneAt, m.Attempts = store.AlertFailed, start, a.Attempt
		return a, s.store.FinishAttempt(ctx, a, m, st)
	}
	t0 := time.Now()
	a.Status, a.Response, err = s.send(ctx, *d, m, start)
	a.Latency = time.Since(t0)
	m.Attempts = a.Attempt
	if err == nil && a.Status >= 200 && a.Status < 300 {
		m.Status, m.DoneAt = store.AlertDelivered, s.opts.Now()
		st.Failures = 0
	} else {
		if err != nil {
			a.Error = err.Error()
		} else {
			a.Error = fmt.Sprintf("answered %d", a.Status)
		}
		st.Failures++
		next := start.Add(s.backoff(m.Attempts))
		if next.Sub(m.CreatedAt) > s.opts.RetryFor {
			m.Status, m.DoneAt = store.AlertFailed, start
		} else {
			m.NextAt = next
		}
		if st.Failures >= s.opts.DisableAfter && st.DisabledAt.IsZero() {
			st.DisabledAt = start.UTC()
			st.Reason = fmt.Sprintf("%d failed attempts in a row; the last: %s", st.Failures, a.Error)
			s.log.Warn("alert destination disabled", "site", m.SiteID, "destination", d.ID, "reason", st.Reason)
		}
	}
	if err := s.store.FinishAttempt(ctx, a, m, st); err != nil {
		return a, err
	}
	return a, nil
}

// backoff is the delay before the retry that follows attempt n (1 for
// the first attempt): RetryBase × 3^(n−1), at most MaxRetryDelay, times a
// random factor between 0.75 and 1.25 so that many messages failing
// together do not come back together.
func (s *Service) backoff(n int) time.Duration {
	d := s.opts.RetryBase
	for i := 1; i < n && d < s.opts.MaxRetryDelay; i++ {
		d *= 3
	}
	d = min(d, s.opts.MaxRetryDelay)
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

// send makes one HTTP request of a message; it returns the status and the
// start of the response body.
func (s *Service) send(ctx context.Context, d Destination, m store.AlertMessage, at time.Time) (int, string, error) {
	target, body := d.URL, m.Body
	header := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Sightline-Alerts/1"}}
	switch d.Kind {
	case KindSlack:
		u, err := s.sealer.Open(d.URL)
		if err != nil {
			return 0, "", err
		}
		target = u
		var ev Event
		if err := json.Unmarshal(m.Body, &ev); err != nil {
			return 0, "", fmt.Errorf("read the message: %w", err)
		}
		if body, err = slackMessage(ev); err != nil {
			return 0, "", err
		}
	case KindWebhook:
		secrets, err := s.signingSecrets(d, at)
		if err != nil {
			return 0, "", err
		}
		sig, err := Sign(secrets, m.ID, at, body)
		if err != nil {
			return 0, "", err
		}
		header.Set("webhook-id", m.ID)
		header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
		header.Set("webhook-signature", sig)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = header
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, responseSnippet))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	for !utf8.Valid(snippet) && len(snippet) > 0 {
		snippet = snippet[:len(snippet)-1]
	}
	return resp.StatusCode, string(snippet), nil
}

// signingSecrets returns the secrets that sign at a moment: the current
// one and, during a rotation's overlap, the one it replaced.
func (s *Service) signingSecrets(d Destination, at time.Time) ([]string, error) {
	var out []string
	for _, sec := range d.Secrets {
		if !sec.Until.IsZero() && !sec.Until.After(at) {
			continue
		}
		plain, err := s.sealer.Open(sec.Sealed)
		if err != nil {
			return nil, err
		}
		out = append(out, plain)
	}
	if len(out) == 0 {
		return nil, errors.New("the destination has no signing secret")
	}
	return out, nil
}

// TestSend sends a test message to a destination now, through the outbox
// like any other (retried when it fails), and returns the first attempt.
func (s *Service) TestSend(ctx context.Context, siteID int64, id string) (store.AlertAttempt, error) {
	c, err := s.config(ctx, siteID)
	if err != nil {
		return store.AlertAttempt{}, err
	}
	if c.destination(id) == nil {
		return store.AlertAttempt{}, errNoDestination(id)
	}
	var site store.Site
	for _, x := range s.store.Sites(ctx) {
		if x.ID == siteID {
			site = x
		}
	}
	now := s.opts.Now().UTC()
	e := Event{Type: TypeTest, Timestamp: now, Data: EventData{Summary: "A test message from Sightline: this destination works.",
		Site: SiteRef{ID: site.PublicID, Name: site.Name}}}
	m := newMessage(siteID, "", id, store.AlertPending, e, now)
	m.ID = auth.NewID("msg_")
	// Due a little later, so that the deliverer leaves the first attempt
	// to this call.
	m.NextAt = now.Add(time.Minute)
	if err := s.store.ResolveAlerts(ctx, nil, []store.AlertMessage{m}, nil); err != nil {
		return store.AlertAttempt{}, err
	}
	return s.attempt(ctx, m)
}
