import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport

// Step arguments, declared once: each declaration has a name, a type, a help line and the key path it sets in
// the step's options (whose initial value holds the defaults). The same declarations give the allowed keys, the
// error messages, `glassbox steps NAME`, the step table in reports/README.md, and the command line's decoding.

/// Where argument values come from: a recipe cell (errors name the file and line) or command-line flags (errors
/// name the `--flag`).
public protocol ArgumentReader {
    /// The keys present, in order.
    var keys: [String] { get }
    /// A single value; nil when absent; an error when it is a list or a mapping.
    func scalar(_ key: String) throws -> String?
    /// A list of values (a single value counts as a list of one); nil when absent.
    func list(_ key: String) throws -> [String]?
    func error(_ key: String, expected: String, found: String) -> Error
    /// A required argument is missing.
    func missing(_ key: String) -> Error
    /// `key` is not among `allowed`.
    func unknown(_ key: String, allowed: [String]) -> Error
    /// A mapping of names to values or lists (`normalize: {mean: [...], std: [...]}`); nil when absent or not a mapping
    /// (command-line flags have none: their values are text).
    func mapping(_ key: String) throws -> [(key: String, values: [String])]?
}

public extension ArgumentReader {
    func mapping(_ key: String) throws -> [(key: String, values: [String])]? { nil }
}

extension CellArgs: ArgumentReader {
    public func scalar(_ key: String) throws -> String? { try string(key) }
    public func mapping(_ key: String) throws -> [(key: String, values: [String])]? { try fields(key) }
    public func list(_ key: String) throws -> [String]? { try strings(key) }
    public func error(_ key: String, expected: String, found: String) -> Error { argumentError(key, expected: expected, found: found) }
    public func missing(_ key: String) -> Error {
        RecipeError.at(path, line: cell.bodyLine, "cell \(cell.index)", expected: "an argument '\(key)' for step '\(step)'", found: "none")
    }
    public func unknown(_ key: String, allowed: [String]) -> Error {
        RecipeError.at(path, line: line(of: key), "cell \(cell.index)", expected: "arguments of step '\(step)': \(allowed.joined(separator: ", "))",
                       found: "'\(key)'")
    }
}

/// Values from command-line flags: `[key: value]` of the flags that were given, lists as comma-separated text.
public struct FlagArguments: ArgumentReader {
    public var values: [(key: String, value: String)]
    public init(_ values: [(String, String?)]) { self.values = values.compactMap { k, v in v.map { (k, $0) } } }
    public var keys: [String] { values.map(\.key) }
    public func scalar(_ key: String) throws -> String? { values.last { $0.key == key }?.value }
    public func list(_ key: String) throws -> [String]? {
        try scalar(key).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }
    public func error(_ key: String, expected: String, found: String) -> Error {
        GlassboxError.invalidArgument(name: "--\(key)", expected: expected, found: found)
    }
    public func missing(_ key: String) -> Error { GlassboxError.invalidArgument(name: "--\(key)", expected: "a value", found: "none") }
    public func unknown(_ key: String, allowed: [String]) -> Error {
        GlassboxError.invalidArgument(name: "--\(key)", expected: "one of \(allowed.map { "--\($0)" }.joined(separator: ", "))", found: "'\(key)'")
    }
}

/// The type of an argument: how it is parsed and how help describes it.
public enum ArgumentType: Sendable {
    case text
    case texts
    case name(WorkspaceName.Kind)
    case names(WorkspaceName.Kind)
    case wholeNumber(min: Int)
    case wholeNumbers(min: Int)
    /// A finite number in `low…high` (each end open or closed).
    case number(low: Double?, high: Double?, openLow: Bool, openHigh: Bool)
    case numbers(low: Double?, high: Double?, openLow: Bool, openHigh: Bool)
    case flag
    case choice([String])
    /// A model spec (`mlp 784-100-10 relu`, `input 1x28x28; conv 16 k5; …`).
    case spec
    /// A parameter name of the model (`0.weight`).
    case layer
    case layers
    case seed

