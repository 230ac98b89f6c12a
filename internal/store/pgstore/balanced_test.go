package pgstore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account/accounttest"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/recording/recordingtest"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/storetest"
)

// TestBalanced runs the suites again through a plain load balancer: every
// call goes to the next of three nodes (three DBs, each with its own pool
// and node name, on one schema), as requests without stickiness would. A
// store that kept anything in a node (a cache of sites or tokens, a
// counter) fails here where it passed on one node. The alert outbox is
// left out on purpose: its leases belong to the node that took them.
func TestBalanced(t *testing.T) {
	dbs := newDatabases(t)
	open := func(t *testing.T, now func() time.Time) *balanced {
		t.Helper()
		t.Parallel()
		return &balanced{nodes: nodes(t, dbs, 3, pgstore.Options{Now: now})}
	}
	t.Run("catalog", func(t *testing.T) {
		storetest.RunCatalog(t, func(t *testing.T, now func() time.Time) storetest.Catalog { return open(t, now) })
	})
	t.Run("segments", func(t *testing.T) {
		storetest.RunSegments(t, func(t *testing.T, now func() time.Time) store.Segments { return open(t, now) })
	})
	t.Run("surveys", func(t *testing.T) {
		storetest.RunSurveys(t, func(t *testing.T, now func() time.Time) store.Surveys { return open(t, now) })
	})
	t.Run("feedback settings", func(t *testing.T) {
		storetest.RunFeedbackSettings(t, func(t *testing.T, now func() time.Time) store.FeedbackSettings { return open(t, now) })
	})
	t.Run("accounts", func(t *testing.T) {
		accounttest.Run(t, func(t *testing.T, now func() time.Time) accounttest.Store { return open(t, now) })
	})
	t.Run("recording admission", func(t *testing.T) {
		recordingtest.RunAdmission(t, func(t *testing.T, now func() time.Time) recording.Admission { return open(t, now) })
	})
	t.Run("insights", func(t *testing.T) {
		storetest.RunInsights(t, func(t *testing.T, now func() time.Time) store.Insights { return open(t, now) })
	})
	t.Run("experiments", func(t *testing.T) {
		storetest.RunExperiments(t, func(t *testing.T, now func() time.Time) store.Experiments { return open(t, now) })
	})
	t.Run("retention settings", func(t *testing.T) {
		storetest.RunRetentionSettings(t, func(t *testing.T, now func() time.Time) storetest.RetentionSettings { return open(t, now) })
	})
}

// balanced sends each call to the next node.
type balanced struct {
	nodes []*pgstore.DB
	n     atomic.Uint64
}

func (b *balanced) next() *pgstore.DB { return b.nodes[(b.n.Add(1)-1)%uint64(len(b.nodes))] }

func (b *balanced) CreateSite(ctx context.Context, name string, origins []string) (store.Site, string, error) {
	return b.next().CreateSite(ctx, name, origins)
}
func (b *balanced) UpdateSite(ctx context.Context, publicID string, u store.SiteUpdate) (store.Site, error) {
	return b.next().UpdateSite(ctx, publicID, u)
}
func (b *balanced) Site(ctx context.Context, publicID string) (store.Site, error) {
	return b.next().Site(ctx, publicID)
}
func (b *balanced) Sites(ctx context.Context) []store.Site { return b.next().Sites(ctx) }
func (b *balanced) SiteByWriteKey(ctx context.Context, key string) (store.Site, error) {
	return b.next().SiteByWriteKey(ctx, key)
}
func (b *balanced) CreateToken(ctx context.Context, site int64, scope store.Scope) (store.Token, string, error) {
	return b.next().CreateToken(ctx, site, scope)
}
func (b *balanced) TokenBySecret(ctx context.Context, secret string) (store.Token, error) {
	return b.next().TokenBySecret(ctx, secret)
}
func (b *balanced) Tokens(ctx context.Context, site int64) ([]store.Token, error) {
	return b.next().Tokens(ctx, site)
}
func (b *balanced) TokenByID(ctx context.Context, id string) (store.Token, error) {
	return b.next().TokenByID(ctx, id)
}
func (b *balanced) CreateNamedToken(ctx context.Context, site int64, scope store.Scope, name string) (store.Token, string, error) {
	return b.next().CreateNamedToken(ctx, site, scope, name)
}
func (b *balanced) RevokeToken(ctx context.Context, id string) error {
	return b.next().RevokeToken(ctx, id)
}
func (b *balanced) RotateWriteKey(ctx context.Context, site int64) (string, error) {
	return b.next().RotateWriteKey(ctx, site)
}
func (b *balanced) WriteKey(ctx context.Context, site int64) (string, error) {
	return b.next().WriteKey(ctx, site)
}

