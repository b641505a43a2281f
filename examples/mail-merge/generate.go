// Package mailmerge is the mail-merge example; it holds no code of its own,
// only the directive that generates the example's letters:
//
//	go generate ./examples/mail-merge
package mailmerge

//go:generate go run gen.go
