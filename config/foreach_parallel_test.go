package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// Tunings of evalItemsParallel that run the same inputs through the serial
// loop and through workers whose chunks cut the instances at many places.
var (
	serialPath    = parallelism{minItems: 1 << 30}
	parallelPaths = []parallelism{
		{minItems: 1, workers: 2, chunk: 1},
		{minItems: 1, workers: 3, chunk: 7},
		{minItems: 1, workers: 8, chunk: 64},
		{}, // the defaults, serial below defaultMinItems
	}
)

// loadBothWays loads dir serially and with every parallel tuning, and fails
// unless every result is the serial one: the letters (every field, the
// documents' hashes, pages, real paths and recipients included) and the
// diagnostics, errors and warnings, text and order. It returns the serial
// result and how many loads the workers evaluated.
func loadBothWays(t *testing.T, dir string, opts LoadOptions) (*Config, hcl.Diagnostics, int) {
	t.Helper()
	ref, refDiags := loadWith(dir, opts, func(l *loader) { l.par = serialPath })
	if d := hasCode(refDiags, diag.CodeInternal); d != nil {
		t.Fatalf("internal error: %s", d.Detail)
	}
	parallel := 0
	for _, p := range parallelPaths {
		var l *loader
		cfg, diags := loadWith(dir, opts, func(x *loader) { x.par, l = p, x })
		parallel += l.par.ran
		if got, want := diagLines(diags), diagLines(refDiags); !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v: diagnostics differ from the serial loop's:\n  parallel: %q\n  serial:   %q", p, got, want)
		}
		if !reflect.DeepEqual(cfg.Mailings, ref.Mailings) {
			for i := range min(len(cfg.Mailings), len(ref.Mailings)) {
				if !reflect.DeepEqual(cfg.Mailings[i], ref.Mailings[i]) {
					t.Fatalf("%+v: letter %d differs:\n  parallel: %+v\n  serial:   %+v", p, i, *cfg.Mailings[i], *ref.Mailings[i])
				}
			}
			t.Fatalf("%+v: %d letters, %d serially", p, len(cfg.Mailings), len(ref.Mailings))
		}
	}
	return ref, refDiags, parallel
}