func (b *balanced) SaveSegment(ctx context.Context, s store.SavedSegment) (store.SavedSegment, error) {
	return b.next().SaveSegment(ctx, s)
}
func (b *balanced) Segment(ctx context.Context, site int64, id string) (store.SavedSegment, error) {
	return b.next().Segment(ctx, site, id)
}
func (b *balanced) ListSegments(ctx context.Context, site int64) ([]store.SavedSegment, error) {
	return b.next().ListSegments(ctx, site)
}
func (b *balanced) DeleteSegment(ctx context.Context, site int64, id string) error {
	return b.next().DeleteSegment(ctx, site, id)
}

func (b *balanced) CreateSurvey(ctx context.Context, s store.SurveyRecord) (store.SurveyRecord, error) {
	return b.next().CreateSurvey(ctx, s)
}
func (b *balanced) UpdateSurvey(ctx context.Context, s store.SurveyRecord, ifStatus []string) (store.SurveyRecord, error) {
	return b.next().UpdateSurvey(ctx, s, ifStatus)
}
func (b *balanced) SetSurveyStatus(ctx context.Context, site int64, id, from, to string) (store.SurveyRecord, error) {
	return b.next().SetSurveyStatus(ctx, site, id, from, to)
}
func (b *balanced) Survey(ctx context.Context, site int64, id string) (store.SurveyRecord, error) {
	return b.next().Survey(ctx, site, id)
}
func (b *balanced) ListSurveys(ctx context.Context, site int64) ([]store.SurveyRecord, error) {
	return b.next().ListSurveys(ctx, site)
}
func (b *balanced) LiveSurveys(ctx context.Context, site int64) ([]store.SurveyRecord, error) {
	return b.next().LiveSurveys(ctx, site)
}
func (b *balanced) DeleteSurvey(ctx context.Context, site int64, id string) error {
	return b.next().DeleteSurvey(ctx, site, id)
}

func (b *balanced) FeedbackSettings(ctx context.Context, site int64) ([]byte, error) {
	return b.next().FeedbackSettings(ctx, site)
}
func (b *balanced) SaveFeedbackSettings(ctx context.Context, site int64, settings []byte) error {
	return b.next().SaveFeedbackSettings(ctx, site, settings)
}