    /// For help and errors: "a whole number ≥ 1", "a list of model names", …
    public var summary: String {
        switch self {
        case .text: return "text"
        case .texts: return "a list"
        case let .name(k): return k == .evaluation ? "an evaluation name" : "a \(Self.noun(k)) name"
        case let .names(k): return "a list of \(Self.noun(k)) names"
        case let .wholeNumber(min): return "a whole number ≥ \(min)"
        case let .wholeNumbers(min): return "a list of whole numbers ≥ \(min)"
        case let .number(lo, hi, ol, oh): return "a number" + Self.range(lo, hi, ol, oh)
        case let .numbers(lo, hi, ol, oh): return "a list of numbers" + Self.range(lo, hi, ol, oh)
        case .flag: return "true or false"
        case .choice: return choiceSummary
        case .spec: return "a model spec"
        case .layer: return "a parameter name such as 0.weight"
        case .layers: return "a list of parameter names such as [0.weight, 3.weight]"
        case .seed: return "a whole number ≥ 0"
        }
    }

    /// "sgd or adam", "one of weights, units, inputs".
    var choiceSummary: String {
        guard case let .choice(c) = self else { return summary }
        return c.count == 2 ? "\(c[0]) or \(c[1])" : "one of \(c.joined(separator: ", "))"
    }

    static func noun(_ k: WorkspaceName.Kind) -> String {
        switch k {
        case .data: return "data set"
        case .model: return "model"
        case .evaluation: return "evaluation"
        case .result: return "result"
        case .probes: return "probe set"
        }
    }

    static func range(_ lo: Double?, _ hi: Double?, _ ol: Bool, _ oh: Bool) -> String {
        func f(_ v: Double) -> String { formatNumber(Float(v)) }
        switch (lo, hi) {
        case let (l?, h?): return " in \(ol ? "(" : "[")\(f(l)), \(f(h))\(oh ? ")" : "]")"
        case let (l?, nil): return ol ? " > \(f(l))" : " ≥ \(f(l))"
        case let (nil, h?): return oh ? " < \(f(h))" : " ≤ \(f(h))"
        default: return ""
        }
    }
}

/// One declared argument of a step whose options are `Options`.
public struct StepArgument<Options>: @unchecked Sendable {
    public let name: String
    public let type: ArgumentType
    public let help: String
    public let required: Bool
    /// The default as help shows it: an explicit note ("the model's data"), else read from the default options.
    let defaultNote: String?
    let defaultValue: (Options) -> String?
    /// Reads the argument from a reader and sets it.
    let apply: (inout Options, ArgumentReader) throws -> Void

    public func defaultText(_ defaults: Options) -> String? { defaultNote ?? defaultValue(defaults) }

    /// The same argument setting a part of larger options (e.g. `TrainingSettings` inside a step's options).
    public func lifted<Outer>(_ kp: WritableKeyPath<Outer, Options>) -> StepArgument<Outer> {
        let apply = self.apply, defaultValue = self.defaultValue
        return StepArgument<Outer>(name: name, type: type, help: help, required: required, defaultNote: defaultNote,
                                   defaultValue: { defaultValue($0[keyPath: kp]) }, apply: { o, r in try apply(&o[keyPath: kp], r) })
    }

    /// The same argument under another help line or default note.
    public func with(help: String? = nil, default note: String? = nil) -> Self {
        Self(name: name, type: type, help: help ?? self.help, required: required, defaultNote: note ?? defaultNote,
             defaultValue: defaultValue, apply: apply)
    }
}

// MARK: Parsing single values

enum ArgumentParse {
    static func int(_ s: String, min: Int, _ key: String, _ r: ArgumentReader) throws -> Int {
        guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v >= min else { throw r.error(key, expected: "a whole number ≥ \(min)", found: "'\(s)'") }
        return v
    }

    static func number(_ s: String, _ t: ArgumentType, _ key: String, _ r: ArgumentReader) throws -> Double {
        guard case let .number(lo, hi, ol, oh) = t.scalarType else { fatalError("number parse of \(t)") }
        guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite,
              lo.map({ ol ? v > $0 : v >= $0 }) ?? true, hi.map({ oh ? v < $0 : v <= $0 }) ?? true else {
            throw r.error(key, expected: t.scalarType.summary, found: "'\(s)'")
        }
        return v
    }

