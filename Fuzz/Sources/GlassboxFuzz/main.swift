import Foundation
import GlassboxFuzzTargets

// `GlassboxFuzz TARGET [libFuzzer options] [CORPUS…]` with a build made by scripts/fuzz.sh (-DFUZZING, coverage
// and AddressSanitizer, linked with libFuzzer's library without its main): libFuzzer runs the target.
// `GlassboxFuzz TARGET FILE…` in an ordinary build: runs the target on each file once (replays a corpus or a crash).

let usage = "usage: GlassboxFuzz \(FuzzTargets.all.keys.sorted().joined(separator: "|")) [options] [files or folders]\n"
guard CommandLine.arguments.count >= 2, let target = FuzzTargets.all[CommandLine.arguments[1]] else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
FuzzTargets.configure()

#if FUZZING
typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: FuzzCallback) -> Int32

/// The target, reachable from the C callback (which cannot capture).
nonisolated(unsafe) var selected: (Data) -> Void = target
// libFuzzer sees the program name followed by its own options: the target name is taken out.
var arguments = [CommandLine.arguments[0]] + CommandLine.arguments.dropFirst(2)
var cStrings = arguments.map { strdup($0) } + [nil]
var argc = Int32(arguments.count)
let status = cStrings.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv = buffer.baseAddress!
    return LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
        selected(bytes.map { Data(bytes: $0, count: count) } ?? Data())
        return 0
    }
}
exit(status)
#else
var files: [String] = []
for path in CommandLine.arguments.dropFirst(2) {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
    if isDir.boolValue {
        files += ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { (path as NSString).appendingPathComponent($0) }
    } else {
        files.append(path)
    }
}
for file in files {
    if let data = FileManager.default.contents(atPath: file) { target(data) }
}
print("\(CommandLine.arguments[1]): \(files.count) inputs ran")
#endif
