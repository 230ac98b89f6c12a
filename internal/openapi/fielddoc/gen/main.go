// Command gen writes internal/openapi/fielddocs.go from the Go comments of
// the fields the OpenAPI document reflects. Run it from internal/openapi:
// go run ./fielddoc/gen.
package main

import (
	"log"
	"os"

	"github.com/sightline/sightline/internal/openapi/fielddoc"
)

func main() {
	src, err := fielddoc.Generate("../..")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("fielddocs.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