    static func bool(_ s: String, _ key: String, _ r: ArgumentReader) throws -> Bool {
        switch s.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw r.error(key, expected: "true or false", found: "'\(s)'")
        }
    }

    static func nonEmpty(_ s: String, _ t: ArgumentType, _ key: String, _ r: ArgumentReader) throws -> String {
        guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw r.error(key, expected: t.summary, found: "an empty value") }
        return s
    }

    static func spec(_ s: String, _ key: String, _ r: ArgumentReader) throws -> String {
        do { return try ModelSpec.parse(s).description } catch let e as GlassboxError {
            throw r.error(key, expected: "a model spec", found: "\(e)")
        }
    }
}

extension ArgumentType {
    /// The type of one element of a list type (the type itself otherwise).
    var scalarType: ArgumentType {
        switch self {
        case .texts: return .text
        case let .names(k): return .name(k)
        case let .wholeNumbers(m): return .wholeNumber(min: m)
        case let .numbers(lo, hi, ol, oh): return .number(low: lo, high: hi, openLow: ol, openHigh: oh)
        case .layers: return .layer
        default: return self
        }
    }
}

// MARK: Declarations

public extension StepArgument {
    /// A single text value (a workspace name, a spec, a parameter name, free text) into a `String`.
    static func text(_ name: String, _ kp: WritableKeyPath<Options, String>, _ type: ArgumentType = .text, required: Bool = false,
                     help: String, default note: String? = nil) -> Self {
        Self(name: name, type: type, help: help, required: required, defaultNote: note,
             defaultValue: { o in o[keyPath: kp].isEmpty ? nil : o[keyPath: kp] },
             apply: { o, r in
                 guard let s = try r.scalar(name) else { return }
                 o[keyPath: kp] = type == .spec ? try ArgumentParse.spec(s, name, r) : try ArgumentParse.nonEmpty(s, type, name, r)
             })
    }

    /// The same into a `String?` (nil: the default the step works out, described by `default`).
    static func text(_ name: String, _ kp: WritableKeyPath<Options, String?>, _ type: ArgumentType = .text, help: String,
                     default note: String? = nil) -> Self {
        Self(name: name, type: type, help: help, required: false, defaultNote: note, defaultValue: { $0[keyPath: kp] },
             apply: { o, r in
                 guard let s = try r.scalar(name) else { return }
                 o[keyPath: kp] = type == .spec ? try ArgumentParse.spec(s, name, r) : try ArgumentParse.nonEmpty(s, type, name, r)
             })
    }

    /// A list of text values.
    static func texts(_ name: String, _ kp: WritableKeyPath<Options, [String]>, _ type: ArgumentType = .texts, required: Bool = false,
                      help: String, default note: String? = nil) -> Self {
        Self(name: name, type: type, help: help, required: required, defaultNote: note,
             defaultValue: { o in o[keyPath: kp].isEmpty ? nil : "[\(o[keyPath: kp].joined(separator: ", "))]" },
             apply: { o, r in
                 guard let l = try r.list(name) else { return }
                 guard !l.isEmpty else { throw r.error(name, expected: type.summary, found: "an empty list") }
                 o[keyPath: kp] = try l.map { try ArgumentParse.nonEmpty($0, type.scalarType, name, r) }
             })
    }

    static func texts(_ name: String, _ kp: WritableKeyPath<Options, [String]?>, _ type: ArgumentType = .texts, help: String,
                      default note: String? = nil) -> Self {
        Self(name: name, type: type, help: help, required: false, defaultNote: note,
             defaultValue: { o in o[keyPath: kp].map { "[\($0.joined(separator: ", "))]" } },
             apply: { o, r in
                 guard let l = try r.list(name) else { return }
                 guard !l.isEmpty else { throw r.error(name, expected: type.summary, found: "an empty list") }
                 o[keyPath: kp] = try l.map { try ArgumentParse.nonEmpty($0, type.scalarType, name, r) }
             })
    }

