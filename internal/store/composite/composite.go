// Package composite joins two backends into the one store the server
// hands its services: an analytical half (events, sessions, attributes,
// identities, survey answers, feedback items, the recordings' index; today
// the embedded duckstore, later ClickHouse) and a control half in
// PostgreSQL (pgstore: sites, keys, tokens, accounts, settings, saved
// definitions, alerts, the audit log, change counters, the sign-in
// limiter) that several nodes share.
//
// Each role is served by the half that keeps its data: the control
// roles are promoted from the embedded *pgstore.DB, the analytical ones
// from the embedded Analytics. What spans both halves is written here,
// once: a site's deletion, a user's erasure, a survey's deletion, the
// recording admission, the retention sweep, the change counters, and the
// alert causes, which the analytical half records in the transaction of
// their change and this store relays to the shared outbox.
package composite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
)

// Analytics is what the analytical half must serve: the roles whose data
// it keeps. *duckstore.DB is one; a ClickHouse store will be another.
type Analytics interface {
	store.Writer
	store.Merger
	store.Quarantine
	store.Reader
	store.TypeChanger
	store.RecentActivity
	store.EventCatalog
	store.Overview
	store.SurveyResponses
	store.FeedbackItems
	store.Changes
	store.Eraser
	store.EraseJobs
	store.Submissions
	store.SiteDeleter
	recording.Index
	recording.Reader
	recording.Remover
	recording.Importer
	// Sync waits until every acknowledged write is readable; SQL is the
	// database the segment, heatmap and comparison compilers query.
	Sync(ctx context.Context) error
	SQL() *sql.DB
	// OutOfMemory reports whether err, from a query on SQL, is the
	// database refusing it for want of memory.
	OutOfMemory(err error) bool
	CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error)
	UserIDs(ctx context.Context, site int64, keys []int64) (map[int64]string, error)
	FeedbackByID(ctx context.Context, site int64, id string) (store.FeedbackItem, error)
	RecordingsAt(ctx context.Context, site int64, moments []store.SessionMoment) ([]string, error)
	UsersWithRecordings(ctx context.Context, site int64, keys []int64) (map[int64]bool, error)
}

// Hooks are what the analytical half does for decisions the control half
// takes: it keeps the rows that go with them, and records alert causes
// in the transaction of their change for Store to relay.
type Hooks interface {
	// IndexRecording adds the index row of a recording the control half
	// admitted; DeleteSurveyAnswers drops a deleted survey's answers;
	// ExpireRetentions deletes what is past each site's retention.
	IndexRecording(ctx context.Context, rec store.Recording) (bool, error)
	DeleteSurveyAnswers(ctx context.Context, site int64, survey string) error
	ExpireRetentions(ctx context.Context, now time.Time, retentions map[int64]store.Retention) (map[string]int64, error)
	// SaveAlertConfig tells which cause kinds a site watches (only the
	// watch matters here); AlertCauses and ResolveAlerts read and drop
	// the causes recorded; SetAlertWake is called after a commit that
	// recorded some.
	SaveAlertConfig(ctx context.Context, site int64, config []byte, watch []string) error
	AlertCauses(ctx context.Context, limit int) ([]store.AlertCause, error)
	ResolveAlerts(ctx context.Context, causes []int64, msgs []store.AlertMessage, members []store.AlertMember) error
	SetAlertWake(fn func())
	// SetRecordingSettings keeps a copy of a site's recording settings,
	// which the expiry of recordings reads.
	SetRecordingSettings(ctx context.Context, site int64, s store.RecordingSettings) (store.RecordingSettings, error)
}

// Half is an analytical half with its hooks.
type Half interface {
	Analytics
	Hooks
}

// Store is the composite. The halves' methods that both have are defined
// here, each saying which half answers or how both do.
type Store struct {
	Analytics
	*pgstore.DB

	hooks Hooks
	log   *slog.Logger

	relayMu sync.Mutex // held by a relay
	wakeMu  sync.Mutex
	wake    func()        // the alert service's, set by SetAlertWake
	kick    chan struct{} // the analytical half recorded causes

	// What Refresh last copied into the analytical half, by site.
	copiedMu sync.Mutex
	watches  map[int64][]string
	settings map[int64]store.RecordingSettings
}

// New joins the halves and copies into the analytical half what it reads
// of the control data (each site's alert watch and recording settings).
// Run relays the alert causes until its context ends.
func New(ctx context.Context, a Half, pg *pgstore.DB, log *slog.Logger) (*Store, error) {
	s := &Store{Analytics: a, DB: pg, hooks: a, log: log, kick: make(chan struct{}, 1),
		watches: map[int64][]string{}, settings: map[int64]store.RecordingSettings{}}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	a.SetAlertWake(func() {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	})
	return s, nil
}

