// Package recording keeps session recordings: it takes the rrweb event
// chunks that the tracker's recorder uploads (POST /t/rec), stores each
// chunk zstd-compressed as one blob and indexes it, enforces the per-site
// settings (on or off, daily quota), serves a recording's events back in
// order, and deletes recordings (one, a user's, or those past their
// site's retention) blobs and index rows together.
package recording

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/heatmap"
	"github.com/sightline/sightline/internal/store"
)

// Admission keeps each site's recording settings and admits new
// recordings within the daily quota: control data, where counting and
// admitting must be one step.
type Admission interface {
	RecordingSettings(ctx context.Context, site int64) (store.RecordingSettings, error)
	SetRecordingSettings(ctx context.Context, site int64, s store.RecordingSettings) (store.RecordingSettings, error)
	// StartRecording returns the recording of a browser session's tab,
	// creating it when there is none; a new one is refused with
	// store.ErrQuota once quota recordings started on the UTC day of r.At.
	StartRecording(ctx context.Context, r store.RecordingStart, quota int) (rec store.Recording, created bool, err error)
}

// Index keeps the chunk rows of recordings, each chunk once, as the
// upload path adds them.
type Index interface {
	HasRecordingChunk(ctx context.Context, recording string, seq int) (bool, error)
	// AddRecordingChunk indexes a chunk whose blob is stored; false when
	// it was indexed before (the first stays), an error wrapping
	// store.ErrNotFound when its recording is not the site's or is gone.
	AddRecordingChunk(ctx context.Context, site int64, c store.RecordingChunk, receivedAt time.Time) (added bool, err error)
}

// Reader answers the read API's questions about recordings.
type Reader interface {
	ListRecordings(ctx context.Context, site int64, q store.RecordingQuery) ([]store.RecordingRow, error)
	Recording(ctx context.Context, site int64, id string, attrs []string) (store.RecordingRow, error)
	RecordingTimeline(ctx context.Context, site int64, r store.RecordingRow, limit int) ([]store.Event, error)
	RecordingChunks(ctx context.Context, site int64, recording string) ([]store.RecordingChunk, error)
}

// Remover deletes recordings' index rows, recording each deletion until
// ClearRecordingDeletions says the blobs are gone too.
type Remover interface {
	DeleteRecording(ctx context.Context, site int64, id string) error
	DeleteUserRecordings(ctx context.Context, site int64, id store.Identity) (int, error)
	ExpireRecordings(ctx context.Context, now time.Time, defaultDays, limit int) (int, error)
	PendingRecordingDeletions(ctx context.Context, limit int) ([]store.RecordingRef, error)
	ClearRecordingDeletions(ctx context.Context, refs []store.RecordingRef) error
}

// Store is every role the service needs; *duckstore.DB has them all.
type Store interface {
	Admission
	Index
	Reader
	Remover
}

// Config configures the service.
type Config struct {
	Store  Store
	Blobs  blob.Store
	Limits Limits
	// TrustProxy takes the client address, which MaxConcurrentPerIP
	// counts by, from X-Forwarded-For.
	TrustProxy bool
	// Registerer, when not nil, gets the service's metrics.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	Now        func() time.Time
}

// Service stores and serves recordings. It is safe for concurrent use.
type Service struct {
	store  Store
	blobs  blob.Store
	limits Limits
	log    *slog.Logger
	now    func() time.Time

	enc        *zstd.Encoder // EncodeAll and DecodeAll are safe for concurrent use
	dec        *zstd.Decoder
	gate       *admit.Gate // chunks being checked and stored
	receiving  *admit.Gate // chunks whose bodies are arriving
	trustProxy bool
	// locks serialise the chunks of one recording, so that of two copies
	// of a chunk the first is kept whole.
	locks [64]sync.Mutex

	mu        sync.RWMutex
	settings  map[int64]store.RecordingSettings // cache; written through
	quotaFull map[int64]time.Time               // site → UTC day its quota ran out

	chunks *prometheus.CounterVec
	bytes  *prometheus.CounterVec
}

