import Foundation
import GlassboxCore

/// One persistence interval `[birth, death)`. An essential class has `death == .infinity`;
/// in JSON its death is written as `null` (JSON has no infinity).
public struct PersistenceBar: Codable, Equatable, Sendable, CustomStringConvertible {
    public var birth: Double
    public var death: Double

    public init(birth: Double, death: Double) {
        self.birth = birth
        self.death = death
    }

    public var isInfinite: Bool { death == .infinity }
    public var length: Double { death - birth }
    /// Alive at scale r: born at or before r and not yet dead (`birth ≤ r < death`).
    public func isAlive(at r: Double) -> Bool { birth <= r && r < death }

    public var description: String { "[\(birth), \(isInfinite ? "∞" : String(death)))" }

    enum CodingKeys: String, CodingKey { case birth, death }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        birth = try c.decode(Double.self, forKey: .birth)
        death = try c.decodeIfPresent(Double.self, forKey: .death) ?? .infinity
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(birth, forKey: .birth)
        if isInfinite { try c.encodeNil(forKey: .death) } else { try c.encode(death, forKey: .death) }
    }
}

/// Vietoris–Rips barcodes of one point cloud or distance matrix, one list of bars per dimension 0…maxDimension.
/// Bars of zero length are not listed. Within a dimension, bars are sorted by (birth, death).
public struct Barcodes: Codable, Equatable, Sendable {
    /// `bars[d]` = the bars of H_d.
    public var bars: [[PersistenceBar]]
    /// The largest edge length in the filtration (closed: edges of length ≤ threshold are included).
    public var threshold: Double
    /// The prime p of the coefficient field Z/p.
    public var modulus: Int
    public var pointCount: Int

    public init(bars: [[PersistenceBar]], threshold: Double, modulus: Int, pointCount: Int) {
        self.bars = bars
        self.threshold = threshold
        self.modulus = modulus
        self.pointCount = pointCount
    }

    public var maxDimension: Int { bars.count - 1 }

    /// The bars of H_d (empty for a dimension that was not computed).
    public subscript(dimension: Int) -> [PersistenceBar] {
        dimension >= 0 && dimension < bars.count ? bars[dimension] : []
    }

    /// The bars of H_d as `(birth, death)` pairs.
    public func pairs(_ dimension: Int) -> [(birth: Double, death: Double)] {
        self[dimension].map { ($0.birth, $0.death) }
    }

    /// Rank of H_d of the Rips complex at scale r: the number of bars with `birth ≤ r < death`.
    public func bettiNumber(_ dimension: Int, at r: Double) -> Int {
        self[dimension].filter { $0.isAlive(at: r) }.count
    }
}
