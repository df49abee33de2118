/// Every error Glassbox reports to a user. Each case names where the problem is and what was expected,
/// so the command line can print it as one clear line.
public enum GlassboxError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file could not be read or has the wrong format. `field` names the part (e.g. "magic", "header").
    case badFile(path: String, field: String, expected: String, found: String)
    /// A file or directory does not exist.
    case missingFile(path: String, hint: String)
    /// A user-supplied value (option, spec, parameter) is invalid.
    case invalidArgument(name: String, expected: String, found: String)
    /// Shapes of two things that must agree do not.
    case shapeMismatch(what: String, expected: [Int], found: [Int])
    /// A download or network step failed.
    case network(url: String, reason: String)
    /// Anything else, with a message that already reads as a sentence.
    case message(String)

    /// The error as one line: line breaks inside quoted values (a file's text, a parameter given with `-p`) are
    /// written as `\n` and `\r`, so the command line always prints exactly one line.
    public var description: String {
        text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    private var text: String {
        switch self {
        case let .badFile(path, field, expected, found):
            return "\(path): \(field): expected \(expected), found \(found)"
        case let .missingFile(path, hint):
            return "\(path): no such file\(hint.isEmpty ? "" : " (\(hint))")"
        case let .invalidArgument(name, expected, found):
            return "\(name): expected \(expected), found \(found)"
        case let .shapeMismatch(what, expected, found):
            return "\(what): expected shape \(expected), found \(found)"
        case let .network(url, reason):
            return "\(url): \(reason)"
        case let .message(m):
            return m
        }
    }
}
