package httpapi

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/plaintext"
)

// checkText refuses a text field that the gateway's text rule refuses
// (package plaintext: no control or bidirectional formatting character;
// tab and line breaks only in a multi-line field) with a validation_failed
// problem naming field. Every text field a portal or a citizen sends goes
// through it or through payment.Validate, which applies the same rule.
func checkText(field, v string, k plaintext.Kind) error {
	if msg := plaintext.Problem(field, v, k); msg != "" {
		return fault.Field(fault.ValidationFailed, field, msg)
	}
	return nil
}

// pathID returns the path parameter name, an object's id. No id holds a
// control character, so one that does names no object: not_found, rather
// than a query PostgreSQL would refuse.
func pathID(c *gin.Context, name string) (string, error) {
	v := c.Param(name)
	if _, _, bad := plaintext.Find(v, plaintext.OneLine); bad {
		return "", fault.New(fault.NotFound, "no such object")
	}
	return v, nil
}

// exactFields refuses object members whose names are not exactly a field
// of t (PROTOCOL.md §1: unknown fields are refused). encoding/json matches
// names without regard to case, so "Amount" would otherwise pass as
// "amount". path names the member for the problem's errors list.
func exactFields(raw json.RawMessage, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil // not an object: the decoder reports the type
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
		}
		for name, val := range obj {
			ft, ok := fields[name]
			field := joinPath(path, name)
			if !ok {
				return fault.Field(fault.InvalidRequest, field, "unknown field "+field)
			}
			if err := exactFields(val, ft, field); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // json.RawMessage
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, item := range items {
			if err := exactFields(item, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
