// Package layout names what postform keeps in a working directory's
// .postform/ folder, so each path is spelled once. Every path is relative
// to the working directory.
package layout

import "path/filepath"

// Dir is the folder itself, ignored by the .gitignore that init writes.
const Dir = ".postform"

var (
	// Backend records which backend the working directory's state lives
	// in, so that a changed backend block is noticed instead of silently
	// starting an empty state elsewhere (Terraform keeps
	// .terraform/terraform.tfstate for the same reason).
	Backend = filepath.Join(Dir, "backend.json")
	// Environment holds the selected workspace, like Terraform's
	// .terraform/environment.
	Environment = filepath.Join(Dir, "environment")
	// FileHashes caches document hashes by size and modification time.
	FileHashes = filepath.Join(Dir, "filehashes.json")
	// Rendered keeps letters rendered from templates, one <sha256>.pdf per
	// rendering. The index, which maps the hash of a letter's inputs to the
	// sha256 of its PDF, is kept outside the checkout (config's
	// renderedIndexPlace).
	Rendered = filepath.Join(Dir, "rendered")
	// Sandbox keeps the in-process simulator's world across runs.
	Sandbox = filepath.Join(Dir, "sandbox")
)
