package config

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// checkJobNamesReference is checkJobNames as first written, with a map of
// every exact name: the one-map version must say exactly what it says.
func checkJobNamesReference(all []*Mailing, jobNameAt map[string]*hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	first := map[string]*Mailing{}
	firstFolded := map[string]*Mailing{}
	for _, m := range all {
		prev, dup := first[m.JobName]
		if !dup {
			first[m.JobName] = m
			key := foldJobName(m.JobName)
			if other, ok := firstFolded[key]; ok {
				diags = append(diags, diag.NewDiag(diag.CodeConfusableJobName, hcl.DiagWarning, "Job names differ only by case or spaces",
					fmt.Sprintf("The job name of %s, %q, differs from the job name of %s, %q, only by case or surrounding spaces. A platform that compares job names that way would confuse the two letters when postform looks one up by name after an interrupted run, and could post one twice. Make the names clearly distinct.",
						m.Address, m.JobName, other.Address, other.JobName),
					jobNameAt[m.Name]))
			} else {
				firstFolded[key] = m
			}
			continue
		}
		diags = append(diags, errorf(diag.CodeDuplicateJobName, m.DeclRange.Ptr(), "Duplicate job name",
			fmt.Sprintf("%s and %s both use the job name %q. Job names must be unique: postform finds a letter on the platform by its job name after an interrupted run, so two letters with one name could be confused and one posted twice. Set distinct job_name values, e.g. including each.key.",
				prev.Address, m.Address, m.JobName)))
	}
	return diags
}

func TestCheckJobNamesMatchesReference(t *testing.T) {
	variants := []string{"job-%d", "JOB-%d", "Job-%d", " job-%d", "job-%d ", "jöb-%d", "JÖB-%d", "straße-%d", "STRASSE-%d", "\u212a-%d", "k-%d"}
	r := rand.New(rand.NewPCG(3, 4))
	subjects := map[string]*hcl.Range{"a": {Filename: "a.mail.hcl"}, "b": {Filename: "b.mail.hcl"}}
	found := map[string]int{}
	for _, n := range []int{0, 1, 2, 3, 5, 10, 40, 200} {
		for range 30 {
			var all []*Mailing
			for i := range n {
				name := []string{"a", "b"}[r.IntN(2)]
				all = append(all, &Mailing{
					Address:   fmt.Sprintf("mailing.%s[\"k%03d\"]", name, i),
					Name:      name,
					JobName:   fmt.Sprintf(variants[r.IntN(len(variants))], r.IntN(max(1, n/3))),
					DeclRange: hcl.Range{Filename: name + ".mail.hcl", Start: hcl.Pos{Line: i + 1}},
				})
			}
			got := checkJobNames(all, subjects)
			want := checkJobNamesReference(all, subjects)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d letters:\n  got:  %v\n  want: %v", n, got, want)
			}
			for _, d := range want {
				found[diag.Code(d)]++
			}
		}
	}
	if found[diag.CodeDuplicateJobName] < 20 || found[diag.CodeConfusableJobName] < 20 {
		t.Fatalf("the cases found too few problems to compare: %v", found)
	}
}
