import GlassboxCore

/// Per-class mean attribution maps: the average map over the images of each class.
public struct ClassMeanMaps: Codable, Equatable, Sendable {
    /// One map's shape (`[C, H, W]`).
    public var mapShape: [Int]
    /// `means[k]` is the mean map of class k (empty for a class without images).
    public var means: [[Float]]
    public var counts: [Int]

    /// Groups by `labels` (default: the attribution's targets), which must lie in 0..<classCount.
    public static func compute(_ attribution: Attribution, labels: [Int]? = nil, classCount: Int) throws -> ClassMeanMaps {
        let groups = labels ?? attribution.targets
        let n = attribution.shape.first ?? 0
        guard groups.count == n else {
            throw GlassboxError.invalidArgument(name: "labels", expected: "one label per map (\(n))", found: "\(groups.count)")
        }
        guard classCount >= 1, groups.allSatisfy({ $0 >= 0 && $0 < classCount }) else {
            throw GlassboxError.invalidArgument(name: "labels", expected: "classes in 0..<\(classCount)", found: "\(groups.first { $0 < 0 || $0 >= classCount } ?? classCount)")
        }
        let len = attribution.values.count / max(1, n)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: len), count: classCount)
        var counts = [Int](repeating: 0, count: classCount)
        for i in 0..<n {
            counts[groups[i]] += 1
            for j in 0..<len { sums[groups[i]][j] += Double(attribution.values[i * len + j]) }
        }
        let means = (0..<classCount).map { k in counts[k] == 0 ? [] : sums[k].map { Float($0 / Double(counts[k])) } }
        return ClassMeanMaps(mapShape: Array(attribution.shape.dropFirst()), means: means, counts: counts)
    }
}
