package compare

import (
	"fmt"
	"math/big"
)

// num scans any number the databases return (DuckDB's HUGEINT sums, ClickHouse's
// unsigned counts), NULL as 0.
type num struct{ v float64 }

func (n *num) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		n.v = 0
	case int64:
		n.v = float64(x)
	case int32:
		n.v = float64(x)
	case int16:
		n.v = float64(x)
	case int8:
		n.v = float64(x)
	case int:
		n.v = float64(x)
	case uint64:
		n.v = float64(x)
	case uint32:
		n.v = float64(x)
	case uint16:
		n.v = float64(x)
	case uint8:
		n.v = float64(x)
	case float64:
		n.v = x
	case float32:
		n.v = float64(x)
	case *big.Int:
		n.v, _ = new(big.Float).SetInt(x).Float64()
	case bool:
		n.v = 0
		if x {
			n.v = 1
		}
	default:
		return fmt.Errorf("compare: cannot read %T as a number", src)
	}
	return nil
}

// text scans a text or boolean value as text; ok is false for NULL.
type text struct {
	s  string
	ok bool
}

func (t *text) Scan(src any) error {
	t.ok = src != nil
	switch x := src.(type) {
	case nil:
		t.s = ""
	case string:
		t.s = x
	case []byte:
		t.s = string(x)
	case bool:
		t.s = fmt.Sprint(x)
	case uint8:
		t.s = fmt.Sprint(x != 0)
	case int64:
		t.s = fmt.Sprint(x != 0)
	default:
		return fmt.Errorf("compare: cannot read %T as a value", src)
	}
	return nil
}

// maybeNum scans a number that may be NULL: ok is false for NULL.
type maybeNum struct {
	v  float64
	ok bool
}

func (m *maybeNum) Scan(src any) error {
	m.ok = src != nil
	var n num
	err := n.Scan(src)
	m.v = n.v
	return err
}
