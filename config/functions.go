package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// maxReadFile bounds what file and templatefile read, so that a mistake
// (file("/dev/zero"), a huge log) cannot exhaust memory.
const maxReadFile = 16 << 20

// Functions returns the functions available in expressions, resolving
// relative paths against dir: the cty standard library under Terraform's
// names, can and try, and the file functions file, fileexists, fileset,
// filesha256, templatefile, pdfpages, abspath, basename and dirname.
func Functions(dir string) map[string]function.Function {
	fns := map[string]function.Function{
		// Numbers.
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,
		"sum":      sumFunc,

		// Strings.
		"chomp":       stdlib.ChompFunc,
		"endswith":    endsWithFunc,
		"format":      stdlib.FormatFunc,
		"formatlist":  stdlib.FormatListFunc,
		"indent":      stdlib.IndentFunc,
		"join":        stdlib.JoinFunc,
		"lower":       stdlib.LowerFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"replace":     replaceFunc,
		"split":       stdlib.SplitFunc,
		"startswith":  startsWithFunc,
		"strcontains": strContainsFunc,
		"strrev":      stdlib.ReverseFunc,
		"substr":      stdlib.SubstrFunc,
		"title":       stdlib.TitleFunc,
		"trim":        stdlib.TrimFunc,
		"trimprefix":  stdlib.TrimPrefixFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"upper":       stdlib.UpperFunc,

		// Collections.
		"alltrue":         allTrueFunc,
		"anytrue":         anyTrueFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"index":           stdlib.IndexFunc,
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc,
		"lookup":          stdlib.LookupFunc,
		"merge":           stdlib.MergeFunc,
		"one":             oneFunc,
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,

		// Encodings and hashes.
		"base64decode": base64DecodeFunc,
		"base64encode": base64EncodeFunc,
		"csvdecode":    stdlib.CSVDecodeFunc,
		"jsondecode":   makeJSONDecodeFunc(),
		"jsonencode":   stdlib.JSONEncodeFunc,
		"sha256":       sha256Func,
		"urlencode":    urlEncodeFunc,

		// Time (no timestamp(): a plan must not change by itself).
		"formatdate": stdlib.FormatDateFunc,
		"timeadd":    stdlib.TimeAddFunc,

		// Conversions.
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   makeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    makeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"toset":    makeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring": stdlib.MakeToFunc(cty.String),
		"can":      tryfunc.CanFunc,
		"try":      tryfunc.TryFunc,

		// Files, relative to dir.
		"abspath":    pathFunc(func(p string) string { return filepath.ToSlash(resolvePath(dir, p)) }),
		"basename":   pathFunc(filepath.Base),
		"dirname":    pathFunc(filepath.Dir),
		"file":       fileFunc(dir),
		"fileexists": fileExistsFunc(dir),
		"fileset":    fileSetFunc(dir),
		"filesha256": fileSHA256Func(dir),
		"pdfpages":   pdfPagesFunc(dir),
	}
	// templatefile sees every function but itself, like Terraform's, so
	// that a template cannot recurse.
	inner := make(map[string]function.Function, len(fns))
	for k, v := range fns {
		inner[k] = v
	}
	fns["templatefile"] = templateFileFunc(dir, inner)
	return fns
}

// resolvePath makes p absolute, relative to dir.
func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, filepath.FromSlash(p))
}

// insidePath resolves p for the file functions, which read only the working
// directory's files: a checkout must not read the runner's files (a key, a
// token) into a job name or a letter that the plan then shows, so a path
// that leaves dir, or a symlink that leads out of it, is refused.
func insidePath(dir, p string) (string, error) {
	abs := resolvePath(dir, p)
	outside := fmt.Errorf("%q is outside the working directory: file functions read only files inside it", p)
	rel, err := filepath.Rel(dir, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return "", outside
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return abs, nil // missing: the caller says so
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return abs, nil
	}
	if rel, err := filepath.Rel(realDir, real); err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%q is a link to %s, outside the working directory: file functions read only files inside it", p, real)
	}
	return abs, nil
}

