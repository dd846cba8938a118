#if canImport(Glibc)
import Glibc
#endif

// Two ways to build this executable (scripts/fuzz does both):
// - plain (`swift build`): a regression runner. `Fuzz TARGET [FILE|DIR ...]` feeds every file
//   (default: Tests/Fuzz/corpus/TARGET) to the target once; `Fuzz all` runs every corpus.
//   The interop suite runs it, so every input that ever crashed stays a test.
// - with `-sanitize=fuzzer,address -DFUZZING -parse-as-library`: a libFuzzer binary. The target
//   comes from the FUZZ_TARGET environment variable; the arguments are libFuzzer's.

#if FUZZING
nonisolated(unsafe) var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selectedTarget?.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`; this one hands over to libFuzzer.
@_cdecl("Fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
        fputs("set FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n", stderr)
        return 2
    }
    selectedTarget = target
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzzOneInput)
}
#else
@main
struct FuzzRegression {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first else {
            print("usage: Fuzz TARGET|all [FILE|DIR ...]; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))")
            exit(2)
        }
        let targets = name == "all" ? FuzzTarget.allCases : FuzzTarget(rawValue: name).map { [$0] } ?? []
        guard !targets.isEmpty else {
            print("unknown target \(name)")
            exit(2)
        }
        for target in targets {
            let paths = arguments.count > 1 && name != "all" ? Array(arguments.dropFirst()) : [corpusDirectory(target)]
            var inputs = 0
            for path in paths {
                for file in files(at: path) {
                    guard let bytes = readAll(file) else {
                        print("cannot read \(file)")
                        exit(1)
                    }
                    bytes.withUnsafeBufferPointer { target.run($0) }
                    inputs += 1
                }
            }
            guard inputs > 0 else {
                print("\(target.rawValue): no inputs in \(paths)")
                exit(1)
            }
            print("\(target.rawValue): \(inputs) inputs, no crash")
        }
    }

    static func corpusDirectory(_ target: FuzzTarget) -> String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/") + "/corpus/" + target.rawValue
    }

    static func files(at path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if !name.hasPrefix(".") { out.append(path + "/" + name) }
        }
        return out.sorted()
    }

    static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 { return nil }
            if n == 0 { return out }
            out += chunk[..<n]
        }
    }
}
#endif
