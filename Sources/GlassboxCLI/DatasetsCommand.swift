import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxData

/// `glassbox datasets list | info NAME | fetch NAME [--mirror URL] [--dir DIR]`
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List, describe and download the known data sets (mnist, fashion-mnist, cifar10).",
        discussion: """
        A data set NAME is looked for in datasets/NAME/ under the current directory, then $GLASSBOX_DATA/NAME/, \
        then /usr/share/datasets/NAME/.
        """,
        subcommands: [List.self, Info.self, Fetch.self, Export.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each known data set, where it was found and its size on disk.")

        func run() throws {
            let rows = DatasetRegistry.all.map { info -> [String] in
                guard let folder = DatasetsCommand.folder(of: info, directory: nil) else {
                    return [info.name, "not present", "-"]
                }
                return [info.name, folder, DatasetsCommand.formatBytes(DatasetsCommand.folderSize(folder))]
            }
            DatasetsCommand.printTable([["name", "where", "size"]] + rows)
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a data set's source, files, checksums, classes and sample counts.")

        @Argument(help: "Data set name (see `glassbox datasets list`), or folder:PATH, npz:PATH, npy:X.npy,Y.npy.")
        var name: String

        @Option(help: "Look in this folder instead of the standard places.")
        var dir: String?

        func run() throws {
            let location = try renamingArguments(["dataset": "NAME"]) { try DataLocation.parse(name) }
            if location.isFile {
                try FileData.describe(location) { print($0) }
                return
            }
            let info = try DatasetRegistry.info(name)
            print("\(info.name): \(info.summary)")
            print("source: \(info.baseURL)")
            let folder = DatasetsCommand.folder(of: info, directory: dir)
            print("location: \(folder ?? "not present (searched \(DatasetRegistry.searchFolders(for: info.name, directory: dir).joined(separator: ", ")); run `\(info.fetchCommand)`)")")
            print("files:")
            for f in info.files {
                var line = "  \(f.name)  sha256 \(f.sha256)"
                if let folder, let path = DatasetRegistry.existingFile(f.name, in: folder) {
                    if path.hasSuffix(f.name) {
                        let size = DatasetsCommand.fileSize(path)
                        line += "\n    present, \(DatasetsCommand.formatBytes(size)), "
                            + DatasetRegistry.describeChecksum(f, found: try SHA256.hex(fileAt: path))
                    } else {
                        line += "\n    present uncompressed as \((path as NSString).lastPathComponent) (checksum applies to the .gz)"
                    }
                } else if folder != nil, case .cifar10Binary = info.format {
                    line += "\n    archive not kept; unpacked batches present"
                }
                print(line)
            }
            print("classes (\(info.classNames.count)): \(info.classNames.joined(separator: ", "))")
            for split in Split.allCases {
                let official = split == .train ? info.trainCount : info.testCount
                var line = "\(split.rawValue): "
                if let f = DatasetRegistry.locate(info, split: split, directory: dir) {
                    line += "\(try DatasetRegistry.sampleCount(info, split: split, folder: f)) samples"
                } else {
                    line += "not present"
                }
                if let official { line += " (official: \(official))" }
                print(line)
            }
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a data set and verify every file's SHA-256; files already present and correct are kept.")

        @Argument(help: "Data set name (see `glassbox datasets list`).")
        var name: String

        @Option(help: "Base URL to download from instead of the data set's own (file names are appended).")
        var mirror: String?

        @Option(help: "Target folder (default: datasets/NAME under the current directory).")
        var dir: String?

        func run() throws {
            let folder = dir ?? Fetcher.defaultDirectory(for: name)
            let results = try Fetcher.fetch(name: name, into: folder, mirror: mirror)
            for r in results { print("\(r.name): \(r.action.rawValue), sha256 \(r.sha256)") }
            print("\(name) is in \(folder)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a data set as PNG images in torchvision's ImageFolder layout (OUT/train|test/<class>/N.png).",
            discussion: "Example: glassbox datasets export fashion-mnist --limit 2000 --out fashion-png   (read back with --data folder:fashion-png)")

        @Argument(help: "Data set name, or folder:PATH, npz:PATH, npy:….") var name: String
        @Option(help: "The folder to write (replaced only if an earlier export wrote it).") var out: String
        @Option(help: "Look in this folder instead of the standard places.") var dir: String?
        @Option(help: "Write only the first N samples of each split.") var limit: Int?
        @Option(help: "Which splits: both, train or test.") var split = "both"

        func run() throws {
            guard ["both", "train", "test"].contains(split) else {
                throw GlassboxError.invalidArgument(name: "--split", expected: "both, train or test", found: "'\(split)'")
            }
            if let limit, limit < 1 { throw GlassboxError.invalidArgument(name: "--limit", expected: "a whole number ≥ 1", found: "\(limit)") }
            let wanted: [Split] = split == "both" ? [.train, .test] : split == "train" ? [.train] : [.test]
            var sets: [(split: String, data: Dataset)] = []
            if try renamingArguments(["dataset": "NAME"], { try DataLocation.parse(name) }).isFile {
                let pair = try renamingArguments(["dataset": "NAME"]) { try DataRequest(dataset: name, trainLimit: limit, testLimit: limit).load() }
                if wanted.contains(.train), pair.train.count > 0 { sets.append(("train", pair.train)) }
                if wanted.contains(.test) { sets.append(("test", pair.test)) }
            } else {
                // Registry data sets split by split, so a folder holding only the test files exports its test split.
                for s in wanted { sets.append((s.rawValue, try DatasetRegistry.load(name: name, split: s, limit: limit, directory: dir))) }
            }
            try ImageFolder.write(sets, to: out)
            print("\(sets.map { "\($0.data.count) \($0.split)" }.joined(separator: " and ")) images → \(out) (classes: "
                  + ImageFolder.folderNames(sets[0].data.classNames).joined(separator: ", ") + ")")
        }
    }

    // MARK: helpers

    /// The folder holding a data set: the one with the test split, else the one with the train split.
    static func folder(of info: DatasetInfo, directory: String?) -> String? {
        DatasetRegistry.locate(info, split: .test, directory: directory)
            ?? DatasetRegistry.locate(info, split: .train, directory: directory)
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    static func folderSize(_ folder: String) -> Int {
        guard let e = FileManager.default.enumerator(atPath: folder) else { return 0 }
        var total = 0
        while let rel = e.nextObject() as? String {
            let path = (folder as NSString).appendingPathComponent(rel)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { total += fileSize(path) }
        }
        return total
    }

    static func formatBytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return String(format: "%.1f KiB", Double(n) / 1024) }
        if n < 1 << 30 { return String(format: "%.1f MiB", Double(n) / 1_048_576) }
        return String(format: "%.2f GiB", Double(n) / 1_073_741_824)
    }

    static func printTable(_ rows: [[String]]) {
        guard let first = rows.first else { return }
        let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for r in rows {
            print(r.enumerated().map { c, v in c == r.count - 1 ? v : v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
    }
}
