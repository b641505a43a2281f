package nirva

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// referenceForm is writeForm as it was written with multipart.Writer's
// CreatePart, kept to compare the hand-written form's bytes with.
func referenceForm(mw *multipart.Writer, params []byte, fields []string, files []FilePart, readers []io.Reader) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, partParameters))
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(params); err != nil {
		return err
	}
	for i, f := range files {
		name := f.FileName
		if name == "" {
			name = fields[i] + ".pdf"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, fields[i], quoteSafe(name)))
		h.Set("Content-Type", "application/pdf")
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, readers[i]); err != nil {
			return err
		}
	}
	return mw.Close()
}

func formBytes(t testing.TB, boundary string, params []byte, fields []string, files []FilePart, contents []string, reference bool) []byte {
	var buf bytes.Buffer
	rcs := make([]io.ReadCloser, len(contents))
	rs := make([]io.Reader, len(contents))
	for i, c := range contents {
		rcs[i] = io.NopCloser(strings.NewReader(c))
		rs[i] = strings.NewReader(c)
	}
	var err error
	if reference {
		mw := multipart.NewWriter(&buf)
		if err := mw.SetBoundary(boundary); err != nil {
			t.Fatal(err)
		}
		err = referenceForm(mw, params, fields, files, rs)
	} else {
		err = writeForm(&buf, boundary, params, fields, files, rcs)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFormIsMultipartWritersBytes: the form written by hand is, byte for
// byte, the one multipart.Writer wrote, whatever the file names (quoted
// and cleaned the same way), the number of files and their contents.
func TestFormIsMultipartWritersBytes(t *testing.T) {
	boundary := multipart.NewWriter(io.Discard).Boundary()
	params := []byte(`{"jobName":"bench-c000001","serviceId":"311","autocreateDeliveryCommand":true}`)
	cases := []struct {
		names    []string // FileName of each file ("" for none)
		contents []string
	}{
		{[]string{"c000001.pdf"}, []string{"%PDF-1.7 one page"}},
		{[]string{""}, []string{""}},
		{[]string{"a.pdf", "annexe.pdf", ""}, []string{"first", "second\r\n--" + boundary + "\r\n", "third"}},
		{[]string{`quo"te\back.pdf`, "ctl\x01\x1f\x7f.pdf", "dir/sub\\name.pdf", "dir/"}, []string{"1", "2", "3", "4"}},
		{[]string{"ünïcødé ☃.pdf", "tab\tand\nnewline.pdf"}, []string{"x", "y"}},
	}
	for i, c := range cases {
		files := make([]FilePart, len(c.names))
		fields := make([]string, len(c.names))
		for j, n := range c.names {
			files[j] = FilePart{BoxID: "b" + fmt.Sprint(j%2), FileName: n}
			fields[j] = fileFieldName(files[j].BoxID, j/2)
		}
		got := formBytes(t, boundary, params, fields, files, c.contents, false)
		want := formBytes(t, boundary, params, fields, files, c.contents, true)
		if !bytes.Equal(got, want) {
			t.Errorf("case %d: the form differs from multipart.Writer's:\n got %q\nwant %q", i, got, want)
		}
	}
}

// FuzzFormIsMultipartWritersBytes is TestFormIsMultipartWritersBytes for
// any file name, field name and content.
func FuzzFormIsMultipartWritersBytes(f *testing.F) {
	f.Add("c000001.pdf", "file__file_7_0", "%PDF", []byte(`{"jobName":"x"}`))
	f.Add("", "f", "", []byte{})
	f.Add(`a"b\c/d`, "q\"uote", "\r\n--", []byte("\x00"))
	boundary := multipart.NewWriter(io.Discard).Boundary()
	f.Fuzz(func(t *testing.T, name, field, content string, params []byte) {
		files := []FilePart{{BoxID: "1", FileName: name}}
		fields := []string{field}
		got := formBytes(t, boundary, params, fields, files, []string{content}, false)
		want := formBytes(t, boundary, params, fields, files, []string{content}, true)
		if !bytes.Equal(got, want) {
			t.Fatalf("the form differs from multipart.Writer's:\n got %q\nwant %q", got, want)
		}
	})
}

// TestStreamedFormIsTheBufferedOne: a form written to a writer that is not
// an io.ReaderFrom (a streamed form's pipe) from files on disk, whose parts
// span several copy buffers, has the bytes of one written into memory.
func TestStreamedFormIsTheBufferedOne(t *testing.T) {
	boundary := multipart.NewWriter(io.Discard).Boundary()
	params := []byte(`{"jobName":"big"}`)
	contents := []string{strings.Repeat("%PDF-1.7 0123456789\n", 5000), "tail"}
	files := []FilePart{{BoxID: "1", FileName: "big.pdf"}, {BoxID: "2"}}
	fields := []string{fileFieldName("1", 0), fileFieldName("2", 0)}
	open := func() []io.ReadCloser {
		rcs := make([]io.ReadCloser, len(contents))
		for i, c := range contents {
			p := filepath.Join(t.TempDir(), "part.pdf")
			if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			rcs[i] = f
		}
		return rcs
	}
	var streamed, buffered bytes.Buffer
	if err := writeForm(struct{ io.Writer }{&streamed}, boundary, params, fields, files, open()); err != nil {
		t.Fatal(err)
	}
	if err := writeForm(&buffered, boundary, params, fields, files, open()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(streamed.Bytes(), buffered.Bytes()) || !bytes.Equal(buffered.Bytes(), formBytes(t, boundary, params, fields, files, contents, true)) {
		t.Fatalf("the streamed form (%d bytes) differs from the buffered one (%d) or multipart.Writer's", streamed.Len(), buffered.Len())
	}
}
