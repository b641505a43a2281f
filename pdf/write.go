package pdf

import (
	"bytes"
	"fmt"
)

// WriteObjects lays out objects (numbered from 1; object 1 is the catalog) as
// a PDF 1.4 file with a classic cross-reference table and trailer. It is the
// one hand-made PDF writer: MakeLetter (init's example letter, the sandbox's
// proofs, the tests' letters) and the tests' fixtures build their objects and
// let it do the file's bookkeeping.
func WriteObjects(objects []string) []byte {
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return out.Bytes()
}
