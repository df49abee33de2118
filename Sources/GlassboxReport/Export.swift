import Foundation
import GlassboxCore
import GlassboxFigures

/// Re-renders a run's figures from their stored JSON values (not by rescaling the PNGs).
public enum FigureExport {
    /// Writes `<label>.<format>` for every figure of the run at `run` (a run folder or its `run.json`) into `out`,
    /// which must lie outside the run folder.
    /// The width defaults to one journal column (89 mm); the height keeps each figure's aspect ratio.
    @discardableResult
    public static func export(run: String, format: FigureFormat, dpi: Double = 300, widthMM: Double = FigureSize.singleColumnMM,
                              fontSize: Double = 7, out: String) throws -> [String] {
        guard dpi > 0, dpi <= 2400 else { throw GlassboxError.invalidArgument(name: "--dpi", expected: "a value in 1…2400", found: "\(dpi)") }
        guard widthMM > 0, widthMM <= 1000 else {
            throw GlassboxError.invalidArgument(name: "--width-mm", expected: "a width in millimetres (0…1000]", found: "\(widthMM)")
        }
        // The run folder's contract (safe labels, files inside the folder, no symlink leading out) is checked by
        // RunFolder.load; the output must not be the run folder or inside it (it would overwrite the run's figures).
        let folder = try RunFolder.load(run)
        try folder.checkOutside(out, option: "--out")
        var written: [String] = []
        for f in folder.manifest.figures {
            let jsonPath = try folder.resolve(f.json)
            let figure = try ReportJSON.decode(Figure.self, from: Files.read(jsonPath), path: jsonPath)
            let heightMM = widthMM * Double(f.height) / Double(max(1, f.width))
            let size = FigureSize(widthMM: widthMM, heightMM: heightMM, dpi: dpi, fontSize: fontSize)
            let data: Data
            do { data = try figure.render(to: format, size: size) } catch let e as GlassboxError {
                throw GlassboxError.badFile(path: jsonPath, field: "figure", expected: "a figure that renders", found: "\(e)")
            }
            let target = (out as NSString).appendingPathComponent("\(f.label).\(format.fileExtension)")
            try Files.writeAtomically(data, to: target)
            written.append(target)
        }
        return written
    }
}
