// Package csvimport imports user attributes from a CSV file (sign-up
// forms, CRMs, billing exports) through the same path as identify calls:
// each row becomes an identify message written by the store's writer, so
// that every change lands in the attribute history and the attribute
// catalog types it exactly as it would a tracked value.
//
// The file has a header row. One column holds the user ID (user_id,
// userId, id or external_id); every other column is an attribute key,
// optionally typed as key:number, key:boolean, key:datetime or
// key:string. A column's type is, in order: the catalog's type for the
// key, the header's, or else inferred from each value as identify infers
// a new key. A UTF-8 byte-order mark is skipped; the delimiter (comma,
// semicolon, tab or pipe) is detected from the header; quoting follows
// RFC 4180. An empty cell changes nothing.
//
// A cell that does not fit its column's type is refused with the reason
// and its line; the rest of the row applies. A row that cannot be read
// (wrong number of fields, bad quoting, no user ID) is refused whole.
// Each row's message ID is a hash of the site, the header and the row,
// so importing the same file again is dropped as a retry, and after the
// dedupe window changes nothing since the values are already set.
package csvimport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// Store is what an import needs: the catalog to type the columns and the
// writer identify calls go through.
type Store interface {
	store.Writer
	AttributeCatalog(ctx context.Context, siteID int64) ([]store.CatalogKey, error)
}

// Report is the outcome of an import.
type Report struct {
	// Rows is how many data rows were read (the header not counted).
	Rows int `json:"rows"`
	// Applied is how many rows were written (some of their cells may
	// have been refused).
	Applied int `json:"applied"`
	// Duplicates is how many rows were dropped as already imported.
	Duplicates int `json:"duplicates"`
	// Changed is how many values changed (each added to the history), on
	// the bulk path; a re-import changes none.
	Changed int64 `json:"changed"`
	// RejectedRows and RejectedCells count the refusals; Rejections lists
	// the first MaxRejections of them with their lines.
	RejectedRows  int         `json:"rejected_rows"`
	RejectedCells int         `json:"rejected_cells"`
	Rejections    []Rejection `json:"rejections"`
	Delimiter     string      `json:"delimiter"`
	Columns       []string    `json:"columns"`
	TookSeconds   float64     `json:"took_seconds"`
}

// Rejection is a refused row (Column empty) or cell.
type Rejection struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// MaxRejections bounds the rejections a report lists; all are counted.
const MaxRejections = 1000

// Options tune an import.
type Options struct {
	// Batch is how many rows are written at once (2000).
	Batch int
	// Now is the clock (time.Now): the identify messages' time.
	Now func() time.Time
	// Progress, when set, is called after each batch with the rows read
	// so far.
	Progress func(rows int)
}

// ErrHeader is wrapped by errors about the header row.
var ErrHeader = errors.New("bad header")

// idColumns are the header names of the user ID column.
var idColumns = map[string]bool{"user_id": true, "userid": true, "id": true, "external_id": true}

// groupIDColumns name the company ID column, in any case.
var groupIDColumns = map[string]bool{"group_id": true, "groupid": true, "company_id": true, "companyid": true, "id": true, "external_id": true}

type column struct {
	key   string
	typ   attr.Type
	typed bool // typ is known (catalog or header); else inferred per value
}

// Users imports the CSV of user attributes read from r into site.
func Users(ctx context.Context, st Store, site int64, r io.Reader, opts Options) (Report, error) {
	return importCSV(ctx, st, site, store.EntityUser, r, opts)
}

// Companies imports the CSV of company (group) attributes read from r
// into site: the ID column is the company's group ID (group_id, groupId,
// company_id, id or external_id), the others as for users. It needs a
// store that imports in bulk (store.AttributeImporter), since a group
// message needs a user.
func Companies(ctx context.Context, st Store, site int64, r io.Reader, opts Options) (Report, error) {
	return importCSV(ctx, st, site, store.EntityGroup, r, opts)
}

// bulkBatch is how many rows a bulk import sets in one transaction.
const bulkBatch = 50000

