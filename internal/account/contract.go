package account

// The types below name, for internal/openapi, the Go types this package
// answers with, so that the OpenAPI document's schemas are derived from
// them (openapi.Of) rather than written twice.
type (
	AccountJSON = accountJSON
	SiteJSON    = siteJSON
	MeJSON      = meJSON
	MemberJSON  = memberJSON
	InviteJSON  = inviteJSON
)