// Refresh copies each site's alert watch and recording settings from the
// control half into the analytical half: at the start, and every
// refreshEvery, so that a change made on another node reaches this one.
func (s *Store) Refresh(ctx context.Context) error {
	watches, err := s.DB.AlertWatches(ctx)
	if err != nil {
		return err
	}
	s.copiedMu.Lock()
	defer s.copiedMu.Unlock()
	for site, watch := range watches {
		if w, ok := s.watches[site]; ok && slices.Equal(w, watch) {
			continue
		}
		if err := s.hooks.SaveAlertConfig(ctx, site, nil, watch); err != nil {
			return err
		}
		s.watches[site] = watch
	}
	for _, site := range s.DB.Sites(ctx) {
		rs, err := s.DB.RecordingSettings(ctx, site.ID)
		if err != nil {
			return err
		}
		if old, ok := s.settings[site.ID]; (ok && reflect.DeepEqual(old, rs)) || (!ok && rs.UpdatedAt.IsZero()) {
			continue // unchanged, or never set (the defaults hold on both sides)
		}
		if _, err := s.hooks.SetRecordingSettings(ctx, site.ID, rs); err != nil {
			return err
		}
		s.settings[site.ID] = rs
	}
	return nil
}

// refreshEvery is how often Run copies the control data the analytical
// half reads: a change made through another node takes this long at most
// to reach this node's alert causes and recording expiry.
const refreshEvery = 30 * time.Second

// relayPoll is how often Run looks for causes when nothing woke it.
const relayPoll = time.Second

// Run relays the alert causes the analytical half records to the shared
// outbox, and refreshes the copied settings, until ctx ends.
func (s *Store) Run(ctx context.Context) {
	poll := time.NewTicker(relayPoll)
	defer poll.Stop()
	refresh := time.NewTicker(refreshEvery)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-poll.C:
		case <-refresh.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("copy control data to the analytics store", "err", err)
			}
			continue
		}
		if err := s.RelayCauses(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("relay alert causes", "err", err)
		}
	}
}

// relayBatch is how many causes one relay moves at most.
const relayBatch = 1000

// RelayCauses moves the causes the analytical half recorded into the
// control half's outbox, then drops them from the analytical half, and
// wakes the alert service. A cause is relayed at least once: one whose
// move committed in PostgreSQL is relayed again if the process stops
// before the analytical half drops it.
func (s *Store) RelayCauses(ctx context.Context) error { return s.relay(ctx, true) }

// relay moves the causes, waking the alert service after when wake is
// set and some moved. One relay runs at a time, so that no cause is
// moved twice by this node.
func (s *Store) relay(ctx context.Context, wake bool) error {
	s.relayMu.Lock()
	defer s.relayMu.Unlock()
	moved := false
	for {
		causes, err := s.hooks.AlertCauses(ctx, relayBatch)
		if err != nil || len(causes) == 0 {
			if moved && wake {
				s.wakeAlerts()
			}
			return err
		}
		if _, err := s.DB.RecordAlertCauses(ctx, causes); err != nil {
			return err
		}
		ids := make([]int64, len(causes))
		for i, c := range causes {
			ids[i] = c.ID
		}
		if err := s.hooks.ResolveAlerts(ctx, ids, nil, nil); err != nil {
			return err
		}
		moved = true
		if len(causes) < relayBatch {
			if wake {
				s.wakeAlerts()
			}
			return nil
		}
	}
}

func (s *Store) wakeAlerts() {
	s.wakeMu.Lock()
	fn := s.wake
	s.wakeMu.Unlock()
	if fn != nil {
		fn()
	}
}

// SetAlertWake sets the function called once causes reached the outbox.
func (s *Store) SetAlertWake(fn func()) {
	s.wakeMu.Lock()
	s.wake = fn
	s.wakeMu.Unlock()
}

// Versions adds the counters of both halves: each only grows, and each
// grows with the changes its half commits (analytics in the analytical
// half, saved segments and survey deletions in the control half), so the
// sums move with any change of either.
func (s *Store) Versions(site, user int64) store.Versions {
	a, c := s.Analytics.Versions(site, user), s.DB.Versions(site, user)
	return store.Versions{Profile: a.Profile + c.Profile, Activity: a.Activity + c.Activity,
		Site: a.Site + c.Site, Surveys: a.Surveys + c.Surveys}
}

// SaveAlertConfig saves a site's alert rules in the control half and
// tells the analytical half which causes to record.
func (s *Store) SaveAlertConfig(ctx context.Context, site int64, config []byte, watch []string) error {
	if err := s.DB.SaveAlertConfig(ctx, site, config, watch); err != nil {
		return err
	}
	s.copiedMu.Lock()
	defer s.copiedMu.Unlock()
	if err := s.hooks.SaveAlertConfig(ctx, site, nil, watch); err != nil {
		return err
	}
	s.watches[site] = slices.Clone(watch)
	return nil
}

// AlertCauses relays the causes this node recorded, then reads the
// shared outbox, so that the alert service sees a cause as soon as its
// change is readable.
func (s *Store) AlertCauses(ctx context.Context, limit int) ([]store.AlertCause, error) {
	if err := s.relay(ctx, false); err != nil {
		return nil, err
	}
	return s.DB.AlertCauses(ctx, limit)
}

// ResolveAlerts resolves causes of the shared outbox.
func (s *Store) ResolveAlerts(ctx context.Context, causes []int64, msgs []store.AlertMessage, members []store.AlertMember) error {
	return s.DB.ResolveAlerts(ctx, causes, msgs, members)
}

