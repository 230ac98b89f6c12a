package loadgen_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// batch is a Segment batch as a server would decode it.
type batch struct {
	Batch  []message `json:"batch"`
	SentAt string    `json:"sentAt"`
}

type message struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	Timestamp   string         `json:"timestamp"`
	UserID      *string        `json:"userId"`
	AnonymousID string         `json:"anonymousId"`
	Event       string         `json:"event"`
	Name        string         `json:"name"`
	Properties  map[string]any `json:"properties"`
	Traits      map[string]any `json:"traits"`
	Context     struct {
		UserAgent string            `json:"userAgent"`
		IP        string            `json:"ip"`
		Locale    string            `json:"locale"`
		Page      map[string]string `json:"page"`
	} `json:"context"`
}

// decodeBatch decodes data strictly and checks that every message is a
// well-formed Segment message. It returns the batch or the first problem.
func decodeBatch(data []byte) (batch, error) {
	var b batch
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("decode batch: %w", err)
	}
	if dec.More() {
		return b, fmt.Errorf("trailing data after batch")
	}
	if _, err := time.Parse(time.RFC3339, b.SentAt); err != nil {
		return b, fmt.Errorf("sentAt: %w", err)
	}
	if len(b.Batch) == 0 {
		return b, fmt.Errorf("empty batch")
	}
	for i, m := range b.Batch {
		if err := checkMessage(m); err != nil {
			return b, fmt.Errorf("message %d (%s): %w", i, m.Type, err)
		}
	}
	return b, nil
}

func checkMessage(m message) error {
	if m.MessageID == "" {
		return fmt.Errorf("no messageId")
	}
	if _, err := time.Parse(time.RFC3339, m.Timestamp); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if m.AnonymousID == "" && (m.UserID == nil || *m.UserID == "") {
		return fmt.Errorf("neither userId nor anonymousId")
	}
	if m.Context.UserAgent == "" || m.Context.IP == "" || m.Context.Locale == "" {
		return fmt.Errorf("context lacks userAgent, ip or locale: %+v", m.Context)
	}
	if _, err := url.Parse(m.Context.Page["url"]); err != nil || m.Context.Page["path"] == "" {
		return fmt.Errorf("bad context.page %v", m.Context.Page)
	}
	switch m.Type {
	case "track":
		if m.Event == "" || len(m.Properties) == 0 {
			return fmt.Errorf("track without event or properties")
		}
	case "page":
		if m.Name == "" || m.Properties["url"] == "" || m.Properties["path"] == "" {
			return fmt.Errorf("page without name, url or path: %v", m.Properties)
		}
	case "identify":
		if m.UserID == nil || len(m.Traits) == 0 {
			return fmt.Errorf("identify without userId or traits")
		}
	default:
		return fmt.Errorf("unknown type %q", m.Type)
	}
	return nil
}
