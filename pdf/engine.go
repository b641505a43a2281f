package pdf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Options configure an Engine.
type Options struct {
	// CacheDir keeps wazero's compilation of the PDFium module between processes
	// (e.g. .postform/cache/pdfium or a directory under os.UserCacheDir). It turns
	// a start of about 3.5 s into about 0.1 s. Empty: no cache, every process
	// compiles the module again. wazero keys its entries by its own version and
	// the module's hash, so one directory may serve several postform versions.
	CacheDir string
	// Workers is how many PDFium instances may run at once (each has its own
	// WebAssembly memory, a few tens of MB). Zero means runtime.GOMAXPROCS(0).
	Workers int
}

// Engine reads PDFs with PDFium. It starts on first use (or Start), is safe for
// concurrent use, and must be closed by its owner. One Engine per process.
type Engine struct {
	opts Options

	once     sync.Once
	startErr error
	pool     pdfium.Pool
	cache    wazero.CompilationCache

	mu     sync.RWMutex // held for reading by every use, for writing by Close
	closed bool
}

// Open returns an Engine; nothing is started until the first call that reads a PDF.
func Open(opts Options) *Engine {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	return &Engine{opts: opts}
}

// Start compiles and instantiates PDFium now rather than on first use. It
// returns the same error every later call would.
func (e *Engine) Start() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return errClosed
	}
	return e.start()
}

var errClosed = errors.New("pdf: engine is closed")

func (e *Engine) start() error {
	e.once.Do(func() {
		// The bundled module lowers setjmp/longjmp to WebAssembly exception
		// handling, so a runtime config of our own must keep that feature
		// (webassembly.Init sets the same features when given none).
		rc := wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling)
		if e.opts.CacheDir != "" {
			if err := os.MkdirAll(e.opts.CacheDir, 0o755); err != nil {
				e.startErr = fmt.Errorf("pdf: cannot create the PDFium compilation cache %s: %w (remove the file in the way or choose another directory)", e.opts.CacheDir, err)
				return
			}
			cache, err := wazero.NewCompilationCacheWithDir(e.opts.CacheDir)
			if err != nil {
				e.startErr = fmt.Errorf("pdf: cannot use %s as the PDFium compilation cache: %w", e.opts.CacheDir, err)
				return
			}
			e.cache = cache
			rc = rc.WithCompilationCache(cache)
		}
		pool, err := webassembly.Init(webassembly.Config{
			MinIdle:       1,
			MaxIdle:       e.opts.Workers,
			MaxTotal:      e.opts.Workers,
			RuntimeConfig: rc,
			// Documents are passed as bytes: PDFium sees no host file system.
			FSConfig: wazero.NewFSConfig(),
			Stdout:   io.Discard,
			Stderr:   io.Discard,
			// An instance is a whole WebAssembly module (memory, PDFium's
			// globals): keep it for the next document rather than make another.
			ReuseWorkers: true,
		})
		if err != nil {
			e.startErr = fmt.Errorf("pdf: cannot start PDFium: %w", err)
			if e.cache != nil {
				e.cache.Close(context.Background())
				e.cache = nil // Close must not close it again
			}
			return
		}
		e.pool = pool
	})
	return e.startErr
}

// Close stops PDFium. Calls under way finish first; later calls fail.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var err error
	if e.pool != nil {
		err = e.pool.Close()
	}
	if e.cache != nil {
		if cerr := e.cache.Close(context.Background()); err == nil {
			err = cerr
		}
	}
	return err
}

// doc is one open document on one borrowed PDFium instance.
type doc struct {
	inst pdfium.Pdfium
	ref  references.FPDF_DOCUMENT
}

func (d *doc) page(index int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: d.ref, Index: index}}
}

// withDoc borrows an instance, opens file on it, runs fn and releases both.
func (e *Engine) withDoc(file []byte, fn func(*doc) error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return errClosed
	}
	if err := e.start(); err != nil {
		return err
	}
	// The pool blocks when every worker is busy; a minute is far beyond any
	// one letter and only guards against a wedged instance.
	inst, err := e.pool.GetInstance(time.Minute)
	if err != nil {
		return fmt.Errorf("pdf: no PDFium instance available: %w", err)
	}
	defer inst.Close()
	od, err := inst.OpenDocument(&requests.OpenDocument{File: &file})
	if err != nil {
		return fmt.Errorf("not a readable PDF: %w", err)
	}
	d := &doc{inst: inst, ref: od.Document}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: od.Document})
	return fn(d)
}

// PageCount returns the number of pages of file.
func (e *Engine) PageCount(file []byte) (int, error) {
	var n int
	err := e.withDoc(file, func(d *doc) error {
		r, err := d.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: d.ref})
		if err != nil {
			return err
		}
		n = r.PageCount
		return nil
	})
	return n, err
}