func (b *balanced) CreateAccount(ctx context.Context, a store.Account, hash string) error {
	return b.next().CreateAccount(ctx, a, hash)
}
func (b *balanced) AccountByEmail(ctx context.Context, email string) (store.Account, string, error) {
	return b.next().AccountByEmail(ctx, email)
}
func (b *balanced) AccountByID(ctx context.Context, id string) (store.Account, string, error) {
	return b.next().AccountByID(ctx, id)
}
func (b *balanced) ListAccounts(ctx context.Context) ([]store.Account, error) {
	return b.next().ListAccounts(ctx)
}
func (b *balanced) UpdateAccount(ctx context.Context, a store.Account) error {
	return b.next().UpdateAccount(ctx, a)
}
func (b *balanced) SetPassword(ctx context.Context, id, hash string) error {
	return b.next().SetPassword(ctx, id, hash)
}
func (b *balanced) DeleteAccount(ctx context.Context, id string) error {
	return b.next().DeleteAccount(ctx, id)
}
func (b *balanced) CreateSession(ctx context.Context, s store.BrowserSession) error {
	return b.next().CreateSession(ctx, s)
}
func (b *balanced) SessionAccount(ctx context.Context, idHash string) (store.BrowserSession, store.Account, error) {
	return b.next().SessionAccount(ctx, idHash)
}
func (b *balanced) TouchSession(ctx context.Context, s store.BrowserSession) error {
	return b.next().TouchSession(ctx, s)
}
func (b *balanced) DeleteSession(ctx context.Context, idHash string) error {
	return b.next().DeleteSession(ctx, idHash)
}
func (b *balanced) CreateInvite(ctx context.Context, inv store.Invite, tokenHash string) error {
	return b.next().CreateInvite(ctx, inv, tokenHash)
}
func (b *balanced) InviteByToken(ctx context.Context, tokenHash string) (store.Invite, error) {
	return b.next().InviteByToken(ctx, tokenHash)
}
func (b *balanced) ListInvites(ctx context.Context, now time.Time) ([]store.Invite, error) {
	return b.next().ListInvites(ctx, now)
}
func (b *balanced) DeleteInvite(ctx context.Context, id string) error {
	return b.next().DeleteInvite(ctx, id)
}
func (b *balanced) AcceptInvite(ctx context.Context, id string, a store.Account, hash string) error {
	return b.next().AcceptInvite(ctx, id, a, hash)
}

func (b *balanced) RecordingSettings(ctx context.Context, site int64) (store.RecordingSettings, error) {
	return b.next().RecordingSettings(ctx, site)
}
func (b *balanced) SetRecordingSettings(ctx context.Context, site int64, s store.RecordingSettings) (store.RecordingSettings, error) {
	return b.next().SetRecordingSettings(ctx, site, s)
}
func (b *balanced) StartRecording(ctx context.Context, r store.RecordingStart, quota int) (store.Recording, bool, error) {
	return b.next().StartRecording(ctx, r, quota)
}

func (b *balanced) SaveInsight(ctx context.Context, in store.SavedInsight) (store.SavedInsight, error) {
	return b.next().SaveInsight(ctx, in)
}
func (b *balanced) Insight(ctx context.Context, site int64, id string) (store.SavedInsight, error) {
	return b.next().Insight(ctx, site, id)
}
func (b *balanced) ListInsights(ctx context.Context, site int64) ([]store.SavedInsight, error) {
	return b.next().ListInsights(ctx, site)
}
func (b *balanced) DeleteInsight(ctx context.Context, site int64, id string) error {
	return b.next().DeleteInsight(ctx, site, id)
}
func (b *balanced) AddAnnotation(ctx context.Context, a store.Annotation) (store.Annotation, error) {
	return b.next().AddAnnotation(ctx, a)
}
func (b *balanced) Annotations(ctx context.Context, site int64) ([]store.Annotation, error) {
	return b.next().Annotations(ctx, site)
}
func (b *balanced) DeleteAnnotation(ctx context.Context, site int64, id string) error {
	return b.next().DeleteAnnotation(ctx, site, id)
}

func (b *balanced) SaveExperiment(ctx context.Context, e store.SavedExperiment) (store.SavedExperiment, error) {
	return b.next().SaveExperiment(ctx, e)
}
func (b *balanced) Experiment(ctx context.Context, site int64, id string) (store.SavedExperiment, error) {
	return b.next().Experiment(ctx, site, id)
}
func (b *balanced) ListExperiments(ctx context.Context, site int64) ([]store.SavedExperiment, error) {
	return b.next().ListExperiments(ctx, site)
}
func (b *balanced) DeleteExperiment(ctx context.Context, site int64, id string) error {
	return b.next().DeleteExperiment(ctx, site, id)
}

func (b *balanced) Retention(ctx context.Context, site int64) (store.Retention, error) {
	return b.next().Retention(ctx, site)
}
func (b *balanced) SetRetention(ctx context.Context, site int64, r store.Retention) (store.Retention, error) {
	return b.next().SetRetention(ctx, site, r)
}
