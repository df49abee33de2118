import CCmarkGFM
import Foundation

/// CommonMark + GitHub's extensions (tables, strikethrough, autolinks) with cmark-gfm, GitHub's reference
/// implementation: linear time, no recursion on nesting, fuzzed continuously upstream.
///
/// It renders in cmark's safe mode (`CMARK_OPT_UNSAFE` off): link and image URLs with a `javascript:`,
/// `vbscript:`, `file:` or `data:` scheme are emptied, and raw HTML is never passed through as it is. The tag filter
/// extension is attached too (it only acts on raw HTML in unsafe mode, so it is a second line should that change).
/// Raw HTML that the recipe does contain (inline tags and HTML blocks) is handed to `rawHTML` and replaced by
/// what it returns — `ProseHTML` passes the allowed tags, rebuilt, and shows everything else as text.
enum Markdown {
    /// The extensions registered once per process (registration is not thread-safe, `static let` is).
    private static let registered: Void = { cmark_gfm_core_extensions_ensure_registered() }()
    static let extensionNames = ["table", "strikethrough", "autolink", "tagfilter"]

    /// The most table cells (columns × lines) a prose block may lay out: a table pads every row to the header's
    /// width, so 40 KB of text can ask for a million cells (20 MB of HTML). Beyond it the table extension is off.
    static let maxTableCells = 100_000
    /// The longest run of non-blank characters for which autolinks are recognised: Debian's cmark-gfm
    /// (0.29.0.gfm.6) scans `www.` and e-mail candidates to the end of the run, quadratic in its length
    /// (80 KB of `www.a_b_` took 3.5 s).
    static let maxAutolinkRun = 1000
    /// Bytes of one prose block (between two cells): the core inline parser of that version is still superlinear
    /// on some bracket patterns (`![[]()` repeated: 120 KB took 1.3 s, 240 KB 6 s), so a block is bounded.
    static let maxProseBytes = 128 * 1024

    /// The extensions used for `text`: all four, less those whose known worst cases the text could reach.
    static func extensions(for text: String) -> [String] {
        var lines = 1, pipes = 0, maxPipes = 0, run = 0, maxRun = 0
        for c in text.utf8 {
            switch c {
            case 0x0A:
                lines += 1; maxPipes = max(maxPipes, pipes); pipes = 0; maxRun = max(maxRun, run); run = 0
            case 0x20, 0x09, 0x0D:
                maxRun = max(maxRun, run); run = 0
            case UInt8(ascii: "|"):
                pipes += 1; run += 1
            default:
                run += 1
            }
        }
        maxPipes = max(maxPipes, pipes); maxRun = max(maxRun, run)
        return extensionNames.filter { name in
            switch name {
            case "table": return (maxPipes + 1) * lines <= maxTableCells
            case "autolink": return maxRun <= maxAutolinkRun
            default: return true
            }
        }
    }

    static func html(_ markdown: String, rawHTML: (String) -> String) -> String {
        _ = registered
        let options = CMARK_OPT_DEFAULT
        guard let parser = cmark_parser_new(options) else { return "" }
        defer { cmark_parser_free(parser) }
        for name in extensions(for: markdown) {
            if let ext = cmark_find_syntax_extension(name) { cmark_parser_attach_syntax_extension(parser, ext) }
        }
        var text = markdown
        text.withUTF8 { u in u.withMemoryRebound(to: CChar.self) { cmark_parser_feed(parser, $0.baseAddress, $0.count) } }
        guard let document = cmark_parser_finish(parser) else { return "" }
        defer { cmark_node_free(document) }
        replaceRawHTML(in: document, with: rawHTML)
        guard let out = cmark_render_html(document, options, cmark_parser_get_syntax_extensions(parser)) else { return "" }
        defer { free(out) }
        return String(cString: out)
    }

    /// Replaces every raw HTML node by a custom node of the same kind (inline or block) whose text is
    /// `rawHTML(literal)`; custom nodes are written out as they are. Nodes are collected first and replaced after
    /// the walk, since the iterator must not see its current node unlinked.
    private static func replaceRawHTML(in document: OpaquePointer, with rawHTML: (String) -> String) {
        var found: [OpaquePointer] = []
        guard let iter = cmark_iter_new(document) else { return }
        while true {
            let event = cmark_iter_next(iter)
            if event == CMARK_EVENT_DONE { break }
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iter) else { continue }
            let type = cmark_node_get_type(node)
            if type == CMARK_NODE_HTML_INLINE || type == CMARK_NODE_HTML_BLOCK { found.append(node) }
        }
        cmark_iter_free(iter)
        for node in found {
            let inline = cmark_node_get_type(node) == CMARK_NODE_HTML_INLINE
            let literal = cmark_node_get_literal(node).map { String(cString: $0) } ?? ""
            guard let custom = cmark_node_new(inline ? CMARK_NODE_CUSTOM_INLINE : CMARK_NODE_CUSTOM_BLOCK) else { continue }
            var text = rawHTML(literal)
            if !inline, !text.hasSuffix("\n") { text += "\n" }
            cmark_node_set_on_enter(custom, text)
            if cmark_node_replace(node, custom) != 0 {
                cmark_node_free(node)
            } else {
                // Not replaceable (never expected): drop the raw HTML rather than render it.
                cmark_node_free(custom)
                cmark_node_unlink(node)
                cmark_node_free(node)
            }
        }
    }
}
