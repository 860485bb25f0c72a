package markup

import (
	"strings"
	"testing"
)

// TestRenderPreviewBadge: the badge names the segment and links to the
// end of the preview, escaping both.
func TestRenderPreviewBadge(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		data        PreviewBadge
		want, never []string
	}{
		{"plain", PreviewBadge{Segment: "customer", Close: "/_shopedge/preview/end?next=%2Fc%2Fshoes"},
			[]string{`preview: <b>customer</b>`, `href="/_shopedge/preview/end?next=%2Fc%2Fshoes"`, `class="se-preview"`}, nil},
		{"hostile", PreviewBadge{Segment: `<script>x</script>`, Close: "javascript:alert(1)"},
			[]string{"&lt;script&gt;", `href="#ZgotmplZ"`}, []string{"<script>", "javascript:"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := RenderPreviewBadge([]byte("x"), tt.data)
			if err != nil {
				t.Fatal(err)
			}
			s := string(out)
			if !strings.HasPrefix(s, "x<div") {
				t.Errorf("not appended: %q", s)
			}
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("lacks %q:\n%s", w, s)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(s, n) {
					t.Errorf("contains %q:\n%s", n, s)
				}
			}
		})
	}
	css, err := Stylesheet(Theme{Accent: "#000000", AccentText: "#ffffff", Background: "#ffffff", Text: "#000000"})
	if err != nil || !strings.Contains(string(css), ".se-preview{") {
		t.Errorf("the stylesheet has no badge style (%v)", err)
	}
}
