package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

// CookieName is the browser session's cookie.
const CookieName = "sl_session"

// CSRFHeader carries the session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// touchInterval is how often a session's use is written (extending it):
// every request would otherwise write to the database.
const touchInterval = time.Minute

// caller is a signed-in browser: its account, its session and the
// session's secret (from the cookie).
type caller struct {
	account store.Account
	session store.BrowserSession
	secret  string
}

// csrf is the session's CSRF token. It is derived from the session's
// secret, so it needs no storage, and someone who reads the database
// (which holds only the secret's hash) cannot compute it.
func (c caller) csrf() string {
	sum := sha256.Sum256([]byte("sightline csrf\x00" + c.secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newSessionSecret returns 32 random bytes, as cookie-safe text.
func newSessionSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// startSession signs a in: it stores a new session and sets its cookie. A
// session the browser had before ends: each sign-in gets a fresh secret.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, a store.Account) (caller, error) {
	if ck, err := r.Cookie(CookieName); err == nil && ck.Value != "" {
		if err := s.store.DeleteSession(ctx, auth.Hash(ck.Value)); err != nil {
			return caller{}, err
		}
	}
	now := s.now()
	secret := newSessionSecret()
	sess := store.BrowserSession{IDHash: auth.Hash(secret), AccountID: a.ID, CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.SessionTTL), LastSeenAt: now}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return caller{}, err
	}
	if err := s.store.TouchSession(ctx, sess); err != nil {
		return caller{}, err
	}
	a.LastSeenAt = now
	s.setCookie(w, r, secret, s.cfg.SessionTTL)
	return caller{account: a, session: sess, secret: secret}, nil
}

func (s *Service) setCookie(w http.ResponseWriter, r *http.Request, value string, ttl time.Duration) {
	c := &http.Cookie{Name: CookieName, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.overTLS(r)}
	if ttl > 0 {
		c.MaxAge = int(ttl / time.Second)
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// overTLS reports whether the browser reached us over HTTPS: directly, or
// through a trusted proxy that says so.
func (s *Service) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !s.cfg.TrustProxy {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// fromCookie returns the account signed in by r's session cookie. ok is
// false when there is no cookie or its session is unknown or expired. A
// session in use is extended (at most once a minute), cookie included.
func (s *Service) fromCookie(w http.ResponseWriter, r *http.Request) (c caller, ok bool, err error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return caller{}, false, nil
	}
	sess, a, err := s.store.SessionAccount(r.Context(), auth.Hash(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return caller{}, false, nil
	}
	if err != nil {
		return caller{}, false, err
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) {
		if err := s.store.DeleteSession(r.Context(), sess.IDHash); err != nil {
			return caller{}, false, err
		}
		return caller{}, false, nil
	}
	if now.Sub(sess.LastSeenAt) >= touchInterval {
		sess.LastSeenAt, sess.ExpiresAt = now, now.Add(s.cfg.SessionTTL)
		if err := s.store.TouchSession(r.Context(), sess); err != nil {
			return caller{}, false, err
		}
		a.LastSeenAt = now
		s.setCookie(w, r, ck.Value, s.cfg.SessionTTL)
	}
	return caller{account: a, session: sess, secret: ck.Value}, true, nil
}

// unsafe reports whether a method changes state.
func unsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

var errCSRF = &apierr.Error{Status: http.StatusForbidden, Code: "csrf",
	Message: "send the session's CSRF token (from /api/v1/me) in the " + CSRFHeader + " header"}

// checkCSRF refuses a state-changing request of a signed-in browser that
// lacks the session's CSRF token or comes from another origin.
func (s *Service) checkCSRF(r *http.Request, c caller) error {
	if !unsafe(r.Method) {
		return nil
	}
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.csrf())) != 1 {
		return errCSRF
	}
	return nil
}

// checkOrigin refuses a state-changing request whose Origin header names
// another host than this server's. Browsers send Origin on cross-site
// POSTs, so this stops forms on other sites even without a CSRF token
// (for sign-in and set-up, where there is no session yet).
func (s *Service) checkOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" || !unsafe(r.Method) {
		return nil
	}
	u, err := url.Parse(o)
	if err == nil && u.Host != "" {
		if strings.EqualFold(u.Host, r.Host) {
			return nil
		}
		if fwd := r.Header.Get("X-Forwarded-Host"); s.cfg.TrustProxy && fwd != "" && strings.EqualFold(u.Host, fwd) {
			return nil
		}
	}
	return &apierr.Error{Status: http.StatusForbidden, Code: "csrf", Field: "Origin",
		Message: "cross-origin request refused: origin " + o + " is not this server"}
}

var errNotSignedIn = &apierr.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "sign in first"}

// signedIn returns the signed-in caller, or 401 when there is none and 403
// when a state-changing request fails the CSRF check.
func (s *Service) signedIn(w http.ResponseWriter, r *http.Request) (caller, error) {
	c, ok, err := s.fromCookie(w, r)
	if err != nil {
		return caller{}, err
	}
	if !ok {
		return caller{}, errNotSignedIn
	}
	if err := s.checkCSRF(r, c); err != nil {
		return caller{}, err
	}
	return c, nil
}

// SiteScope returns the scope that the browser signed in on r has on a
// site: "" when its account may not see the site. signedIn is false when r
// carries no valid session cookie. A state-changing request that fails the
// CSRF check gets an *apierr.Error. The site API calls it for requests
// without a bearer token.
func (s *Service) SiteScope(w http.ResponseWriter, r *http.Request, siteID int64) (scope store.Scope, signedIn bool, err error) {
	c, ok, err := s.fromCookie(w, r)
	if err != nil || !ok {
		return "", false, err
	}
	if err := s.checkCSRF(r, c); err != nil {
		return "", true, err
	}
	return c.account.Access(siteID), true, nil
}
