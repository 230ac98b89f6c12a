package store

import (
	"encoding/json"
	"strconv"
	"strings"
)

// HeatmapSignal reports whether an event is a row of the heatmaps' clicks
// table, and its name there: a page view ($pageview) or one of the
// tracker's signals ($click, $rage_click, $dead_click, $scroll). Every
// backend keeps those rows beside the events, with the properties the
// heatmap queries read as columns (ClickColumns).
func HeatmapSignal(kind Kind, name string) (string, bool) {
	switch kind {
	case KindPage:
		return "$pageview", true
	case KindTrack:
		switch name {
		case "$click", "$rage_click", "$dead_click", "$scroll":
			return name, true
		}
	}
	return "", false
}

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
