import Foundation
import GlassboxCore
import Yams

/// A parsed recipe: YAML front matter, Markdown prose, and fenced `glassbox` cells.
///
/// ```text
/// ---
/// title: A tour
/// seed: 0
/// parameters:
///   epochs: 2
/// ---
/// Prose in Markdown, with references such as @fig-curves.
///
/// ```glassbox
/// #| label: fig-curves
/// #| caption: Training curves
/// step: figure
/// kind: curves
/// models: [mlp]
/// ```
/// ```
public struct Recipe: Sendable {
    /// The path as given (used in every error message).
    public var path: String
    /// The file name without extension (names the run folder).
    public var name: String
    public var title: String
    public var description: String?
    /// Parameters in the order written, with their defaults and the values in force.
    public var parameters: [RecipeParameter]
    public var seed: UInt64
    public var blocks: [RecipeBlock]
    /// SHA-256 of the recipe text.
    public var sourceHash: String

    public var cells: [RecipeCell] {
        blocks.compactMap { if case let .cell(c) = $0 { return c } else { return nil } }
    }

    /// Reads and parses a recipe file.
    public static func load(_ path: String) throws -> Recipe {
        let data = try Files.read(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw GlassboxError.badFile(path: path, field: "encoding", expected: "UTF-8 text", found: "other bytes")
        }
        return try parse(text, path: path)
    }

    /// Parses recipe text; `path` names the recipe in errors ("tour.md:12: …").
    public static func parse(_ text: String, path: String) throws -> Recipe {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        var i = 0
        var title = (path as NSString).lastPathComponent
        var description: String?
        var parameters: [RecipeParameter] = []
        var seed: UInt64 = 0

        // Front matter: the file starts with a line '---' and the next '---' (or '...') closes it.
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---" {
            guard let end = lines.indices.dropFirst().first(where: {
                let t = lines[$0].trimmingCharacters(in: .whitespaces)
                return t == "---" || t == "..."
            }) else {
                throw RecipeError.at(path, line: 1, "front matter", expected: "a closing '---' line", found: "end of file")
            }
            let yaml = lines[1..<end].joined(separator: "\n")
            let node = try parseYAML(yaml, path: path, firstLine: 2, what: "front matter")
            if let node {
                guard let map = node.mapping else {
                    throw RecipeError.at(path, line: 2, "front matter", expected: "a mapping (key: value lines)", found: "\(node.kindName)")
                }
                let known: Set = ["title", "description", "parameters", "seed"]
                for (k, v) in map {
                    let key = k.string ?? ""
                    let line = 1 + (k.mark?.line ?? 1)
                    guard known.contains(key) else {
                        throw RecipeError.at(path, line: line, "front matter", expected: "one of title, description, parameters, seed",
                                             found: "'\(key)'")
                    }
                    switch key {
                    case "title":
                        guard let s = v.scalar?.string else {
                            throw RecipeError.at(path, line: line, "title", expected: "text", found: v.kindName)
                        }
                        title = s
                    case "description":
                        guard let s = v.scalar?.string else {
                            throw RecipeError.at(path, line: line, "description", expected: "text", found: v.kindName)
                        }
                        description = s
                    case "seed":
                        guard let s = v.scalar?.string, let n = UInt64(s) else {
                            throw RecipeError.at(path, line: line, "seed", expected: "a whole number ≥ 0", found: "'\(v.scalar?.string ?? v.kindName)'")
                        }
                        seed = n
                    default: // parameters
                        guard let pm = v.mapping else {
                            throw RecipeError.at(path, line: line, "parameters", expected: "a mapping of name: default", found: v.kindName)
                        }
                        for (pk, pv) in pm {
                            let pline = 1 + (pk.mark?.line ?? 1)
                            guard let name = pk.string, isIdentifier(name) else {
                                throw RecipeError.at(path, line: pline, "parameter name", expected: "letters, digits, '_' or '-'",
                                                     found: "'\(pk.string ?? "?")'")
                            }
                            guard let value = pv.scalar?.string else {
                                throw RecipeError.at(path, line: pline, "parameter '\(name)'", expected: "a single value (number, text, true/false)",
                                                     found: pv.kindName)
                            }
                            parameters.append(RecipeParameter(name: name, defaultValue: value, value: value, line: pline))
                        }
                    }
                }
            }
            i = end + 1
        }

