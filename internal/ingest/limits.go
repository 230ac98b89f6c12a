package ingest

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits bound what one request may carry. Every limit is documented in the
// README and configurable; the defaults follow Segment's own where it has
// one (32 KB a message, 500 KB a batch).
type Limits struct {
	MaxRequestBytes  int64 // a request body, after decompression
	MaxMessageBytes  int   // one message's JSON
	MaxBatchMessages int   // messages in one batch
	MaxIDLength      int   // userId, anonymousId, groupId, previousId, messageId
	MaxEventName     int   // an event or page name
	MaxKeyLength     int   // an attribute key, after flattening
	MaxValueLength   int   // a string attribute value
	MaxTraits        int   // attributes in one message
	MaxDepth         int   // nesting of objects and arrays in a message, the message itself being 1
}

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{
		MaxRequestBytes:  512 << 10,
		MaxMessageBytes:  32 << 10,
		MaxBatchMessages: 1000,
		MaxIDLength:      256,
		MaxEventName:     200,
		MaxKeyLength:     128,
		MaxValueLength:   1024,
		MaxTraits:        200,
		MaxDepth:         32,
	}
}

// checkID checks an identifier's length and characters.
func (l Limits) checkID(field, id string) *fieldError {
	if len(id) > l.MaxIDLength {
		return &fieldError{"id_too_long", field, fmt.Sprintf("%s is %d bytes; the limit is %d", field, len(id), l.MaxIDLength)}
	}
	if !printable(id) {
		return &fieldError{"invalid_id", field, field + " must be valid UTF-8 without control characters"}
	}
	return nil
}

// checkName checks an event or page name.
func (l Limits) checkName(field, name string) *fieldError {
	if len(name) > l.MaxEventName {
		return &fieldError{"name_too_long", field, fmt.Sprintf("%s is %d bytes; the limit is %d", field, len(name), l.MaxEventName)}
	}
	if !printable(name) {
		return &fieldError{"invalid_name", field, field + " must be valid UTF-8 without control characters"}
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// fieldError is why one message was refused.
type fieldError struct {
	Code, Field, Message string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Message }
