package manual_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sightline/sightline/docs"
	"github.com/sightline/sightline/internal/manual"
)

func TestRender(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"heading ids as GitHub's", "## Worked examples: the seed's segments", `<h2 id="worked-examples-the-seeds-segments">Worked examples: the seed&#39;s segments</h2>`},
		{"duplicate headings", "# A\n# A", `<h1 id="a">A</h1>` + "\n" + `<h1 id="a-1">A</h1>`},
		{"code keeps marks", "a `x **y** <b>` b", "<p>a <code>x **y** &lt;b&gt;</code> b</p>"},
		{"bold, italics, snake_case", "**bold** and *it* and some_name_here", "<p><strong>bold</strong> and <em>it</em> and some_name_here</p>"},
		{"escaped", "<script>alert(1)</script> & \"q\"", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;q&#34;</p>"},
		{"links", "[the tracker](tracker.md), [warnings](#warnings), [web](https://example.com/a?b=1&c=2)",
			`<p><a href="tracker.md">the tracker</a>, <a href="#warnings">warnings</a>, <a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">web</a></p>`},
		{"links that cannot work are text", "[src](../internal/x.go) [js](javascript:alert(1))", "<p>src js</p>"},
		{"link with code", "[`did(…)`](segments.md#behaviour-conditions)", `<p><a href="segments.md#behaviour-conditions"><code>did(…)</code></a></p>`},
		{"fence", "```json\n{\"a\": 1} <x>\n```", "<pre><code class=\"language-json\">{&#34;a&#34;: 1} &lt;x&gt;</code></pre>"},
		{"table with a pipe in code", "| A | B |\n|---|---|\n| `a|b` | c \\| d |", "<div class=\"table\"><table>\n<thead><tr><th>A</th><th>B</th></tr></thead>\n<tbody>\n<tr><td><code>a|b</code></td><td>c | d</td></tr>\n</tbody></table></div>"},
		{"tight list with continuation", "- one\n  more\n- two", "<ul>\n<li>one\nmore</li>\n<li>two</li>\n</ul>"},
		{"ordered list", "1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"},
		{"nested list", "- a\n   - b\n- c", "<ul>\n<li><p>a</p>\n<ul>\n<li>b</li>\n</ul>\n</li>\n<li>c</li>\n</ul>"},
		{"block in an item", "- text:\n\n  ```\n  x = 1\n  ```\n- next", "<ul>\n<li><p>text:</p>\n<pre><code>x = 1</code></pre>\n</li>\n<li>next</li>\n</ul>"},
		{"paragraph ends at a heading", "text\n## H", "<p>text</p>\n<h2 id=\"h\">H</h2>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := manual.Render(tc.src)
			if strings.TrimSpace(got) != tc.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tc.src, strings.TrimSpace(got), tc.want)
			}
		})
	}
}

var (
	hrefRe = regexp.MustCompile(`href="([^"]*)"`)
	idRe   = regexp.MustCompile(`id="([^"]*)"`)
	codeRe = regexp.MustCompile(`(?s)<code[^>]*>.*?</code>`)
)

// TestDocuments serves every document and follows its links: each
// document a link names exists, each #anchor names a heading there, and
// no Markdown is left unrendered outside code.
func TestDocuments(t *testing.T) {
	h, err := manual.New(docs.Files)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(p string) (int, string) {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, index := get("/docs/")
	if code != 200 {
		t.Fatalf("/docs/: %d", code)
	}
	pages := map[string]string{}
	for _, m := range hrefRe.FindAllStringSubmatch(index, -1) {
		if strings.HasSuffix(m[1], ".md") {
			code, body := get("/docs/" + m[1])
			if code != 200 {
				t.Fatalf("/docs/%s: %d", m[1], code)
			}
			pages[m[1]] = body
		}
	}
	if _, ok := pages["segments.md"]; !ok || len(pages) < 5 {
		t.Fatalf("the index lists %d documents, without segments.md or too few", len(pages))
	}
	ids := map[string]map[string]bool{}
	for name, body := range pages {
		ids[name] = map[string]bool{}
		for _, m := range idRe.FindAllStringSubmatch(body, -1) {
			ids[name][m[1]] = true
		}
	}
	for name, body := range pages {
		for _, m := range hrefRe.FindAllStringSubmatch(body, -1) {
			href := strings.ReplaceAll(m[1], "&amp;", "&")
			if strings.HasPrefix(href, "http") || href == "/" || href == "/docs/" {
				continue
			}
			doc, frag, _ := strings.Cut(href, "#")
			if doc == "" {
				doc = name
			}
			if ids[doc] == nil {
				t.Errorf("%s links to %q: no such document", name, href)
			} else if frag != "" && !ids[doc][frag] {
				t.Errorf("%s links to %q: no such heading", name, href)
			}
		}
		text := codeRe.ReplaceAllString(body, "")
		for _, mark := range []string{"**", "](", "```", "\n## ", "\n- "} {
			if strings.Contains(text, mark) {
				i := strings.Index(text, mark)
				t.Errorf("%s has %q unrendered: …%s…", name, mark, text[max(0, i-60):min(len(text), i+60)])
			}
		}
	}
	if code, _ := get("/docs/nothing.md"); code != 404 {
		t.Errorf("an unknown document: %d, want 404", code)
	}
	if code, _ := get("/docs/../go.mod"); code == 200 {
		t.Error("a path outside the documents is served")
	}
}

func TestNotFoundOutsideTheFolder(t *testing.T) {
	h, err := manual.New(fstest.MapFS{"a.md": {Data: []byte("# A")}, "sub/b.md": {Data: []byte("# B")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/docs/sub/b.md", "/docs/b.md"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != 404 {
			t.Errorf("%s: %d, want 404", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/a.md", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<h1 id="a">A</h1>`) {
		t.Errorf("/docs/a.md: %d %s", rec.Code, rec.Body)
	}
}
