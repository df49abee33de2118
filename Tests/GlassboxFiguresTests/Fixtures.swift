import Foundation
@testable import GlassboxFigures

/// Small fixed figures, one per kind, used by the golden-image and format tests. Values come from closed-form
/// expressions (no RNG), so they never change.
enum Fixtures {
    static let size = FigureSize.screen(width: 320, height: 220)

    static var filterGrid: Figure {
        let filters = (0..<8).map { k -> FigureImage in
            var v: [Float] = []
            for c in 0..<3 {
                for y in 0..<5 {
                    for x in 0..<5 {
                        let a = Double(k) * 0.7 + Double(c) * 1.9
                        v.append(Float(sin(a + Double(x) * 0.9) * cos(Double(y) * 0.8 - a)))
                    }
                }
            }
            return FigureImage(channels: 3, height: 5, width: 5, values: v)
        }
        return .filterGrid(FilterGrid(filters: filters, normalization: .minMax, columns: 4,
                                      labels: (0..<8).map { "f\($0)" }, title: "conv1 filters (min–max per filter)"))
    }

    static var weightImages: Figure {
        let rows = 6, h = 8, w = 8
        var weights: [Float] = [], mask: [Float] = []
        for r in 0..<rows {
            for y in 0..<h {
                for x in 0..<w {
                    let cx = Double(x) - 3.5, cy = Double(y) - 3.5
                    let v = (cx * cos(Double(r)) + cy * sin(Double(r))) / 3.5 * (0.4 + 0.12 * Double(r))
                    weights.append(Float(v))
                    mask.append((x + y + r) % 5 == 0 ? 0 : 1)
                }
            }
        }
        return .weightImages(WeightImages(weights: weights, rows: rows, imageHeight: h, imageWidth: w, mask: mask,
                                          scale: .shared, columns: 3, labels: (0..<rows).map { "unit \($0)" },
                                          title: "fc1 rows as 8×8 images"))
    }

    static var imageGrid: Figure {
        let labels = ["7→7", "2→2", "1→1", "0→6", "4→9", "9→4"]
        let images = (0..<6).map { k -> FigureImage in
            var v: [Float] = []
            for y in 0..<10 {
                for x in 0..<10 {
                    let dx = Double(x) - 4.5, dy = Double(y) - 4.5
                    let ring = abs((dx * dx + dy * dy).squareRoot() - 2.5 - Double(k % 3) * 0.5)
                    v.append(Float(max(0, 1 - ring) * (k % 2 == 0 ? 1 : 0.8)))
                }
            }
            return FigureImage(channels: 1, height: 10, width: 10, values: v)
        }
        return .imageGrid(ImageGrid(images: images, labels: labels, highlighted: [false, false, false, true, true, true],
                                    columns: 3, title: "samples (true→predicted)"))
    }

    static var barChart: Figure {
        .barChart(BarChart(categories: ["MNIST", "Fashion", "CIFAR-10"],
                           groups: [BarGroup(name: "dense", values: [98.1, 89.4, 52.3], errors: [0.2, 0.5, 1.4]),
                                    BarGroup(name: "pruned 90%", values: [97.6, 87.9, 47.8], errors: [0.3, 0.6, 2.1])],
                           title: "test accuracy", yTitle: "accuracy", unit: "%"))
    }

    static var confusion: Figure {
        let m: [[Double]] = [[50, 2, 0, 1], [3, 45, 4, 0], [0, 6, 40, 7], [1, 0, 5, 48]]
        return .heatMap(HeatMap(values: Matrix(m), rowLabels: ["0", "1", "2", "3"], columnLabels: ["0", "1", "2", "3"],
                                rowTitle: "true", columnTitle: "predicted", title: "confusion matrix",
                                colorMap: .viridis, annotation: .integer, colorBarTitle: "count"))
    }

    static var deltaAccuracy: Figure {
        let m: [[Double]] = [[-0.4, 0.1, 1.2], [-2.5, 0.0, 0.8], [0.3, -1.1, 2.0]]
        return .heatMap(HeatMap(values: Matrix(m), rowLabels: ["layer 1", "layer 2", "layer 3"],
                                columnLabels: ["10%", "50%", "90%"], rowTitle: "pruned layer", columnTitle: "amount",
                                title: "Δ accuracy", colorMap: .rdBu, limits: .symmetric, annotation: .decimals(1),
                                colorBarTitle: "Δ accuracy (pp)"))
    }

    static var linePlot: Figure {
        let epochs = (1...20).map(Double.init)
        return .linePlot(LinePlot(series: [
            LineSeries(name: "train", x: epochs, y: epochs.map { 2.3 * exp(-$0 / 3) + 0.02 }),
            LineSeries(name: "test", x: epochs, y: epochs.map { 2.3 * exp(-$0 / 3.5) + 0.08 + 0.002 * $0 }),
        ], title: "loss", xTitle: "epoch", yTitle: "cross-entropy", logY: true))
    }

    static var histogram: Figure {
        // Deterministic quasi-normal samples: inverse-CDF-free sum of sines.
        func sample(_ i: Int, _ shift: Double, _ spread: Double) -> Double {
            var s = 0.0
            for k in 1...6 { s += sin(Double(i) * 12.9898 * Double(k) + Double(k) * 78.233).truncatingRemainder(dividingBy: 1) }
            return shift + spread * s / 2
        }
        return .histogram(Histogram(series: [
            HistogramSeries(name: "before pruning", values: (0..<400).map { sample($0, 0, 0.12) }),
            HistogramSeries(name: "after pruning", values: (0..<400).map { sample($0 + 1000, 0.05, 0.08) }),
        ], bins: .count(24), title: "fc1 weights", xTitle: "weight", yTitle: "count"))
    }

    static var all: [(name: String, figure: Figure)] {
        [("filter_grid", filterGrid), ("weight_images", weightImages), ("image_grid", imageGrid),
         ("bar_chart", barChart), ("heat_map_confusion", confusion), ("heat_map_delta", deltaAccuracy),
         ("line_plot", linePlot), ("histogram", histogram)]
    }
}
