package segment

import "errors"

// Problem is one error of a segment definition as API answers list it: a
// line and column for the text form, a JSON path for the JSON form.
type Problem struct {
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Problems lists the problems err reports: each validation error, or the
// one syntax, JSON or limit error. Other errors give one problem with
// their text.
func Problems(err error) []Problem {
	var list ErrorList
	var one *Error
	var syn *SyntaxError
	var pe *PathError
	switch {
	case errors.As(err, &list):
		out := make([]Problem, 0, len(list))
		for _, e := range list {
			out = append(out, Problem{Line: e.Pos.Line, Column: e.Pos.Col, Path: e.Path, Message: e.Msg})
		}
		return out
	case errors.As(err, &one):
		return []Problem{{Line: one.Pos.Line, Column: one.Pos.Col, Path: one.Path, Message: one.Msg}}
	case errors.As(err, &syn):
		return []Problem{{Line: syn.Pos.Line, Column: syn.Pos.Col, Message: syn.Msg}}
	case errors.As(err, &pe):
		return []Problem{{Path: pe.Path, Message: pe.Msg}}
	case err == nil:
		return nil
	}
	return []Problem{{Message: err.Error()}}
}

// Code returns the stable code the API gives a definition error: the
// limit's for a *LimitError (segment_too_large, too_many_conditions,
// too_deep), else invalid_segment.
func Code(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return string(le.Limit)
	}
	return "invalid_segment"
}
