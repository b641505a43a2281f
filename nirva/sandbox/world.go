package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// The world on disk: a snapshot (world.json) and the log of changes since
// (world.log), and the indexes that find a job without scanning it.

// world is what world.json holds.
type world struct {
	Version int          `json:"version"`
	NextID  int64        `json:"nextId"`
	Jobs    []*jobRecord `json:"jobs"`
}

const worldVersion = 1

// worldIndex finds a job without scanning the world; rebuilt on Open, kept
// by addJobLocked (pack groups and deliveries never change owner).
type worldIndex struct {
	byID, byPackGroup, byShipment map[string]*jobRecord
	byName                        map[string][]*jobRecord // oldest first
}

func (s *Sandbox) reindex() {
	s.index = worldIndex{
		byID: map[string]*jobRecord{}, byPackGroup: map[string]*jobRecord{},
		byShipment: map[string]*jobRecord{}, byName: map[string][]*jobRecord{},
	}
	s.pending = pendingQueue{}
	for _, j := range s.world.Jobs {
		s.index.add(j)
		s.pending.add(j)
	}
}

func (x *worldIndex) add(j *jobRecord) {
	x.byID[j.ID] = j
	x.byName[j.Name] = append(x.byName[j.Name], j)
	for _, pg := range j.PackGroups {
		x.byPackGroup[pg.ID] = j
	}
	for _, d := range j.Deliveries {
		x.byShipment[d.ShipmentID] = j
	}
}

const (
	worldFile = "world.json"
	logFile   = "world.log"
)

func (s *Sandbox) worldPath() string { return filepath.Join(s.opts.Dir, worldFile) }

// logPath is the world's append-only log: each job created or edited since
// the last snapshot, one JSON line each, fsynced before the answer, so that
// "the platform accepted the job" means it is on disk without rewriting the
// whole world for every job.
func (s *Sandbox) logPath() string { return filepath.Join(s.opts.Dir, logFile) }

func (s *Sandbox) load() error {
	b, err := s.fs.ReadFile(worldFile)
	if errors.Is(err, os.ErrNotExist) {
		return s.replayLog()
	}
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	var w world
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("sandbox: reading %s: %w", s.worldPath(), err)
	}
	if w.Version != worldVersion {
		return fmt.Errorf("sandbox: %s has version %d, this postform reads version %d", s.worldPath(), w.Version, worldVersion)
	}
	if w.NextID < 88000 {
		w.NextID = 88000
	}
	s.world = w
	return s.replayLog()
}

// replayLog applies the log written since the snapshot. A torn last line
// (a crash while appending) was never answered, so it is dropped.
func (s *Sandbox) replayLog() error {
	data, err := s.fs.ReadFile(logFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	byID := map[string]int{}
	for i, j := range s.world.Jobs {
		byID[j.ID] = i
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		var j jobRecord
		if len(line) == 0 || json.Unmarshal(line, &j) != nil || j.ID == "" {
			continue
		}
		s.dirty = true
		if i, ok := byID[j.ID]; ok {
			s.world.Jobs[i] = &j
		} else {
			byID[j.ID] = len(s.world.Jobs)
			s.world.Jobs = append(s.world.Jobs, &j)
		}
		if n, err := strconv.ParseInt(j.ID, 10, 64); err == nil && n >= s.world.NextID {
			s.world.NextID = n + 1
		}
	}
	return nil
}

// recordLocked appends one created or edited job to the log (caller holds
// s.mu) and returns its line's number, to pass to syncLog, after releasing
// s.mu and before answering; 0 in memory.
func (s *Sandbox) recordLocked(j *jobRecord) (int64, error) {
	if s.opts.Dir == "" {
		return 0, nil
	}
	b, err := json.Marshal(j)
	if err != nil {
		return 0, err
	}
	if s.log == nil {
		if s.log, err = s.fs.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return 0, fmt.Errorf("sandbox: %w", err)
		}
	}
	if _, err := s.log.Write(append(b, '\n')); err != nil {
		return 0, fmt.Errorf("sandbox: appending to %s: %w", s.logPath(), err)
	}
	s.logged++
	s.dirty = true
	return s.logged, nil
}

// syncLog returns once line seq of the log is on disk. One fsync covers
// every line appended before it, so requests arriving together share it
// (group commit) instead of queueing one fsync each behind s.mu.
func (s *Sandbox) syncLog(seq int64) error {
	if seq == 0 {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= seq {
		return nil
	}
	s.mu.Lock()
	f, upto := s.log, s.logged
	s.mu.Unlock()
	if f == nil { // Close folded the log into the snapshot
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sandbox: syncing %s: %w", s.logPath(), err)
	}
	s.synced = upto
	return nil
}

// saveLocked writes the whole world as the snapshot and empties the log
// (caller holds s.mu); a no-op in memory.
func (s *Sandbox) saveLocked() error {
	if s.opts.Dir == "" || !s.dirty {
		return nil // a run that changed nothing does not rewrite a world of 100,000 jobs
	}
	// Compact: at 100,000 jobs an indented snapshot is twice the bytes to
	// write on Close and to read on the next Open.
	b, err := json.Marshal(s.world)
	if err != nil {
		return err
	}
	if err := s.fs.WriteFile(worldFile, b, 0o644); err != nil {
		return fmt.Errorf("sandbox: writing %s: %w", s.worldPath(), err)
	}
	if s.log != nil {
		s.log.Close()
		s.log = nil
	}
	if err := s.fs.Remove(logFile); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s.dirty = false
	return nil
}
