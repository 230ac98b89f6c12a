package openapi_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/sightline/sightline/internal/openapi/fielddoc"
)

// TestOpenAPIFieldDocsCurrent: fielddocs.go holds the fields' Go comments
// as they are now (go generate ./internal/openapi rewrites it).
func TestOpenAPIFieldDocsCurrent(t *testing.T) {
	want, err := fielddoc.Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("fielddocs.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Error("internal/openapi/fielddocs.go is stale: run go generate ./internal/openapi")
	}
}
