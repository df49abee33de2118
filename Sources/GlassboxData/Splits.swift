import GlassboxCore

public extension Dataset {
    /// The first `n` samples (all of them when `n` ≥ `count`; none when `n` ≤ 0).
    func limit(_ n: Int) -> Dataset {
        let keep = Swift.min(Swift.max(0, n), count)
        if keep == count { return self }
        return Dataset(name: name, images: images.rows(0..<keep), labels: Array(labels[0..<keep]), classNames: classNames)
    }

    /// Two disjoint random subsets drawn with a seeded permutation: the first `trainCount` indices of the
    /// permutation become the train part, the next `testCount` the test part. The same seed always gives the
    /// same split; samples keep their permuted order. For example the 10 000-image MNIST test set can serve as
    /// train 8000 / test 2000.
    func split(trainCount: Int, testCount: Int, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        // Written so that no sum can overflow: both counts come from a flag (`--resplit A:B`).
        guard trainCount >= 0, testCount >= 0, trainCount <= count - testCount else {
            throw GlassboxError.invalidArgument(name: "split of \(name)",
                                                expected: "train + test ≤ \(count) samples, each ≥ 0",
                                                found: "train \(trainCount) + test \(testCount)")
        }
        var g = SeededGenerator(seed: seed)
        let order = g.permutation(count)
        return (subset(Array(order[0..<trainCount])),
                subset(Array(order[trainCount..<(trainCount + testCount)])))
    }

    /// How many samples carry each class index (`result[c]` for class `c`).
    var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: Swift.max(classCount, (labels.max().map { Int($0) + 1 }) ?? 0))
        for l in labels where l >= 0 { counts[Int(l)] += 1 }
        return counts
    }
}