// New returns a service.
func New(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def := DefaultLimits()
	if cfg.Limits.MaxChunkBytes <= 0 {
		cfg.Limits.MaxChunkBytes = def.MaxChunkBytes
	}
	if cfg.Limits.MaxRawBytes <= 0 {
		cfg.Limits.MaxRawBytes = def.MaxRawBytes
	}
	if cfg.Limits.MaxConcurrent <= 0 {
		cfg.Limits.MaxConcurrent = def.MaxConcurrent
	}
	enc, err := newEncoder(cfg.Limits.MaxConcurrent)
	if err != nil {
		return nil, fmt.Errorf("start zstd encoder: %w", err)
	}
	// A stored chunk decompresses to at most MaxRawBytes as it was then;
	// the cap leaves room for chunks stored under a larger limit.
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(4),
		zstd.WithDecoderMaxMemory(uint64(max(cfg.Limits.MaxRawBytes*2, 64<<20))))
	if err != nil {
		return nil, fmt.Errorf("start zstd decoder: %w", err)
	}
	s := &Service{
		store: cfg.Store, blobs: cfg.Blobs, limits: cfg.Limits, log: cfg.Log, now: cfg.Now,
		enc: enc, dec: dec, trustProxy: cfg.TrustProxy,
		gate:      admit.NewGate(cfg.Limits.MaxConcurrent, cfg.Limits.MaxConcurrentPerIP, "recording chunks"),
		receiving: admit.NewReceivers(cfg.Limits.MaxConcurrent, cfg.Limits.MaxConcurrentPerIP, "recording chunks"),
		settings:  map[int64]store.RecordingSettings{}, quotaFull: map[int64]time.Time{},
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_recording_chunks_total",
			Help: "Recording chunks received, by outcome (stored, duplicate, or the error code).",
		}, []string{"outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_recording_bytes_total",
			Help: "Bytes of recording chunks stored: raw (rrweb JSON) and stored (zstd).",
		}, []string{"kind"}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{s.chunks, s.bytes} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register recording metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Close releases the compressors.
func (s *Service) Close() error {
	s.dec.Close()
	return s.enc.Close()
}

// encoderLevel is the zstd level chunks are stored with; see
// BenchmarkChunkParseCompress for what it gives.
const encoderLevel = zstd.SpeedBetterCompression

// encoderWindow is how far back a chunk's encoder looks for matches.
const encoderWindow = 1 << 20

// newEncoder returns the chunks' compressor, encoding at most concurrent
// chunks at once. Encoding is all CPU: more encoders than cores only hold
// memory (each keeps its match history, a window and a block, and hash
// tables). A 1 MiB window compresses rrweb chunks as well as the default
// 8 MiB (BenchmarkChunkParseCompress) in an eighth of the memory: 8
// encoders at the default held 160 MB of a demo's heap.
func newEncoder(concurrent int) (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(encoderLevel),
		zstd.WithEncoderConcurrency(min(concurrent, runtime.GOMAXPROCS(0))),
		zstd.WithWindowSize(encoderWindow), zstd.WithLowerEncoderMem(true))
}

// blobKey is where a chunk's blob lives: only server-made parts (the
// site's number, the recording's ID, the checked seq), never client text.
func blobKey(site int64, recording string, seq int) string {
	return fmt.Sprintf("%s%08d.zst", blobPrefix(site, recording), seq)
}

// BlobKey is where the chunk seq of a recording of site lives in the blob
// store, for tools that copy recordings between stores (sightline
// migrate).
func BlobKey(site int64, recording string, seq int) string { return blobKey(site, recording, seq) }

func blobPrefix(site int64, recording string) string {
	return fmt.Sprintf("%d/%s/", site, recording)
}

