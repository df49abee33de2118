import Foundation
import GlassboxCore
import Yams

/// A cell's YAML body after `${parameter}` substitution: the step name and its arguments, with typed
/// accessors whose errors name the recipe file, the line and the field.
public struct CellArgs: @unchecked Sendable {
    public let path: String
    public let cell: RecipeCell
    /// The body after substitution; this text (with the options) is what the cache key hashes.
    public let resolvedBody: String
    public let step: String
    let entries: [(key: String, node: Node, line: Int)]

    /// Substitutes parameters and parses the body.
    public init(cell: RecipeCell, path: String, parameters: [String: String]) throws {
        self.path = path
        self.cell = cell
        resolvedBody = try CellArgs.substitute(cell.body, firstLine: cell.bodyLine, path: path, parameters: parameters)
        guard let node = try parseYAML(resolvedBody, path: path, firstLine: cell.bodyLine, what: "cell \(cell.index)") else {
            throw RecipeError.at(path, line: cell.line, "cell \(cell.index)", expected: "a YAML body with 'step: NAME'", found: "an empty cell")
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

    /// Replaces every `${name}` with the parameter's value; an unknown name is an error at its line.
    static func substitute(_ text: String, firstLine: Int, path: String, parameters: [String: String]) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let r = rest.range(of: "${") {
            out += rest[..<r.lowerBound]
            guard let close = rest[r.upperBound...].firstIndex(of: "}") else {
                let line = firstLine + text[..<r.lowerBound].filter { $0 == "\n" }.count
                throw RecipeError.at(path, line: line, "parameter reference", expected: "'${name}'", found: "an unclosed '${'")
            }
            let name = String(rest[r.upperBound..<close]).trimmingCharacters(in: .whitespaces)
            guard let value = parameters[name] else {
                let line = firstLine + text[..<r.lowerBound].filter { $0 == "\n" }.count
                let known = parameters.keys.sorted().joined(separator: ", ")
                throw RecipeError.at(path, line: line, "parameter '\(name)'", expected: "a parameter from the front matter (\(known.isEmpty ? "none declared" : known))",
                                     found: "'${\(name)}'")
            }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
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