    static func int(_ name: String, _ kp: WritableKeyPath<Options, Int>, min: Int = 1, help: String, default note: String? = nil) -> Self {
        Self(name: name, type: .wholeNumber(min: min), help: help, required: false, defaultNote: note, defaultValue: { "\($0[keyPath: kp])" },
             apply: { o, r in if let s = try r.scalar(name) { o[keyPath: kp] = try ArgumentParse.int(s, min: min, name, r) } })
    }

    static func int(_ name: String, _ kp: WritableKeyPath<Options, Int?>, min: Int = 1, help: String, default note: String? = nil) -> Self {
        Self(name: name, type: .wholeNumber(min: min), help: help, required: false, defaultNote: note,
             defaultValue: { $0[keyPath: kp].map { "\($0)" } },
             apply: { o, r in if let s = try r.scalar(name) { o[keyPath: kp] = try ArgumentParse.int(s, min: min, name, r) } })
    }

    static func ints(_ name: String, _ kp: WritableKeyPath<Options, [Int]>, min: Int = 1, help: String, default note: String? = nil) -> Self {
        Self(name: name, type: .wholeNumbers(min: min), help: help, required: false, defaultNote: note,
             defaultValue: { o in o[keyPath: kp].isEmpty ? nil : "[\(o[keyPath: kp].map(String.init).joined(separator: ", "))]" },
             apply: { o, r in if let l = try r.list(name) { o[keyPath: kp] = try l.map { try ArgumentParse.int($0, min: min, name, r) } } })
    }

    static func ints(_ name: String, _ kp: WritableKeyPath<Options, [Int]?>, min: Int = 1, help: String, default note: String? = nil) -> Self {
        Self(name: name, type: .wholeNumbers(min: min), help: help, required: false, defaultNote: note,
             defaultValue: { o in o[keyPath: kp].map { "[\($0.map(String.init).joined(separator: ", "))]" } },
             apply: { o, r in if let l = try r.list(name) { o[keyPath: kp] = try l.map { try ArgumentParse.int($0, min: min, name, r) } } })
    }

    /// A finite number into a `Double`.
    static func number(_ name: String, _ kp: WritableKeyPath<Options, Double>, _ low: Double? = nil, _ high: Double? = nil,
                       openLow: Bool = false, openHigh: Bool = false, help: String, default note: String? = nil) -> Self {
        let t = ArgumentType.number(low: low, high: high, openLow: openLow, openHigh: openHigh)
        return Self(name: name, type: t, help: help, required: false, defaultNote: note, defaultValue: { formatNumber(Float($0[keyPath: kp])) },
                    apply: { o, r in if let s = try r.scalar(name) { o[keyPath: kp] = try ArgumentParse.number(s, t, name, r) } })
    }

    static func number(_ name: String, _ kp: WritableKeyPath<Options, Double?>, _ low: Double? = nil, _ high: Double? = nil,
                       openLow: Bool = false, openHigh: Bool = false, help: String, default note: String? = nil) -> Self {
        let t = ArgumentType.number(low: low, high: high, openLow: openLow, openHigh: openHigh)
        return Self(name: name, type: t, help: help, required: false, defaultNote: note,
                    defaultValue: { $0[keyPath: kp].map { formatNumber(Float($0)) } },
                    apply: { o, r in if let s = try r.scalar(name) { o[keyPath: kp] = try ArgumentParse.number(s, t, name, r) } })
    }

    static func number(_ name: String, _ kp: WritableKeyPath<Options, Float>, _ low: Double? = nil, _ high: Double? = nil,
                       openLow: Bool = false, openHigh: Bool = false, help: String, default note: String? = nil) -> Self {
        let t = ArgumentType.number(low: low, high: high, openLow: openLow, openHigh: openHigh)
        return Self(name: name, type: t, help: help, required: false, defaultNote: note, defaultValue: { formatNumber($0[keyPath: kp]) },
                    apply: { o, r in if let s = try r.scalar(name) { o[keyPath: kp] = Float(try ArgumentParse.number(s, t, name, r)) } })
    }

