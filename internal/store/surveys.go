package store

import (
	"context"
	"time"
)

// SurveyRecord is a stored survey. Definition is the survey's JSON as the
// survey package validated it; the store does not read it.
type SurveyRecord struct {
	ID         string
	SiteID     int64
	Name       string
	Status     string
	Definition []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Surveys keeps survey definitions.
type Surveys interface {
	// CreateSurvey stores a new survey and returns it with its ID. It is
	// created now, unless s.CreatedAt is set (an import).
	CreateSurvey(ctx context.Context, s SurveyRecord) (SurveyRecord, error)
	// UpdateSurvey replaces a survey's name and definition if its status is
	// one of ifStatus; otherwise it returns an error wrapping ErrConflict.
	UpdateSurvey(ctx context.Context, s SurveyRecord, ifStatus []string) (SurveyRecord, error)
	// SetSurveyStatus moves a survey from status from to status to; when
	// it is no longer in from, it returns an error wrapping ErrConflict.
	SetSurveyStatus(ctx context.Context, site int64, id, from, to string) (SurveyRecord, error)
	Survey(ctx context.Context, site int64, id string) (SurveyRecord, error)
	ListSurveys(ctx context.Context, site int64) ([]SurveyRecord, error)
	// LiveSurveys lists the live surveys of a site.
	LiveSurveys(ctx context.Context, site int64) ([]SurveyRecord, error)
	// DeleteSurvey deletes a survey with its responses and dismissals.
	DeleteSurvey(ctx context.Context, site int64, id string) error
}

// SurveyResponse is one visitor's response to a survey, upserted as they
// answer. Answers is a JSON object by question ID.
type SurveyResponse struct {
	SiteID      int64
	SurveyID    string
	ResponseID  string
	AnonymousID string
	UserID      string
	SessionID   string // the browser's session ID
	URL         string
	Answers     []byte
	NPS         *int
	Completed   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CompletedAt time.Time // zero until completed
	// UserKey is the user the response belongs to now (following merges);
	// 0 when the visitor is not known. Filled when reading.
	UserKey int64
}

// AnswerValue is one answer as segments query it: Num for a score, Text
// for an option or a text (one row per chosen option).
type AnswerValue struct {
	QuestionID string
	Num        *float64
	Text       *string
}

// Dismissal is a visitor closing a survey without completing it.
type Dismissal struct {
	SiteID      int64
	SurveyID    string
	AnonymousID string
	UserID      string
	At          time.Time
}

// SurveyHistory is when one visitor last completed and last dismissed one
// survey. A visitor is named by the user ID the responses and dismissals
// carried, or by the anonymous ID when they carried none.
type SurveyHistory struct {
	SurveyID    string
	UserID      string
	AnonymousID string // empty when UserID is set
	Completed   time.Time
	Dismissed   time.Time
}

// ResponseQuery selects a survey's responses: created in [From, To) (zero
// bounds are open), newest first, after a cursor.
type ResponseQuery struct {
	From, To time.Time
	// NPS, when set, keeps the responses whose NPS answer (the nps
	// column: the first NPS question's) is from NPS[0] to NPS[1].
	NPS   *[2]int
	Limit int // 0: all
	// Before and BeforeID continue after the last row of a previous page.
	Before   time.Time
	BeforeID string
}

// SurveyResponses keeps responses and dismissals.
type SurveyResponses interface {
	// SaveResponse inserts or replaces a response and its answer rows in
	// one transaction.
	SaveResponse(ctx context.Context, r SurveyResponse, answers []AnswerValue) error
	// Response reads one response; ErrNotFound when there is none.
	Response(ctx context.Context, site int64, surveyID, responseID string) (SurveyResponse, error)
	Dismiss(ctx context.Context, d Dismissal) error
	// SurveyHistories lists, for every visitor who completed or dismissed
	// a survey of the site, when they last did; each visitor and survey
	// may come in two rows (one for each).
	SurveyHistories(ctx context.Context, site int64) ([]SurveyHistory, error)
	// CompletedCounts counts the completed responses of surveys.
	CompletedCounts(ctx context.Context, site int64, surveyIDs []string) (map[string]int64, error)
	// Responses lists a survey's responses, newest first.
	Responses(ctx context.Context, site int64, surveyID string, q ResponseQuery) ([]SurveyResponse, error)
	// Dismissals counts a survey's dismissals in [from, to).
	Dismissals(ctx context.Context, site int64, surveyID string, from, to time.Time) (int64, error)
}

// FeedbackItem is one piece of feedback from the feedback tab.
type FeedbackItem struct {
	ID          string
	SiteID      int64
	AnonymousID string
	UserID      string
	SessionID   string
	URL         string
	Rating      int
	Comment     string
	Selector    string
	CreatedAt   time.Time
	UserKey     int64 // filled when reading; 0 when the visitor is not known
}

// FeedbackQuery selects feedback: created in [From, To), on pages whose URL
// contains Page, with Rating (0: any), newest first, after a cursor.
type FeedbackQuery struct {
	From, To time.Time
	Page     string
	Rating   int
	Limit    int
	Before   time.Time
	BeforeID string
}

// FeedbackBucket is one period of a feedback summary.
type FeedbackBucket struct {
	Start   time.Time
	Count   int64
	Average float64
	// ByRating counts ratings 1 to 5 (index 0 is rating 1).
	ByRating [5]int64
}

// FeedbackSettings keeps each site's feedback settings: control data,
// small and changed by administrators.
type FeedbackSettings interface {
	// FeedbackSettings returns a site's settings JSON, nil when never set.
	FeedbackSettings(ctx context.Context, site int64) ([]byte, error)
	SaveFeedbackSettings(ctx context.Context, site int64, settings []byte) error
}

// FeedbackItems keeps the feedback visitors give: analytical data, read
// beside the users who gave it.
type FeedbackItems interface {
	AddFeedback(ctx context.Context, f FeedbackItem) error
	ListFeedback(ctx context.Context, site int64, q FeedbackQuery) ([]FeedbackItem, error)
	// FeedbackSummary buckets feedback by interval ("day" or "week").
	FeedbackSummary(ctx context.Context, site int64, q FeedbackQuery, interval string) ([]FeedbackBucket, error)
}

// Feedback keeps feedback and each site's feedback settings: one store
// that has both, or a composite of two.
type Feedback interface {
	FeedbackSettings
	FeedbackItems
}
