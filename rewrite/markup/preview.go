package markup

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
)

//go:embed templates/preview.html
var previewTemplates embed.FS

var previewTmpl = template.Must(template.ParseFS(previewTemplates, "templates/preview.html"))

// PreviewBadge is what the preview badge reads: the segment previewed and
// the address that ends the preview (the badge's × link).
type PreviewBadge struct {
	Segment string
	Close   string
}

// RenderPreviewBadge appends the "preview: NAME" badge to dst: a small
// fixed box styled by the stylesheet (.se-preview), with a plain link
// that ends the preview (no script). Everything from data is escaped.
func RenderPreviewBadge(dst []byte, data PreviewBadge) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := previewTmpl.ExecuteTemplate(buf, "badge", data); err != nil {
		return dst, fmt.Errorf("render preview badge: %w", err)
	}
	return buf.Bytes(), nil
}
