package store

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The heatmaps' clicks table keeps, beside a page view's or signal's
// properties as typed columns, values derived from them when the row is
// written, so that a heatmap's queries filter, group and count small
// integers instead of texts and floating-point formulas
// (docs/heatmaps.md, "Speed"). Every writer of the table derives them
// with these functions; the SQL that fills them from stored rows (a
// migration, a rebuild) is tested against them.

// Signal is a row's kind in the clicks table, stored as a number beside
// its name.
type Signal uint8

// The clicks table's signals. Their values are stored and must not change.
const (
	SignalPageView Signal = iota // a page or screen view, named $pageview
	SignalClick                  // $click
	SignalRage                   // $rage_click: a burst of clicks
	SignalDead                   // $dead_click
	SignalScroll                 // $scroll: the deepest point of a page view
)

// HeatmapSignal reports whether an event is a row of the clicks table,
// with its signal and its name there: a page view ($pageview) or one of
// the tracker's $click, $rage_click, $dead_click and $scroll events.
func HeatmapSignal(kind Kind, name string) (Signal, string, bool) {
	switch kind {
	case KindPage:
		return SignalPageView, "$pageview", true
	case KindTrack:
		switch name {
		case "$click":
			return SignalClick, name, true
		case "$rage_click":
			return SignalRage, name, true
		case "$dead_click":
			return SignalDead, name, true
		case "$scroll":
			return SignalScroll, name, true
		}
	}
	return 0, "", false
}

// TextKey returns the clicks table's key of a text (a page view's ID, a
// selector): the first 60 bits of its MD5 digest, read big-endian, so
// that SQL can compute the same key, ('0x' || left(md5(text), 15)) in
// DuckDB; 0 for the empty text. Two texts of one page group share a key
// with a chance of about n²/2⁶¹, which at a million texts is 4 × 10⁻⁷.
func TextKey(text string) int64 {
	if text == "" {
		return 0
	}
	sum := md5.Sum([]byte(text))
	return int64(binary.BigEndian.Uint64(sum[:8]) >> 4)
}

// The heatmaps' grids, fixed because the clicks table stores each row's
// cells: SpotCells × SpotCells spots over an element, and a density grid
// over the page of GridColumns across the viewport's width by rows of
// GridRowPx pixels, at most GridRows of them.
const (
	SpotCells   = 5
	GridColumns = 50
	GridRowPx   = 20
	GridRows    = 1000
)

// SpotCell returns the spot of an element a click landed on, column +
// SpotCells × row, from its offsets inside the element (0–1 of its width
// and height; 0.5, the middle, when missing or not finite; clamped to the
// element).
func SpotCell(offsetX, offsetY *float64) uint8 {
	return uint8(spot(offsetX) + SpotCells*spot(offsetY))
}

func spot(offset *float64) float64 {
	o := 0.5
	if offset != nil && finite(*offset) {
		o = *offset
	}
	return min(max(math.Floor(o*SpotCells), 0), SpotCells-1)
}

// GridCell returns the density grid's cell of a position on the page,
// column + GridColumns × row, from its page coordinates and the
// viewport's width (px); false when one is missing or not finite, or the
// width is not positive.
func GridCell(pageX, pageY, viewportWidth *float64) (int32, bool) {
	if pageX == nil || pageY == nil || viewportWidth == nil ||
		!finite(*pageX) || !finite(*pageY) || !finite(*viewportWidth) || *viewportWidth <= 0 {
		return 0, false
	}
	x := min(max(math.Floor(*pageX / *viewportWidth * GridColumns), 0), GridColumns-1)
	y := min(max(math.Floor(*pageY/GridRowPx), 0), GridRows-1)
	return int32(x + GridColumns*y), true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ClickTexts and ClickNumbers name the properties the clicks table keeps
// as columns, in the columns' order (texts first).
var (
	ClickTexts   = [...]string{"selector", "pageview_id"}
	ClickNumbers = [...]string{"offset_x", "offset_y", "page_x", "page_y", "viewport_width", "clicks", "depth",
		"viewport_height", "page_height"}
)

// ClickValues are the clicks table's property columns of one row: nil
// where the property is missing, null, or (for a number) not a number.
type ClickValues struct {
	Texts   [len(ClickTexts)]*string
	Numbers [len(ClickNumbers)]*float64
}

// ClickColumns reads a signal's properties (a JSON object) as DuckDB's
// json_extract_string and TRY_CAST read them: a text is a string's value
// or another value's JSON text, a number a JSON number or a string
// holding one.
func ClickColumns(props string) ClickValues {
	var out ClickValues
	var m map[string]json.RawMessage
	if props == "" || json.Unmarshal([]byte(props), &m) != nil {
		return out
	}
	for i, k := range ClickTexts {
		if s, ok := jsonText(m[k]); ok {
			out.Texts[i] = &s
		}
	}
	for i, k := range ClickNumbers {
		if s, ok := jsonText(m[k]); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				out.Numbers[i] = &f
			}
		}
	}
	return out
}

// jsonText is json_extract_string of one member: false when it is
// missing or null.
func jsonText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	return string(raw), true
}
