package config

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/internal/diag"
)

func TestContentHash(t *testing.T) {
	base := func() *Mailing {
		return &Mailing{
			Service:   "Lettre verte",
			JobName:   "job",
			Documents: []*Document{{Box: "", SHA256: "aa"}, {Box: "annex", SHA256: "bb"}},
			Options:   map[string]string{"printMode": "1SIDE", "color": "BW"},
			Owner:     "",
		}
	}
	ref := contentHash(base())
	if ref != contentHash(base()) {
		t.Fatal("content hash is not stable")
	}
	// Map order must not matter.
	m := base()
	m.Options = map[string]string{"color": "BW", "printMode": "1SIDE"}
	if contentHash(m) != ref {
		t.Error("content hash depends on option order")
	}
	// Nil and empty options are the same letter.
	a, b := base(), base()
	a.Options, b.Options = nil, map[string]string{}
	if contentHash(a) != contentHash(b) {
		t.Error("nil and empty options differ")
	}
	// The job name is not content.
	m = base()
	m.JobName = "renamed"
	if contentHash(m) != ref {
		t.Error("content hash depends on the job name")
	}

	changes := map[string]func(m *Mailing){
		"service":        func(m *Mailing) { m.Service = "Lettre recommandée" },
		"document hash":  func(m *Mailing) { m.Documents[0].SHA256 = "ab" },
		"document box":   func(m *Mailing) { m.Documents[1].Box = "main" },
		"document order": func(m *Mailing) { m.Documents[0], m.Documents[1] = m.Documents[1], m.Documents[0] },
		"extra document": func(m *Mailing) { m.Documents = append(m.Documents, &Document{SHA256: "cc"}) },
		"option value":   func(m *Mailing) { m.Options["printMode"] = "2SIDE" },
		"option added":   func(m *Mailing) { m.Options["x"] = "" },
		"owner":          func(m *Mailing) { m.Owner = "42" },
	}
	seen := map[string]string{ref: "base"}
	for name, change := range changes {
		m := base()
		change(m)
		h := contentHash(m)
		if prev, dup := seen[h]; dup {
			t.Errorf("changing %s gives the same hash as %s", name, prev)
		}
		seen[h] = name
	}
}

func TestContentHashFollowsFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": simple(doc), "a.pdf": string(a4())})
	h1 := mustLoad(t, dir, LoadOptions{}).Mailings[0].ContentHash
	if err := os.WriteFile(filepath.Join(dir, "a.pdf"), makePDF(2, 595, 842), 0o644); err != nil {
		t.Fatal(err)
	}
	h2 := mustLoad(t, dir, LoadOptions{}).Mailings[0].ContentHash
	if h1 == h2 {
		t.Error("content hash did not change with the PDF")
	}
}

