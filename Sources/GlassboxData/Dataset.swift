import GlassboxCore

/// A labelled image data set held in memory: images `[N, C, H, W]` scaled to [0, 1], integer labels and
/// class names. Value type; slicing and splitting make new data sets.
public struct Dataset: Sendable {
    public var name: String
    public var images: Tensor
    public var labels: [Int32]
    public var classNames: [String]

    public init(name: String, images: Tensor, labels: [Int32], classNames: [String]) {
        precondition(images.rank == 4, "images must be [N, C, H, W], got \(images.shape)")
        precondition(images.shape[0] == labels.count, "\(images.shape[0]) images but \(labels.count) labels")
        self.name = name
        self.images = images
        self.labels = labels
        self.classNames = classNames
    }

    public var count: Int { labels.count }
    public var channels: Int { images.shape[1] }
    public var height: Int { images.shape[2] }
    public var width: Int { images.shape[3] }
    public var classCount: Int { classNames.count }
    /// Values per image (C·H·W).
    public var featureCount: Int { images.rowLength }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        Dataset(name: name ?? self.name, images: images.gatherRows(indices), labels: indices.map { labels[$0] },
                classNames: classNames)
    }
}
