import ArgumentParser
import CodeSyncAnalyzer
import Foundation

/// `codesync bench analyze FILE`: median analysis time over repeated runs, as JSON.
struct BenchAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze", abstract: "Time the complexity analyzer on a file (JSON, median of runs; use a release build).")

    @Argument(help: "The Python file to analyse. Pass --stdlib-lines instead to build one from the Python stdlib.")
    var file: String?

    @Option(help: "Build the input by concatenating Python standard library files up to this many lines.")
    var stdlibLines: Int?

    @Option(help: "Directory of .py files for --stdlib-lines.")
    var stdlibDir = "/usr/lib/python3.11"

    @Option(help: "Number of timed runs.")
    var runs = 30

    func validate() throws {
        if file == nil && stdlibLines == nil { throw ValidationError("give a FILE or --stdlib-lines N") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let source: String
        let label: String
        if let file {
            source = try readSource(file)
            label = file
        } else {
            source = try StdlibSample.build(lines: stdlibLines ?? 5000, directory: stdlibDir)
            label = "stdlib sample from \(stdlibDir)"
        }
        var lines = source.utf8.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        if source.utf8.last != 0x0A, !source.isEmpty { lines += 1 }
        _ = Analyzer.analyze(source: source)  // warm-up
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let report = Analyzer.analyze(source: source)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            guard report.analysed else { throw ValidationError("the analyzer refused the input: \(report.message ?? "")") }
            samples.append(elapsed)
        }
        samples.sort()
        let median = samples.count % 2 == 1
            ? samples[samples.count / 2] : (samples[samples.count / 2 - 1] + samples[samples.count / 2]) / 2
        let result: [String: Any] = [
            "benchmark": "analyze", "file": label, "lines": lines, "runs": runs,
            "median_ms": (median * 1000).rounded() / 1000, "min_ms": (samples[0] * 1000).rounded() / 1000,
            "max_ms": ((samples.last ?? 0) * 1000).rounded() / 1000,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Builds a large, real Python input by concatenating standard-library files.
enum StdlibSample {
    /// Concatenates whole `.py` files (sorted by path) from `directory` until `lines` lines, then cuts there.
    static func build(lines: Int, directory: String) throws -> String {
        guard let names = FileManager.default.enumerator(atPath: directory) else {
            throw ValidationError("cannot list \(directory) — pass --stdlib-dir with a Python library folder")
        }
        var paths: [String] = []
        for case let name as String in names where name.hasSuffix(".py") && !name.contains("test") {
            paths.append(name)
        }
        paths.sort()
        var collected: [Substring] = []
        for p in paths {
            guard let data = FileManager.default.contents(atPath: directory + "/" + p) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            collected.append(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: false))
            if collected.count >= lines { break }
        }
        if collected.isEmpty { throw ValidationError("no .py files in \(directory) — pass --stdlib-dir") }
        return collected.prefix(lines).joined(separator: "\n") + "\n"
    }
}
