package state

import (
	"crypto/sha256"
	"errors"
	"fmt"
)

// written is what a backend knows of the state it holds, shared by both
// backends: which lineage is there, and a digest of its last loaded or
// written content, to tell whether a Persist changes anything.
type written struct {
	lineage      string            // lineage of what is stored, "" when nothing is
	freshLineage string            // the new lineage Load handed out when nothing was stored
	baseline     [sha256.Size]byte // digest of the encoding (serial 0) last loaded or persisted
	// baselineLater, when set, gives baseline the first time a Persist
	// needs it: a plan-only load kept no bytes to compute it from.
	baselineLater func() ([sha256.Size]byte, error)
	// lastSerial is the highest serial stored (snapshot or journal): the
	// backend hands out the serials of records itself, under its lock, so
	// that the journal's order is its serials' order whoever calls Record.
	lastSerial uint64
	// journalDirty: the journal may hold records not in the snapshot.
	journalDirty bool
}

// snapshotWritten records that the snapshot prepared for s is stored.
func (w *written) snapshotWritten(s *State, serial uint64, sum [sha256.Size]byte) {
	s.Serial, w.lastSerial = serial, serial
	w.setBaseline(sum)
	w.journalDirty = false
}

func (w *written) setBaseline(sum [sha256.Size]byte) {
	w.baseline, w.baselineLater = sum, nil
}

// nextSerial returns the serial for a new record of s. The caller holds
// the backend's lock.
func (w *written) nextSerial(s *State) uint64 {
	w.lastSerial = max(w.lastSerial, s.Serial) + 1
	return w.lastSerial
}

// checkLineage refuses to write s over a state of another lineage. When
// nothing is stored yet, s's lineage is adopted. where names the state.
func (w *written) checkLineage(s *State, where string) error {
	if s.Lineage == "" {
		return errors.New("the state has no lineage")
	}
	if w.lineage == "" {
		w.lineage = s.Lineage
		if s.Lineage != w.freshLineage {
			var err error
			sum, err := baselineOf(New(s.Lineage))
			if err != nil {
				return err
			}
			w.setBaseline(sum)
		}
		return nil
	}
	if w.lineage != s.Lineage {
		return fmt.Errorf("the state in memory has lineage %s but %s holds lineage %s: refusing to write records of one state into another", s.Lineage, where, w.lineage)
	}
	return nil
}