func TestHashCache(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": simple("for_each = toset([\"x\", \"y\"])\njob_name = \"j-${each.key}\"" + doc),
		"a.pdf":         string(makePDF(2, 595, 842)),
	})
	cache := &memCache{}
	cfg := mustLoad(t, dir, LoadOptions{HashCache: cache})
	if cache.stores != 1 || cache.hits != 0 {
		t.Fatalf("first load: %d stores, %d hits; want one store (the file is shared)", cache.stores, cache.hits)
	}
	sum := cfg.Mailings[0].Documents[0].SHA256
	e := cache.entries[filepath.Join(dir, "a.pdf")]
	if e.sum != sum || e.pages != 2 {
		t.Fatalf("cached %+v, want sum %s and 2 pages", e, sum)
	}

	// A hit with pages > 0 skips hashing and preflight: prove it by
	// planting a page count pdfcpu would not find.
	cache.entries[filepath.Join(dir, "a.pdf")] = memEntry{e.size, e.mtime, e.sum, 7}
	cfg = mustLoad(t, dir, LoadOptions{HashCache: cache})
	if cache.hits != 1 || cfg.Mailings[0].Documents[0].Pages != 7 || cfg.Mailings[1].Documents[0].SHA256 != sum {
		t.Fatalf("second load: %d hits, pages %d", cache.hits, cfg.Mailings[0].Documents[0].Pages)
	}

	// A changed mtime misses the cache.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "a.pdf"), later, later); err != nil {
		t.Fatal(err)
	}
	cfg = mustLoad(t, dir, LoadOptions{HashCache: cache})
	if cache.hits != 1 || cfg.Mailings[0].Documents[0].Pages != 2 {
		t.Fatalf("after touch: %d hits, pages %d", cache.hits, cfg.Mailings[0].Documents[0].Pages)
	}

	// SkipPreflight stores the hash with no page count, and a later
	// preflight load does the preflight without rehashing.
	cache2 := &memCache{}
	mustLoad(t, dir, LoadOptions{HashCache: cache2, SkipPreflight: true})
	if e := cache2.entries[filepath.Join(dir, "a.pdf")]; e.sum != sum || e.pages != 0 {
		t.Fatalf("skip-preflight cached %+v", e)
	}
	cfg = mustLoad(t, dir, LoadOptions{HashCache: cache2})
	if cfg.Mailings[0].Documents[0].Pages != 2 || cache2.entries[filepath.Join(dir, "a.pdf")].pages != 2 {
		t.Fatalf("preflight after skip: pages %d", cfg.Mailings[0].Documents[0].Pages)
	}
}

