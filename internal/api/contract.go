package api

// The types below name, for internal/openapi, the Go types this package
// answers and reads with, so that the OpenAPI document's schemas are
// derived from them (openapi.Of) rather than written twice.
type (
	AttrJSON           = attrJSON
	ChangeJSON         = changeJSON
	UserEventJSON      = userEventJSON
	EventJSON          = eventJSON
	FeedbackJSON       = feedbackJSON
	ClickJSON          = clickJSON
	InsightJSON        = insightJSON
	InsightBody        = insightBody
	DroppedBody        = droppedBody
	AnnotationBody     = annotationBody
	OverviewJSON       = overviewJSON
	RecordingJSON      = recordingJSON
	TimelineItem       = timelineItem
	SegmentBody        = segmentBody
	SegmentJSON        = segmentJSON
	MemberJSON         = memberJSON
	ResponseJSON       = responseJSON
	SurveyJSON         = surveyJSON
	TrendPoint         = trendPoint
	CompareBody        = compareBody
	ExperimentJSON     = experimentJSON
	CreatedDestination = createdDestination
	AttemptJSON        = attemptJSON
)