func importCSV(ctx context.Context, st Store, site int64, entity store.Entity, r io.Reader, opts Options) (Report, error) {
	start := time.Now()
	bulk, _ := st.(store.AttributeImporter)
	if entity == store.EntityGroup && bulk == nil {
		return Report{}, errors.New("this store cannot import companies")
	}
	if opts.Batch == 0 {
		opts.Batch = 2000
		if bulk != nil {
			opts.Batch = bulkBatch
		}
	}
	idNames, what := idColumns, "user ID"
	if entity == store.EntityGroup {
		idNames, what = groupIDColumns, "company ID"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var rep Report
	br := bufio.NewReaderSize(r, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	delim := detectDelimiter(head)
	rep.Delimiter = string(delim)
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return rep, fmt.Errorf("%w: read the header row: %v", ErrHeader, err)
	}
	idCol := -1
	cols := make([]column, len(header))
	catalog, err := st.AttributeCatalog(ctx, site)
	if err != nil {
		return rep, err
	}
	known := map[string]attr.Type{}
	for _, k := range catalog {
		if k.Entity == entity {
			known[k.Key] = k.Type
		}
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if idCol < 0 && idNames[strings.ToLower(h)] {
			idCol = i
			rep.Columns = append(rep.Columns, h)
			continue
		}
		key, typName, hasType := strings.Cut(h, ":")
		key = strings.TrimSpace(key)
		if key == "" {
			return rep, fmt.Errorf("%w: column %d has no name", ErrHeader, i+1)
		}
		if seen[key] {
			return rep, fmt.Errorf("%w: column %q appears twice", ErrHeader, key)
		}
		seen[key] = true
		c := column{key: key}
		if hasType {
			t, err := attr.ParseType(strings.TrimSpace(typName))
			if err != nil {
				return rep, fmt.Errorf("%w: column %q: %v", ErrHeader, h, err)
			}
			c.typ, c.typed = t, true
		}
		if t, ok := known[key]; ok {
			if c.typed && t != c.typ {
				return rep, fmt.Errorf("%w: column %q: %s is a %s attribute", ErrHeader, h, key, t)
			}
			c.typ, c.typed = t, true
		}
		cols[i] = c
		rep.Columns = append(rep.Columns, key)
	}
	if idCol < 0 {
		if entity == store.EntityGroup {
			return rep, fmt.Errorf("%w: no company ID column (name one group_id)", ErrHeader)
		}
		return rep, fmt.Errorf("%w: no user ID column (name one user_id)", ErrHeader)
	}
	headerHash := sha256.Sum256([]byte(strings.Join(header, "\x00")))

	var batch []store.Message
	var rows []store.ImportRow
	var lines []int
	// The bulk path writes a chunk while the next one is read: a writer
	// goroutine takes the chunks in order and keeps its own counts, added
	// to the report at the end.
	type written struct {
		applied int
		changed int64
		rejects []Rejection
		err     error
	}
	var chunks chan []store.ImportRow
	var wrote chan written
	if bulk != nil {
		chunks, wrote = make(chan []store.ImportRow, 1), make(chan written, 1)
		go func() {
			var w written
			for c := range chunks {
				if w.err != nil {
					continue
				}
				res, err := bulk.ImportAttributes(ctx, site, entity, c)
				if err != nil {
					w.err = fmt.Errorf("write rows up to line %d: %w", c[len(c)-1].Line, err)
					continue
				}
				w.applied += len(c)
				w.changed += res.Changed
				for _, x := range res.Rejections {
					w.rejects = append(w.rejects, Rejection{Line: x.Line, Column: x.Key, Code: x.Code, Reason: x.Reason})
				}
			}
			wrote <- w
		}()
	}
	// finish waits for the bulk writer and adds its counts.
	finish := func() error {
		if chunks == nil {
			return nil
		}
		close(chunks)
		w := <-wrote
		chunks = nil
		rep.Applied += w.applied
		rep.Changed += w.changed
		for _, x := range w.rejects {
			rep.reject(x, true)
		}
		sort.SliceStable(rep.Rejections, func(i, j int) bool { return rep.Rejections[i].Line < rep.Rejections[j].Line })
		return w.err
	}
	defer finish()
	flush := func() error {
		if bulk != nil && len(rows) > 0 {
			chunks <- rows
			rows = make([]store.ImportRow, 0, opts.Batch)
			if opts.Progress != nil {
				opts.Progress(rep.Rows)
			}
			return nil
		}
		if len(batch) == 0 {
			return nil
		}
		outs, err := st.Write(ctx, batch)
		if err != nil {
			return fmt.Errorf("write rows up to line %d: %w", lines[len(lines)-1], err)
		}
		for i, o := range outs {
			switch {
			case o.Refused != nil:
				rep.reject(Rejection{Line: lines[i], Code: o.Refused.Code, Reason: o.Refused.Message}, false)
				continue
			case o.Duplicate:
				rep.Duplicates++
				continue
			}
			rep.Applied++
			for _, w := range o.Warnings {
				rep.reject(Rejection{Line: lines[i], Column: strings.TrimPrefix(w.Field, "traits."), Code: w.Code, Reason: w.Message}, true)
			}
		}
		batch, lines = batch[:0], lines[:0]
		if opts.Progress != nil {
			opts.Progress(rep.Rows)
		}
		return nil
	}
	now := opts.Now().UTC()
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return rep, fmt.Errorf("read line %d: %w", line, err)
			}
			rep.Rows++
			rep.reject(Rejection{Line: pe.StartLine, Code: "invalid_row", Reason: pe.Err.Error()}, false)
			continue
		}
		rep.Rows++
		id := strings.TrimSpace(rec[idCol])
		if id == "" {
			rep.reject(Rejection{Line: line, Code: "missing_id", Reason: "the row has no " + what}, false)
			continue
		}
		h := sha256.New()
		fmt.Fprintf(h, "%d\x00%x\x00", site, headerHash)
		var traits []attr.Pair
		for i, cell := range rec {
			if bulk == nil {
				h.Write([]byte(cell))
				h.Write([]byte{0})
			}
			if i == idCol || cell == "" {
				continue
			}
			raw, reason := cols[i].convert(cell)
			if reason != "" {
				rep.reject(Rejection{Line: line, Column: cols[i].key, Code: "attribute_type_mismatch", Reason: reason}, true)
				continue
			}
			traits = append(traits, attr.Pair{Key: cols[i].key, Raw: raw})
		}
		if len(traits) == 0 {
			continue
		}
		if bulk != nil {
			rows = append(rows, store.ImportRow{Line: line, ID: id, Traits: traits})
			if len(rows) >= opts.Batch {
				if err := flush(); err != nil {
					return rep, err
				}
			}
			continue
		}
		batch = append(batch, store.Message{SiteID: site, Kind: store.KindIdentify, UserID: id,
			MessageID: "csv-" + hex.EncodeToString(h.Sum(nil)[:12]), Timestamp: now, ReceivedAt: now, Traits: traits})
		lines = append(lines, line)
		if len(batch) >= opts.Batch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	err = flush()
	if ferr := finish(); err == nil {
		err = ferr
	}
	rep.TookSeconds = time.Since(start).Seconds()
	return rep, err
}

