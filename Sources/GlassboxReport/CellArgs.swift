import Foundation
import GlassboxCore
import Yams

/// A cell's YAML body with its `${parameter}` references filled in: the step name and its arguments, with typed
/// accessors whose errors name the recipe file, the line and the field.
///
/// Parameters are substituted *after* parsing: each `${name}` is replaced by a placeholder that YAML reads as part
/// of whatever scalar it sits in, the body is parsed, and the placeholders are then replaced by the values inside
/// the parsed scalars. A value is therefore always text inside one scalar — `-p 'e=10\ndir: /tmp'` makes the
/// argument `epochs` the string "10\ndir: /tmp" (which then fails as a number), never a new key — and every line
/// number stays that of the recipe.
public struct CellArgs: @unchecked Sendable {
    public let path: String
    public let cell: RecipeCell
    /// The body with each `${name}` replaced by its value written as a JSON string literal: unambiguous (two
    /// different sets of values never give the same text) and what the cache key hashes, with the options.
    public let resolvedBody: String
    public let step: String
    let entries: [(key: String, node: Node, line: Int)]

    /// Substitutes parameters and parses the body.
    public init(cell: RecipeCell, path: String, parameters: [String: String]) throws {
        self.path = path
        self.cell = cell
        let refs = try CellArgs.references(in: cell.body, firstLine: cell.bodyLine, path: path, parameters: parameters)
        resolvedBody = CellArgs.replacing(refs, in: cell.body) { CellArgs.jsonString(parameters[$0]!) }
        let slots = Placeholders(avoiding: cell.body)
        let names = refs.map(\.name)
        let template = CellArgs.replacing(refs, in: cell.body) { _ in slots.next() }
        guard let parsed = try parseYAML(template, path: path, firstLine: cell.bodyLine, what: "cell \(cell.index)") else {
            throw RecipeError.at(path, line: cell.line, "cell \(cell.index)", expected: "a YAML body with 'step: NAME'", found: "an empty cell")
        }
        var budget = CellArgs.nodeBudget
        guard let node = slots.fill(parsed, values: names.map { parameters[$0]! }, budget: &budget) else {
            throw RecipeError.at(path, line: cell.bodyLine, "cell \(cell.index)", expected: "at most \(CellArgs.nodeBudget) YAML values (aliases included)",
                                 found: "more")
        }
        guard let map = node.mapping else {
            throw RecipeError.at(path, line: cell.bodyLine, "cell \(cell.index)", expected: "a mapping with 'step: NAME' and arguments",
                                 found: node.kindName)
        }
        entries = map.map { (k, v) in (k.string ?? "", v, cell.bodyLine + (k.mark?.line ?? 1) - 1) }
        guard let s = entries.first(where: { $0.key == "step" }) else {
            throw RecipeError.at(path, line: cell.bodyLine, "cell \(cell.index)", expected: "a 'step:' entry naming the step",
                                 found: "keys \(entries.map(\.key).joined(separator: ", "))")
        }
        guard let name = s.node.scalar?.string else {
            throw RecipeError.at(path, line: s.line, "step", expected: "a step name", found: s.node.kindName)
        }
        step = name
    }

    /// Values a cell body may expand to through YAML aliases before it is refused (a "billion laughs" body would
    /// otherwise take exponential time to walk).
    static let nodeBudget = 100_000

    /// Replaces every `${name}` with the parameter's value as text (for prose, which is Markdown, not YAML); an
    /// unknown name is an error at its line.
    public static func substitute(_ text: String, firstLine: Int, path: String, parameters: [String: String]) throws -> String {
        let refs = try references(in: text, firstLine: firstLine, path: path, parameters: parameters)
        return replacing(refs, in: text) { parameters[$0]! }
    }

