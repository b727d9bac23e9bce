package main

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxBy bounds an operator's name, in characters.
const maxBy = 200

// errByRequired is the refusal of a mutating command that names no
// operator; nothing has changed when it is returned.
var errByRequired = errors.New("--by NAME is required: who makes this change (it is logged, and kept in the audit log once PROTOCOL.md §13 lands)")

// takeBy removes --by NAME (or --by=NAME) from a mutating command's
// arguments, before the command parses the rest, and checks it: required,
// non-blank, at most maxBy characters, on one line. It stops at "--".
func takeBy(args []string) (by string, rest []string, err error) {
	found := false
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "by" {
			rest = append(rest, a)
			continue
		}
		if found {
			return "", nil, errors.New("--by: give it once")
		}
		found = true
		if !hasValue {
			if i+1 >= len(args) {
				return "", nil, errByRequired
			}
			i++
			value = args[i]
		}
		by = value
	}
	if !found {
		return "", nil, errByRequired
	}
	by = strings.TrimSpace(by)
	switch {
	case by == "":
		return "", nil, errors.New("--by: must not be blank")
	case !utf8.ValidString(by) || utf8.RuneCountInString(by) > maxBy:
		return "", nil, fmt.Errorf("--by: at most %d characters", maxBy)
	case strings.IndexFunc(by, unicode.IsControl) >= 0:
		return "", nil, errors.New("--by: one line, without control characters")
	}
	return by, rest, nil
}
