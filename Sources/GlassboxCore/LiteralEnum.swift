/// A string enum that code can write as a literal (`status == "changed"`, `direction: "higher"`): the literal must
/// be one of the raw values; anything else is a programming error, caught the first time that line runs.
public protocol StringLiteralEnum: RawRepresentable, ExpressibleByStringLiteral, CaseIterable where RawValue == String {}

public extension StringLiteralEnum {
    init(stringLiteral value: String) {
        guard let v = Self(rawValue: value) else {
            fatalError("'\(value)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = v
    }
}