    /// Every `${name}` in `text` with its range; an unclosed `${` or an unknown name is an error at its line.
    static func references(in text: String, firstLine: Int, path: String,
                           parameters: [String: String]) throws -> [(range: Range<String.Index>, name: String)] {
        var refs: [(range: Range<String.Index>, name: String)] = []
        var rest = text[...]
        while let r = rest.range(of: "${") {
            guard let close = rest[r.upperBound...].firstIndex(of: "}") else {
                let line = firstLine + text[..<r.lowerBound].filter { $0 == "\n" }.count
                throw RecipeError.at(path, line: line, "parameter reference", expected: "'${name}'", found: "an unclosed '${'")
            }
            let name = String(rest[r.upperBound..<close]).trimmingCharacters(in: .whitespaces)
            guard parameters[name] != nil else {
                let line = firstLine + text[..<r.lowerBound].filter { $0 == "\n" }.count
                let known = parameters.keys.sorted().joined(separator: ", ")
                throw RecipeError.at(path, line: line, "parameter '\(name)'", expected: "a parameter from the front matter (\(known.isEmpty ? "none declared" : known))",
                                     found: "'${\(name)}'")
            }
            refs.append((r.lowerBound..<rest.index(after: close), name))
            rest = rest[rest.index(after: close)...]
        }
        return refs
    }

    /// `text` with each reference replaced by `value(name)`.
    static func replacing(_ refs: [(range: Range<String.Index>, name: String)], in text: String, _ value: (String) -> String) -> String {
        var out = ""
        var last = text.startIndex
        for r in refs {
            out += text[last..<r.range.lowerBound]
            out += value(r.name)
            last = r.range.upperBound
        }
        out += text[last...]
        return out
    }

    static func jsonString(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Placeholder tokens for parameter references: two private-use characters that do not occur in the body around
    /// a number, so YAML reads them as ordinary scalar text in any context (plain, quoted, flow or block) and they
    /// can be found again in the parsed scalars. They hold no newline, so line numbers do not move.
    final class Placeholders {
        let open: Character, close: Character
        private var count = 0

        init(avoiding body: String) {
            let used = Set(body.unicodeScalars.filter { $0.value >= 0xE000 && $0.value <= 0xF8FF }.map(\.value))
            var free = (UInt32(0xE000)...UInt32(0xF8FF)).lazy.filter { !used.contains($0) }.makeIterator()
            open = Character(Unicode.Scalar(free.next() ?? 0xE000)!)
            close = Character(Unicode.Scalar(free.next() ?? 0xE001)!)
        }

        func next() -> String {
            defer { count += 1 }
            return "\(open)\(count)\(close)"
        }

        /// The node with every placeholder in its scalars (keys included) replaced by its value; nil when the tree
        /// has more than `budget` nodes.
        func fill(_ node: Node, values: [String], budget: inout Int) -> Node? {
            budget -= 1
            guard budget >= 0 else { return nil }
            if values.isEmpty { return node }
            switch node {
            case var .scalar(s):
                s.string = replace(s.string, values)
                return .scalar(s)
            case let .mapping(m):
                var pairs: [(Node, Node)] = []
                for (k, v) in m {
                    guard let k2 = fill(k, values: values, budget: &budget), let v2 = fill(v, values: values, budget: &budget) else { return nil }
                    pairs.append((k2, v2))
                }
                return .mapping(Node.Mapping(pairs, m.tag, m.style, m.mark))
            case let .sequence(q):
                var nodes: [Node] = []
                for n in q {
                    guard let n2 = fill(n, values: values, budget: &budget) else { return nil }
                    nodes.append(n2)
                }
                return .sequence(Node.Sequence(nodes, q.tag, q.style, q.mark))
            case .alias:
                return node
            }
        }

        private func replace(_ text: String, _ values: [String]) -> String {
            guard text.contains(open) else { return text }
            var out = ""
            var i = text.startIndex
            while i < text.endIndex {
                let c = text[i]
                if c == open, let end = text[i...].firstIndex(of: close), let n = Int(text[text.index(after: i)..<end]), n < values.count {
                    out += values[n]
                    i = text.index(after: end)
                } else {
                    out.append(c)
                    i = text.index(after: i)
                }
            }
            return out
        }
    }

    public var keys: [String] { entries.map(\.key) }

    /// Line of `key` (or the cell's first body line).
    public func line(of key: String) -> Int { entries.first { $0.key == key }?.line ?? cell.bodyLine }

    public func argumentError(_ key: String, expected: String, found: String) -> GlassboxError {
        RecipeError.at(path, line: line(of: key), "cell \(cell.index) '\(key)'", expected: expected, found: found)
    }

    /// Rejects keys the step does not know (typos would otherwise be silently ignored).
    public func allowOnly(_ allowed: [String]) throws {
        for e in entries where e.key != "step" && !allowed.contains(e.key) {
            throw RecipeError.at(path, line: e.line, "cell \(cell.index)", expected: "arguments of step '\(step)': \(allowed.joined(separator: ", "))",
                                 found: "'\(e.key)'")
        }
    }

    func node(_ key: String) -> Node? { entries.first { $0.key == key }?.node }

    public func has(_ key: String) -> Bool { node(key) != nil }

    public func string(_ key: String) throws -> String? {
        guard let n = node(key) else { return nil }
        guard let s = n.scalar?.string else { throw argumentError(key, expected: "a single value", found: n.kindName) }
        return s
    }

    public func requireString(_ key: String) throws -> String {
        guard let s = try string(key), !s.isEmpty else {
            throw RecipeError.at(path, line: cell.bodyLine, "cell \(cell.index)", expected: "an argument '\(key)' for step '\(step)'", found: "none")
        }
        return s
    }

    public func int(_ key: String) throws -> Int? {
        guard let s = try string(key) else { return nil }
        guard let v = Int(s) else { throw argumentError(key, expected: "a whole number", found: "'\(s)'") }
        return v
    }

    public func positiveInt(_ key: String) throws -> Int? {
        guard let v = try int(key) else { return nil }
        guard v > 0 else { throw argumentError(key, expected: "a whole number ≥ 1", found: "\(v)") }
        return v
    }

    public func float(_ key: String) throws -> Float? {
        guard let s = try string(key) else { return nil }
        guard let v = Float(s), v.isFinite else { throw argumentError(key, expected: "a number", found: "'\(s)'") }
        return v
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let s = try string(key) else { return nil }
        switch s.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw argumentError(key, expected: "true or false", found: "'\(s)'")
        }
    }