func (r *Report) reject(x Rejection, cell bool) {
	if cell {
		r.RejectedCells++
	} else {
		r.RejectedRows++
	}
	if len(r.Rejections) < MaxRejections {
		r.Rejections = append(r.Rejections, x)
	}
}

// convert turns a cell into the raw JSON value identify would carry for
// the column's type, or says why it does not fit.
func (c column) convert(cell string) (any, string) {
	s := strings.TrimSpace(cell)
	if !c.typed {
		return infer(s, cell), ""
	}
	switch c.typ {
	case attr.Number:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Sprintf("%s is a number attribute; %q is not a number", c.key, cell)
		}
		return f, ""
	case attr.Boolean:
		switch strings.ToLower(s) {
		case "true", "yes", "1":
			return true, ""
		case "false", "no", "0":
			return false, ""
		}
		return nil, fmt.Sprintf("%s is a boolean attribute; %q is not true or false", c.key, cell)
	case attr.Datetime:
		if _, ok := attr.ParseTime(s); !ok {
			return nil, fmt.Sprintf("%s is a datetime attribute; %q is not an ISO-8601 date or date-time", c.key, cell)
		}
		return s, ""
	}
	return cell, ""
}

// infer types the cell of a key the catalog does not know, as identify
// would type the JSON value a form or CRM means: numbers, true/false,
// else the text (which the store types as a datetime when it is one).
func infer(s, cell string) any {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && s != "" &&
		!(len(s) > 1 && s[0] == '0' && s[1] != '.') { // leading zeros: a code, not a number
		return f
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	return cell
}

// detectDelimiter picks the delimiter the header line uses most, outside
// quotes, among comma, semicolon, tab and pipe (comma on a tie).
func detectDelimiter(head []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, b := range head {
		if b == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if b == '\n' {
			break
		}
		switch b {
		case ',', ';', '\t', '|':
			counts[b]++
		}
	}
	best := byte(',')
	for _, d := range []byte{';', '\t', '|'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return rune(best)
}
