package testsvc

import (
	"slices"
	"testing"
)

// TestShardsCoverEveryTestOnce checks that the shards of this package's
// own tests, for several n, hold every test exactly once.
func TestShardsCoverEveryTestOnce(t *testing.T) {
	names, err := testNames(".")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "TestShardsCoverEveryTestOnce") || slices.Contains(names, "TestMain") {
		t.Fatalf("test names read from the files: %v", names)
	}
	for _, bad := range []string{"", "1", "0/2", "3/2", "a/b", "1/0"} {
		if _, _, err := parseShard(bad); err == nil {
			t.Errorf("shard %q accepted", bad)
		}
	}
	for n := 1; n <= 4; n++ {
		seen := map[string]int{}
		for i := 1; i <= n; i++ {
			for _, name := range pick(names, i, n) {
				seen[name]++
			}
		}
		for _, name := range names {
			if seen[name] != 1 {
				t.Errorf("n=%d: %s is in %d shards", n, name, seen[name])
			}
		}
	}
}