    /// A list of values; a single value counts as a list of one.
    public func strings(_ key: String) throws -> [String]? {
        guard let n = node(key) else { return nil }
        if let s = n.scalar?.string { return [s] }
        guard let seq = n.sequence else { throw argumentError(key, expected: "a list such as [a, b]", found: n.kindName) }
        return try seq.map { item in
            guard let s = item.scalar?.string else { throw argumentError(key, expected: "a list of single values", found: "an item that is \(item.kindName)") }
            return s
        }
    }

    /// A mapping whose values are single values or lists of them (`normalize: {mean: [0.5], std: [0.5]}`), in order;
    /// nil when absent or when the value is not a mapping.
    public func fields(_ key: String) throws -> [(key: String, values: [String])]? {
        guard let n = node(key), let map = n.mapping else { return nil }
        return try map.map { k, v in
            let name = k.string ?? ""
            if let s = v.scalar?.string { return (name, [s]) }
            guard let seq = v.sequence else { throw argumentError(key, expected: "a single value or a list under '\(name)'", found: v.kindName) }
            return (name, try seq.map { item in
                guard let s = item.scalar?.string else { throw argumentError(key, expected: "a list of single values under '\(name)'", found: item.kindName) }
                return s
            })
        }
    }

    public func oneOf(_ key: String, _ choices: [String], default d: String) throws -> String {
        guard let s = try string(key) else { return d }
        guard choices.contains(s) else { throw argumentError(key, expected: "one of \(choices.joined(separator: ", "))", found: "'\(s)'") }
        return s
    }
}
