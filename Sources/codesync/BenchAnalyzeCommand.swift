import ArgumentParser
import CodeSyncAnalyzer
import Foundation

/// `codesync bench analyze FILE`: median analysis time over repeated runs, as JSON.
struct BenchAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze", abstract: "Time the complexity analyzer on a file (JSON, median of runs; use a release build).")

    @Argument(help: "The source file to analyse (any language `analyze` takes). Pass --stdlib-lines instead to build one from the Python stdlib.")
    var file: String?

    @Option(help: "Language of the file (default: from the extension; python).")
    var lang: String?

    @Option(help: "Build the input by concatenating Python standard library files up to this many lines.")
    var stdlibLines: Int?

    @Option(help: "Directory of .py files for --stdlib-lines.")
    var stdlibDir = "/usr/lib/python3.11"

    @Option(help: "Number of timed runs.")
    var runs = 30

    @Option(
        help: ArgumentHelp(
            "Instead of whole-file runs, type this many characters into the middle of the file and time each re-analysis, incremental and from scratch.",
            valueName: "n"))
    var keystrokes: Int?

    func validate() throws {
        if file == nil && stdlibLines == nil { throw ValidationError("give a FILE or --stdlib-lines N") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let keystrokes, keystrokes < 1 { throw ValidationError("--keystrokes must be at least 1") }
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
        let language = lang ?? file.flatMap { Analyzer.language(forPath: $0) } ?? "python"
        if let keystrokes {
            guard Analyzer.canonicalLanguage(language) == "python" else {
                throw ValidationError("--keystrokes times the incremental Python analyzer; \(language) buffers are analysed whole (drop --keystrokes)")
            }
            try benchKeystrokes(source: source, label: label, lines: lines, count: keystrokes)
            return
        }
        _ = Analyzer.analyze(source: source, language: language)  // warm-up
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let report = Analyzer.analyze(source: source, language: language)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            guard report.analysed else { throw ValidationError("the analyzer refused the input: \(report.message ?? "")") }
            samples.append(elapsed)
        }
        samples.sort()
        let result: [String: Any] = [
            "benchmark": "analyze", "file": label, "language": language, "lines": lines, "runs": runs,
            "median_ms": Self.median(samples), "min_ms": Self.rounded(samples[0]),
            "max_ms": Self.rounded(samples.last ?? 0),
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Types `count` characters right after the first `= ` past the middle of the file (`+`, `1+`,
    /// `+1+`, ...: the line stays valid) and times each re-analysis with `IncrementalAnalyzer` and
    /// with `Analyzer.analyze`.
    private func benchKeystrokes(source: String, label: String, lines: Int, count: Int) throws {
        var text = Array(source.unicodeScalars)
        var position = max(1, text.count / 2)
        while position < text.count, !(text[position] == " " && text[position - 1] == "=") { position += 1 }
        position = min(position + 1, text.count)
        let incremental = IncrementalAnalyzer()
        _ = incremental.analyze(source: source)
        var incrementalTimes: [Double] = [], fullTimes: [Double] = []
        for k in 0..<count {
            text.insert(k % 2 == 0 ? "+" : "1", at: position)
            var edited = ""
            edited.unicodeScalars.append(contentsOf: text)
            var start = DispatchTime.now().uptimeNanoseconds
            let report = incremental.analyze(source: edited)
            incrementalTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            start = DispatchTime.now().uptimeNanoseconds
            let fresh = Analyzer.analyze(source: edited)
            fullTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            guard report == fresh else { throw ValidationError("incremental and one-shot reports differ after keystroke \(k + 1)") }
        }
        incrementalTimes.sort()
        fullTimes.sort()
        let result: [String: Any] = [
            "benchmark": "analyze-keystrokes", "file": label, "lines": lines, "keystrokes": count,
            "incremental_median_ms": Self.median(incrementalTimes), "incremental_min_ms": Self.rounded(incrementalTimes[0]),
            "full_median_ms": Self.median(fullTimes), "full_min_ms": Self.rounded(fullTimes[0]),
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private static func median(_ sorted: [Double]) -> Double {
        let m = sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return rounded(m)
    }

    private static func rounded(_ ms: Double) -> Double { (ms * 1000).rounded() / 1000 }
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
