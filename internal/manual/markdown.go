package manual

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
)

// The Markdown the documents use, and only that: ATX headings, paragraphs,
// fenced code, pipe tables, bullet and numbered lists (nested by
// indentation, with blocks inside items), and inline code, links, bold
// and italics. Everything is escaped; a link leaves the documents only
// for http(s) addresses.

var (
	headingRe = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	itemRe    = regexp.MustCompile(`^( *)([-*]|\d+[.)])( +)(.*)$`)
	fenceRe   = regexp.MustCompile("^ *(```+|~~~+)")
	tableSep  = regexp.MustCompile(`^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`)
)

// renderer turns one document into HTML, giving each heading an id as
// GitHub does, so that the documents' #anchors work.
type renderer struct {
	b     strings.Builder
	ids   map[string]int
	title string
}

// Render returns the HTML of a Markdown document and its first heading.
func Render(src string) (body, title string) {
	r := &renderer{ids: map[string]int{}}
	r.blocks(strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n"))
	return r.b.String(), r.title
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// starts reports whether line begins a block other than a paragraph.
func starts(line string) bool {
	return headingRe.MatchString(line) || itemRe.MatchString(line) || fenceRe.MatchString(line) ||
		strings.HasPrefix(strings.TrimSpace(line), "|")
}

func (r *renderer) blocks(lines []string) {
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case blank(line):
			i++
		case fenceRe.MatchString(line):
			i = r.fence(lines, i)
		case headingRe.MatchString(line):
			m := headingRe.FindStringSubmatch(line)
			r.heading(len(m[1]), m[2])
			i++
		case strings.HasPrefix(strings.TrimSpace(line), "|") && i+1 < len(lines) && tableSep.MatchString(lines[i+1]):
			i = r.table(lines, i)
		case itemRe.MatchString(line):
			i = r.list(lines, i)
		default:
			j := i + 1
			for j < len(lines) && !blank(lines[j]) && !starts(lines[j]) {
				j++
			}
			r.b.WriteString("<p>")
			r.b.WriteString(inline(strings.Join(trimAll(lines[i:j]), "\n")))
			r.b.WriteString("</p>\n")
			i = j
		}
	}
}

func trimAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// fence writes a fenced code block starting at lines[i] and returns the
// index after it.
func (r *renderer) fence(lines []string, i int) int {
	open := fenceRe.FindStringSubmatch(lines[i])[1]
	indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
	lang := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(lines[i]), "`~"))
	j := i + 1
	var code []string
	for ; j < len(lines); j++ {
		if strings.HasPrefix(strings.TrimSpace(lines[j]), open[:3]) && strings.Trim(strings.TrimSpace(lines[j]), open[:1]) == "" {
			j++
			break
		}
		l := lines[j]
		// The block's own indentation is not part of the code.
		for k := 0; k < indent && strings.HasPrefix(l, " "); k++ {
			l = l[1:]
		}
		code = append(code, l)
	}
	r.b.WriteString("<pre><code")
	if lang != "" {
		fmt.Fprintf(&r.b, ` class="language-%s"`, html.EscapeString(lang))
	}
	r.b.WriteString(">")
	r.b.WriteString(html.EscapeString(strings.Join(code, "\n")))
	r.b.WriteString("</code></pre>\n")
	return j
}

func (r *renderer) heading(level int, text string) {
	id := slug(plain(text))
	if n := r.ids[id]; n > 0 {
		r.ids[id] = n + 1
		id = fmt.Sprintf("%s-%d", id, n)
	} else {
		r.ids[id] = 1
	}
	if r.title == "" {
		r.title = plain(text)
	}
	fmt.Fprintf(&r.b, "<h%d id=\"%s\">%s</h%d>\n", level, html.EscapeString(id), inline(text), level)
}

