package state

import (
	"slices"
	"testing"
)

// A clone handed out by a backend may be changed by its caller: the
// recipient's lines must not be shared with the state's record.
func TestCloneCopiesRecipient(t *testing.T) {
	m := &Mailing{Address: "mailing.a", Recipient: &Recipient{Lines: []string{"Société Générale", "75009 PARIS"}, Postcode: "75009", City: "PARIS"}}
	c := m.Clone()
	c.Recipient.Lines[0] = "changed"
	c.Recipient.City = "LYON"
	if m.Recipient.Lines[0] != "Société Générale" || m.Recipient.City != "PARIS" {
		t.Fatalf("the clone shares the recipient: %+v", m.Recipient)
	}
	if !slices.Equal(c.Recipient.Lines, []string{"changed", "75009 PARIS"}) {
		t.Fatalf("clone lines = %q", c.Recipient.Lines)
	}
	if (&Mailing{}).Clone().Recipient != nil {
		t.Fatal("a mailing without recipient gained one")
	}
}
