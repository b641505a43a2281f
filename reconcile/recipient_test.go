package reconcile_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/reconcile"
)

// The state keeps who a letter went to: recorded with its pending record,
// it survives the posting, a refresh and a reload.
func TestAppliedLetterKeepsItsRecipient(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	e := w.engine(ctx)
	cfg := w.config()
	want := []string{"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"}
	cfg.Mailings[0].AddressCheck = config.AddressRead
	cfg.Mailings[0].Documents[0].Recipient = &config.Recipient{Lines: slices.Clone(want), Postcode: "75009", City: "PARIS"}
	plan := reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{Profile: e.Client.Profile()})
	if res := e.Apply(ctx, plan); res.Posted != 2 || len(res.Errors) > 0 {
		t.Fatalf("apply: posted %d, errors %v", res.Posted, res.Err())
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	// Changing the configuration afterwards does not change the record.
	cfg.Mailings[0].Documents[0].Recipient.Lines[0] = "changed"

	e = w.engine(ctx)
	time.Sleep(50 * time.Millisecond)
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	e = w.engine(ctx)
	a, b := e.State.Mailings[cfg.Mailings[0].Address], e.State.Mailings[cfg.Mailings[1].Address]
	if a.JobID == "" || a.Recipient == nil || !slices.Equal(a.Recipient.Lines, want) || a.Recipient.Postcode != "75009" || a.Recipient.City != "PARIS" {
		t.Fatalf("%s: job %q, recipient %+v, want %q", a.Address, a.JobID, a.Recipient, want)
	}
	if b.Recipient != nil {
		t.Fatalf("%s was not read but records recipient %+v", b.Address, b.Recipient)
	}
}
