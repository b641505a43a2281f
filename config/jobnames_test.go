package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// Job names a platform may compare folded ("Job-1", "job-1", " job-1")
// validate, with a warning at the later mailing's job_name naming the
// other; surrounding spaces alone are warned about too.
func TestConfusableJobNamesAreWarned(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": `
provider "nirva" {
  endpoint = "sandbox"
}
mailing "a" {
  service  = "s"
  job_name = "Job-1"
  document {
    file = "a.pdf"
  }
}
mailing "b" {
  service  = "s"
  job_name = "job-1"
  document {
    file = "a.pdf"
  }
}
mailing "c" {
  service  = "s"
  job_name = " JOB-1"
  document {
    file = "a.pdf"
  }
}
mailing "d" {
  service  = "s"
  job_name = "Straße"
  document {
    file = "a.pdf"
  }
}
mailing "e" {
  service  = "s"
  job_name = "STRASSE "
  document {
    file = "a.pdf"
  }
}
mailing "f" {
  service  = "s"
  job_name = "trailing "
  document {
    file = "a.pdf"
  }
}
mailing "g" {
  service  = "s"
  job_name = "job-2"
  document {
    file = "a.pdf"
  }
}
`, "a.pdf": string(a4())})
	cfg, diags := Load(dir, LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("confusable names must validate (a warning, not an error): %v", diags.Errs())
	}
	var confusable, spaces []*hcl.Diagnostic
	for _, d := range diags {
		switch diag.Code(d) {
		case diag.CodeConfusableJobName:
			confusable = append(confusable, d)
		case diag.CodeJobNameSpaces:
			spaces = append(spaces, d)
		}
		if d.Severity != hcl.DiagWarning {
			t.Errorf("%s is not a warning", d.Error())
		}
	}
	want := []struct{ later, earlier string }{
		{"mailing.b", "mailing.a"}, {"mailing.c", "mailing.a"}, {"mailing.e", "mailing.d"},
	}
	if len(confusable) != len(want) {
		t.Fatalf("want %d PF114 warnings, got %v", len(want), confusable)
	}
	for i, w := range want {
		d := confusable[i]
		if !strings.HasPrefix(d.Detail, "The job name of "+w.later+", ") || !strings.Contains(d.Detail, "job name of "+w.earlier+", ") {
			t.Errorf("warning %d: %s", i, d.Detail)
		}
		// It points at the job_name value of the later mailing.
		line := map[string]int{"mailing.b": 14, "mailing.c": 21, "mailing.e": 35}[w.later]
		if d.Subject == nil || d.Subject.Start.Line != line {
			t.Errorf("warning %d points at %v, want line %d", i, d.Subject, line)
		}
	}
	if len(spaces) != 3 || !strings.Contains(spaces[0].Detail, `mailing.c, " JOB-1"`) || !strings.Contains(spaces[2].Detail, `mailing.f, "trailing "`) {
		t.Fatalf("want PF115 for mailing.c, e and f, got %v", spaces)
	}
	if len(cfg.Mailings) != 7 {
		t.Fatalf("mailings: %d", len(cfg.Mailings))
	}
}
