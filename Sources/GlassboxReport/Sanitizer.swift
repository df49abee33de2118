import Foundation
import Ink

/// Markdown prose → safe HTML. Ink passes raw HTML through, so its output is filtered: only the tags Ink itself
/// produces for Markdown survive, with a few harmless attributes; every other tag (`<script>`, `<iframe>`,
/// `<style>`, event handlers, `javascript:` links, images from other hosts) is written out as visible text.
public enum ProseHTML {
    static let plainTags: Set<String> = ["p", "br", "hr", "em", "strong", "b", "i", "s", "del", "code", "pre", "blockquote",
                                         "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
                                         "tr", "th", "td", "a", "img", "sup", "sub"]

    /// Renders Markdown with Ink and sanitises the result.
    public static func render(_ markdown: String) -> String {
        // Ink reads a leading '---' line (after blank lines too) as the start of a metadata block, and crashes when the
        // block never closes. Prose has no metadata: a first line of dashes is a thematic break, written as '***' (Ink reads no
        // spaces between the stars).
        var lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let i = lines.firstIndex(where: { !$0.allSatisfy(\.isWhitespace) }), lines[i].hasPrefix("---"),
           lines[i].allSatisfy({ $0 == "-" || $0 == " " || $0 == "\t" }) {
            lines[i] = "***"
        }
        return sanitize(MarkdownParser().html(from: lines.joined(separator: "\n")))
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Keeps allowed tags (rebuilt with allowed attributes only) and escapes everything else that looks like markup.
    public static func sanitize(_ html: String) -> String {
        let chars = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "<" {
                if let (tag, end) = parseTag(chars, i) {
                    if let rebuilt = rebuild(tag) {
                        out.append(contentsOf: rebuilt.unicodeScalars)
                    } else {
                        out.append(contentsOf: escape(String(String.UnicodeScalarView(chars[i..<end]))).unicodeScalars)
                    }
                    i = end
                    continue
                }
                out.append(contentsOf: "&lt;".unicodeScalars)
            } else if c == ">" {
                out.append(contentsOf: "&gt;".unicodeScalars)
            } else {
                out.append(c)
            }
            i += 1
        }
        return String(out)
    }

    struct Tag {
        var name: String
        var closing: Bool
        var attributes: [(String, String)]
    }

    /// Parses `<name attr="v" …>` or `</name>` starting at `start`; returns the tag and the index after '>'.
    static func parseTag(_ s: [Unicode.Scalar], _ start: Int) -> (Tag, Int)? {
        var i = start + 1
        var closing = false
        if i < s.count, s[i] == "/" { closing = true; i += 1 }
        func isNameChar(_ c: Unicode.Scalar) -> Bool { CharacterSet.alphanumerics.contains(c) || c == "-" || c == ":" }
        let nameStart = i
        guard i < s.count, CharacterSet.letters.contains(s[i]) else {
            // Comments, doctype and processing instructions are escaped as a whole.
            if !closing, i < s.count, s[i] == "!" || s[i] == "?" {
                guard let gt = s[i...].firstIndex(of: ">") else { return nil }
                return (Tag(name: "!", closing: false, attributes: []), gt + 1)
            }
            return nil
        }
        while i < s.count, isNameChar(s[i]) { i += 1 }
        let name = String(String.UnicodeScalarView(s[nameStart..<i])).lowercased()
        var attrs: [(String, String)] = []
        while i < s.count {
            while i < s.count, CharacterSet.whitespacesAndNewlines.contains(s[i]) { i += 1 }
            guard i < s.count else { return nil }
            if s[i] == ">" { return (Tag(name: name, closing: closing, attributes: attrs), i + 1) }
            if s[i] == "/" { i += 1; continue }
            let aStart = i
            while i < s.count, !CharacterSet.whitespacesAndNewlines.contains(s[i]), s[i] != "=", s[i] != ">", s[i] != "/" { i += 1 }
            let aName = String(String.UnicodeScalarView(s[aStart..<i])).lowercased()
            guard !aName.isEmpty else { return nil }
            while i < s.count, CharacterSet.whitespacesAndNewlines.contains(s[i]) { i += 1 }
            var value = ""
            if i < s.count, s[i] == "=" {
                i += 1
                while i < s.count, CharacterSet.whitespacesAndNewlines.contains(s[i]) { i += 1 }
                guard i < s.count else { return nil }
                if s[i] == "\"" || s[i] == "'" {
                    let q = s[i]
                    guard let close = s[(i + 1)...].firstIndex(of: q) else { return nil }
                    value = String(String.UnicodeScalarView(s[(i + 1)..<close]))
                    i = close + 1
                } else {
                    let vStart = i
                    while i < s.count, !CharacterSet.whitespacesAndNewlines.contains(s[i]), s[i] != ">" { i += 1 }
                    value = String(String.UnicodeScalarView(s[vStart..<i]))
                }
            }
            attrs.append((aName, value))
        }
        return nil
    }

    /// The tag as it may appear in a report, or nil when it must be shown as text.
    static func rebuild(_ tag: Tag) -> String? {
        guard plainTags.contains(tag.name) else { return nil }
        if tag.closing { return "</\(tag.name)>" }
        var kept: [(String, String)] = []
        for (name, value) in tag.attributes {
            switch (tag.name, name) {
            case ("a", "href"):
                guard isSafeLink(value) else { continue }
                kept.append((name, value))
            case ("img", "src"):
                guard isRelative(value) else { return nil }
                kept.append((name, value))
            case ("a", "title"), ("img", "alt"), ("img", "title"):
                kept.append((name, value))
            case ("code", "class"):
                if value.hasPrefix("language-"), value.dropFirst(9).allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "+" || $0 == "_" }) {
                    kept.append((name, value))
                }
            case ("th", "align"), ("td", "align"):
                if ["left", "right", "center"].contains(value) { kept.append(("style", "text-align:\(value)")) }
            case ("ol", "start"):
                if Int(value) != nil { kept.append((name, value)) }
            default:
                continue
            }
        }
        if tag.name == "img", !kept.contains(where: { $0.0 == "src" }) { return nil }
        let attrs = kept.map { " \($0.0)=\"\(attributeEscape($0.1))\"" }.joined()
        let selfClosing = ["br", "hr", "img"].contains(tag.name)
        return "<\(tag.name)\(attrs)\(selfClosing ? "/" : "")>"
    }

    /// Attribute text with quotes and brackets escaped; '@' too, so cross-reference replacement never reaches into it.
    static func attributeEscape(_ v: String) -> String {
        var out = ""
        for c in v {
            switch c {
            case "\"": out += "&quot;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&#39;"
            case "@": out += "&#64;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A link that does not run code: relative, a fragment, or http(s)/mailto.
    static func isSafeLink(_ v: String) -> Bool {
        let t = v.trimmingCharacters(in: .whitespaces).lowercased()
        if isRelative(t) { return true }
        return t.hasPrefix("https://") || t.hasPrefix("http://") || t.hasPrefix("mailto:")
    }

    /// No scheme and no host: the browser never leaves the report's folder for it.
    static func isRelative(_ v: String) -> Bool {
        let t = v.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("//") || t.hasPrefix("\\") { return false }
        if let colon = t.firstIndex(of: ":") {
            let slash = t.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" })
            if slash == nil || colon < slash! { return false }
        }
        return true
    }
}
