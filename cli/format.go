package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// outputFormat is the view a command prints its result through: for a
// person (the default), or one machine-readable document. Each command
// turns its --json/--markdown switches into one outputFormat when it parses
// its flags, and its run function chooses the view by it in one switch.
type outputFormat int

const (
	formatHuman outputFormat = iota
	formatJSON
	formatMarkdown
)

// formatFlags are the --json and --markdown switches of a command that has
// them; format resolves them.
type formatFlags struct {
	json, markdown bool
}

func (f formatFlags) format() (outputFormat, error) {
	switch {
	case f.json && f.markdown:
		return formatHuman, errors.New("choose one of --json and --markdown")
	case f.json:
		return formatJSON, nil
	case f.markdown:
		return formatMarkdown, nil
	}
	return formatHuman, nil
}

// writeJSON is the JSON view of every command but the plan's (whose
// document has its own encoder): v indented, then a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