// TestForEachParallelMatchesSerial loads mail merges with errors in some
// instances, duplicate and confusable job names, missing, shared, broken
// and symlinked documents (inside and outside the working directory),
// files an earlier mailing used, shared and per-letter arguments and
// preflight, serially and on workers: everything Load returns must be the
// same.
func TestForEachParallelMatchesSerial(t *testing.T) {
	pdfs := []string{string(a4()), string(makePDF(2, 595, 842)), string(makePDF(1, 612, 792))}
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"far.pdf": pdfs[0]})

	mergeDir := func(t *testing.T, n int, extra string) string {
		dir := t.TempDir()
		files := map[string]string{"shared.pdf": pdfs[0], "broken.pdf": "not a PDF", "big.pdf": pdfs[2]}
		letters := map[string]map[string]any{}
		for i := range n {
			key := fmt.Sprintf("k%04d", i)
			file := fmt.Sprintf("letters/%s.pdf", key)
			job := "job-" + key
			switch {
			case i%13 == 5:
				file = "letters/missing.pdf" // every use reports it
			case i%17 == 3:
				file = "shared.pdf"
			case i%29 == 7:
				file = "broken.pdf"
			case i%31 == 2:
				file = "linked/in.pdf"
			case i%37 == 4:
				file = "linked/out.pdf"
			case i%41 == 6:
				file = "" // no file
			case i%43 == 8:
				file = "letters" // a folder
			case i%19 == 0:
				file = "big.pdf"
			}
			switch {
			case i%23 == 11:
				job = "job-dup" // a duplicate after its first
			case i%47 == 1:
				job = strings.ToUpper("job-" + key) // confusable with none
			case i%53 == 9:
				job = " JOB-K0000" // confusable with k0000
			case i%59 == 10:
				job = "bad\x01name"
			}
			check := any(i%3 != 0)
			if i%61 == 12 {
				check = "maybe" // an invalid preflight
			}
			letters[key] = map[string]any{"file": file, "job": job, "check": check, "color": []string{"red", "blue"}[i%2], "owner": map[bool]any{true: nil, false: "o"}[i%5 == 0]}
			files[fmt.Sprintf("letters/%s.pdf", key)] = pdfs[i%len(pdfs)]
		}
		js, err := json.Marshal(letters)
		if err != nil {
			t.Fatal(err)
		}
		files["letters.json"] = string(js)
		files["main.mail.hcl"] = sandboxProvider + `
locals { batch = "2026-12" }

mailing "first" {
  service = "Lettre verte"
  document {
    file = "shared.pdf"
  }
  document {
    box  = "annex"
    file = "letters/k0001.pdf"
  }
}

mailing "merge" {
  for_each = jsondecode(file("letters.json"))
  service  = "Lettre verte"
  job_name = each.value.job
  options  = { color = each.value.color, batch = local.batch }
  owner    = each.value.owner
  preflight = { address = each.value.check }
  document {
    file = each.value.file
  }
  document {
    box  = "annex"
    file = "shared.pdf"
  }
}
` + extra
		writeFiles(t, dir, files)
		if err := os.Symlink(filepath.Join(dir, "shared.pdf"), filepath.Join(dir, "linked-shared.pdf")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "linked"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(dir, "letters", "k0002.pdf"), filepath.Join(dir, "linked", "in.pdf")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "far.pdf"), filepath.Join(dir, "linked", "out.pdf")); err != nil {
			t.Fatal(err)
		}
		return dir
	}

	for _, tc := range []struct {
		name  string
		n     int
		extra string
		opts  LoadOptions
		// errors says whether the configuration has errors, so that the
		// case shows what it means to.
		errors bool
	}{
		{name: "merge with errors", n: 300, errors: true},
		{name: "merge with errors and recipients", n: 120, errors: true, opts: LoadOptions{PDF: engine}},
		{name: "merge, cached hashes", n: 120, errors: true, opts: LoadOptions{HashCache: &memCache{}, SkipPreflight: true}},
		{name: "two merges sharing files", n: 150, errors: true, extra: `
mailing "again" {
  for_each = jsondecode(file("letters.json"))
  service  = "Lettre verte"
  job_name = "again-${each.key}"
  document {
    file = each.value.file
  }
  document {
    box  = "annex"
    file = "linked-shared.pdf"
  }
}
`},
		{name: "toset literal", n: 100, errors: true, extra: `
mailing "keys" {
  for_each = toset(["k0000", "k0005", "k0017", "k0020", "k0031", "k0037", "k0099", "nope", "k0001", "k0003"])
  service  = "${local.batch == "2026-12" ? "Lettre verte" : ""}"
  job_name = "keys-${each.key}"
  document {
    file = "letters/${each.key}.pdf"
  }
}
`},
		{name: "errors in every argument", n: 80, errors: true, extra: `
mailing "wrong" {
  for_each = jsondecode(file("letters.json"))
  service  = each.value.nope
  options  = each.value.color
  proofs   = [each.value.color]
  fix      = each.value.color == "red" ? { a = 1 } : "x"
  address_window = each.value.color == "red" ? { left_mm = 20, top_mm = 50, width_mm = 90, height_mm = 40 } : { left_mm = -1 }
  send_after = each.value.color == "red" ? "2026-12-05" : "never"
  post_by    = "2026-12-01"
  document {
    box  = each.value.owner
    file = each.value.file
  }
}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mergeDir(t, tc.n, tc.extra)
			cfg, diags, parallel := loadBothWays(t, dir, tc.opts)
			if diags.HasErrors() != tc.errors || (tc.errors && len(cfg.Mailings) == 0 && !diags.HasErrors()) {
				t.Fatalf("errors = %v, want %v", diags.HasErrors(), tc.errors)
			}
			if parallel == 0 {
				t.Fatal("no load took the parallel path: the comparison shows nothing")
			}
		})
	}
}

// TestForEachParallelValidMerge is a merge without errors on both paths,
// so that the letters compared are whole (documents hashed, recipients
// read, content hashes made).
func TestForEachParallelValidMerge(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"annex.pdf": string(a4())}
	letters := map[string]map[string]any{}
	for i := range 90 {
		key := fmt.Sprintf("c%03d", i)
		letters[key] = map[string]any{"file": "letters/" + key + ".pdf", "check": i%4 != 0}
		files["letters/"+key+".pdf"] = string(makePDF(1+i%2, 595, 842))
	}
	js, _ := json.Marshal(letters)
	files["letters.json"] = string(js)
	files["main.mail.hcl"] = sandboxProvider + `
mailing "letter" {
  for_each = jsondecode(file("letters.json"))
  service  = "Lettre simple"
  job_name = "bench-${each.key}"
  document {
    file = each.value.file
  }
  document {
    box  = "annex"
    file = "annex.pdf"
  }
  preflight = { address = each.value.check }
}
`
	writeFiles(t, dir, files)
	cfg, diags, parallel := loadBothWays(t, dir, LoadOptions{PDF: engine, HashCache: &memCache{}})
	if diags.HasErrors() || len(cfg.Mailings) != 90 || parallel == 0 {
		t.Fatalf("%d letters, %d parallel loads: %v", len(cfg.Mailings), parallel, diags)
	}
	if m := cfg.Mailings[1]; m.ContentHash == "" || m.Documents[1].SHA256 == "" || m.Documents[0].Pages != 2 {
		t.Fatalf("letter 1 = %+v", *m)
	}
}

// A letter block's instances are evaluated serially (parallelItems): the
// loads still agree.
func TestForEachParallelLetterBlocks(t *testing.T) {
	dir := letterFixture(t, goodCSV+"c3,Mme Zoé Martin,1 rue Haute,,\"5,00 €\"\n", noticeMD)
	_, diags, parallel := loadBothWays(t, dir, LoadOptions{HashCache: &memCache{}, PDF: engine, SkipPreflight: true})
	if !diags.HasErrors() || parallel != 0 {
		t.Fatalf("%d parallel loads: %v", parallel, diags)
	}
}

// TestForEachParallelDesignFixture runs testdata/design, whose for_each
// is a variable's map, both ways.
func TestForEachParallelDesignFixture(t *testing.T) {
	dir := designFixtureDir(t)
	writeFiles(t, dir, map[string]string{"letters/acme.pdf": string(a4())})
	_, diags, parallel := loadBothWays(t, dir, LoadOptions{Env: []string{"POSTFORM_VAR_login=me", "POSTFORM_VAR_password=secret"}, Version: "0.1.0"})
	if !diags.HasErrors() || parallel == 0 {
		t.Fatalf("%d parallel loads: %v", parallel, diags) // letters/globex.pdf is missing
	}
}

// FuzzForEachParallel loads any configuration serially and on workers that
// take one instance at a time: the results must agree.
func FuzzForEachParallel(f *testing.F) {
	for _, s := range []string{
		simple("for_each = toset([\"a\", \"b\", \"c\", \"d\"])\njob_name = \"j-${each.key}\"" + doc),
		simple("for_each = { x = 1, y = 2, z = \"a.pdf\" }\noptions = { n = each.value }\ndocument {\n  file = each.value\n}"),
		simple("for_each = { a = \"a.pdf\", b = \"a.pdf\", c = \"b.pdf\" }\njob_name = \"same\"\ndocument {\n  file = each.value\n}"),
		simple("for_each = jsondecode(\"{\\\"a\\\": {\\\"f\\\": \\\"a.pdf\\\"}, \\\"b\\\": {}}\")\ndocument {\n  file = each.value.f\n}"),
		simple("for_each = toset([\"A\", \"a\", \" a\"])\njob_name = each.key" + doc),
	} {
		f.Add(s)
	}
	pdf := string(a4())
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"main.mail.hcl": src, "a.pdf": pdf})
		loadBothWays(t, dir, LoadOptions{})
	})
}

// A panic beside Load's goroutine reaches it, where loadWith reports it.
func TestBesideReportsPanics(t *testing.T) {
	wait := beside("testing", func() { panic("boom") })
	defer func() {
		if r, _ := recover().(string); !strings.Contains(r, "boom (testing)") {
			t.Fatalf("recovered %q", r)
		}
	}()
	wait()
	t.Fatal("no panic")
}

// A panic on any of a workGroup's goroutines reaches Wait's caller, once
// every goroutine has ended, and tells the others to stop: the hashing and
// recipient workers used to have no recover, and a panic there ended the
// process without Load's internal-error diagnostic.
func TestWorkGroupReportsPanics(t *testing.T) {
	var g workGroup
	var ended atomic.Int32
	for i := range 4 {
		g.Go(fmt.Sprintf("worker %d", i), func() {
			defer ended.Add(1)
			if i == 2 {
				panic("boom")
			}
			for !g.Failed() {
				time.Sleep(time.Millisecond)
			}
		})
	}
	defer func() {
		if r, _ := recover().(string); !strings.Contains(r, "boom (worker 2)") {
			t.Fatalf("recovered %q", r)
		}
		if n := ended.Load(); n != 4 {
			t.Fatalf("Wait returned with %d of 4 goroutines ended", n)
		}
	}()
	g.Wait()
	t.Fatal("no panic")
}
