package account_test

import (
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/account"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	const pw = "correct horse battery"
	h := account.HashPassword(pw)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with OWASP parameters", h)
	}
	if h2 := account.HashPassword(pw); h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{pw, true},
		{pw + " ", false},
		{"Correct horse battery", false},
		{"", false},
	} {
		t.Run(tc.password, func(t *testing.T) {
			ok, err := account.CheckPassword(h, tc.password)
			if err != nil || ok != tc.want {
				t.Fatalf("CheckPassword(%q) = %v, %v; want %v", tc.password, ok, err, tc.want)
			}
		})
	}
}

func TestCheckPasswordRefusesMalformedHashes(t *testing.T) {
	good := account.HashPassword("correct horse battery")
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"",
		"plain text",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=19456", "m=0", 1),
		strings.Join(parts[:5], "$"),
		strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
	} {
		if ok, err := account.CheckPassword(h, "correct horse battery"); ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want an error", h, ok, err)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	for _, tc := range []struct {
		password string
		ok       bool
	}{
		{"123456789", false},
		{"1234567890", true},
		{"ééééééééé", false}, // nine characters, eighteen bytes
		{"éééééééééé", true},
		{strings.Repeat("x", 1025), false},
	} {
		if err := account.CheckPasswordRules(tc.password); (err == nil) != tc.ok {
			t.Errorf("CheckPasswordRules(%q) = %v, want ok %v", tc.password, err, tc.ok)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" Ann@Example.COM ", "ann@example.com"},
		{"a.b+c@x.io", "a.b+c@x.io"},
		{"Ann <ann@example.com>", ""},
		{"no-at-sign", ""},
		{"", ""},
		{"a b@example.com", ""},
	} {
		got, err := account.NormalizeEmail(tc.in)
		if (err == nil) != (tc.want != "") || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
