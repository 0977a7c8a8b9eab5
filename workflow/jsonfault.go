package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// JSONFault says, for the person who sent it, why encoding/json refused a
// value decoded into certflow's types: the member it concerns (a dotted
// path from the value decoded, "" for the whole) and what is wrong, in
// JSON's terms rather than Go's. ok is false for an error that is not
// about the JSON (a read failure, say).
func JSONFault(err error) (field, reason string, ok bool) {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	const unknown = "json: unknown field "
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", "malformed JSON: it ends too early", true
	case errors.As(err, &syntax):
		return "", fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: ")), true
	case errors.As(err, &typ):
		field = strings.TrimPrefix(typ.Field, ".")
		if typ.Type == reflect.TypeFor[Date]() {
			return field, fmt.Sprintf("%s is not a date: want \"YYYY-MM-DD\"", strings.TrimPrefix(typ.Value, "string ")), true
		}
		return field, fmt.Sprintf("want a JSON %s, got %s", jsonKind(typ.Type), typ.Value), true
	case strings.HasPrefix(err.Error(), unknown):
		return strings.Trim(strings.TrimPrefix(err.Error(), unknown), `"`), "unknown member", true
	}
	return "", "", false
}

// jsonKind names what JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "number"
}
