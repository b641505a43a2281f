package cli_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/postform/postform/cli"
	"github.com/postform/postform/internal/pgtest"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/pdf"
	"github.com/postform/postform/state"
)

// TestMain lets testscript run the real postform command line as a
// subprocess of the test binary, signals and exit codes included.
// testCacheDir is POSTFORM_CACHE_DIR for every story (and every process
// of this test binary): PDFium's compilation is paid once, not per command.
// It is kept between runs, as a user's cache dir is.
var testCacheDir = filepath.Join(os.TempDir(), "postform-test-cache")

func TestMain(m *testing.M) {
	if os.Getenv("POSTFORM_CACHE_DIR") == "" {
		os.Setenv("POSTFORM_CACHE_DIR", testCacheDir)
	}
	testscript.Main(stopSharedPG{m}, map[string]func(){
		"postform": func() { os.Exit(cli.Execute()) },
	})
}

// stopSharedPG runs the tests, then stops the PostgreSQL some of them share
// (pgtest.Shared): testscript.Main exits straight after Run, and the server
// outlived every go test ./cli before.
type stopSharedPG struct{ m *testing.M }

func (s stopSharedPG) Run() int {
	defer pgtest.StopShared()
	return s.m.Run()
}

// TestScripts runs the end-to-end stories in testdata/script: each is a
// working directory, the commands a user types, and what they see.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "testdata", "script"),
		RequireExplicitExec: false,
		// POSTFORM_UPDATE_GOLDEN=1 rewrites the golden files that cmp
		// compares against, after a deliberate change of output.
		UpdateScripts: os.Getenv("POSTFORM_UPDATE_GOLDEN") == "1",
		Setup: func(env *testscript.Env) error {
			// A hundred times faster: a letter is done in well under a second.
			env.Setenv("POSTFORM_SANDBOX_TIME_SCALE", "100")
			env.Setenv("NO_COLOR", "1")
			env.Setenv("POSTFORM_CACHE_DIR", testCacheDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkpdf":       cmdMkPDF,
			"jobcount":    cmdJobCount,
			"checkproofs": cmdCheckProofs,
			"jsonschema":  cmdJSONSchema,
			"maxsize":     cmdMaxSize,
			"mkletters":   cmdMkLetters,
			"sleep":       cmdSleep,
			"waitgrep":    cmdWaitGrep,
			"jobsonce":    cmdJobsOnce,
			"encryptpdf":  cmdEncryptPDF,
			"cpfixture":   cmdCpFixture,
			"pdftext":     cmdPDFText,
		},
	})
}

// mkpdf FILE [LINE...] writes a one-page PDF showing the lines; with no
// line, the page carries no text (the sandbox cannot read an address).
func cmdMkPDF(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: mkpdf FILE [LINE...]")
	}
	b, err := pdf.MakePDF(args[1:]...)
	ts.Check(err)
	path := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
	ts.Check(os.WriteFile(path, b, 0o644))
}

// jsonschema FILE checks FILE against docs/plan.schema.json, the
// documented schema of the plan document.
func cmdJSONSchema(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: jsonschema FILE")
	}
	schemaPath, err := filepath.Abs(filepath.Join("..", "docs", "plan.schema.json"))
	ts.Check(err)
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(schemaPath)
	ts.Check(err)
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	ts.Check(err)
	if err := sch.Validate(doc); (err == nil) == neg {
		ts.Fatalf("%s against the plan schema: %v", args[0], err)
	}
}

// mkletters N writes N distinct one-page letters into letters/ and a
// letters.json mapping each key to its file, for for_each.
func cmdMkLetters(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: mkletters N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	ts.Check(os.MkdirAll(ts.MkAbs("letters"), 0o755))
	files := map[string]string{}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("r%04d", i)
		b, err := pdf.MakePDF("Recipient "+key, "1 rue de la Paix", "75002 PARIS")
		ts.Check(err)
		files[key] = "letters/" + key + ".pdf"
		ts.Check(os.WriteFile(ts.MkAbs(files[key]), b, 0o644))
	}
	b, err := json.Marshal(files)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs("letters.json"), b, 0o644))
}

