package server

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/blob/s3blob"
	"github.com/sightline/sightline/internal/config"
)

// OpenRecordings opens where the recordings' chunks are kept: the S3
// bucket cfg names, or else the data folder's recordings folder. Every
// command that reads or deletes recordings opens them here, so that none
// of them looks in the folder while the chunks are in S3.
func OpenRecordings(ctx context.Context, cfg config.Config) (blob.Store, error) {
	if cfg.RecordingsS3 != "" {
		s, err := s3blob.Open(ctx, cfg.RecordingsS3)
		if err != nil {
			return nil, fmt.Errorf("open the recordings' S3 bucket: %w", err)
		}
		return s, nil
	}
	s, err := blob.OpenDisk(cfg.RecordingsPath())
	if err != nil {
		return nil, fmt.Errorf("open the recordings folder: %w", err)
	}
	return s, nil
}