// SetRecordingSettings saves a site's recording settings in the control
// half, and their copy in the analytical half.
func (s *Store) SetRecordingSettings(ctx context.Context, site int64, rs store.RecordingSettings) (store.RecordingSettings, error) {
	out, err := s.DB.SetRecordingSettings(ctx, site, rs)
	if err != nil {
		return out, err
	}
	s.copiedMu.Lock()
	defer s.copiedMu.Unlock()
	if _, err := s.hooks.SetRecordingSettings(ctx, site, out); err != nil {
		return out, err
	}
	s.settings[site] = out
	return out, nil
}

// StartRecording admits a recording in the control half, which counts
// every node's recordings against the daily quota, then indexes it in
// the analytical half under the same ID.
func (s *Store) StartRecording(ctx context.Context, r store.RecordingStart, quota int) (store.Recording, bool, error) {
	rec, created, err := s.DB.StartRecording(ctx, r, quota)
	if err != nil {
		return rec, created, err
	}
	if _, err := s.hooks.IndexRecording(ctx, rec); err != nil {
		return store.Recording{}, false, err
	}
	return rec, created, nil
}

// ImportRecordings indexes whole recordings in the analytical half, then
// admits them in the control half under the IDs they got.
func (s *Store) ImportRecordings(ctx context.Context, recs []store.ImportedRecording) error {
	if err := s.Analytics.ImportRecordings(ctx, recs); err != nil {
		return err
	}
	admitted := make([]store.Recording, len(recs))
	for i, r := range recs {
		admitted[i] = r.Recording
	}
	return s.DB.AdmitRecordings(ctx, admitted)
}

// ClearRecordingDeletions frees the admission rows of deleted recordings
// (their places in the day's quota), then clears the deletions. A crash
// between the two forgets again, which is harmless.
func (s *Store) ClearRecordingDeletions(ctx context.Context, refs []store.RecordingRef) error {
	bySite := map[int64][]string{}
	for _, r := range refs {
		bySite[r.SiteID] = append(bySite[r.SiteID], r.ID)
	}
	for site, ids := range bySite {
		if err := s.DB.ForgetRecordings(ctx, site, ids); err != nil {
			return err
		}
	}
	return s.Analytics.ClearRecordingDeletions(ctx, refs)
}

// ExpireData deletes, in the analytical half, what is past each site's
// retention as the control half keeps it.
func (s *Store) ExpireData(ctx context.Context, now time.Time) (map[string]int64, error) {
	rs, err := s.DB.Retentions(ctx)
	if err != nil {
		return nil, err
	}
	return s.hooks.ExpireRetentions(ctx, now, rs)
}

// DeleteSurvey deletes the survey's definition, then its answers.
func (s *Store) DeleteSurvey(ctx context.Context, site int64, id string) error {
	if err := s.DB.DeleteSurvey(ctx, site, id); err != nil {
		return err
	}
	return s.hooks.DeleteSurveyAnswers(ctx, site, id)
}

// DeleteSite deletes the site's control data first, so that it stops
// taking writes and no one reaches it, then its data. A deletion stopped
// in between leaves data no site names; deleting it again (the admin
// socket's site deletion with the same ID) finishes it.
func (s *Store) DeleteSite(ctx context.Context, site int64) (map[string]int64, error) {
	counts, err := s.DB.DeleteSite(ctx, site)
	if err != nil {
		return nil, err
	}
	data, err := s.Analytics.DeleteSite(ctx, site)
	for k, n := range data {
		// The analytical half's copies of control rows (alert watches,
		// recording settings, the recordings' rows) are counted once,
		// as the control half counted them.
		if _, ok := counts[k]; !ok {
			counts[k] = n
		}
	}
	return counts, err
}

// DeleteUser erases the user's data in the analytical half, then what the
// alerts keep of them in the control half, and reports both.
func (s *Store) DeleteUser(ctx context.Context, site int64, id store.Identity, opts store.EraseOptions) (store.Erasure, error) {
	u, err := s.Analytics.User(ctx, site, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Erasure{}, fmt.Errorf("find the user to delete: %w", err)
	}
	e, err := s.Analytics.DeleteUser(ctx, site, id, opts)
	if err != nil {
		return e, err
	}
	ids := append([]string{}, u.AnonymousIDs...)
	if u.UserID != "" {
		ids = append(ids, u.UserID)
	}
	if id.ID != "" && id.Kind != "group" {
		ids = append(ids, id.ID)
	}
	counts, err := s.DB.EraseUserAlerts(ctx, site, u.Key, ids)
	if err != nil {
		return e, fmt.Errorf("user's data deleted, not yet their alerts: %w", err)
	}
	if e.Deleted == nil {
		e.Deleted = map[string]int64{}
	}
	for k, n := range counts {
		e.Deleted[k] += n
	}
	return e, nil
}

// Close closes the control half; the analytical half is its owner's to
// close, after the writes it still has to apply.
func (s *Store) Close() error { return s.DB.Close() }
