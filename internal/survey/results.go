package survey

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/store"
)

// NPSSummary is the Net Promoter Score of a set of responses: the share of
// promoters (9–10) minus the share of detractors (0–6), in points from
// -100 to 100. Score is nil when no response has an NPS answer.
type NPSSummary struct {
	Score      *float64 `json:"score"`
	Responses  int      `json:"responses"`
	Promoters  int      `json:"promoters"`
	Passives   int      `json:"passives"`
	Detractors int      `json:"detractors"`
}

func (n *NPSSummary) add(score int) {
	n.Responses++
	switch Group(score) {
	case "promoter":
		n.Promoters++
	case "passive":
		n.Passives++
	default:
		n.Detractors++
	}
}

func (n *NPSSummary) finish() {
	if n.Responses == 0 {
		return
	}
	v := math.Round(float64(n.Promoters-n.Detractors)*1000/float64(n.Responses)) / 10
	n.Score = &v
}

// QuestionResult is the distribution of one question's answers.
type QuestionResult struct {
	ID       string       `json:"id"`
	Type     QuestionType `json:"type"`
	Prompt   string       `json:"prompt"`
	Answered int          `json:"answered"`
	// Counts counts each score ("0" to "10", "1" to "5") or option, with
	// every score and option present, also at 0.
	Counts  map[string]int `json:"counts,omitempty"`
	Average *float64       `json:"average,omitempty"` // scores
}

// SegmentResult is the results among the respondents in one segment.
type SegmentResult struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Respondents int        `json:"respondents"`
	Completed   int        `json:"completed"`
	NPS         NPSSummary `json:"nps"`
}

// TrendPoint is the NPS of the responses started in one period.
type TrendPoint struct {
	Start time.Time  `json:"start"`
	NPS   NPSSummary `json:"nps"`
	// Partial marks the period that has not ended yet: its score is of
	// the answers so far.
	Partial bool `json:"partial,omitempty"`
	// Few marks a period with fewer than MinTrendResponses answers, whose
	// score says little; charts leave it out of the line.
	Few bool `json:"few,omitempty"`
}

// MinTrendResponses is the fewest answers of a period whose NPS a trend
// draws as a point of its line.
const MinTrendResponses = 10

// Results summarise a survey's responses.
type Results struct {
	Total     int              `json:"responses"`
	Completed int              `json:"completed"`
	Partial   int              `json:"partial"`
	Dismissed int64            `json:"dismissed"`
	Questions []QuestionResult `json:"questions"`
	NPS       *NPSSummary      `json:"nps"` // nil when the survey has no NPS question
	Interval  string           `json:"interval"`
	Trend     []TrendPoint     `json:"trend,omitempty"`
	Segments  []SegmentResult  `json:"segments,omitempty"`
}

// NamedSegment is a segment to break results down by.
type NamedSegment struct {
	ID, Name string
	Node     segment.Node
}

// ResultsQuery says which responses to summarise and how.
type ResultsQuery struct {
	From, To time.Time
	Interval string // day or week (default)
	Segments []NamedSegment
	// Among, when set, keeps only the responses of its members.
	Among segment.Node
	// NPS, when set, keeps only the responses whose NPS answer is in
	// the range (see store.ResponseQuery).
	NPS *[2]int
}

// Decoded is a stored response with its answers read against the survey.
type Decoded struct {
	store.SurveyResponse
	Answers Answers
}

// DecodeAnswers reads a stored response's answers. Answers that no longer
// fit the question (the survey changed while paused) are left out.
func (d *Definition) DecodeAnswers(r store.SurveyResponse) Answers {
	var raw map[string]json.RawMessage
	out := Answers{}
	if json.Unmarshal(r.Answers, &raw) != nil {
		return out
	}
	for id, v := range raw {
		if q, ok := d.question(id); ok {
			if a, err := q.decode(v); err == nil && a != nil {
				out[id] = a
			}
		}
	}
	return out
}

