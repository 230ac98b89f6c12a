package composite_test

import (
	"github.com/sightline/sightline/internal/store/composite"
	"github.com/sightline/sightline/internal/store/duckstore"
)

var _ composite.Half = (*duckstore.DB)(nil)