// waitgrep N FILE REGEXP waits (up to 60 s) until FILE holds at least N
// matches of REGEXP: a story waits on a condition, not on a guess of how
// long a background run takes on a loaded machine.
func cmdWaitGrep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: waitgrep N FILE REGEXP")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	re, err := regexp.Compile(args[2])
	ts.Check(err)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[1]))
		if len(re.FindAll(b, -1)) >= n {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s: fewer than %d matches of %q after 60s", args[1], n, args[2])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sleep DURATION waits, e.g. for a background run to take the lock.
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// maxsize FILE N fails when FILE is larger than N bytes.
func cmdMaxSize(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: maxsize FILE N")
	}
	max, err := strconv.Atoi(args[1])
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if (fi.Size() <= int64(max)) == neg {
		ts.Fatalf("%s is %d bytes; limit %d", args[0], fi.Size(), max)
	}
}

// jobcount JOBNAME N asserts how many jobs the sandbox world in
// .postform/sandbox holds with exactly that name.
func cmdJobCount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jobcount JOBNAME N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	sb, err := sandbox.Open(sandbox.Options{Dir: ts.MkAbs(".postform/sandbox")})
	ts.Check(err)
	defer sb.Close()
	if got := sb.JobCount(args[0]); (got == want) == neg {
		ts.Fatalf("jobs named %q: got %d, want %d", args[0], got, want)
	}
}

// cpfixture NAME DST copies pdf/testdata/NAME (a real producer's letter)
// to DST.
func cmdCpFixture(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cpfixture NAME DST")
	}
	b, err := os.ReadFile(filepath.Join("..", "pdf", "testdata", args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
}

// encryptpdf IN OUT writes an AES-encrypted copy of a PDF with pdfcpu.
func cmdEncryptPDF(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: encryptpdf IN OUT")
	}
	ts.Check(api.EncryptFile(ts.MkAbs(args[0]), ts.MkAbs(args[1]), model.NewAESConfiguration("user", "owner", 256)))
}

// jobsonce N asserts that the sandbox holds N jobs, no two with one name.
func cmdJobsOnce(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		// "! jobsonce N" would pass on a duplicate post as on a wrong
		// count: say the count expected instead.
		ts.Fatalf("usage: jobsonce N (no !)")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	sb, err := sandbox.Open(sandbox.Options{Dir: ts.MkAbs(".postform/sandbox")})
	ts.Check(err)
	defer sb.Close()
	names := map[string]int{}
	for _, j := range sb.Jobs() {
		names[j.JobName]++
		if names[j.JobName] > 1 {
			ts.Fatalf("job name %q was posted %d times", j.JobName, names[j.JobName])
		}
	}
	if len(names) != want {
		ts.Fatalf("the sandbox holds %d jobs, want %d", len(names), want)
	}
}

// checkproofs STATEFILE PROOFSDIR N asserts that the state lists N proofs
// and that each is on disk with the sha256 the state recorded.
func cmdCheckProofs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: checkproofs STATEFILE PROOFSDIR N (no !: say the count expected)")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	st, err := state.Decode(b)
	ts.Check(err)
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	n := 0
	for _, m := range st.Mailings {
		for _, p := range m.Proofs {
			n++
			data, err := os.ReadFile(filepath.Join(ts.MkAbs(args[1]), p.Path))
			if err != nil {
				ts.Fatalf("%s: proof %s: %v", m.Address, p.Name, err)
			}
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != p.SHA256 {
				ts.Fatalf("%s: proof %s on disk does not match its sha256 in the state", m.Address, p.Name)
			}
		}
	}
	if n != want {
		ts.Fatalf("proofs in the state: got %d, want %d", n, want)
	}
}
