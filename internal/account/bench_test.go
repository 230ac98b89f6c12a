package account_test

import (
	"testing"

	"github.com/sightline/sightline/internal/account"
)

// BenchmarkCheckPassword is the cost of one sign-in attempt (and of the
// dummy check for an unknown email).
func BenchmarkCheckPassword(b *testing.B) {
	h := account.HashPassword("correct horse battery")
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := account.CheckPassword(h, "correct horse battery"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
