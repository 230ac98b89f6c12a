package testsvc

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Shard narrows the package's tests to one shard when the environment
// variable env holds "i/n" (1 ≤ i ≤ n), so that n processes of one long
// test package can run side by side, each with its own servers and data:
// the package's top-level tests, read from its _test.go files (go test
// runs the binary in the package's folder) and sorted by name, are dealt
// out in turn, and -test.run is set to shard i's. Neighbours by name
// (TestTrackerX, TestTrackerY) land in different shards, which spreads
// the slow families. Call it from TestMain before Run; with env unset, or
// with -run given, every test runs.
func Shard(env string) error {
	spec := os.Getenv(env)
	if spec == "" {
		return nil
	}
	i, n, err := parseShard(spec)
	if err != nil {
		return fmt.Errorf("%s=%q: %w", env, spec, err)
	}
	if !flag.Parsed() {
		flag.Parse()
	}
	if f := flag.Lookup("test.run"); f == nil || f.Value.String() != "" {
		return nil
	}
	names, err := testNames(".")
	if err != nil {
		return err
	}
	mine := pick(names, i, n)
	fmt.Fprintf(os.Stderr, "testsvc: shard %d/%d runs %d of %d tests\n", i, n, len(mine), len(names))
	if len(mine) == 0 {
		return flag.Set("test.run", "^$")
	}
	for k, name := range mine {
		mine[k] = regexp.QuoteMeta(name)
	}
	return flag.Set("test.run", "^("+strings.Join(mine, "|")+")$")
}

// pick deals names out to n shards in turn and returns shard i's.
func pick(names []string, i, n int) []string {
	var mine []string
	for k := i - 1; k < len(names); k += n {
		mine = append(mine, names[k])
	}
	return mine
}

func parseShard(spec string) (i, n int, err error) {
	a, b, ok := strings.Cut(spec, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("want i/n with 1 <= i <= n")
	}
	return i, n, nil
}

// testNames returns the sorted names of the top-level tests (func TestX(t
// *testing.T)) in the _test.go files of dir.
func testNames(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var names []string
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && fn.Recv == nil && isTest(fn) {
				names = append(names, fn.Name.Name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// isTest reports whether fn is a test the testing package runs: TestX
// (X not starting with a lower-case letter) taking one *testing.T.
func isTest(fn *ast.FuncDecl) bool {
	name, ok := strings.CutPrefix(fn.Name.Name, "Test")
	if !ok || name == "Main" || (name != "" && name[0] >= 'a' && name[0] <= 'z') {
		return false
	}
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "T"
}
