// Package rewrite edits HTML on its way to the browser by splicing: it
// indexes a page once with a fast scanner, finds elements with CSS
// selectors, and writes a copy in which only the edited ranges differ from
// the shop's bytes. Nothing is re-serialized, so entities, attribute quoting,
// white space and markup the scanner does not understand reach the visitor
// exactly as the shop sent them.
//
// Files:
//   - scan.go: the tokenizer (tags, comments, raw text, script escapes).
//   - elements.go: what the tree builder knows about each element.
//   - tree.go: Doc, the element tree with byte offsets, and the rules that
//     mark where a browser could build a different tree (misnesting, implied
//     elements, foster parenting, formatting elements left open, forms,
//     tables in a p in quirks mode), so that no edit relies on them.
//   - element.go: Element, selection with CSS matchers, text and attributes.
//   - edit.go: Splice, edits by byte offset spliced into a copy, and
//     Editor, which reorders elements after CanReorder's checks.
//   - insert.go: Site, the only way to find where bytes may be inserted or
//     replaced: where a block may go relative to an element (before, after,
//     prepend, append, replace), the end of the head and of the body, an
//     element's content (ContentSite) and one attribute of its start tag
//     (AttrSite), each refused where a browser would build the page
//     differently.
//
// rewrite knows nothing of what is inserted: the markup comes from the
// caller (shopedge's own is in rewrite/markup). It imports nothing else of
// shopedge. rewrite/golden is test support for the packages above it: a
// golden file compared, or rewritten with -update.
package rewrite
