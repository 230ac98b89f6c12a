package config_test

import (
	"flag"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
)

func TestFlagsWinOverEnvironment(t *testing.T) {
	c := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Bind(fs)
	if err := fs.Parse([]string{"-addr", ":9999"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SIGHTLINE_ADDR":                    ":1111",
		"SIGHTLINE_DB_MEMORY":               "1GB",
		"SIGHTLINE_SHUTDOWN_TIMEOUT":        "5s",
		"SIGHTLINE_MAX_BATCH":               "10",
		"SIGHTLINE_RECORDING_SWEEP":         "10m",
		"SIGHTLINE_MAX_RECORDING_CHUNK_RAW": "4194304",
		"SIGHTLINE_QUERY_TIMEOUT":           "2s",
	}
	err := config.ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9999" || c.DBMemoryLimit != "1GB" || c.ShutdownTimeout != 5*time.Second || c.Limits.MaxBatchMessages != 10 ||
		c.RecordingSweep != 10*time.Minute || c.Recording.MaxRawBytes != 4<<20 || c.Recording.MaxChunkBytes != 1<<20 ||
		c.QueryTimeout != 2*time.Second {
		t.Fatalf("config = %+v", c)
	}
	env["SIGHTLINE_QUEUE"] = "lots"
	if err := config.ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil {
		t.Fatal("bad SIGHTLINE_QUEUE accepted")
	}
}
