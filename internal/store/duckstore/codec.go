package duckstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// decided is a message after the sequencer's decisions: which attribute
// values it sets (typed), which it refused, and which keys it adds to the
// catalog. It is what the write-ahead log holds and what the applier
// writes, so replaying the log repeats exactly what was acknowledged.
type decided struct {
	m          store.Message // Traits are dropped: sets holds the decision
	sets       []decidedSet
	rejections []decidedRejection
	newKeys    []decidedKey
}

type decidedSet struct {
	entity store.Entity
	key    string
	value  attr.Value
}

type decidedRejection struct {
	entity   store.Entity
	key      string
	expected attr.Type
	received string
	value    string
}

type decidedKey struct {
	entity store.Entity
	key    string
	typ    attr.Type
	at     time.Time
}

// codecVersion starts every log record so the format can evolve. Version
// 2 added the message's source after its received time; version 1
// records (written before) are still read, as from the server API.
const codecVersion = 2

// encodeBatch appends the binary form of ds to dst.
func encodeBatch(dst []byte, ds []decided) []byte {
	e := encoder{b: dst}
	e.uint(codecVersion)
	e.uint(uint64(len(ds)))
	for i := range ds {
		d := &ds[i]
		m := &d.m
		e.int(m.SiteID)
		e.uint(uint64(m.Kind))
		for _, s := range []string{m.MessageID, m.UserID, m.AnonymousID, m.PreviousID, m.GroupID, m.Name, m.Properties,
			m.Page.URL, m.Page.Path, m.Page.Title, m.Page.Referrer,
			m.Context.Browser, m.Context.OS, m.Context.DeviceType, m.Context.Country, m.Context.Locale,
			m.Context.Timezone, m.Context.Channel, m.Context.Referrer, m.Context.UTMSource, m.Context.UTMMedium,
			m.Context.UTMCampaign} {
			e.str(s)
		}
		e.time(m.Timestamp)
		e.time(m.ReceivedAt)
		e.uint(uint64(m.Source))
		e.uint(uint64(len(d.sets)))
		for _, s := range d.sets {
			e.uint(uint64(s.entity))
			e.str(s.key)
			e.value(s.value)
		}
		e.uint(uint64(len(d.rejections)))
		for _, r := range d.rejections {
			e.uint(uint64(r.entity))
			e.str(r.key)
			e.uint(uint64(r.expected))
			e.str(r.received)
			e.str(r.value)
		}
		e.uint(uint64(len(d.newKeys)))
		for _, k := range d.newKeys {
			e.uint(uint64(k.entity))
			e.str(k.key)
			e.uint(uint64(k.typ))
			e.time(k.at)
		}
	}
	return e.b
}

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)  { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.int(math.MinInt64)
		return
	}
	e.int(t.UnixNano())
}

func (e *encoder) value(v attr.Value) {
	if v.Null {
		e.uint(0)
		return
	}
	e.uint(uint64(v.Type))
	switch v.Type {
	case attr.String:
		e.str(v.Str)
	case attr.Number:
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v.Num))
	case attr.Boolean:
		if v.Bool {
			e.uint(1)
		} else {
			e.uint(0)
		}
	case attr.Datetime:
		e.time(v.Time)
	}
}

// errShort is returned for a record that ends too early.
var errShort = errors.New("record ends early")

// decodeBatch reads a batch written by encodeBatch.
func decodeBatch(b []byte) (ds []decided, err error) {
	d := decoder{b: b}
	defer func() {
		if d.err != nil {
			ds, err = nil, fmt.Errorf("decode log record: %w", d.err)
		}
	}()
	version := d.uint()
	if version != 1 && version != codecVersion && d.err == nil {
		return nil, fmt.Errorf("decode log record: unknown version %d", version)
	}
	n := d.count()
	ds = make([]decided, 0, n)
	for range n {
		var x decided
		m := &x.m
		m.SiteID = d.int()
		m.Kind = store.Kind(d.uint())
		for _, p := range []*string{&m.MessageID, &m.UserID, &m.AnonymousID, &m.PreviousID, &m.GroupID, &m.Name,
			&m.Properties, &m.Page.URL, &m.Page.Path, &m.Page.Title, &m.Page.Referrer,
			&m.Context.Browser, &m.Context.OS, &m.Context.DeviceType, &m.Context.Country, &m.Context.Locale,
			&m.Context.Timezone, &m.Context.Channel, &m.Context.Referrer, &m.Context.UTMSource,
			&m.Context.UTMMedium, &m.Context.UTMCampaign} {
			*p = d.str()
		}
		m.Timestamp = d.time()
		m.ReceivedAt = d.time()
		if version >= 2 {
			m.Source = store.Source(d.uint())
		}
		for range d.count() {
			x.sets = append(x.sets, decidedSet{entity: store.Entity(d.uint()), key: d.str(), value: d.value()})
		}
		for range d.count() {
			x.rejections = append(x.rejections, decidedRejection{entity: store.Entity(d.uint()), key: d.str(),
				expected: attr.Type(d.uint()), received: d.str(), value: d.str()})
		}
		for range d.count() {
			x.newKeys = append(x.newKeys, decidedKey{entity: store.Entity(d.uint()), key: d.str(),
				typ: attr.Type(d.uint()), at: d.time()})
		}
		if d.err != nil {
			return nil, nil
		}
		ds = append(ds, x)
	}
	return ds, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in what is left of the record.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	v := d.int()
	if v == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

func (d *decoder) value() attr.Value {
	t := attr.Type(d.uint())
	v := attr.Value{Type: t}
	switch t {
	case 0:
		return attr.Value{Null: true}
	case attr.String:
		v.Str = d.str()
	case attr.Number:
		if len(d.b) < 8 {
			d.fail()
			return v
		}
		v.Num = math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
	case attr.Boolean:
		v.Bool = d.uint() == 1
	case attr.Datetime:
		v.Time = d.time()
	default:
		d.fail()
	}
	return v
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.b = nil
}
