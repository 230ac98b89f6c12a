package heatmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// The background of a heatmap is the page as a visitor saw it: the full
// snapshot of a session recording (rrweb's serialised DOM, masked in the
// browser by the recorder's privacy rules), written back as HTML without
// scripts or event handlers, for a sandboxed iframe.

// Snapshot is a full snapshot found in a recording's events.
type Snapshot struct {
	Href   string          `json:"href"`
	Width  int             `json:"width"`
	Height int             `json:"height"`
	Index  int             `json:"index"` // of the full snapshot among the recording's events
	At     int64           `json:"timestamp"`
	Node   json.RawMessage `json:"-"`
}

// rrweb event types read here.
const (
	rrFullSnapshot = 2
	rrMeta         = 4
)

// Matches reports whether a page address belongs to q's page group.
func (q Query) Matches(href string) bool {
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	switch q.Match {
	case MatchExact:
		return href == q.Page
	case MatchPath:
		return u.Path == q.Page
	case MatchPattern:
		ok, _ := regexp.MatchString(patternRegexp(q.Page), u.Path)
		return ok
	case MatchRegex:
		ok, _ := regexp.MatchString(q.Page, href)
		return ok
	}
	return false
}

// DeviceOf names the breakpoint of a viewport width.
func DeviceOf(width int) string {
	switch {
	case width > TabletMax:
		return "desktop"
	case width > MobileMax:
		return "tablet"
	}
	return "mobile"
}

