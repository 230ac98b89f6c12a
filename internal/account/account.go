// Package account manages the dashboard's people: accounts with roles
// (owner, admin, member, viewer) and per-site access, argon2id password
// hashing, browser sessions in an HttpOnly cookie with a CSRF token,
// invitations, and a sign-in rate limit. It serves the endpoints under
// /api/v1 that use them (setup, session, me, accounts, invites, sites), and
// tells the site API which scope a signed-in browser has on a site.
package account

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Accounts keeps accounts and their password hashes.
type Accounts interface {
	CreateAccount(ctx context.Context, a store.Account, passwordHash string) error
	AccountByEmail(ctx context.Context, email string) (store.Account, string, error)
	AccountByID(ctx context.Context, id string) (store.Account, string, error)
	ListAccounts(ctx context.Context) ([]store.Account, error)
	UpdateAccount(ctx context.Context, a store.Account) error
	SetPassword(ctx context.Context, accountID, passwordHash string) error // ends the account's sessions
	DeleteAccount(ctx context.Context, id string) error                    // ends the account's sessions
}

// Sessions keeps browser sessions under the hash of their ID.
type Sessions interface {
	CreateSession(ctx context.Context, s store.BrowserSession) error
	SessionAccount(ctx context.Context, idHash string) (store.BrowserSession, store.Account, error)
	TouchSession(ctx context.Context, s store.BrowserSession) error
	DeleteSession(ctx context.Context, idHash string) error
}

// Invites keeps invitations under the hash of their token.
type Invites interface {
	CreateInvite(ctx context.Context, inv store.Invite, tokenHash string) error
	InviteByToken(ctx context.Context, tokenHash string) (store.Invite, error)
	ListInvites(ctx context.Context, now time.Time) ([]store.Invite, error)
	DeleteInvite(ctx context.Context, id string) error
	AcceptInvite(ctx context.Context, inviteID string, a store.Account, passwordHash string) error
}

// Sites is the part of the site catalog accounts need.
type Sites interface {
	Sites(ctx context.Context) []store.Site
	Site(ctx context.Context, publicID string) (store.Site, error)
	CreateSite(ctx context.Context, name string, origins []string) (store.Site, string, error)
	TokenBySecret(ctx context.Context, secret string) (store.Token, error)
}

// Store is everything the package keeps.
type Store interface {
	Accounts
	Sessions
	Invites
	Sites
}

// Config tunes the service. Zero fields take their defaults.
type Config struct {
	// TrustProxy makes X-Forwarded-For give the client IP (for the sign-in
	// limit) and X-Forwarded-Proto: https mark cookies Secure.
	TrustProxy bool
	// SessionTTL is how long a session lasts after its last use (30 days).
	SessionTTL time.Duration
	// InviteTTL is how long an invitation can be accepted (7 days).
	InviteTTL time.Duration
	// Limiter limits failed sign-ins.
	Limiter LimiterConfig
	// MaxHashing bounds the password hashes computed at once; each takes
	// 19 MiB (4).
	MaxHashing int
	// Now is the clock; tests set it.
	Now func() time.Time
	// Log receives internal errors.
	Log *slog.Logger
}

func (c *Config) defaults() {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 30 * 24 * time.Hour
	}
	if c.InviteTTL <= 0 {
		c.InviteTTL = 7 * 24 * time.Hour
	}
	if c.MaxHashing <= 0 {
		c.MaxHashing = 4
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Limiter.Now == nil {
		c.Limiter.Now = c.Now
	}
	if c.Limiter.Log == nil {
		c.Limiter.Log = c.Log
	}
}

// Service holds accounts' rules over a Store.
type Service struct {
	store   Store
	cfg     Config
	limiter *Limiter
	hashing chan struct{}

	// team serialises changes that must keep an owner (role changes,
	// deletions, the first account), which reading then writing in
	// separate statements would otherwise race on.
	team sync.Mutex

	dummyOnce sync.Once
	dummy     string
}

// New returns the service over st.
func New(st Store, cfg Config) *Service {
	cfg.defaults()
	s := &Service{store: st, cfg: cfg, limiter: NewLimiter(cfg.Limiter), hashing: make(chan struct{}, cfg.MaxHashing)}
	// The dummy hash is made ahead, or the first unknown email would take
	// a hash longer to answer than a known one.
	go s.dummyHash()
	return s
}

// dummyHash is the hash checked for unknown emails.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = HashPassword("not a password of anyone") })
	return s.dummy
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// hash computes a password hash, a few at a time.
func (s *Service) hash(password string) string {
	s.hashing <- struct{}{}
	defer func() { <-s.hashing }()
	return HashPassword(password)
}

// check compares a password with a stored hash, a few at a time. An
// empty hash stands for an unknown account: a dummy hash is checked so
// the answer takes as long as for a known one.
func (s *Service) check(encoded, password string) bool {
	if encoded == "" {
		encoded = s.dummyHash()
	}
	s.hashing <- struct{}{}
	defer func() { <-s.hashing }()
	ok, err := CheckPassword(encoded, password)
	if err != nil {
		s.cfg.Log.Error("check password", "err", err)
	}
	return ok
}

// NormalizeEmail returns the canonical (trimmed, lowercase) form of an
// email address, or an error when it is not one.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if len(e) > 254 {
		return "", errInvalid("email", "an email address has at most 254 characters")
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || !strings.Contains(e, "@") {
		return "", errInvalid("email", "this is not an email address")
	}
	return e, nil
}

// normalizeName checks a person's name.
func normalizeName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", errInvalid("name", "a name is needed")
	}
	if len(n) > 200 {
		return "", errInvalid("name", "a name has at most 200 bytes")
	}
	return n, nil
}
