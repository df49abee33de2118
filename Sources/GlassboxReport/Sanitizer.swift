import Foundation

/// Markdown prose → safe HTML.
///
/// cmark-gfm renders the Markdown in safe mode (see `Markdown`); raw HTML in the prose is not trusted: only the tags
/// Markdown itself produces survive, rebuilt with a few harmless attributes, and every other tag (`<script>`,
/// `<iframe>`, `<style>`, comments) is written out as visible text. The whole page fragment then goes through
/// `sanitize` once more. The promise "links may not run code, images must be files of the report" is checked on
/// URLs as the browser will read them: character references decoded, tabs and newlines removed, surrounding
/// control characters trimmed, percent-escapes decoded and the scheme case-folded. The value that was checked is
/// the value written out, fully escaped, so the browser cannot decode it into anything else.
public enum ProseHTML {
    static let plainTags: Set<String> = ["p", "br", "hr", "em", "strong", "b", "i", "s", "del", "code", "pre", "blockquote",
                                         "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
                                         "tr", "th", "td", "a", "img", "sup", "sub"]

    /// Renders Markdown with cmark-gfm and sanitises the result.
    public static func render(_ markdown: String) -> String {
        sanitize(Markdown.html(markdown, rawHTML: sanitize))
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
    /// Works on UTF-8 bytes (all markup is ASCII) in linear time: a tag never spans a `<`, so each attempt to read
    /// one stops at the next `<`.
    public static func sanitize(_ html: String) -> String {
        let s = Array(html.utf8)
        let n = s.count
        // nextGT[i]: index of the first '>' at or after i (n when none), for comments in O(1).
        var nextGT = [Int](repeating: n, count: n + 1)
        var i = n - 1
        while i >= 0 { nextGT[i] = s[i] == UInt8(ascii: ">") ? i : nextGT[i + 1]; i -= 1 }
        var out: [UInt8] = []
        out.reserveCapacity(n + n / 8)
        i = 0
        while i < n {
            let c = s[i]
            if c == UInt8(ascii: "<") {
                if let (tag, end) = parseTag(s, i, nextGT: nextGT) {
                    if let rebuilt = rebuild(tag) {
                        out.append(contentsOf: rebuilt.utf8)
                    } else {
                        out.append(contentsOf: escape(String(decoding: s[i..<end], as: UTF8.self)).utf8)
                    }
                    i = end
                    continue
                }
                out.append(contentsOf: "&lt;".utf8)
            } else if c == UInt8(ascii: ">") {
                out.append(contentsOf: "&gt;".utf8)
            } else {
                out.append(c)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    struct Tag {
        var name: String
        var closing: Bool
        /// Attribute names (lower case) and values with character references decoded.
        var attributes: [(String, String)]
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D }
    @inline(__always) static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Parses `<name attr="v" …>` or `</name>` starting at `start`; returns the tag and the index after '>'.
    /// A `<` before the closing `>` (even in a quoted value) means this is not a tag.
    static func parseTag(_ s: [UInt8], _ start: Int, nextGT: [Int]) -> (Tag, Int)? {
        let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">"), slash = UInt8(ascii: "/"), eq = UInt8(ascii: "=")
        var i = start + 1
        var closing = false
        if i < s.count, s[i] == slash { closing = true; i += 1 }
        let nameStart = i
        guard i < s.count, isLetter(s[i]) else {
            // Comments, doctype and processing instructions are escaped as a whole.
            if !closing, i < s.count, s[i] == UInt8(ascii: "!") || s[i] == UInt8(ascii: "?") {
                let end = nextGT[i]
                guard end < s.count else { return nil }
                return (Tag(name: "!", closing: false, attributes: []), end + 1)
            }
            return nil
        }
        while i < s.count, isLetter(s[i]) || isDigit(s[i]) || s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: ":") { i += 1 }
        let name = String(decoding: s[nameStart..<i], as: UTF8.self).lowercased()
        var attrs: [(String, String)] = []
        while i < s.count {
            while i < s.count, isSpace(s[i]) { i += 1 }
            guard i < s.count, s[i] != lt else { return nil }
            if s[i] == gt { return (Tag(name: name, closing: closing, attributes: attrs), i + 1) }
            if s[i] == slash { i += 1; continue }
            let aStart = i
            while i < s.count, !isSpace(s[i]), s[i] != eq, s[i] != gt, s[i] != slash, s[i] != lt { i += 1 }
            let aName = String(decoding: s[aStart..<i], as: UTF8.self).lowercased()
            guard !aName.isEmpty else { return nil }
            while i < s.count, isSpace(s[i]) { i += 1 }
            var value = ""
            if i < s.count, s[i] == eq {
                i += 1
                while i < s.count, isSpace(s[i]) { i += 1 }
                guard i < s.count else { return nil }
                if s[i] == UInt8(ascii: "\"") || s[i] == UInt8(ascii: "'") {
                    let q = s[i]
                    var close = i + 1
                    while close < s.count, s[close] != q, s[close] != lt { close += 1 }
                    guard close < s.count, s[close] == q else { return nil }
                    value = String(decoding: s[(i + 1)..<close], as: UTF8.self)
                    i = close + 1
                } else {
                    let vStart = i
                    while i < s.count, !isSpace(s[i]), s[i] != gt, s[i] != lt { i += 1 }
                    value = String(decoding: s[vStart..<i], as: UTF8.self)
                }
            }
            attrs.append((aName, decodeReferences(value)))
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
                guard isReportFile(value) else { return nil }
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

    /// Attribute text with `&`, quotes and brackets escaped, so the browser reads back exactly this value; '@' too,
    /// so cross-reference replacement never reaches into it.
    static func attributeEscape(_ v: String) -> String {
        var out = ""
        for c in v {
            switch c {
            case "&": out += "&amp;"
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

    // MARK: URLs as the browser reads them

    /// A link that does not run code: relative, a fragment, or http(s)/mailto.
    static func isSafeLink(_ v: String) -> Bool {
        let u = urlForChecking(v)
        if let scheme = scheme(of: u) { return ["http", "https", "mailto"].contains(scheme) }
        return !u.hasPrefix("//")
    }

    /// A file of the report: no scheme, no host, not absolute, no `..` segment.
    static func isReportFile(_ v: String) -> Bool {
        let u = urlForChecking(v)
        guard !u.isEmpty, scheme(of: u) == nil, !u.hasPrefix("/") else { return false }
        let path = u.split(whereSeparator: { $0 == "?" || $0 == "#" }).first.map(String.init) ?? ""
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }

    /// The URL as a browser's URL parser sees it, made stricter for checking: ASCII tab and newlines removed
    /// everywhere, leading and trailing control characters and spaces trimmed, percent-escapes decoded, backslashes
    /// read as slashes (as browsers do for http URLs), and lower-cased.
    static func urlForChecking(_ v: String) -> String {
        var scalars = v.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }
        while let f = scalars.first, f.value <= 0x20 { scalars.removeFirst() }
        while let l = scalars.last, l.value <= 0x20 { scalars.removeLast() }
        let decoded = percentDecode(String(String.UnicodeScalarView(scalars)))
        return decoded.replacingOccurrences(of: "\\", with: "/").lowercased()
    }

    /// The scheme of a URL (the part before the first ':' when it is a letter followed by letters, digits, '+',
    /// '-' or '.'), or nil for a relative URL.
    static func scheme(of u: String) -> String? {
        guard let colon = u.firstIndex(of: ":") else { return nil }
        let head = u[..<colon]
        guard let first = head.unicodeScalars.first, first.isASCII, CharacterSet.letters.contains(first),
              head.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "+-.".unicodeScalars.contains($0)) })
        else { return nil }
        return String(head)
    }

    /// `%XX` escapes decoded (repeatedly, so `%253A` cannot hide a ':' either); invalid UTF-8 becomes U+FFFD.
    static func percentDecode(_ s: String) -> String {
        var current = s
        for _ in 0..<4 {
            guard current.contains("%") else { return current }
            var bytes: [UInt8] = []
            let u = Array(current.utf8)
            var i = 0
            while i < u.count {
                if u[i] == 0x25, i + 2 < u.count, let h = hexValue(u[i + 1]), let l = hexValue(u[i + 2]) {
                    bytes.append(h << 4 | l); i += 3
                } else {
                    bytes.append(u[i]); i += 1
                }
            }
            let next = String(decoding: bytes, as: UTF8.self)
            if next == current { return current }
            current = next
        }
        return current
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// Named character references decoded in attribute values: the ones HTML writers produce and the ones that
    /// spell URL punctuation. (A name not listed stays as text and is escaped on output, so the browser reads it as
    /// the literal text too — never as a character this check did not see.)
    static let namedReferences: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "colon": ":", "sol": "/",
        "bsol": "\\", "tab": "\t", "newline": "\n", "period": ".", "comma": ",", "semi": ";", "num": "#", "excl": "!",
        "quest": "?", "equals": "=", "plus": "+", "percnt": "%", "commat": "@", "lowbar": "_", "hyphen": "-",
        "dash": "-", "lpar": "(", "rpar": ")", "lsqb": "[", "rsqb": "]", "lbrack": "[", "rbrack": "]",
        "lcub": "{", "rcub": "}", "lbrace": "{", "rbrace": "}", "ast": "*", "midast": "*", "dollar": "$",
        "grave": "`", "vert": "|", "verbar": "|", "hat": "^", "tilde": "~",
    ]

    /// Decodes character references: `&#NN;`, `&#xHH;` (the `;` optional, as browsers accept) and the names in
    /// `namedReferences` (case-insensitive, with `;`, and `amp lt gt quot` without it, as browsers accept).
    static func decodeReferences(_ s: String) -> String {
        guard s.contains("&") else { return s }
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < u.count {
            guard u[i] == "&", i + 1 < u.count else { out.append(u[i]); i += 1; continue }
            if u[i + 1] == "#" {
                var j = i + 2
                let hex = j < u.count && (u[j] == "x" || u[j] == "X")
                if hex { j += 1 }
                let digitsStart = j
                var value: UInt32 = 0
                while j < u.count, let d = digit(u[j], hex: hex) {
                    value = min(value &* (hex ? 16 : 10) &+ d, 0x110000); j += 1
                }
                if j > digitsStart {
                    if j < u.count, u[j] == ";" { j += 1 }
                    let ok = value != 0 && value < 0x110000 && !(0xD800...0xDFFF).contains(value)
                    out.append(ok ? Unicode.Scalar(value)! : "\u{FFFD}")
                    i = j
                    continue
                }
                out.append(u[i]); i += 1
                continue
            }
            var j = i + 1
            while j < u.count, j - i <= 32, u[j].isASCII, CharacterSet.alphanumerics.contains(u[j]) { j += 1 }
            let name = String(String.UnicodeScalarView(u[(i + 1)..<j])).lowercased()
            if j < u.count, u[j] == ";", let r = namedReferences[name] {
                out.append(contentsOf: r.unicodeScalars); i = j + 1
            } else if ["amp", "lt", "gt", "quot"].contains(name), !(j < u.count && u[j] == "=") {
                out.append(contentsOf: namedReferences[name]!.unicodeScalars); i = j
            } else {
                out.append(u[i]); i += 1
            }
        }
        return String(out)
    }

    private static func digit(_ c: Unicode.Scalar, hex: Bool) -> UInt32? {
        switch c.value {
        case 0x30...0x39: return c.value - 0x30
        case 0x41...0x46 where hex: return c.value - 0x41 + 10
        case 0x61...0x66 where hex: return c.value - 0x61 + 10
        default: return nil
        }
    }
}
