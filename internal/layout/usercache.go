package layout

import (
	"os"
	"path/filepath"
)

// UserCache is postform's cache folder outside any working directory:
// $POSTFORM_CACHE_DIR, else the user cache dir's postform (~/.cache/postform
// on Linux); "" when neither is known. Unlike the paths above it is not
// relative to the working directory: a checkout must not be able to plant
// what is kept here.
func UserCache() string {
	if root := os.Getenv("POSTFORM_CACHE_DIR"); root != "" {
		return root
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "postform")
}

// PDFiumCache is where wazero keeps its compilation of PDFium across runs:
// UserCache's pdfium, "" (no cache) when UserCache is not known.
func PDFiumCache() string {
	root := UserCache()
	if root == "" {
		return ""
	}
	return filepath.Join(root, "pdfium")
}
