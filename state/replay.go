package state

import (
	"fmt"
	"slices"
)

// journalSource names where a backend's journal records come from, for
// replay's messages: "the state journal postform.state.json.journal"
// with "line", or "the state journal in pg://…" with "row".
type journalSource struct {
	name, unit string
	// positions[i] is the line or row number of lines[i]; nil means i+1.
	positions []int
}

func (js journalSource) at(i int) string {
	n := i + 1
	if js.positions != nil {
		n = js.positions[i]
	}
	return fmt.Sprintf("%s (%s %d)", js.name, js.unit, n)
}

// replay applies journal records to s, the snapshot (nil when there is
// none), in order, and returns the state with its serial. Both backends
// replay through it, so they accept and refuse the same journals:
//   - a record of another lineage is refused;
//   - a record whose serial the snapshot already has is skipped (it was
//     folded in, and a crash kept it around);
//   - every other record must have a serial above the one before it: a
//     record out of order is refused rather than guessed at.
//
// It reports whether any record was applied.
func replay(s *State, lines []*journalLine, src journalSource, newLineage func() string) (*State, bool, error) {
	hasSnap, snapSerial := s != nil, uint64(0)
	switch {
	case s != nil:
		snapSerial = s.Serial
	case len(lines) > 0:
		s = New(lines[0].Lineage)
	default:
		s = New(newLineage())
	}
	applied := false
	for i, l := range lines {
		if l.Lineage != s.Lineage {
			return nil, false, fmt.Errorf("%s belongs to lineage %s but the state has lineage %s: they are records of two different states; refusing to mix them. Nothing was changed; move the journal away only if you know which state it belongs to",
				src.at(i), l.Lineage, s.Lineage)
		}
		if hasSnap && l.Serial <= snapSerial {
			continue // already folded into the snapshot
		}
		if applied && l.Serial <= s.Serial {
			return nil, false, fmt.Errorf("%s has serial %d after serial %d: records out of order; refusing to guess. Nothing was changed",
				src.at(i), l.Serial, s.Serial)
		}
		applyRecords(s, l.Records)
		s.Serial = l.Serial
		applied = true
	}
	return s, applied, nil
}

func applyRecords(s *State, recs []journalRecord) {
	for _, r := range recs {
		if r.Mailing == nil {
			delete(s.Mailings, r.Address)
			continue
		}
		if r.Mailing.Address == "" {
			r.Mailing.Address = r.Address
		}
		s.Mailings[r.Address] = r.Mailing
	}
}

// distinct returns addrs without repeats: a record holds each address once
// (a repeat would be the same mailing twice), which lets a pg replay tell
// two records that claim one serial apart.
func distinct(addrs []string) []string {
	out := slices.Clone(addrs)
	slices.Sort(out)
	return slices.Compact(out)
}
