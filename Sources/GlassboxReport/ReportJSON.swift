import Foundation
import GlassboxCore

/// JSON with sorted keys and NaN/∞ spelled out, so results are byte-stable and never fail to encode.
public enum ReportJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    public static func encode<T: Encodable>(_ v: T) throws -> Data {
        do { return try encoder().encode(v) } catch {
            throw GlassboxError.message("could not encode \(T.self) as JSON: \(error)")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do { return try decoder().decode(type, from: data) } catch {
            throw GlassboxError.badFile(path: path, field: "JSON", expected: "a \(T.self) value", found: "\(error)")
        }
    }
}
