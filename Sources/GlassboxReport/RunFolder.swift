import Foundation
import GlassboxCore

/// A run folder opened for `diff` and `publish`: its `run.json`, decoded and checked against the run-folder
/// contract (ARCHITECTURE.md). Every file the manifest names must stay inside the folder and exist.
public struct RunFolder: Sendable {
    /// The folder, absolute and standardised.
    public let path: String
    public let manifest: RunManifest

    public var manifestPath: String { (path as NSString).appendingPathComponent("run.json") }

    /// The absolute path of a file named (relatively) by the manifest.
    public func file(_ relative: String) -> String { (path as NSString).appendingPathComponent(relative) }

    /// Opens `path` (a run folder, or its `run.json`).
    public static func load(_ path: String) throws -> RunFolder {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        var dir = URL(fileURLWithPath: path).standardizedFileURL.path
        if fm.fileExists(atPath: dir, isDirectory: &isDir), !isDir.boolValue, (dir as NSString).lastPathComponent == "run.json" {
            dir = (dir as NSString).deletingLastPathComponent
        } else if !fm.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
            throw GlassboxError.missingFile(path: path, hint: "expected a run folder holding run.json, e.g. reports/site/tour/default")
        }
        let manifestPath = (dir as NSString).appendingPathComponent("run.json")
        guard fm.fileExists(atPath: manifestPath) else {
            throw GlassboxError.missingFile(path: manifestPath, hint: "not a run folder; make one with glassbox run RECIPE")
        }
        // run.json itself must not be a symlink that leads out of the folder (it would be read and published).
        _ = try RunFolder.resolveInside(dir, "run.json", field: "run.json", reportedIn: manifestPath)
        let manifest = try ManifestDecoding.decode(RunManifest.self, from: Files.read(manifestPath), path: manifestPath)
        let folder = RunFolder(path: dir, manifest: manifest)
        try folder.validate()
        return folder
    }

    /// The real path of a file of the run, after the checks of `checkInside` (relative, no `..`, exists, and
    /// inside the folder once every symlink is resolved). Every reader of a run folder goes through this for any
    /// file the manifest does not already name (`index.html`, extra files in `figures/`).
    public func resolve(_ relative: String) throws -> String {
        try RunFolder.resolveInside(path, relative, field: relative, reportedIn: manifestPath)
    }

    /// Refuses an output folder that is the run folder or lies inside it (after resolving symlinks), so that
    /// writing there can never overwrite the run's own files.
    public func checkOutside(_ out: String, option: String) throws {
        let root = Files.realPath(path), target = Files.realPath(out)
        if target == root || target.hasPrefix(root + "/") {
            throw GlassboxError.invalidArgument(name: option, expected: "a folder outside the run folder \(path)", found: out)
        }
    }

    /// The contract (directions "higher"/"lower" are checked while decoding): safe labels, figure files inside the folder that exist.
    func validate() throws {
        let m = manifest
        func bad(_ field: String, _ expected: String, _ found: String) -> GlassboxError {
            .badFile(path: manifestPath, field: field, expected: expected, found: found)
        }
        var labels = Set<String>()
        for (i, f) in m.figures.enumerated() {
            guard RunFolder.isSafeName(f.label) else {
                throw bad("figures[\(i)].label", "letters, digits, '.', '_' or '-' (not starting with '.')", "\"\(f.label)\"")
            }
            guard labels.insert(f.label).inserted else { throw bad("figures[\(i)].label", "a label used once", "\"\(f.label)\" again") }
            try checkInside(f.file, field: "figures[\(i)].file")
            try checkInside(f.json, field: "figures[\(i)].json")
            guard f.width > 0, f.height > 0 else { throw bad("figures[\(i)].width", "a positive size", "\(f.width)×\(f.height)") }
        }
        var tables = Set<String>()
        for (i, t) in m.tables.enumerated() where !tables.insert(t.label).inserted {
            throw bad("tables[\(i)].label", "a label used once", "\"\(t.label)\" again")
        }
    }

    /// Refuses a relative path that is empty, absolute, has a `..` component or resolves (through symlinks) outside
    /// the folder; then requires the file to exist.
    func checkInside(_ relative: String, field: String) throws {
        _ = try RunFolder.resolveInside(path, relative, field: field, reportedIn: manifestPath)
    }

    /// The one path check of run folders: `relative` must be a plain relative path (no `..`, no empty or absolute
    /// part, no backslash or NUL), name an existing file, and lead (after resolving every symlink) to a file inside
    /// `root`. Returns that real path. Errors are reported against `reportedIn` and `field`.
    static func resolveInside(_ root: String, _ relative: String, field: String, reportedIn: String) throws -> String {
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.contains("\\"), !relative.contains("\0"),
              !components.contains(".."), !components.contains("") else {
            throw GlassboxError.badFile(path: reportedIn, field: field, expected: "a relative path inside the run folder",
                                        found: "\"\(relative)\"")
        }
        let target = (root as NSString).appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: target) else {
            throw GlassboxError.missingFile(path: target, hint: "named by \(field) in \(reportedIn)")
        }
        let realRoot = Files.realPath(root), real = Files.realPath(target)
        guard real.hasPrefix(realRoot + "/") else {
            throw GlassboxError.badFile(path: reportedIn, field: field, expected: "a file inside the run folder",
                                        found: "\"\(relative)\", which leads to \(real)")
        }
        return real
    }

    /// A name that is safe as one path component: letters, digits, `.`, `_`, `-`, not starting with `.`.
    public static func isSafeName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first != "." else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    /// `s` made into a safe path component (other characters become `_`).
    public static func safeName(_ s: String) -> String {
        var out = String(String.UnicodeScalarView(s.unicodeScalars.map {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) ? $0 : "_"
        }))
        if out.isEmpty || out.hasPrefix(".") { out = "_" + out }
        return out
    }
}