// FindSnapshot returns the last full snapshot in a recording's events (a
// JSON array) taken on a page of q's group at q's device (any when none),
// or nil.
func FindSnapshot(events []byte, q Query) (*Snapshot, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(events, &list); err != nil {
		return nil, fmt.Errorf("read the recording's events: %w", err)
	}
	var found *Snapshot
	var meta struct {
		Href          string
		Width, Height int
	}
	haveMeta := false
	for i, raw := range list {
		var e struct {
			Type      int             `json:"type"`
			Timestamp int64           `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		switch e.Type {
		case rrMeta:
			haveMeta = json.Unmarshal(e.Data, &meta) == nil
		case rrFullSnapshot:
			if !haveMeta || !q.Matches(meta.Href) || (q.Device != "" && DeviceOf(meta.Width) != q.Device) {
				continue
			}
			var d struct {
				Node json.RawMessage `json:"node"`
			}
			if json.Unmarshal(e.Data, &d) != nil || len(d.Node) == 0 {
				continue
			}
			found = &Snapshot{Href: meta.Href, Width: meta.Width, Height: meta.Height, Index: i, At: e.Timestamp, Node: d.Node}
		}
	}
	return found, nil
}

// SnapshotAt returns the full snapshot at index of a recording's events
// with the Meta before it, or nil when there is none there.
func SnapshotAt(events []byte, index int) (*Snapshot, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(events, &list); err != nil {
		return nil, fmt.Errorf("read the recording's events: %w", err)
	}
	if index < 0 || index >= len(list) {
		return nil, nil
	}
	type event struct {
		Type      int   `json:"type"`
		Timestamp int64 `json:"timestamp"`
		Data      struct {
			Href   string          `json:"href"`
			Width  int             `json:"width"`
			Height int             `json:"height"`
			Node   json.RawMessage `json:"node"`
		} `json:"data"`
	}
	var e event
	if json.Unmarshal(list[index], &e) != nil || e.Type != rrFullSnapshot || len(e.Data.Node) == 0 {
		return nil, nil
	}
	s := &Snapshot{Index: index, At: e.Timestamp, Node: e.Data.Node}
	for i := index - 1; i >= 0; i-- {
		var m event
		if json.Unmarshal(list[i], &m) == nil && m.Type == rrMeta {
			s.Href, s.Width, s.Height = m.Data.Href, m.Data.Width, m.Data.Height
			break
		}
	}
	return s, nil
}

// snapNode is a node of rrweb's serialised DOM.
type snapNode struct {
	Type        int                        `json:"type"`
	Name        string                     `json:"name"`
	TagName     string                     `json:"tagName"`
	Attributes  map[string]json.RawMessage `json:"attributes"`
	ChildNodes  []snapNode                 `json:"childNodes"`
	TextContent string                     `json:"textContent"`
	IsStyle     bool                       `json:"isStyle"`
	// IsShadow marks the nodes of an open shadow root, children of its
	// host (IsShadowHost) beside the host's own children.
	IsShadow     bool `json:"isShadow"`
	IsShadowHost bool `json:"isShadowHost"`
}

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true, "param": true}

// tagName is what an element's name may be; anything else is dropped.
var tagName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)
var attrName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_.:-]*$`)

// SnapshotHTML writes a full snapshot's DOM as an HTML document that runs
// nothing: no script element, no event handler attribute, no javascript:
// address, no frame; stylesheets the recorder inlined become style
// elements, and a base element points relative addresses at the page's
// origin so that its images and fonts load.
func SnapshotHTML(s *Snapshot) ([]byte, error) {
	var root snapNode
	if err := json.Unmarshal(s.Node, &root); err != nil {
		return nil, fmt.Errorf("read the snapshot: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("<!doctype html>")
	base := ""
	if u, err := url.Parse(s.Href); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		base = u.Scheme + "://" + u.Host + "/"
	}
	writeNodes(&b, root.ChildNodes, base, false)
	return b.Bytes(), nil
}

func writeNodes(b *bytes.Buffer, nodes []snapNode, base string, inStyle bool) {
	for i := range nodes {
		writeNode(b, &nodes[i], base, inStyle)
	}
}

func attrText(v json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	var f float64
	if json.Unmarshal(v, &f) == nil {
		return fmt.Sprint(f), true
	}
	var t bool
	if json.Unmarshal(v, &t) == nil && t {
		return "", true
	}
	return "", false
}

// safeCSS keeps style text from closing its element.
func safeCSS(s string) string {
	return strings.ReplaceAll(s, "</", "<\\/")
}

func writeNode(b *bytes.Buffer, n *snapNode, base string, inStyle bool) {
	switch n.Type {
	case 2:
	case 3:
		if inStyle || n.IsStyle {
			b.WriteString(safeCSS(n.TextContent))
		} else {
			b.WriteString(html.EscapeString(n.TextContent))
		}
		return
	default: // the doctype, comments, CDATA
		return
	}
	tag := strings.ToLower(n.TagName)
	if !tagName.MatchString(tag) {
		return
	}
	switch tag {
	case "script", "noscript", "iframe", "frame", "object", "embed", "applet", "base", "portal":
		return
	case "link":
		if css, ok := n.Attributes["_cssText"]; ok {
			if s, ok := attrText(css); ok {
				b.WriteString("<style>" + safeCSS(s) + "</style>")
			}
		}
		return
	case "meta":
		return
	}
	b.WriteString("<" + tag)
	names := make([]string, 0, len(n.Attributes))
	for k := range n.Attributes {
		names = append(names, k)
	}
	sort.Strings(names)
	style := ""
	w, h := "", ""
	for _, k := range names {
		v, ok := attrText(n.Attributes[k])
		if !ok {
			continue
		}
		lk := strings.ToLower(k)
		switch {
		case lk == "rr_width":
			w = v
			continue
		case lk == "rr_height":
			h = v
			continue
		case lk == "style":
			style = v
			continue
		case strings.HasPrefix(lk, "on"), strings.HasPrefix(lk, "rr_"), strings.HasPrefix(lk, "_"), lk == "srcdoc",
			lk == "http-equiv", lk == "formaction", lk == "action", lk == "ping":
			continue
		case !attrName.MatchString(k):
			continue
		}
		if lk == "href" || lk == "src" || lk == "xlink:href" || lk == "poster" || lk == "background" {
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "javascript:") {
				continue
			}
		}
		b.WriteString(" " + k + `="` + html.EscapeString(v) + `"`)
	}
	if w != "" || h != "" {
		style += ";width:" + w + ";height:" + h
	}
	if style != "" {
		b.WriteString(` style="` + html.EscapeString(style) + `"`)
	}
	b.WriteString(">")
	if tag == "head" && base != "" {
		b.WriteString(`<base href="` + html.EscapeString(base) + `">`)
	}
	if voidElements[tag] {
		return
	}
	if tag == "style" {
		if css, ok := n.Attributes["_cssText"]; ok {
			if s, ok := attrText(css); ok {
				b.WriteString(safeCSS(s) + "</style>")
				return
			}
		}
	}
	if n.IsShadowHost {
		// The open shadow root as declarative shadow DOM, which the
		// parser attaches without a script: the dashboard finds the
		// clicked elements inside it through the host's shadowRoot.
		var shadow, light []snapNode
		for _, c := range n.ChildNodes {
			if c.IsShadow {
				shadow = append(shadow, c)
			} else {
				light = append(light, c)
			}
		}
		b.WriteString(`<template shadowrootmode="open">`)
		writeNodes(b, shadow, base, false)
		b.WriteString("</template>")
		writeNodes(b, light, base, tag == "style")
	} else {
		writeNodes(b, n.ChildNodes, base, tag == "style")
	}
	b.WriteString("</" + tag + ">")
}