    static func number(_ name: String, _ kp: WritableKeyPath<Options, Float?>, _ low: Double? = nil, _ high: Double? = nil,
                       openLow: Bool = false, openHigh: Bool = false, help: String, default note: String? = nil) -> Self {
        let t = ArgumentType.number(low: low, high: high, openLow: openLow, openHigh: openHigh)
        return Self(name: name, type: t, help: help, required: false, defaultNote: note, defaultValue: { $0[keyPath: kp].map(formatNumber) },
                    apply: { o, r in if let s = try r.scalar(name) { o[keyPath: kp] = Float(try ArgumentParse.number(s, t, name, r)) } })
    }

    static func numbers(_ name: String, _ kp: WritableKeyPath<Options, [Double]?>, _ low: Double? = nil, _ high: Double? = nil,
                        openLow: Bool = false, openHigh: Bool = false, help: String, default note: String? = nil) -> Self {
        let t = ArgumentType.numbers(low: low, high: high, openLow: openLow, openHigh: openHigh)
        return Self(name: name, type: t, help: help, required: false, defaultNote: note,
                    defaultValue: { o in o[keyPath: kp].map { "[\($0.map { formatNumber(Float($0)) }.joined(separator: ", "))]" } },
                    apply: { o, r in
                        if let l = try r.list(name) { o[keyPath: kp] = try l.map { try ArgumentParse.number($0, t.scalarType, name, r) } }
                    })
    }

    static func flag(_ name: String, _ kp: WritableKeyPath<Options, Bool>, help: String, default note: String? = nil) -> Self {
        Self(name: name, type: .flag, help: help, required: false, defaultNote: note, defaultValue: { "\($0[keyPath: kp])" },
             apply: { o, r in if let s = try r.scalar(name) { o[keyPath: kp] = try ArgumentParse.bool(s, name, r) } })
    }

    /// One of an enum's raw values.
    static func choice<E: RawRepresentable & CaseIterable>(_ name: String, _ kp: WritableKeyPath<Options, E>, help: String,
                                                            default note: String? = nil) -> Self where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        return Self(name: name, type: .choice(names), help: help, required: false, defaultNote: note, defaultValue: { $0[keyPath: kp].rawValue },
                    apply: { o, r in
                        guard let s = try r.scalar(name) else { return }
                        guard let v = E(rawValue: s) else { throw r.error(name, expected: ArgumentType.choice(names).choiceSummary, found: "'\(s)'") }
                        o[keyPath: kp] = v
                    })
    }

    static func choice<E: RawRepresentable & CaseIterable>(_ name: String, _ kp: WritableKeyPath<Options, E?>, help: String,
                                                            default note: String? = nil) -> Self where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        return Self(name: name, type: .choice(names), help: help, required: false, defaultNote: note,
                    defaultValue: { $0[keyPath: kp]?.rawValue },
                    apply: { o, r in
                        guard let s = try r.scalar(name) else { return }
                        guard let v = E(rawValue: s) else { throw r.error(name, expected: ArgumentType.choice(names).choiceSummary, found: "'\(s)'") }
                        o[keyPath: kp] = v
                    })
    }

    /// A list of an enum's raw values.
    static func choices<E: RawRepresentable & CaseIterable>(_ name: String, _ kp: WritableKeyPath<Options, [E]>, help: String,
                                                             default note: String? = nil) -> Self where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        return Self(name: name, type: .choice(names), help: help + " (a list)", required: false, defaultNote: note,
                    defaultValue: { "[\($0[keyPath: kp].map(\.rawValue).joined(separator: ", "))]" },
                    apply: { o, r in
                        guard let l = try r.list(name) else { return }
                        guard !l.isEmpty else { throw r.error(name, expected: "a list of \(names.joined(separator: ", "))", found: "an empty list") }
                        o[keyPath: kp] = try l.map { s in
                            guard let v = E(rawValue: s) else { throw r.error(name, expected: "values among \(names.joined(separator: ", "))", found: "'\(s)'") }
                            return v
                        }
                    })
    }

    /// The seed (default: the recipe's seed, which the step sets before decoding).
    static func seed(_ kp: WritableKeyPath<Options, UInt64>, help: String = "seed of everything random in this cell") -> Self {
        Self(name: "seed", type: .seed, help: help, required: false, defaultNote: "the recipe seed", defaultValue: { "\($0[keyPath: kp])" },
             apply: { o, r in
                 guard let s = try r.scalar("seed") else { return }
                 guard let v = UInt64(s) else { throw r.error("seed", expected: "a whole number ≥ 0", found: "'\(s)'") }
                 o[keyPath: kp] = v
             })
    }

    /// A value parsed by a custom function (e.g. `TRAIN:TEST` counts).
    static func custom<T>(_ name: String, _ kp: WritableKeyPath<Options, T>, _ type: ArgumentType, help: String, default note: String? = nil,
                          show: @escaping (T) -> String? = { _ in nil }, parse: @escaping (String) throws -> T) -> Self {
        Self(name: name, type: type, help: help, required: false, defaultNote: note, defaultValue: { show($0[keyPath: kp]) },
             apply: { o, r in
                 guard let s = try r.scalar(name) else { return }
                 do { o[keyPath: kp] = try parse(s) } catch let e as GlassboxError {
                     if case let .invalidArgument(_, expected, found) = e { throw r.error(name, expected: expected, found: found) }
                     throw r.error(name, expected: type.summary, found: "\(e)")
                 }
             })
    }
}

