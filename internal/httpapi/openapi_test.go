package httpapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"certflow/workflow"
)

// openAPIDoc fetches and decodes the served document.
func openAPIDoc(t *testing.T, f *fixture) map[string]any {
	t.Helper()
	r := f.do(t, "GET", "/api/v1/openapi.json", "", "")
	var doc map[string]any
	r.decode(t, http.StatusOK, &doc)
	return doc
}

// chiParam matches a chi route parameter, with an optional regexp.
var chiParam = regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)

// TestOpenAPIMatchesRoutes checks every (method, route) the router serves is
// in the document's paths, and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var routes []string
	err := chi.Walk(f.api.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = chiParam.ReplaceAllString(route, "{$1}")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		routes = append(routes, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	paths := openAPIDoc(t, f)["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(routes)
	sort.Strings(documented)
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.json documents %s, which no route serves", d)
		}
	}
	if len(routes) < 18 {
		t.Errorf("walked only %d routes: %v", len(routes), routes)
	}
}

// TestOpenAPIComplete checks the document's internal consistency: every
// $ref resolves, every operation answers with problem+json errors and is
// secured unless public, and the event enum is every path's events.
func TestOpenAPIComplete(t *testing.T) {
	t.Parallel()
	f := setup(t)
	doc := openAPIDoc(t, f)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi %v, want 3.1.0", doc["openapi"])
	}

	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if resolve(doc, ref) == nil {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, w := range v {
				walk(w)
			}
		case []any:
			for _, w := range v {
				walk(w)
			}
		}
	}
	walk(doc)

	for path, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			name := strings.ToUpper(method) + " " + path
			if op["operationId"] == nil || op["summary"] == nil {
				t.Errorf("%s: no operationId or summary", name)
			}
			responses := op["responses"].(map[string]any)
			if responses["500"] == nil {
				t.Errorf("%s: no 500 answer", name)
			}
			public := op["security"] != nil
			if !public && responses["401"] == nil {
				t.Errorf("%s: needs a token but documents no 401", name)
			}
			if (method == "post" || method == "put") && op["requestBody"] == nil {
				t.Errorf("%s: no request body", name)
			}
			for _, p := range chiParam.FindAllStringSubmatch(path, -1) {
				params, _ := op["parameters"].([]any)
				if !slices.ContainsFunc(params, func(v any) bool {
					m := v.(map[string]any)
					return m["in"] == "path" && m["name"] == p[1]
				}) {
					t.Errorf("%s: path parameter %s undocumented", name, p[1])
				}
			}
		}
	}

	sec := resolve(doc, "#/components/securitySchemes/bearerAuth").(map[string]any)
	if sec["type"] != "http" || sec["scheme"] != "bearer" {
		t.Errorf("bearerAuth %v", sec)
	}
	problem := resolve(doc, "#/components/schemas/Problem").(map[string]any)["properties"].(map[string]any)
	for _, k := range []string{"type", "title", "status", "detail", "instance", "field", "violations", "articles"} {
		if problem[k] == nil {
			t.Errorf("Problem schema lacks %s", k)
		}
	}

	var want []string
	for _, p := range workflow.AllPaths() {
		for _, e := range p.Events {
			if !slices.Contains(want, string(e.Name)) {
				want = append(want, string(e.Name))
			}
		}
	}
	sort.Strings(want)
	var got []string
	for _, v := range resolve(doc, "#/components/schemas/FireRequest/properties/event/enum").([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, want) {
		t.Errorf("event enum %v, want %v", got, want)
	}
	required := resolve(doc, "#/components/schemas/FireRequest/required").([]any)
	if !slices.Contains(required, any("expected_version")) || !slices.Contains(required, any("event")) {
		t.Errorf("FireRequest requires %v", required)
	}
}

// resolve follows a local JSON pointer (#/a/b) in doc, or returns nil.
func resolve(doc map[string]any, ref string) any {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		cur = m[part]
	}
	return cur
}

// TestEnumsValid checks the value lists this package keeps against the
// domain's own checks.
func TestEnumsValid(t *testing.T) {
	for _, v := range unitKinds {
		if !v.Valid() {
			t.Errorf("unit kind %q invalid", v)
		}
	}
	for _, v := range educations {
		if !v.Valid() {
			t.Errorf("education %q invalid", v)
		}
	}
	for _, v := range trainings {
		if !v.Valid() {
			t.Errorf("training kind %q invalid", v)
		}
	}
	for _, v := range categories {
		if !v.Valid() {
			t.Errorf("category %q invalid", v)
		}
	}
	for _, v := range certificateStates {
		// Every state is a source or a target of some lifecycle event.
		ok := false
		for _, ev := range []workflow.CertificateEvent{workflow.CertEventReceive, workflow.CertEventSuspend, workflow.CertEventRestore,
			workflow.CertEventReturn, workflow.CertEventCancel, workflow.CertEventLose, workflow.CertEventVoid, workflow.CertEventRecovery} {
			if _, err := workflow.NextCertificateState(v, ev); err == nil {
				ok = true
			}
			for _, from := range certificateStates {
				if to, err := workflow.NextCertificateState(from, ev); err == nil && to == v {
					ok = true
				}
			}
		}
		if !ok {
			t.Errorf("certificate state %q is not in the lifecycle table", v)
		}
	}
	for _, k := range certificateKinds {
		if k.Label() == string(k) {
			t.Errorf("certificate kind %q has no label", k)
		}
	}
}

// TestOpenAPIStable checks building the document twice gives the same
// bytes, so it can be cached and diffed.
func TestOpenAPIStable(t *testing.T) {
	a, err := buildOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("two builds differ")
	}
	if !json.Valid(a) {
		t.Error("invalid JSON")
	}
}

// bodylessAnswers are the operations that refuse a bodiless request with
// another status than 400, before they read the body.
var bodylessAnswers = map[string]int{
	"POST /api/v1/session":                  http.StatusUnsupportedMediaType,
	"POST /api/v1/public/complaints":        http.StatusServiceUnavailable,
	"POST /api/v1/public/complaints/status": http.StatusServiceUnavailable,
}

// TestOpenAPIBodies checks each documented request body against the
// handler: sent without a body, an operation whose body is required
// answers 400, and one whose body is optional does not — on an object that
// does not exist it gets as far as 404.
func TestOpenAPIBodies(t *testing.T) {
	t.Parallel()
	f := setup(t)
	optional := 0
	for path, item := range openAPIDoc(t, f)["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			body, ok := o.(map[string]any)["requestBody"].(map[string]any)
			if !ok {
				continue
			}
			url := chiParam.ReplaceAllString(path, "999999999")
			r := f.do(t, strings.ToUpper(method), url, clerkToken, "")
			name := strings.ToUpper(method) + " " + path
			if body["required"] == true {
				// Logging in takes JSON only, so no body is 415 there; the
				// fixture keeps the public complaint intake closed (503).
				if want := bodylessAnswers[name]; want != 0 {
					if r.status != want {
						t.Errorf("%s without its required body: %d, want %d; %s", name, r.status, want, r.body)
					}
				} else if r.status != http.StatusBadRequest {
					t.Errorf("%s without its required body: %d, want 400; %s", name, r.status, r.body)
				}
				continue
			}
			optional++
			if r.status == http.StatusBadRequest {
				t.Errorf("%s: its body is documented optional, yet leaving it out is 400: %s", name, r.body)
			}
		}
	}
	if optional < 5 {
		t.Errorf("%d operations with an optional body, want claim, unclaim, remind, revoke and acknowledge", optional)
	}
}
