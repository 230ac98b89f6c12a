package enrich_test

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// writeMMDB writes a minimal IPv4 MaxMind DB (format 2.0, 24-bit records) in
// which each prefix maps to its record, and returns its path. It exists
// because maxminddb-golang has no writer and the MaxMind databases cannot be
// downloaded without an account; it encodes only what the tests need: maps
// whose values are strings or maps.
func writeMMDB(t *testing.T, records map[string]map[string]any) string {
	t.Helper()
	var nodes []*mmdbNode
	newNode := func() *mmdbNode {
		n := &mmdbNode{index: len(nodes), rec: [2]mmdbRecord{{data: -1}, {data: -1}}}
		nodes = append(nodes, n)
		return n
	}
	root := newNode()
	var data []byte
	prefixes := make([]string, 0, len(records))
	for p := range records {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	for _, p := range prefixes {
		prefix := netip.MustParsePrefix(p)
		if !prefix.Addr().Is4() || prefix.Bits() == 0 {
			t.Fatalf("writeMMDB: %s is not a non-empty IPv4 prefix", p)
		}
		offset := len(data)
		data = appendMMDBValue(t, data, records[p])
		ip := prefix.Addr().As4()
		n := root
		for i := range prefix.Bits() {
			bit := ip[i/8] >> (7 - i%8) & 1
			if i == prefix.Bits()-1 {
				n.rec[bit].data = offset
				break
			}
			if n.rec[bit].next == nil {
				n.rec[bit].next = newNode()
			}
			n = n.rec[bit].next
		}
	}
	count := len(nodes)
	var out []byte
	for _, n := range nodes {
		for _, r := range n.rec {
			v := count // no data
			switch {
			case r.next != nil:
				v = r.next.index
			case r.data >= 0:
				v = count + 16 + r.data
			}
			out = append(out, byte(v>>16), byte(v>>8), byte(v))
		}
	}
	out = append(out, make([]byte, 16)...) // data section separator
	out = append(out, data...)
	out = append(out, "\xab\xcd\xefMaxMind.com"...)
	out = appendMMDBValue(t, out, map[string]any{
		"node_count":                  uint32(count),
		"record_size":                 uint16(24),
		"ip_version":                  uint16(4),
		"database_type":               "Sightline-Test",
		"binary_format_major_version": uint16(2),
		"binary_format_minor_version": uint16(0),
		"build_epoch":                 uint32(1),
		"description":                 map[string]any{},
	})
	path := filepath.Join(t.TempDir(), "test.mmdb")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatalf("writeMMDB: %v", err)
	}
	return path
}

// mmdbNode is a search tree node for writeMMDB.
type mmdbNode struct {
	index int
	rec   [2]mmdbRecord
}

// mmdbRecord points to the next node, to data, or to nothing.
type mmdbRecord struct {
	next *mmdbNode
	data int // offset in the data section, or -1
}

// appendMMDBValue encodes v in the MaxMind DB data format. Sizes stay below
// 29, so the size always fits in the control byte.
func appendMMDBValue(t *testing.T, b []byte, v any) []byte {
	t.Helper()
	ctrl := func(typ, size int) byte {
		if size >= 29 {
			t.Fatalf("appendMMDBValue: size %d too large", size)
		}
		return byte(typ<<5 | size)
	}
	switch v := v.(type) {
	case string:
		b = append(b, ctrl(2, len(v)))
		return append(b, v...)
	case uint16:
		b = append(b, ctrl(5, 2))
		return binary.BigEndian.AppendUint16(b, v)
	case uint32:
		b = append(b, ctrl(6, 4))
		return binary.BigEndian.AppendUint32(b, v)
	case map[string]any:
		b = append(b, ctrl(7, len(v)))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendMMDBValue(t, b, k)
			b = appendMMDBValue(t, b, v[k])
		}
		return b
	default:
		t.Fatalf("appendMMDBValue: unsupported type %T", v)
		return nil
	}
}
