import GlassboxCore
import GlassboxData
import GlassboxNN

/// What a user sets for co-clustering one Linear layer (`step: cluster`, `glassbox cluster`), defaults in one place.
public struct CoClusterSettings: Codable, Equatable, Sendable {
    /// The Linear weight, as a parameter name.
    public var layer = "2.weight"
    public var k = 4
    public var affinity = Affinity.weight
    /// Shuffled copies of W for the null distribution.
    public var nullDraws = 50
    /// Training batches the gradient affinities average over (nil: all).
    public var batches: Int?
    public var seed: UInt64 = 0
    public init() {}
}

/// Co-clusters of one layer with their clusterability, baseline and shuffle null.
public struct CoClusterResult: Codable, Sendable {
    /// The model's name (a workspace name or a checkpoint path).
    public var model: String
    public var layer: String
    public var affinity: Affinity
    public var report: ClusterabilityReport
    public init(model: String, layer: String, affinity: Affinity, report: ClusterabilityReport) {
        self.model = model; self.layer = layer; self.affinity = affinity; self.report = report
    }
}

/// BSGC of a layer (METHODS.md §1) with its null: the one entry point of the recipe step and the command.
public enum CoClusterAnalysis {
    /// `data` (its training split) is needed for the gradient affinities only.
    public static func run(_ model: Sequential, name: String, data: Dataset?, settings s: CoClusterSettings) throws -> CoClusterResult {
        let lin = try ModelAccess.linear(model, s.layer)
        guard s.k >= 2 else { throw GlassboxError.invalidArgument(name: "k", expected: "at least 2 co-clusters", found: "\(s.k)") }
        guard s.nullDraws >= 0 else { throw GlassboxError.invalidArgument(name: "null", expected: "a whole number ≥ 0", found: "\(s.nullDraws)") }
        let aff = try BSGC.affinity(s.affinity, model: model, layer: s.layer, data: s.affinity == .weight ? nil : data, batches: s.batches)
        let clusters = try BSGC.coCluster(affinity: aff, k: s.k, seed: s.seed)
        let report = try Clusterability.assess(weight: lin.weight.value, clusters: clusters, seed: s.seed, nullDraws: s.nullDraws)
        return CoClusterResult(model: name, layer: s.layer, affinity: s.affinity, report: report)
    }
}