// Results summarises a survey's responses started in the query's period:
// counts, each question's distribution, the NPS, its trend and its
// breakdown by segment. Partial responses count for the questions they
// answered.
func (s *Service) Results(ctx context.Context, sv Survey, q ResultsQuery) (Results, error) {
	rs, err := s.store.Responses(ctx, sv.SiteID, sv.ID, store.ResponseQuery{From: q.From, To: q.To, NPS: q.NPS})
	if err != nil {
		return Results{}, err
	}
	if q.Among != nil {
		if rs, err = s.among(ctx, sv.SiteID, q.Among, rs); err != nil {
			return Results{}, err
		}
	}
	dismissed, err := s.store.Dismissals(ctx, sv.SiteID, sv.ID, q.From, q.To)
	if err != nil {
		return Results{}, err
	}
	ds := make([]Decoded, len(rs))
	for i, r := range rs {
		ds[i] = Decoded{SurveyResponse: r, Answers: sv.Definition.DecodeAnswers(r)}
	}
	res := Summarize(sv.Definition, ds, q.Interval, s.now())
	res.Dismissed = dismissed
	keys := respondentKeys(ds)
	for _, seg := range q.Segments {
		members := map[int64]bool{}
		if len(keys) > 0 {
			if members, err = s.segments.MembersAmong(ctx, sv.SiteID, seg.Node, keys); err != nil {
				return Results{}, err
			}
		}
		sr := SegmentResult{ID: seg.ID, Name: seg.Name}
		users := map[int64]bool{}
		for _, d := range ds {
			if d.UserKey == 0 || !members[d.UserKey] {
				continue
			}
			users[d.UserKey] = true
			if d.Completed {
				sr.Completed++
			}
			if n, ok := sv.Definition.NPSScore(d.Answers); ok {
				sr.NPS.add(n)
			}
		}
		sr.Respondents = len(users)
		sr.NPS.finish()
		res.Segments = append(res.Segments, sr)
	}
	return res, nil
}

// among keeps the responses of the members of n.
func (s *Service) among(ctx context.Context, site int64, n segment.Node, rs []store.SurveyResponse) ([]store.SurveyResponse, error) {
	seen := map[int64]bool{}
	var keys []int64
	for _, r := range rs {
		if r.UserKey != 0 && !seen[r.UserKey] {
			seen[r.UserKey] = true
			keys = append(keys, r.UserKey)
		}
	}
	members := map[int64]bool{}
	if len(keys) > 0 {
		var err error
		if members, err = s.segments.MembersAmong(ctx, site, n, keys); err != nil {
			return nil, err
		}
	}
	out := rs[:0:0]
	for _, r := range rs {
		if r.UserKey != 0 && members[r.UserKey] {
			out = append(out, r)
		}
	}
	return out, nil
}

func respondentKeys(ds []Decoded) []int64 {
	seen := map[int64]bool{}
	var keys []int64
	for _, d := range ds {
		if d.UserKey != 0 && !seen[d.UserKey] {
			seen[d.UserKey] = true
			keys = append(keys, d.UserKey)
		}
	}
	return keys
}