        var blocks: [RecipeBlock] = []
        var prose: [String] = []
        var proseLine = i + 1
        var cellIndex = 0
        func flushProse() {
            let t = prose.joined(separator: "\n")
            if !t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                blocks.append(.prose(ProseBlock(text: t, line: proseLine)))
            }
            prose = []
        }
        while i < lines.count {
            let line = lines[i]
            if let fence = openingFence(line), fence.info == "glassbox" || fence.info == "{glassbox}" {
                flushProse()
                let open = i + 1
                var body: [String] = []
                i += 1
                var closed = false
                while i < lines.count {
                    if isClosingFence(lines[i], fence: fence) { closed = true; break }
                    body.append(lines[i]); i += 1
                }
                guard closed else {
                    throw RecipeError.at(path, line: open, "cell", expected: "a closing \(fence.marker) fence", found: "end of file")
                }
                cellIndex += 1
                blocks.append(.cell(try RecipeCell.parse(body: body, index: cellIndex, line: open, path: path)))
                i += 1
                proseLine = i + 1
                continue
            }
            if let fence = openingFence(line) {
                // Another fenced block (e.g. a Markdown code example): kept in the prose as is, fences included.
                prose.append(line); i += 1
                while i < lines.count {
                    prose.append(lines[i])
                    if isClosingFence(lines[i], fence: fence) { i += 1; break }
                    i += 1
                }
                continue
            }
            prose.append(line); i += 1
        }
        flushProse()
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return Recipe(path: path, name: name, title: title, description: description, parameters: parameters, seed: seed,
                      blocks: blocks, sourceHash: SHA256.hex(text))
    }

    /// Sets parameters from `name=value` overrides; `seed` is accepted as a parameter too.
    public mutating func override(_ assignments: [String]) throws {
        for a in assignments {
            guard let eq = a.firstIndex(of: "=") else {
                throw GlassboxError.invalidArgument(name: "-p", expected: "name=value", found: "'\(a)'")
            }
            let name = String(a[..<eq]).trimmingCharacters(in: .whitespaces)
            let value = String(a[a.index(after: eq)...])
            if name == "seed" {
                guard let s = UInt64(value) else {
                    throw GlassboxError.invalidArgument(name: "-p seed", expected: "a whole number ≥ 0", found: "'\(value)'")
                }
                seed = s
                continue
            }
            guard let k = parameters.firstIndex(where: { $0.name == name }) else {
                let known = parameters.map(\.name).joined(separator: ", ")
                throw GlassboxError.invalidArgument(name: "-p \(name)", expected: "a parameter of \(path) (\(known.isEmpty ? "it has none" : known), or seed)",
                                                    found: "'\(name)'")
            }
            parameters[k].value = value
        }
    }

    /// Parameter values in force by name.
    public var parameterValues: [String: String] {
        Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" }
    }

    struct Fence { var marker: String; var info: String }

    /// A line opening a fenced block: three or more backticks or tildes, then an info string.
    static func openingFence(_ line: String) -> Fence? {
        let t = line.drop(while: { $0 == " " })
        guard line.count - t.count <= 3, let c = t.first, c == "`" || c == "~" else { return nil }
        let marker = t.prefix(while: { $0 == c })
        guard marker.count >= 3 else { return nil }
        let info = t.dropFirst(marker.count).trimmingCharacters(in: .whitespaces)
        if c == "`" && info.contains("`") { return nil }
        return Fence(marker: String(marker), info: info)
    }

    static func isClosingFence(_ line: String, fence: Fence) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces)
        guard let c = fence.marker.first, t.count >= fence.marker.count else { return false }
        return t.allSatisfy { $0 == c }
    }
}

public struct RecipeParameter: Codable, Equatable, Sendable {
    public var name: String
    public var defaultValue: String
    public var value: String
    public var line: Int
}

public enum RecipeBlock: Sendable {
    case prose(ProseBlock)
    case cell(RecipeCell)
}

public struct ProseBlock: Sendable {
    public var text: String
    /// Line of the recipe where this prose starts.
    public var line: Int
}

/// Options written as `#| key: value` lines at the top of a cell.
public struct CellOptions: Codable, Equatable, Sendable {
    public var label: String?
    public var caption: String?
    /// Show the cell's source (folded) in the report.
    public var echo = true
    /// Use the cell cache (false: run the cell every time).
    public var cache = true
    /// Show the cell's outputs (false: the cell runs and its metrics go into run.json, but its text, tables and
    /// figures are left out of the report — for cells whose results a later cell sums up).
    public var output = true
}

