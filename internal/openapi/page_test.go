package openapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/openapi"
)

// TestOpenAPIDocsPageShowsFields: the rendered page lists each
// operation's fields with their types and whether they are required, and
// its error codes.
func TestOpenAPIDocsPageShowsFields(t *testing.T) {
	h, err := openapi.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/docs", nil))
	body, _ := io.ReadAll(rec.Body)
	page := string(body)
	// The user profile's operation, up to the next operation.
	i := strings.Index(page, `id="getSitesSiteUsersId"`)
	if i < 0 {
		t.Fatal("the page lacks GET /users/{id}")
	}
	op := page[i:]
	op = op[:strings.Index(op[1:], `<div class="op"`)+1]
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<code>user_id</code> <span class="req">required</span></td><td><code>string</code>`),
		regexp.MustCompile(`<code>first_seen</code> <span class="req">required</span></td><td><code>string \| null \(date-time\)</code>`),
		regexp.MustCompile(`<code>attributes\{\}.type</code>`),
		regexp.MustCompile(`<code>companies\[\].group_id</code>`),
		regexp.MustCompile(`Error codes: .*<code>not_found</code>`),
	} {
		if !want.MatchString(op) {
			t.Errorf("GET /users/{id} on the page lacks %s:\n%.3000s", want, op)
		}
	}
	// A request body's fields: creating a token.
	if !regexp.MustCompile(`(?s)id="postSitesSiteTokens".*?Request body.*?<code>scope</code> <span class="req">required</span></td><td><code>one of read, write, admin</code>`).MatchString(page) {
		t.Error("POST /tokens on the page lacks its body's scope field")
	}
}