extension ArgumentType: Equatable {}

/// The declared arguments of one step (or figure kind): decodes a reader into options that start from defaults.
public struct Arguments<Options>: @unchecked Sendable {
    public let list: [StepArgument<Options>]
    /// Default options (for help); decoding starts from a value the caller passes (defaults plus the recipe seed).
    let defaults: () -> Options

    public init(defaults: @escaping () -> Options, _ list: [StepArgument<Options>]) {
        self.list = list; self.defaults = defaults
    }

    public var names: [String] { list.map(\.name) }

    /// The arguments of a part of the options, lifted into the whole.
    public func lifted<Outer>(_ kp: WritableKeyPath<Outer, Options>, defaults: @escaping () -> Outer) -> Arguments<Outer> {
        Arguments<Outer>(defaults: defaults, list.map { $0.lifted(kp) })
    }

    /// Only the arguments named (in this order).
    public func only(_ names: [String]) -> [StepArgument<Options>] {
        names.compactMap { n in list.first { $0.name == n } }
    }

    public func argument(_ name: String) -> StepArgument<Options>? { list.first { $0.name == name } }

    /// "help (default X)" for a command-line flag.
    public func help(_ name: String) -> String {
        guard let a = argument(name) else { return "" }
        let d = a.defaultText(defaults())
        return a.help.prefix(1).uppercased() + a.help.dropFirst() + (d.map { " (\(a.type.summary); default \($0))" } ?? " (\(a.type.summary))") + "."
    }

    /// Reads every declared argument present in `reader` into `options`; unknown keys (other than `step` and
    /// `extra`) and missing required ones are errors.
    public func decode(_ reader: ArgumentReader, into options: inout Options, extra: [String] = []) throws {
        let known = Set(names + extra + ["step"])
        for k in reader.keys where !known.contains(k) { throw reader.unknown(k, allowed: names + extra) }
        for a in list {
            if a.required, !reader.keys.contains(a.name) { throw reader.missing(a.name) }
            try a.apply(&options, reader)
        }
    }

    public func decode(_ reader: ArgumentReader, from initial: Options, extra: [String] = []) throws -> Options {
        var o = initial
        try decode(reader, into: &o, extra: extra)
        return o
    }

    /// Help rows: name, type, default, help.
    public var docs: [ArgumentDoc] {
        let d = defaults()
        return list.map { ArgumentDoc(name: $0.name, type: $0.type.summary, defaultText: $0.required ? "required" : $0.defaultText(d), help: $0.help) }
    }
}

/// One argument as help shows it.
public struct ArgumentDoc: Sendable, Equatable {
    public var name: String
    public var type: String
    public var defaultText: String?
    public var help: String
}
