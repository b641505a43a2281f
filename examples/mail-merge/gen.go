//go:build ignore

// gen writes letters/<id>.pdf for every row of recipients.csv: one A4 page
// with the recipient's name and address where the platform reads it.
package main

import (
	"encoding/csv"
	"log"
	"os"
	"path/filepath"

	"github.com/postform/postform/nirva/sandbox"
)

func main() {
	f, err := os.Open("recipients.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll("letters", 0o755); err != nil {
		log.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, r := range rows[1:] {
		pdf, err := sandbox.MakePDF(r[col["name"]], r[col["street"]], r[col["postcode"]]+" "+r[col["city"]],
			"", "Dear "+r[col["name"]]+",", "Your November statement is enclosed.")
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("letters", r[col["id"]]+".pdf"), pdf, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("wrote %d letters into letters/", len(rows)-1)
}