// Summarize computes results from decoded responses; interval is "day" or
// "week" (weeks start on Monday, UTC).
func Summarize(def Definition, ds []Decoded, interval string, now time.Time) Results {
	if interval != "day" {
		interval = "week"
	}
	res := Results{Total: len(ds), Interval: interval, Questions: make([]QuestionResult, len(def.Questions))}
	for i, q := range def.Questions {
		qr := QuestionResult{ID: q.ID, Type: q.Type, Prompt: q.Prompt}
		if lo, hi, ok := q.Type.Scale(); ok {
			qr.Counts = map[string]int{}
			for n := lo; n <= hi; n++ {
				qr.Counts[strconv.Itoa(n)] = 0
			}
		} else if q.Type != Text {
			qr.Counts = map[string]int{}
			for _, o := range q.Options {
				qr.Counts[o] = 0
			}
		}
		res.Questions[i] = qr
	}
	hasNPS := false
	for _, q := range def.Questions {
		hasNPS = hasNPS || q.Type == NPS
	}
	var nps NPSSummary
	trend := map[time.Time]*NPSSummary{}
	for _, d := range ds {
		if d.Completed {
			res.Completed++
		} else {
			res.Partial++
		}
		for i, q := range def.Questions {
			a, ok := d.Answers[q.ID]
			if !ok {
				continue
			}
			qr := &res.Questions[i]
			qr.Answered++
			switch a := a.(type) {
			case int:
				qr.Counts[strconv.Itoa(a)]++
			case string:
				if q.Type != Text {
					qr.Counts[a]++
				}
			case []string:
				for _, o := range a {
					qr.Counts[o]++
				}
			}
		}
		if n, ok := def.NPSScore(d.Answers); ok {
			nps.add(n)
			b := bucket(d.CreatedAt, interval)
			if trend[b] == nil {
				trend[b] = &NPSSummary{}
			}
			trend[b].add(n)
		}
	}
	for i, q := range def.Questions {
		if lo, hi, ok := q.Type.Scale(); ok && res.Questions[i].Answered > 0 {
			sum := 0
			for n := lo; n <= hi; n++ {
				sum += n * res.Questions[i].Counts[strconv.Itoa(n)]
			}
			avg := math.Round(float64(sum)*100/float64(res.Questions[i].Answered)) / 100
			res.Questions[i].Average = &avg
		}
	}
	if hasNPS {
		nps.finish()
		res.NPS = &nps
		for start, n := range trend {
			n.finish()
			end := start.AddDate(0, 0, 7)
			if interval == "day" {
				end = start.AddDate(0, 0, 1)
			}
			res.Trend = append(res.Trend, TrendPoint{Start: start, NPS: *n, Partial: now.Before(end),
				Few: n.Responses < MinTrendResponses})
		}
		sort.Slice(res.Trend, func(i, j int) bool { return res.Trend[i].Start.Before(res.Trend[j].Start) })
	}
	return res
}

// bucket returns the start of the day or week (Monday) t falls in, in UTC.
func bucket(t time.Time, interval string) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if interval == "day" {
		return day
	}
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	return day.AddDate(0, 0, -back)
}

// maxScans bounds the batches read to fill one page of responses filtered
// by a segment: a segment few respondents are in yields a short page with
// a cursor rather than a scan of everything.
const maxScans = 20

// Responses returns a page of a survey's responses matching q, newest
// first; with among, only those of its members. more is where the next
// page starts (nil when there is none): the last response returned, or
// the last one read when a segment left the page short.
func (s *Service) Responses(ctx context.Context, sv Survey, q store.ResponseQuery, among segment.Node) (rs []store.SurveyResponse, more *store.SurveyResponse, err error) {
	if among == nil {
		rs, err := s.store.Responses(ctx, sv.SiteID, sv.ID, q)
		if err != nil || q.Limit == 0 || len(rs) < q.Limit {
			return rs, nil, err
		}
		return rs, &rs[len(rs)-1], nil
	}
	want := q.Limit
	q.Limit = max(4*want, 200)
	for range maxScans {
		batch, err := s.store.Responses(ctx, sv.SiteID, sv.ID, q)
		if err != nil {
			return nil, nil, err
		}
		kept, err := s.among(ctx, sv.SiteID, among, batch)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range kept {
			rs = append(rs, r)
			if want > 0 && len(rs) == want {
				last := r
				return rs, &last, nil
			}
		}
		if len(batch) < q.Limit {
			return rs, nil, nil
		}
		end := batch[len(batch)-1]
		q.Before, q.BeforeID = end.CreatedAt, end.ResponseID
		more = &end
	}
	return rs, more, nil
}