// cells splits a table row into its cells; a pipe inside a code span or
// escaped as \| does not split.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	if strings.HasSuffix(row, "|") && !strings.HasSuffix(row, `\|`) {
		row = row[:len(row)-1]
	}
	var out []string
	var cur strings.Builder
	code := false
	for i := 0; i < len(row); i++ {
		c := row[i]
		switch {
		case c == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteByte('|')
			i++
		case c == '`':
			code = !code
			cur.WriteByte(c)
		case c == '|' && !code:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

func (r *renderer) table(lines []string, i int) int {
	head := cells(lines[i])
	r.b.WriteString("<div class=\"table\"><table>\n<thead><tr>")
	for _, c := range head {
		r.b.WriteString("<th>" + inline(c) + "</th>")
	}
	r.b.WriteString("</tr></thead>\n<tbody>\n")
	j := i + 2
	for ; j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "|"); j++ {
		r.b.WriteString("<tr>")
		for _, c := range cells(lines[j]) {
			r.b.WriteString("<td>" + inline(c) + "</td>")
		}
		r.b.WriteString("</tr>\n")
	}
	r.b.WriteString("</tbody></table></div>\n")
	return j
}

// list writes the list whose first item is lines[i]: the items at that
// indentation, each with the lines indented under it (blocks of their
// own) and the lines that continue its paragraph.
func (r *renderer) list(lines []string, i int) int {
	first := itemRe.FindStringSubmatch(lines[i])
	indent := len(first[1])
	ordered := first[2] != "-" && first[2] != "*"
	tag := "ul"
	if ordered {
		tag = "ol"
	}
	r.b.WriteString("<" + tag + ">\n")
	j := i
	for j < len(lines) {
		m := itemRe.FindStringSubmatch(lines[j])
		if m == nil || len(m[1]) != indent || (m[2] != "-" && m[2] != "*") == !ordered {
			break
		}
		width := len(m[1]) + len(m[2]) + len(m[3])
		body := []string{m[4]}
		j++
		for j < len(lines) {
			l := lines[j]
			if blank(l) {
				// A blank line ends the item unless what follows is
				// indented under it.
				k := j
				for k < len(lines) && blank(lines[k]) {
					k++
				}
				if k < len(lines) && len(lines[k])-len(strings.TrimLeft(lines[k], " ")) >= width {
					body = append(body, lines[j:k]...)
					j = k
					continue
				}
				break
			}
			lead := len(l) - len(strings.TrimLeft(l, " "))
			if lead >= width {
				body = append(body, l[width:])
			} else if lead <= indent && starts(l) {
				break
			} else {
				body = append(body, strings.TrimSpace(l)) // a lazy continuation
			}
			j++
		}
		r.b.WriteString("<li>")
		if tight(body) {
			r.b.WriteString(inline(strings.Join(trimAll(body), "\n")))
		} else {
			r.blocks(body)
		}
		r.b.WriteString("</li>\n")
		for j < len(lines) && blank(lines[j]) {
			k := j
			for k < len(lines) && blank(lines[k]) {
				k++
			}
			if k < len(lines) && itemRe.MatchString(lines[k]) && len(itemRe.FindStringSubmatch(lines[k])[1]) == indent {
				j = k
			} else {
				break
			}
		}
	}
	r.b.WriteString("</" + tag + ">\n")
	return j
}

// tight reports whether an item is one run of text (no blank line, no
// block inside), written without a paragraph.
func tight(body []string) bool {
	for i, l := range body {
		if blank(l) || (i > 0 && starts(l)) {
			return false
		}
	}
	return true
}

// inline renders a run of text: code spans, links, bold, italics, and
// everything else escaped.
func inline(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_[]()#+-.!|<>", s[i+1]) >= 0:
			b.WriteString(html.EscapeString(s[i+1 : i+2]))
			i += 2
			continue
		case c == '`':
			n := 0
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			ticks := s[i : i+n]
			if end := strings.Index(s[i+n:], ticks); end >= 0 {
				code := s[i+n : i+n+end]
				if strings.HasPrefix(code, " ") && strings.HasSuffix(code, " ") && strings.TrimSpace(code) != "" {
					code = code[1 : len(code)-1]
				}
				b.WriteString("<code>" + html.EscapeString(strings.ReplaceAll(code, "\n", " ")) + "</code>")
				i += n + end + n
				continue
			}
			b.WriteString(ticks)
			i += n
			continue
		case c == '[':
			if text, href, n, ok := link(s[i:]); ok {
				if u, ok := safeHref(href); ok {
					b.WriteString(`<a href="` + html.EscapeString(u) + `"`)
					if strings.HasPrefix(u, "http") {
						b.WriteString(` rel="noopener noreferrer"`)
					}
					b.WriteString(">" + inline(text) + "</a>")
				} else {
					b.WriteString(inline(text))
				}
				i += n
				continue
			}
		case c == '*' && strings.HasPrefix(s[i:], "**"):
			if end := strings.Index(s[i+2:], "**"); end > 0 {
				b.WriteString("<strong>" + inline(s[i+2:i+2+end]) + "</strong>")
				i += 2 + end + 2
				continue
			}
		case c == '*' && i+1 < len(s) && s[i+1] != ' ':
			if end := strings.IndexByte(s[i+1:], '*'); end > 0 && s[i+end] != ' ' {
				b.WriteString("<em>" + inline(s[i+1:i+1+end]) + "</em>")
				i += 1 + end + 1
				continue
			}
		}
		b.WriteString(html.EscapeString(s[i : i+1]))
		i++
	}
	return b.String()
}

// link reads [text](href) at the start of s: the text, the address and
// the length read.
func link(s string) (text, href string, n int, ok bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '`':
			if end := strings.IndexByte(s[i+1:], '`'); end >= 0 {
				i += end + 1
			}
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				if i+1 >= len(s) || s[i+1] != '(' {
					return "", "", 0, false
				}
				// The address ends at the ) that balances its (.
				open := 1
				for k := i + 2; k < len(s); k++ {
					switch s[k] {
					case '(':
						open++
					case ')':
						if open--; open == 0 {
							return s[1:i], strings.TrimSpace(s[i+2 : k]), k + 1, true
						}
					}
				}
				return "", "", 0, false
			}
		}
	}
	return "", "", 0, false
}

// safeHref keeps the links that work where the documents are served: to
// the web, to another document (segments.md#warnings), to a heading.
func safeHref(h string) (string, bool) {
	switch {
	case strings.HasPrefix(h, "https://"), strings.HasPrefix(h, "http://"), strings.HasPrefix(h, "#"):
		return h, true
	}
	name, _, _ := strings.Cut(h, "#")
	if strings.HasSuffix(name, ".md") && !strings.ContainsAny(name, "/\\:") {
		return h, true
	}
	return "", false
}

// plain is the text of inline Markdown without its marks.
func plain(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '`', '*':
		case '[':
			if text, _, n, ok := link(s[i:]); ok {
				b.WriteString(plain(text))
				i += n - 1
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// slug makes a heading's id as GitHub does: lower case, spaces to
// hyphens, other punctuation dropped.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