/// Decodes JSON, turning a decoding error into one naming the field (`figures[2].file`) and what was expected.
public enum ManifestDecoding {
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do { return try ReportJSON.decoder().decode(type, from: data) } catch let e as DecodingError {
            switch e {
            case let .keyNotFound(key, ctx):
                throw GlassboxError.badFile(path: path, field: field(ctx.codingPath + [key]), expected: "a value", found: "nothing (missing key)")
            case let .typeMismatch(t, ctx):
                throw GlassboxError.badFile(path: path, field: field(ctx.codingPath), expected: "a \(name(t))", found: "another type")
            case let .valueNotFound(t, ctx):
                throw GlassboxError.badFile(path: path, field: field(ctx.codingPath), expected: "a \(name(t))", found: "null")
            case let .dataCorrupted(ctx) where ctx.debugDescription.hasPrefix("expected ") && ctx.debugDescription.contains(", found "):
                // A value a type refused itself (e.g. a metric direction): its own "expected …, found …".
                let parts = ctx.debugDescription.dropFirst("expected ".count).components(separatedBy: ", found ")
                throw GlassboxError.badFile(path: path, field: field(ctx.codingPath), expected: parts[0], found: parts.dropFirst().joined(separator: ", found "))
            case let .dataCorrupted(ctx):
                throw GlassboxError.badFile(path: path, field: ctx.codingPath.isEmpty ? "JSON" : field(ctx.codingPath),
                                            expected: "valid JSON", found: ctx.debugDescription)
            @unknown default:
                throw GlassboxError.badFile(path: path, field: "JSON", expected: "a \(T.self) value", found: "\(e)")
            }
        } catch {
            throw GlassboxError.badFile(path: path, field: "JSON", expected: "a \(T.self) value", found: "\(error)")
        }
    }

    static func field(_ path: [CodingKey]) -> String {
        var s = ""
        for k in path {
            if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
        }
        return s.isEmpty ? "(top level)" : s
    }

    static func name(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "string"
        case is Double.Type, is Float.Type: return "number"
        case is Int.Type, is UInt64.Type: return "integer"
        case is Bool.Type: return "boolean"
        default:
            let n = "\(t)"
            if n.hasPrefix("Array") { return "array" }
            if n.hasPrefix("Dictionary") || n.contains("KeyedDecodingContainer") { return "object" }
            return n
        }
    }
}