func stringFunc(params []string, impl func(args []string) (cty.Value, error), ret cty.Type) function.Function {
	ps := make([]function.Parameter, len(params))
	for i, n := range params {
		ps[i] = function.Parameter{Name: n, Type: cty.String}
	}
	return function.New(&function.Spec{
		Params: ps,
		Type:   function.StaticReturnType(ret),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			ss := make([]string, len(args))
			for i, a := range args {
				ss[i] = a.AsString()
			}
			return impl(ss)
		},
	})
}

func pathFunc(f func(string) string) function.Function {
	return stringFunc([]string{"path"}, func(a []string) (cty.Value, error) {
		return cty.StringVal(f(a[0])), nil
	}, cty.String)
}

var startsWithFunc = stringFunc([]string{"str", "prefix"}, func(a []string) (cty.Value, error) {
	return cty.BoolVal(strings.HasPrefix(a[0], a[1])), nil
}, cty.Bool)

var endsWithFunc = stringFunc([]string{"str", "suffix"}, func(a []string) (cty.Value, error) {
	return cty.BoolVal(strings.HasSuffix(a[0], a[1])), nil
}, cty.Bool)

var strContainsFunc = stringFunc([]string{"str", "substr"}, func(a []string) (cty.Value, error) {
	return cty.BoolVal(strings.Contains(a[0], a[1])), nil
}, cty.Bool)

var base64EncodeFunc = stringFunc([]string{"str"}, func(a []string) (cty.Value, error) {
	return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(a[0]))), nil
}, cty.String)

var base64DecodeFunc = stringFunc([]string{"str"}, func(a []string) (cty.Value, error) {
	b, err := base64.StdEncoding.DecodeString(a[0])
	if err != nil {
		return cty.NilVal, fmt.Errorf("failed to decode base64 data: %w", err)
	}
	if !utf8.Valid(b) {
		return cty.NilVal, fmt.Errorf("the decoded bytes are not valid UTF-8")
	}
	return cty.StringVal(string(b)), nil
}, cty.String)

var sha256Func = stringFunc([]string{"str"}, func(a []string) (cty.Value, error) {
	sum := sha256.Sum256([]byte(a[0]))
	return cty.StringVal(hex.EncodeToString(sum[:])), nil
}, cty.String)

var urlEncodeFunc = stringFunc([]string{"str"}, func(a []string) (cty.Value, error) {
	return cty.StringVal(url.QueryEscape(a[0])), nil
}, cty.String)

// replaceFunc is Terraform's replace: a substring wrapped in slashes is a
// regular expression, anything else is replaced literally.
var replaceFunc = stringFunc([]string{"str", "substr", "replace"}, func(a []string) (cty.Value, error) {
	str, substr, repl := a[0], a[1], a[2]
	if len(substr) > 1 && substr[0] == '/' && substr[len(substr)-1] == '/' {
		re, err := regexp.Compile(substr[1 : len(substr)-1])
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(re.ReplaceAllString(str, repl)), nil
	}
	return cty.StringVal(strings.ReplaceAll(str, substr, repl)), nil
}, cty.String)

var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		if ty == cty.String || ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType() || ty == cty.DynamicPseudoType {
			return cty.Number, nil
		}
		return cty.NilType, fmt.Errorf("argument must be a string, a collection or a structural type")
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		switch {
		case v.IsNull():
			return cty.NilVal, fmt.Errorf("argument must not be null")
		case v.Type() == cty.String:
			return stdlib.Strlen(v)
		case v.Type().IsObjectType():
			return cty.NumberIntVal(int64(len(v.Type().AttributeTypes()))), nil
		}
		return v.Length(), nil
	},
})

func boolList(v cty.Value) ([]bool, error) {
	if v.IsNull() || !v.CanIterateElements() {
		return nil, fmt.Errorf("argument must be a list or set of bools")
	}
	var out []bool
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.Bool {
			return nil, fmt.Errorf("every element must be a bool")
		}
		out = append(out, e.True())
	}
	return out, nil
}

// alltrue and anytrue: whether every (or any) element is true. An empty
// list is all-true and not any-true, as in Terraform.
var (
	allTrueFunc = boolFold(false)
	anyTrueFunc = boolFold(true)
)

