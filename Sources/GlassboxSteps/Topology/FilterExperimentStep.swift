import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxEngine
import GlassboxNN
import GlassboxReport

extension FilterExperimentResult: WorkspaceResult { public static let kind = "filter experiment result" }

public extension FilterExperimentSettings {
    /// `step: filter-experiment` reads these.
    static let arguments = Arguments<FilterExperimentSettings>(defaults: { FilterExperimentSettings() }, [
        .text("model", \.spec, .spec, help: "the spec of every net"),
        .int("nets", \.nets, help: "nets trained (net i uses seed + i)"),
        .int("epochs", \.epochs, help: "epochs per net"),
        .int("train-limit", \.trainLimit, help: "first N training samples", default: "all"),
        .int("batch", \.batchSize, help: "batch size"),
        .number("lr", \.learningRate, 0, openLow: true, help: "Adam's learning rate"),
        .texts("layers", \.layers, .layers, help: "conv weights whose k×k filters are pooled"),
        .ints("steps", \.steps, help: "optimiser steps at which filters are pooled too (the final step always is)", default: "none"),
        .seed(\.seed, help: "seed of net 0 (net i uses seed + i)"),
    ])
}

/// `step: filter-experiment` — trains N nets that differ only in seed and pools their k×k filters (every `(out, in)`
/// slice of a conv weight) at chosen optimiser steps and at the end, per layer (METHODS.md §3.1).
public struct FilterExperimentStep: DeclaredStep {
    public let name = "filter-experiment"
    public let summary = "N seed-varied nets' pooled k×k filters at chosen steps (with run --engine, one task per net)"

    public struct Options {
        public init() {}
        public var data = ""
        public var name = "filters"
        public var layer: String?
        public var settings = FilterExperimentSettings()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("data", \.data, .name(.data), required: true, help: "the data set"),
        .text("name", \.name, help: "workspace name of the result"),
        .text("layer", \.layer, .layer, help: "one conv weight (instead of layers)"),
    ] + FilterExperimentSettings.arguments.list.map { $0.lifted(\Options.settings) })

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.settings.seed = ctx.seed
        return o
    }

    func resolved(_ ctx: CellContext) throws -> Options {
        var o = try options(ctx)
        if let l = o.layer {
            if ctx.args.keys.contains("layers") { throw ctx.args.error("layers", expected: "either 'layer' or 'layers', not both", found: "both") }
            o.settings.layers = [l]
        }
        return o
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.data, try resolved(ctx).data)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try resolved(ctx)
        let pair = try ws.dataPair(o.data)
        let result: FilterExperimentResult
        do {
            if let engine = ws.engine, let folder = ctx.tasksDirectory, let source = ws.data[o.data]?.source {
                // One task per net on the run's engine (same bytes as in this process).
                result = try FilterEnsemble.run(o.settings, source: source, trainCount: pair.train.count, data: o.data, engine: engine, folder: folder)
            } else {
                result = try FilterExperiment.run(o.settings, train: pair.train, test: pair.test, data: o.data, label: o.name)
            }
        } catch let e as GlassboxError {
            // The cell may have named one layer as `layer`.
            if case let .invalidArgument(n, expected, found) = e, n == "layers" || n == "layer", o.layer != nil {
                throw ctx.args.error("layer", expected: expected, found: found)
            }
            throw e
        }
        let stored = try ws.addResult(result, name: o.name)
        return CellResult(produced: [stored], outputs: [.text(Self.text(result, o.settings, trainCount: min(pair.train.count, o.settings.trainLimit ?? .max)))])
    }

    static func text(_ r: FilterExperimentResult, _ s: FilterExperimentSettings, trainCount: Int) -> String {
        let finite = r.testAccuracies.filter(\.isFinite)
        let mean = finite.isEmpty ? Float.nan : finite.reduce(0, +) / Float(finite.count)
        let layers = r.layers ?? [r.layer]
        var text = "\(r.nets) nets (\(r.spec)) trained for \(s.epochs) epoch\(s.epochs == 1 ? "" : "s") on \(trainCount) samples of '\(r.data)', "
            + "seeds \(s.seed)…\(s.seed &+ UInt64(r.nets - 1)); \(r.kernel)×\(r.kernel) filters pooled "
            + layers.map { l in "of \(l) at steps " + r.pools.filter { $0.layer == l }.map { "\($0.step) (\($0.count) filters)" }.joined(separator: ", ") }
                .joined(separator: "; ")
        if mean.isFinite { text += String(format: "; mean test accuracy %.2f %%", mean * 100) }
        return text + "."
    }
}
