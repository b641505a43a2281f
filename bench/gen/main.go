// Command gen writes a postform working directory of N letters for the
// benchmarks in bench/: letters/*.pdf (each with its own text, so each has
// its own sha256), letters.json (key → file) and main.mail.hcl, which posts
// every letter with for_each = jsondecode(file("letters.json")).
//
//	go run ./bench/gen -n 10000 -out bench/out/w10000 -endpoint http://127.0.0.1:8080 [-blank 100]
//
// -keys literal keys the mailing by a literal toset([...N keys...]) instead
// (the same addresses, documents and checks, so a state built with either
// plans with nothing to do under the other); -config-only rewrites only
// main.mail.hcl, to switch an existing directory between the two.
//
// -blank K makes K of the letters (spread evenly) carry no text on their
// first page: the platform finds no address in them and holds them
// NOT_ELIGIBLE for ever, so they are never terminal.
//
// -fill-state DIR makes a synthetic state for the refresh benchmark: every
// letter of DIR's configuration that its (folded) state lacks is recorded
// as a terminal letter, its configuration part made by the engine's own
// reconcile.NewRecord and its platform part (job status, deliveries,
// tracking events, proofs) copied from a terminal letter the state holds,
// under a job id of its own. Refresh never calls the platform about a
// terminal letter, so these need not exist in the sandbox; building 100,000
// of them through it would take hours.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/pdf"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

func main() {
	n := flag.Int("n", 1000, "number of letters")
	out := flag.String("out", "", "working directory to write (created; existing letters are overwritten)")
	endpoint := flag.String("endpoint", "sandbox", `provider endpoint: "sandbox" or http://ADDR of "postform sandbox serve"`)
	blank := flag.Int("blank", 0, "how many letters have no text on their first page (stay NOT_ELIGIBLE)")
	keys := flag.String("keys", "json", `how for_each gets its keys: "json" (jsondecode(file("letters.json"))) or "literal" (toset([...]), needs -blank 0)`)
	configOnly := flag.Bool("config-only", false, "write only main.mail.hcl (the letters exist already)")
	fill := flag.String("fill-state", "", "record every configured letter the state of this working directory lacks as terminal (synthetic; see the package comment)")
	flag.Parse()
	if *fill != "" {
		n, err := fillState(*fill)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Printf("gen: recorded %d synthetic terminal letters in %s\n", n, *fill)
		return
	}
	if *out == "" || *n < 1 || *blank < 0 || *blank > *n || (*keys != "json" && *keys != "literal") || (*keys == "literal" && *blank != 0) {
		fmt.Fprintln(os.Stderr, "usage: gen -n N -out DIR [-endpoint URL] [-blank K] [-keys json|literal] [-config-only] (0 <= K <= N; literal keys need K = 0)")
		os.Exit(2)
	}
	if *configOnly {
		if err := writeConfig(*out, *n, *blank, *endpoint, *keys); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		return
	}
	if err := generate(*out, *n, *blank, *endpoint, *keys); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func generate(dir string, n, blank int, endpoint, keys string) error {
	if err := os.MkdirAll(filepath.Join(dir, "letters"), 0o755); err != nil {
		return err
	}
	type letter struct {
		File string `json:"file"`
		// Check is false for the blank letters: plan would block them
		// (nothing in the address window), and scenario c needs them posted
		// and NOT_ELIGIBLE on the platform.
		Check bool `json:"check"`
	}
	letters := make(map[string]letter, n)
	for i := 0; i < n; i++ {
		key := letterKey(i)
		file := "letters/" + key + ".pdf"
		var address, body []string
		if !isBlank(i, n, blank) {
			address = []string{
				fmt.Sprintf("Customer %06d", i),
				fmt.Sprintf("%d rue de la Paix", 1+i%200),
				fmt.Sprintf("%05d PARIS", 75001+i%20),
			}
			body = []string{fmt.Sprintf("Invoice B-%06d: amount due %d.%02d EUR.", i, 10+i%990, i%100)}
		}
		// The address in the envelope's window, the text below it.
		pdf, err := pdf.MakeLetter(address, body...)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, file), pdf, 0o644); err != nil {
			return err
		}
		letters[key] = letter{File: file, Check: !isBlank(i, n, blank)}
	}
	js, err := json.MarshalIndent(letters, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "letters.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return writeConfig(dir, n, blank, endpoint, keys)
}

func letterKey(i int) string { return fmt.Sprintf("c%06d", i) }