/// One fenced `glassbox` cell.
public struct RecipeCell: Sendable {
    /// 1-based position among the recipe's cells.
    public var index: Int
    /// Line of the opening fence.
    public var line: Int
    /// Line of the first line of YAML after the option lines.
    public var bodyLine: Int
    public var options: CellOptions
    /// The YAML body as written (option lines removed, parameters not yet substituted).
    public var body: String
    /// The whole cell text as written (options included), shown in the report.
    public var source: String

    static func parse(body lines: [String], index: Int, line: Int, path: String) throws -> RecipeCell {
        var options = CellOptions()
        var k = 0
        let known = "label, caption, echo, cache, output"
        while k < lines.count, lines[k].trimmingCharacters(in: .whitespaces).hasPrefix("#|") {
            let lineNo = line + 1 + k
            let t = lines[k].trimmingCharacters(in: .whitespaces).dropFirst(2)
            guard let colon = t.firstIndex(of: ":") else {
                throw RecipeError.at(path, line: lineNo, "cell option", expected: "'#| key: value'", found: "'\(lines[k])'")
            }
            let key = t[..<colon].trimmingCharacters(in: .whitespaces)
            let raw = t[t.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            // Values are YAML scalars, so quoting works as in the cell body.
            let node = try parseYAML(raw, path: path, firstLine: lineNo, what: "cell option '\(key)'")
            guard node == nil || node?.scalar != nil else {
                throw RecipeError.at(path, line: lineNo, "cell option '\(key)'", expected: "a single value (quote text that contains ': ' or starts with '[', '{', '-')",
                                     found: "'\(raw)'")
            }
            let value = node?.scalar?.string ?? ""
            func bool() throws -> Bool {
                switch value.lowercased() {
                case "true", "yes": return true
                case "false", "no": return false
                default: throw RecipeError.at(path, line: lineNo, "cell option '\(key)'", expected: "true or false", found: "'\(raw)'")
                }
            }
            switch key {
            case "label":
                guard Recipe.isIdentifier(value) else {
                    throw RecipeError.at(path, line: lineNo, "cell option 'label'", expected: "letters, digits, '_' or '-' (e.g. fig-loss)",
                                         found: "'\(raw)'")
                }
                options.label = value
            case "caption", "fig-cap", "tbl-cap": options.caption = value
            case "echo": options.echo = try bool()
            case "cache": options.cache = try bool()
            case "output": options.output = try bool()
            default:
                throw RecipeError.at(path, line: lineNo, "cell option", expected: "one of \(known)", found: "'\(key)'")
            }
            k += 1
        }
        let body = lines[k...].joined(separator: "\n")
        return RecipeCell(index: index, line: line, bodyLine: line + 1 + k, options: options, body: body,
                          source: lines.joined(separator: "\n"))
    }
}

/// Errors located in a recipe: "path:line: field: expected …, found …".
public enum RecipeError {
    public static func at(_ path: String, line: Int, _ field: String, expected: String, found: String) -> GlassboxError {
        .badFile(path: "\(path):\(line)", field: field, expected: expected, found: found)
    }
}

/// Parses YAML with Yams, turning its errors into a `GlassboxError` at the recipe line.
func parseYAML(_ yaml: String, path: String, firstLine: Int, what: String) throws -> Node? {
    do {
        return try Yams.compose(yaml: yaml)
    } catch let error as YamlError {
        var line = firstLine, problem = "\(error)"
        switch error {
        case let .scanner(_, p, mark, _), let .parser(_, p, mark, _), let .composer(_, p, mark, _):
            line = firstLine + mark.line - 1; problem = p
        case let .duplicatedKeysInMapping(dups, context):
            line = firstLine + context.mark.line - 1; problem = "duplicated keys \(dups.joined(separator: ", "))"
        default: break
        }
        throw RecipeError.at(path, line: line, what, expected: "valid YAML", found: problem)
    } catch {
        throw RecipeError.at(path, line: firstLine, what, expected: "valid YAML", found: "\(error)")
    }
}

extension Node {
    var kindName: String {
        switch self {
        case .scalar: return "a single value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