// lock takes the lock of one browser recording.
func (s *Service) lock(site int64, anon, recording string) func() {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d\x00%s\x00%s", site, anon, recording)
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// RecordingConfig is what the tracker needs to know to start recording.
type RecordingConfig struct {
	Enabled    bool    `json:"enabled"`
	SampleRate float64 `json:"sample_rate"`
	// Backgrounds are the page groups whose heatmap backgrounds a session
	// that is not recorded may capture (POST /t/bg), while recording is on.
	Backgrounds []store.PageGroup `json:"backgrounds"`
}

// TrackerConfig tells the tracker whether to record on a site and which
// share of sessions: off when the site turned recording off or its quota
// for today is used up, so that browsers do not record what would be
// refused.
func (s *Service) TrackerConfig(ctx context.Context, site int64) (RecordingConfig, error) {
	st, err := s.Settings(ctx, site)
	if err != nil {
		return RecordingConfig{}, err
	}
	s.mu.RLock()
	full := s.quotaFull[site].Equal(day(s.now()))
	s.mu.RUnlock()
	on := st.Enabled && !full
	out := RecordingConfig{Enabled: on, SampleRate: st.SampleRate, Backgrounds: []store.PageGroup{}}
	if on && st.Backgrounds != nil {
		out.Backgrounds = st.Backgrounds
	}
	return out, nil
}

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// Settings returns a site's recording settings.
func (s *Service) Settings(ctx context.Context, site int64) (store.RecordingSettings, error) {
	s.mu.RLock()
	st, ok := s.settings[site]
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	st, err := s.store.RecordingSettings(ctx, site)
	if err != nil {
		return store.RecordingSettings{}, err
	}
	s.mu.Lock()
	s.settings[site] = st
	s.mu.Unlock()
	return st, nil
}

// SettingsChange is a change of settings: fields left nil keep their
// value.
type SettingsChange struct {
	Enabled       *bool    `json:"enabled"`
	SampleRate    *float64 `json:"sample_rate"`
	DailyQuota    *int     `json:"daily_quota"`
	RetentionDays *int     `json:"retention_days"`
	// Backgrounds replaces the page groups whose heatmap backgrounds the
	// tracker captures; a group's match is path when left out.
	Backgrounds *[]store.PageGroup `json:"backgrounds"`
}

// Settings limits.
const (
	MaxDailyQuota    = 10_000_000
	MaxRetentionDays = 3650
	MaxBackgrounds   = 20
)

// SetSettings applies a change to a site's settings after checking it.
func (s *Service) SetSettings(ctx context.Context, site int64, c SettingsChange) (store.RecordingSettings, error) {
	switch {
	case c.SampleRate != nil && !(*c.SampleRate >= 0 && *c.SampleRate <= 1):
		return store.RecordingSettings{}, apierr.Invalid("invalid_field", "sample_rate", "sample_rate is a share of sessions from 0 to 1")
	case c.DailyQuota != nil && (*c.DailyQuota < 0 || *c.DailyQuota > MaxDailyQuota):
		return store.RecordingSettings{}, apierr.Invalid("invalid_field", "daily_quota",
			"daily_quota is a number of recordings from 0 to %d", MaxDailyQuota)
	case c.RetentionDays != nil && (*c.RetentionDays < 1 || *c.RetentionDays > MaxRetentionDays):
		return store.RecordingSettings{}, apierr.Invalid("invalid_field", "retention_days",
			"retention_days is a number of days from 1 to %d", MaxRetentionDays)
	}
	var groups []store.PageGroup
	if c.Backgrounds != nil {
		var err error
		if groups, err = checkBackgrounds(*c.Backgrounds); err != nil {
			return store.RecordingSettings{}, err
		}
	}
	st, err := s.store.RecordingSettings(ctx, site)
	if err != nil {
		return store.RecordingSettings{}, err
	}
	if c.Backgrounds != nil {
		st.Backgrounds = groups
	}
	if c.Enabled != nil {
		st.Enabled = *c.Enabled
	}
	if c.SampleRate != nil {
		st.SampleRate = *c.SampleRate
	}
	if c.DailyQuota != nil {
		st.DailyQuota = *c.DailyQuota
	}
	if c.RetentionDays != nil {
		st.RetentionDays = *c.RetentionDays
	}
	if st, err = s.store.SetRecordingSettings(ctx, site, st); err != nil {
		return store.RecordingSettings{}, err
	}
	s.mu.Lock()
	s.settings[site] = st
	delete(s.quotaFull, site) // a larger quota may admit more today
	s.mu.Unlock()
	return st, nil
}

// checkBackgrounds validates the page groups of a change, each as a
// heatmap's page group is, and fills in a match left out.
func checkBackgrounds(in []store.PageGroup) ([]store.PageGroup, error) {
	if len(in) > MaxBackgrounds {
		return nil, apierr.Invalid("invalid_field", "backgrounds", "at most %d page groups capture backgrounds", MaxBackgrounds)
	}
	out := make([]store.PageGroup, 0, len(in))
	seen := map[store.PageGroup]bool{}
	for i, g := range in {
		if g.Match == "" {
			g.Match = string(heatmap.MatchPath)
		}
		if err := (heatmap.Query{Page: g.Page, Match: heatmap.Match(g.Match)}).Check(); err != nil {
			return nil, apierr.Invalid("invalid_field", fmt.Sprintf("backgrounds[%d]", i), "%v", err)
		}
		if seen[g] {
			return nil, apierr.Invalid("invalid_field", fmt.Sprintf("backgrounds[%d]", i), "the page group %s %q is listed twice",
				g.Match, g.Page)
		}
		seen[g] = true
		out = append(out, g)
	}
	return out, nil
}

// refusal maps an upload error to its metric label.
func refusal(err error) string {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal"
}