func TestBrokenFileReportedOnce(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": simple("for_each = toset([\"x\", \"y\", \"z\"])\njob_name = \"j-${each.key}\"" + doc),
		"a.pdf":         "not a pdf",
	})
	_, diags := Load(dir, LoadOptions{})
	n := 0
	for _, d := range diags {
		if diag.Code(d) == diag.CodeNotPDF {
			n++
			if !strings.Contains(d.Detail, "3 documents use this file") {
				t.Errorf("detail = %q", d.Detail)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d PF103 diagnostics, want 1: %v", n, diags)
	}
}

func TestEvalOutputs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": sandboxProvider + `
variable "who" {
  default = "ops"
}
locals {
  prefix = "batch"
}
mailing "reminder" {
  for_each = toset(["acme", "globex"])
  service  = "s"
  job_name = "${local.prefix}-${each.key}"
` + doc + `}
mailing "single" {
  service = "s"
` + doc + `}
output "tracking" {
  value = { for k, m in mailing.reminder : k => m.tracking_numbers }
}
output "ids" {
  value = [mailing.reminder["acme"].job_id, mailing.single.job_id, mailing.single.job_name]
}
output "status" {
  value     = "${var.who}: ${mailing.reminder["acme"].status} ${mailing.reminder["acme"].address}"
  sensitive = true
}
`, "a.pdf": string(a4()),
	})
	cfg := mustLoad(t, dir, LoadOptions{})
	attrs := func(addr string) (cty.Value, bool) {
		if addr != `mailing.reminder["acme"]` {
			return cty.NilVal, false
		}
		return cty.ObjectVal(map[string]cty.Value{
			"job_id":           cty.StringVal("J1"),
			"status":           cty.StringVal("OUTPUTTED"),
			"tracking_numbers": cty.ListVal([]cty.Value{cty.StringVal("1A234")}),
			"address":          cty.StringVal("spoofed"),
		}), true
	}
	outs, diags := cfg.EvalOutputs(attrs)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	wantTracking := cty.ObjectVal(map[string]cty.Value{
		"acme":   cty.ListVal([]cty.Value{cty.StringVal("1A234")}),
		"globex": cty.NullVal(cty.List(cty.String)),
	})
	if !outs["tracking"].RawEquals(wantTracking) {
		t.Errorf("tracking = %#v", outs["tracking"])
	}
	wantIDs := cty.TupleVal([]cty.Value{cty.StringVal("J1"), cty.NullVal(cty.String), cty.StringVal("single")})
	if !outs["ids"].RawEquals(wantIDs) {
		t.Errorf("ids = %#v", outs["ids"])
	}
	if got := outs["status"]; !got.RawEquals(cty.StringVal(`ops: OUTPUTTED mailing.reminder["acme"]`)) {
		t.Errorf("status = %#v", got)
	}
	if o := cfg.Outputs; len(o) != 3 || o[0].Name != "ids" || !o[1].Sensitive {
		t.Errorf("outputs = %+v", o)
	}

	// Before any apply every state attribute is null, and outputs still work.
	// (Each output evaluates on its own: status fails on the null, the
	// others do not.)
	outs, diags = cfg.EvalOutputs(func(string) (cty.Value, bool) { return cty.NilVal, false })
	if len(diags) != 1 || diags[0].Subject.Start.Line != 35 {
		t.Fatalf("diags = %v", diags)
	}
	if !outs["ids"].Index(cty.NumberIntVal(0)).IsNull() {
		t.Errorf("ids = %#v", outs["ids"])
	}
}

func TestEvalOutputsError(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": simple(doc) + "output \"o\" {\n  value = mailing.m.nope\n}\n",
		"a.pdf":         string(a4()),
	})
	cfg := mustLoad(t, dir, LoadOptions{})
	_, diags := cfg.EvalOutputs(nil)
	if d := hasCode(diags, diag.CodeBadReference); d == nil || d.Subject == nil || d.Subject.Start.Line != 15 {
		t.Fatalf("diags = %v", diags)
	}
}

// TestSharedOptionsAndProofs: the letters that set no options and no
// proofs share one empty map and one clipped slice (an append copies it);
// a letter that sets them has its own, and DefaultProofs changed later
// reaches no letter loaded before.
func TestSharedOptionsAndProofs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": simple(`for_each = toset(["a", "b", "c"])`+doc) + `
mailing "opts" {
  for_each = toset(["a", "b"])
  service  = "Lettre simple"
  options  = { color = each.key }
  proofs   = ["ACKN"]
  document {
    file = "a.pdf"
  }
}
`,
		"a.pdf": string(a4()),
	})
	cfg := mustLoad(t, dir, LoadOptions{})
	byAddr := map[string]*Mailing{}
	for _, m := range cfg.Mailings {
		byAddr[m.Address] = m
	}
	a, b := byAddr[`mailing.m["a"]`], byAddr[`mailing.m["b"]`]
	oa, ob := byAddr[`mailing.opts["a"]`], byAddr[`mailing.opts["b"]`]
	if a == nil || b == nil || oa == nil || ob == nil {
		t.Fatalf("letters: %v", slices.Collect(maps.Keys(byAddr)))
	}
	if !slices.Equal(a.Proofs, DefaultProofs) || cap(a.Proofs) != len(a.Proofs) || a.Options == nil || len(a.Options) != 0 {
		t.Fatalf("defaults: proofs %v (cap %d), options %v", a.Proofs, cap(a.Proofs), a.Options)
	}
	if &a.Proofs[0] != &b.Proofs[0] || reflect.ValueOf(a.Options).UnsafePointer() != reflect.ValueOf(b.Options).UnsafePointer() {
		t.Fatal("letters without options or proofs do not share them")
	}
	if extended := append(a.Proofs, "X"); &extended[0] == &b.Proofs[0] {
		t.Fatal("an append to shared proofs writes into them")
	}
	if oa.Options["color"] != "a" || ob.Options["color"] != "b" || reflect.ValueOf(oa.Options).UnsafePointer() == reflect.ValueOf(a.Options).UnsafePointer() {
		t.Fatalf("options of their own: %v %v", oa.Options, ob.Options)
	}
	if &oa.Proofs[0] == &ob.Proofs[0] || !slices.Equal(oa.Proofs, []string{"ACKN"}) {
		t.Fatalf("proofs of their own: %v %v", oa.Proofs, ob.Proofs)
	}
	saved := DefaultProofs[0]
	DefaultProofs[0] = "CHANGED"
	defer func() { DefaultProofs[0] = saved }()
	if a.Proofs[0] != saved {
		t.Fatal("the letters share DefaultProofs itself")
	}
}