// writeConfig writes main.mail.hcl; with literal keys, each.value is the
// key, so the document path and the check are spelled out instead of read
// from letters.json (every letter has text: blank is 0).
func writeConfig(dir string, n, blank int, endpoint, keys string) error {
	forEach, file, check := `jsondecode(file("letters.json"))`, "each.value.file", "each.value.check"
	if keys == "literal" {
		var b strings.Builder
		b.WriteString("toset([\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "    %q,\n", letterKey(i))
		}
		b.WriteString("  ])")
		forEach, file, check = b.String(), `"letters/${each.key}.pdf"`, "true"
	}
	return os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(fmt.Sprintf(hclTemplate, n, blank, endpoint, forEach, file, check)), 0o644)
}

// isBlank spreads the blank letters evenly over the keys.
func isBlank(i, n, blank int) bool {
	if blank == 0 {
		return false
	}
	return i%(n/blank) == 0 && i/(n/blank) < blank
}

const hclTemplate = `# Generated by bench/gen: %d letters, %d of them without text (NOT_ELIGIBLE).

postform {
  max_posts = 100000 # a benchmark posts every letter it generates
  backend "local" {
    path = "postform.state.json"
  }
}

# POSTFORM_VAR_endpoint points the same working directory at another
# sandbox (or at bench/delay in front of it).
variable "endpoint" {
  type    = string
  default = %q
}

provider "nirva" {
  endpoint = var.endpoint
  login    = "bench@example.com"
  password = "bench"
}

mailing "letter" {
  for_each = %s

  service  = "Lettre simple"
  job_name = "bench-${each.key}"

  document {
    file = %s
  }
  preflight = { address = %s }
}
`

// fillState completes dir's state with synthetic terminal letters (see the
// package comment) and returns how many it added.
func fillState(dir string) (int, error) {
	path := filepath.Join(dir, "postform.state.json")
	if _, err := os.Stat(path + ".journal"); err == nil {
		return 0, fmt.Errorf("%s.journal exists: fold it first (postform refresh)", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s, err := state.Decode(data)
	if err != nil {
		return 0, err
	}
	var tmpl *state.Mailing
	for _, addr := range slices.Sorted(maps.Keys(s.Mailings)) {
		if m := s.Mailings[addr]; m.Terminal && m.JobID != "" && reconcile.StageOf(m) == reconcile.StageDone {
			tmpl = m
			break
		}
	}
	if tmpl == nil {
		return 0, errors.New("the state holds no terminal letter to copy: apply and refresh at least one letter with text first")
	}
	platform, err := json.Marshal(tmpl)
	if err != nil {
		return 0, err
	}
	var tmplFields map[string]json.RawMessage
	if err := json.Unmarshal(platform, &tmplFields); err != nil {
		return 0, err
	}
	delete(tmplFields, "recipient")
	// Loaded the way plan --refresh=false loads it, without reading the
	// recipients (no PDF engine): the copies carry no recipient.
	cfg, diags := config.Load(dir, config.LoadOptions{Env: os.Environ(), SkipPreflight: true, Offline: true})
	if diags.HasErrors() {
		return 0, fmt.Errorf("loading %s: %s", dir, diags.Error())
	}
	// A second -fill-state (after letters were added) must not reuse the
	// job ids the first gave: two letters of one job id are one letter to
	// refresh and import.
	taken := map[string]bool{}
	for _, m := range s.Mailings {
		taken[m.JobID] = true
	}
	added, seq := 0, 0
	for _, m := range cfg.Mailings {
		if s.Mailings[m.Address] != nil {
			continue
		}
		fields := maps.Clone(tmplFields) // values are replaced, never changed in place
		own, err := json.Marshal(reconcile.NewRecord(m, tmpl.ServiceID))
		if err != nil {
			return 0, err
		}
		var ownFields map[string]json.RawMessage
		if err := json.Unmarshal(own, &ownFields); err != nil {
			return 0, err
		}
		for k, v := range ownFields {
			if k != "phase" && k != "terminal" {
				fields[k] = v
			}
		}
		var id string
		for id == "" || taken[id] {
			id = fmt.Sprintf("synthetic-%08d", seq)
			seq++
		}
		fields["job_id"], _ = json.Marshal(id)
		b, err := json.Marshal(fields)
		if err != nil {
			return 0, err
		}
		rec := &state.Mailing{}
		if err := json.Unmarshal(b, rec); err != nil {
			return 0, err
		}
		s.Mailings[m.Address] = rec
		added++
	}
	out, err := state.Encode(s)
	if err != nil {
		return 0, err
	}
	// Atomically: a Ctrl-C mid-write must not leave a torn state.
	return added, safefs.WriteFileAt(path, out, 0o644)
}
