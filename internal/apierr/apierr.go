// Package apierr is the one error type every HTTP endpoint answers with: a
// status, a stable machine-readable code, the field at fault when there is
// one, and a message for a person.
package apierr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/jsoncheck"
	"github.com/sightline/sightline/internal/store"
)

// Error is an API error. Codes are stable: clients may switch on them.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Details lists the individual problems when there are several, such
	// as each error of a segment definition with its line and column.
	Details any `json:"details,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration `json:"-"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// Invalid returns a 400 error about one field.
func Invalid(code, field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Common errors.
var (
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
		Message: "missing or unknown credentials"}
	ErrForbidden = &Error{Status: http.StatusForbidden, Code: "forbidden",
		Message: "these credentials do not allow this"}
	ErrNotFound = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource"}
)

// Answers to the store's conditions that a reader can wait out.
var (
	errLagging = &Error{Status: http.StatusServiceUnavailable, Code: "store_lagging", RetryAfter: 2 * time.Second,
		Message: "the database has not caught up with recent writes in time; retry shortly"}
	// errCancelled answers a client that is gone; 499 is the status
	// proxies log for it.
	errCancelled   = &Error{Status: 499, Code: "cancelled", Message: "the request was cancelled by the client"}
	errUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable", RetryAfter: 5 * time.Second,
		Message: "the data cannot be stored for now (is the disk full?); nothing was changed, retry later"}
)

// Write sends err as a JSON error answer. An error that is not an *Error is
// logged and answered as a 500 without details, but for the store's
// conditions that pass (a lagging applier, a full disk), which are 503s
// with Retry-After.
func Write(w http.ResponseWriter, log *slog.Logger, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, context.Canceled):
		// The client went away before the answer: nothing failed here.
		log.Debug("request cancelled by the client", "err", err)
		e = errCancelled
	case errors.Is(err, store.ErrLagging):
		log.Warn("read gave up waiting for recent writes", "err", err)
		e = errLagging
	case errors.Is(err, store.ErrUnavailable):
		log.Warn("storage unavailable", "err", err)
		e = errUnavailable
	default:
		log.Error("internal error", "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; see the server log"}
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(e.RetryAfter.Round(time.Second).Seconds()))))
	}
	WriteJSON(w, e.Status, map[string]any{"error": e})
}

// WriteJSON sends v as a JSON answer with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// maxBodyDepth bounds the nesting of a JSON body sent to the API.
const maxBodyDepth = 64

// DecodeJSON reads a JSON body of at most limit bytes into v, refusing
// unknown fields, invalid UTF-8 and over-deep nesting with an *Error that
// names the field.
func DecodeJSON(r *http.Request, v any, limit int64) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
			Message: fmt.Sprintf("the body exceeds %d bytes", limit)}
	}
	if err != nil {
		return Invalid("malformed_body", "", "the body could not be read: %v", err)
	}
	if p := jsoncheck.Check(body, maxBodyDepth); p != nil {
		return Invalid(p.Code, p.Field, "%s", p.Message)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Invalid("malformed_json", "", "the body is not the expected JSON: %v", err)
	}
	return nil
}