// boolFold returns a function that answers stopAt as soon as an element
// equals stopAt, and the opposite when none does.
func boolFold(stopAt bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			bs, err := boolList(args[0])
			if err != nil {
				return cty.NilVal, err
			}
			for _, b := range bs {
				if b == stopAt {
					return cty.BoolVal(stopAt), nil
				}
			}
			return cty.BoolVal(!stopAt), nil
		},
	})
}

var sumFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Number)}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		total := cty.Zero
		for it := args[0].ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return cty.NilVal, fmt.Errorf("argument must not contain null values")
			}
			total = total.Add(e)
		}
		return total, nil
	},
})

var oneFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		switch {
		case ty.IsListType() || ty.IsSetType():
			return ty.ElementType(), nil
		case ty.IsTupleType():
			ets := ty.TupleElementTypes()
			switch len(ets) {
			case 0:
				return cty.DynamicPseudoType, nil
			case 1:
				return ets[0], nil
			}
			return cty.NilType, fmt.Errorf("must be a list, set or tuple value with either zero or one elements")
		}
		return cty.NilType, fmt.Errorf("must be a list, set or tuple value with either zero or one elements")
	},
	Impl: func(args []cty.Value, ret cty.Type) (cty.Value, error) {
		v := args[0]
		if v.IsNull() {
			return cty.NilVal, fmt.Errorf("argument must not be null")
		}
		switch v.LengthInt() {
		case 0:
			return cty.NullVal(ret), nil
		case 1:
			it := v.ElementIterator()
			it.Next()
			_, e := it.Element()
			return e, nil
		}
		return cty.NilVal, fmt.Errorf("must be a list, set or tuple value with either zero or one elements")
	},
})

// readAtMost reads a regular file of at most max bytes.
func readAtMost(path string, max int64) ([]byte, error) {
	var b bytes.Buffer
	if err := readInto(&b, path, max, bytes.MinRead); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// readInto reads a regular file of at most max bytes into w, grown first
// for the file's size and slack more bytes (what w needs free to read the
// end of the file; a byte more tells a file past max): io.ReadAll grew its
// buffer from 512 bytes, and a 7 MB letters.json left twice its size as
// garbage.
func readInto(w interface {
	io.Writer
	Grow(int)
}, path string, max int64, slack int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	w.Grow(int(min(st.Size(), max)) + slack)
	n, err := io.Copy(w, io.LimitReader(f, max+1))
	if err != nil {
		return err
	}
	if n > max {
		return fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return nil
}

func readText(dir, p string) (string, error) {
	path, err := insidePath(dir, p)
	if err != nil {
		return "", err
	}
	// Read into the string's own memory: string(bytes) copied it again.
	var b strings.Builder
	if err := readInto(&b, path, maxReadFile, 1); err != nil {
		return "", fmt.Errorf("cannot read %q: %w", p, unwrapPathError(err))
	}
	if !utf8.ValidString(b.String()) {
		return "", fmt.Errorf("contents of %q are not valid UTF-8; use filesha256 or pdfpages for binary files", p)
	}
	return b.String(), nil
}

// unwrapPathError drops the absolute path an *os.PathError repeats.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func fileFunc(dir string) function.Function {
	return stringFunc([]string{"path"}, func(a []string) (cty.Value, error) {
		s, err := readText(dir, a[0])
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(s), nil
	}, cty.String)
}

func fileExistsFunc(dir string) function.Function {
	return stringFunc([]string{"path"}, func(a []string) (cty.Value, error) {
		path, err := insidePath(dir, a[0])
		if err != nil {
			return cty.NilVal, err
		}
		st, err := os.Stat(path)
		if err != nil {
			if os.IsNotExist(err) {
				return cty.False, nil
			}
			return cty.NilVal, fmt.Errorf("cannot stat %q: %w", a[0], unwrapPathError(err))
		}
		if !st.Mode().IsRegular() {
			return cty.NilVal, fmt.Errorf("%q is not a regular file", a[0])
		}
		return cty.True, nil
	}, cty.Bool)
}

func fileSHA256Func(dir string) function.Function {
	return stringFunc([]string{"path"}, func(a []string) (cty.Value, error) {
		path, err := insidePath(dir, a[0])
		if err != nil {
			return cty.NilVal, err
		}
		sum, _, err := hashFile(path, nil)
		if err != nil {
			return cty.NilVal, fmt.Errorf("cannot hash %q: %w", a[0], unwrapPathError(err))
		}
		return cty.StringVal(sum), nil
	}, cty.String)
}

func pdfPagesFunc(dir string) function.Function {
	return stringFunc([]string{"path"}, func(a []string) (cty.Value, error) {
		path, err := insidePath(dir, a[0])
		if err != nil {
			return cty.NilVal, err
		}
		n, _, err := PDFInfo(path)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%q: %w", a[0], unwrapPathError(err))
		}
		return cty.NumberIntVal(int64(n)), nil
	}, cty.Number)
}

