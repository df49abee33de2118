import Foundation

/// `@fig-x` and `@tbl-x` references in prose.
enum CrossReferences {
    struct Ref { var label: String; var lineOffset: Int; var range: Range<String.Index> }

    static func find(in text: String) -> [Ref] {
        var refs: [Ref] = []
        var i = text.startIndex
        var line = 0
        while i < text.endIndex {
            let c = text[i]
            if c == "\n" { line += 1 }
            if c == "@", i == text.startIndex || !(text[text.index(before: i)].isLetter || text[text.index(before: i)].isNumber) {
                let after = text.index(after: i)
                let rest = text[after...]
                if rest.hasPrefix("fig-") || rest.hasPrefix("tbl-") {
                    var end = text.index(after, offsetBy: 4)
                    while end < text.endIndex, text[end].isLetter || text[end].isNumber || text[end] == "-" || text[end] == "_" {
                        end = text.index(after: end)
                    }
                    // A trailing '-' or '_' is punctuation, not part of the label.
                    while end > text.index(after, offsetBy: 4), text[text.index(before: end)] == "-" || text[text.index(before: end)] == "_" {
                        end = text.index(before: end)
                    }
                    if end > text.index(after, offsetBy: 4) {
                        refs.append(Ref(label: String(text[after..<end]), lineOffset: line, range: i..<end))
                        i = end
                        continue
                    }
                }
            }
            i = text.index(after: i)
        }
        return refs
    }
}