func fileSetFunc(dir string) function.Function {
	return stringFunc([]string{"path", "pattern"}, func(a []string) (cty.Value, error) {
		root, err := insidePath(dir, a[0])
		if err != nil {
			return cty.NilVal, err
		}
		matches, err := fileSet(root, a[1])
		if err != nil {
			return cty.NilVal, err
		}
		if len(matches) == 0 {
			return cty.SetValEmpty(cty.String), nil
		}
		vals := make([]cty.Value, len(matches))
		for i, m := range matches {
			vals[i] = cty.StringVal(m)
		}
		return cty.SetVal(vals), nil
	}, cty.Set(cty.String))
}

// templateFileFunc renders a file as an HCL template. The variables are
// the attributes of the second argument, an object or a map.
func templateFileFunc(dir string, fns map[string]function.Function) function.Function {
	// A mail merge renders one template for every letter: it is read and
	// parsed once per Load (the functions are made per Load).
	// The variables a template refers to and the names checked valid are
	// kept too: checking a name scans it as HCL tokens, which for ten
	// thousand letters of the same CSV columns is most of the function.
	type parsed struct {
		expr hclsyntax.Expression
		refs []hcl.Traversal
		err  error
	}
	var mu sync.Mutex
	cache := map[string]parsed{}
	validNames := map[string]bool{}
	parse := func(p string) (parsed, error) {
		mu.Lock()
		defer mu.Unlock()
		if t, ok := cache[p]; ok {
			return t, t.err
		}
		var t parsed
		src, err := readText(dir, p)
		if err != nil {
			t.err = err
		} else if expr, diags := hclsyntax.ParseTemplate([]byte(src), p, hcl.InitialPos); diags.HasErrors() {
			t.err = fmt.Errorf("failed to parse template: %s", diags.Error())
		} else {
			t.expr, t.refs = expr, expr.Variables()
		}
		cache[p] = t
		return t, t.err
	}
	validName := func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		ok, seen := validNames[name]
		if !seen {
			ok = hclsyntax.ValidIdentifier(name)
			validNames[name] = ok
		}
		return ok
	}
	return function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			t, err := parse(p)
			if err != nil {
				return cty.NilVal, err
			}
			vars := args[1]
			if vars.IsNull() || !(vars.Type().IsObjectType() || vars.Type().IsMapType()) {
				return cty.NilVal, function.NewArgErrorf(1, "vars must be an object or a map")
			}
			ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: fns}
			for it := vars.ElementIterator(); it.Next(); {
				k, v := it.Element()
				name := k.AsString()
				if !validName(name) {
					return cty.NilVal, function.NewArgErrorf(1, "invalid template variable name %q: must start with a letter, followed by letters, digits, underscores or dashes", name)
				}
				ctx.Variables[name] = v
			}
			for _, ref := range t.refs {
				if _, ok := ctx.Variables[ref.RootName()]; !ok {
					r := ref.SourceRange()
					return cty.NilVal, fmt.Errorf("%s:%d,%d: vars has no attribute %q that the template refers to", p, r.Start.Line, r.Start.Column, ref.RootName())
				}
			}
			val, diags := t.expr.Value(ctx)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("failed to render template: %s", diags.Error())
			}
			if val.IsNull() {
				return cty.NilVal, fmt.Errorf("template result is null")
			}
			val, err = convertString(val)
			if err != nil {
				return cty.NilVal, fmt.Errorf("template result: %w", err)
			}
			return val, nil
		},
	})
}
