import ArgumentParser
import CodeSyncAnalyzer
import Foundation

/// `codesync bench analyze FILE`: median analysis time over repeated runs, as JSON.
///
/// `--sample-lines N` builds an N-line input per language from sources installed on the machine
/// (Python's stdlib, the JDK's src.zip, Go's stdlib, Node.js's bundled npm, libxcrypt's C sources,
/// libstdc++'s headers), so nothing third-party is copied into the repository; with
/// `--all-languages` each language is timed in turn and printed as one JSON line.
struct BenchAnalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze", abstract: "Time the complexity analyzer on a file (JSON, median of runs; use a release build).")

    @Argument(help: "The source file to analyse (any language `analyze` takes). Pass --sample-lines instead to build one from installed sources.")
    var file: String?

    @Option(help: "Language of the file or sample (default: from the extension; python).")
    var lang: String?

    @Option(help: "Build the input from installed sources of the language (--lang, or every language with --all-languages) up to this many lines.")
    var sampleLines: Int?

    @Option(help: "Same as --sample-lines for Python (kept for older scripts).")
    var stdlibLines: Int?

    @Option(help: "Directory (or, for Java, a src.zip) to build the sample from, instead of the language's default.")
    var sampleDir: String?

    @Option(help: "Directory of .py files for --stdlib-lines.")
    var stdlibDir = "/usr/lib/python3.11"

    @Flag(help: "With --sample-lines: time every language (python, java, javascript, go, c, cpp), one JSON line each.")
    var allLanguages = false

    @Option(help: "Number of timed runs.")
    var runs = 30

    @Option(
        help: ArgumentHelp(
            "Instead of whole-file runs, type this many characters into the middle of the file and time each re-analysis, incremental and from scratch.",
            valueName: "n"))
    var keystrokes: Int?

    func validate() throws {
        if file == nil && stdlibLines == nil && sampleLines == nil { throw ValidationError("give a FILE, --sample-lines N or --stdlib-lines N") }
        if file != nil && (stdlibLines != nil || sampleLines != nil) { throw ValidationError("give a FILE or a sample size, not both") }
        if let n = sampleLines ?? stdlibLines, n < 1 { throw ValidationError("the sample needs at least 1 line") }
        if allLanguages && sampleLines == nil { throw ValidationError("--all-languages needs --sample-lines N") }
        if allLanguages && (lang != nil || sampleDir != nil) { throw ValidationError("--all-languages uses each language's default sources; drop --lang/--sample-dir") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let keystrokes, keystrokes < 1 { throw ValidationError("--keystrokes must be at least 1") }
        if let lang, Analyzer.canonicalLanguage(lang) == nil { throw ValidationError("unsupported language '\(lang)'") }
    }

    func run() throws {
        if allLanguages, let lines = sampleLines {
            for language in SampleCorpus.languages {
                let (source, label) = try SampleCorpus.build(language: language, lines: lines, directory: nil)
                try time(source: source, label: label, language: language)
            }
            return
        }
        let source: String
        let label: String
        var language = lang ?? file.flatMap { Analyzer.language(forPath: $0) } ?? "python"
        if let file {
            source = try readSource(file)
            label = file
        } else if let lines = stdlibLines {
            source = try StdlibSample.build(lines: lines, directory: stdlibDir)
            label = "stdlib sample from \(stdlibDir)"
            language = "python"
        } else {
            language = Analyzer.canonicalLanguage(language) ?? language
            (source, label) = try SampleCorpus.build(language: language, lines: sampleLines ?? 5000, directory: sampleDir)
        }
        if let keystrokes {
            guard Analyzer.canonicalLanguage(language) == "python" else {
                throw ValidationError("--keystrokes times the incremental Python analyzer; \(language) buffers are analysed whole (drop --keystrokes)")
            }
            try benchKeystrokes(source: source, label: label, lines: Self.lineCount(source), count: keystrokes)
            return
        }
        try time(source: source, label: label, language: language)
    }

    private static func lineCount(_ source: String) -> Int {
        var lines = source.utf8.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        if source.utf8.last != 0x0A, !source.isEmpty { lines += 1 }
        return lines
    }

    /// Times `runs` whole analyses after one warm-up and prints one JSON line.
    private func time(source: String, label: String, language: String) throws {
        let warm = Analyzer.analyze(source: source, language: language)
        guard warm.analysed else { throw ValidationError("the analyzer refused the input: \(warm.message ?? "")") }
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let report = Analyzer.analyze(source: source, language: language)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            guard report.analysed else { throw ValidationError("the analyzer refused the input: \(report.message ?? "")") }
            samples.append(elapsed)
        }
        samples.sort()
        var load = ""
        if let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) { load = String(text.prefix { $0 != " " }) }
        let result: [String: Any] = [
            "benchmark": "analyze", "file": label, "language": language, "lines": Self.lineCount(source), "runs": runs,
            "median_ms": Self.median(samples), "min_ms": Self.rounded(samples[0]),
            "max_ms": Self.rounded(samples.last ?? 0), "functions": warm.functions.count, "syntax_errors": warm.errors.count,
            "load_average": load,
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

/// Builds realistic benchmark inputs per language from sources installed by Debian packages (read
/// at benchmark time; nothing is copied into the repository): whole files in path order until the
/// sample has the requested lines, cut there.
enum SampleCorpus {
    /// Every language the analyzer takes, in the order `--all-languages` times them.
    static let languages = ["python", "java", "javascript", "go", "c", "cpp"]

    /// Where each language's sources are looked for, first existing wins, and which package gives them.
    static func defaultSources(_ language: String) -> (candidates: [String], package: String) {
        switch language {
        case "python": return (["/usr/lib/python3.11", "/usr/lib/python3"], "python3")
        case "java":
            var zips = ["/usr/lib/jvm/openjdk-17/lib/src.zip"]
            let jvms = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/jvm")) ?? []).sorted()
            zips += jvms.map { "/usr/lib/jvm/\($0)/lib/src.zip" }
            return (zips, "openjdk-17-source (and unzip)")
        case "go": return (["/usr/lib/go/src", "/usr/share/go/src"] + globbed("/usr/share", prefix: "go-", suffix: "/src"), "golang-src")
        case "javascript": return (["/usr/lib/node_modules/npm/lib", "/usr/share/nodejs", "/usr/lib/node_modules"], "nodejs")
        case "c": return (["/usr/src/libxcrypt/lib"], "libxcrypt-source")
        case "cpp": return (globbed("/usr/include/c++", prefix: "", suffix: "/bits").sorted(by: >), "libstdc++-12-dev")
        default: return ([], "")
        }
    }

    private static func globbed(_ dir: String, prefix: String, suffix: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
        return names.map { "\(dir)/\($0)\(suffix)" }
    }

    /// Whether a file under a corpus directory is a source file of `language` worth benchmarking
    /// (tests, test data and minified bundles are left out).
    static func isSource(_ relative: String, language: String) -> Bool {
        if relative.contains("testdata/") || relative.contains("/test/") || relative.hasPrefix("test/") { return false }
        switch language {
        case "python": return relative.hasSuffix(".py") && !relative.contains("test")
        case "go": return relative.hasSuffix(".go") && !relative.hasSuffix("_test.go")
        case "javascript": return relative.hasSuffix(".js") && !relative.hasSuffix(".min.js")
        case "c": return relative.hasSuffix(".c")
        case "cpp": return relative.hasSuffix(".h") || relative.hasSuffix(".tcc")
        case "java": return relative.hasSuffix(".java")
        default: return false
        }
    }

    /// An input of `lines` lines in `language`, and a label saying where it came from.
    static func build(language: String, lines: Int, directory: String?) throws -> (String, String) {
        let (candidates, package) = defaultSources(language)
        let sources = directory.map { [$0] } ?? candidates
        guard let root = sources.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ValidationError("no \(language) sources found (looked in \(sources.joined(separator: ", "))); install \(package) or pass --sample-dir")
        }
        var collected: [Substring] = []
        func add(_ text: String) -> Bool {
            collected.append(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: false))
            return collected.count >= lines
        }
        if root.hasSuffix(".zip") {
            // The JDK's sources: java.util first (plain, self-contained library code).
            let listing = try unzip(["-Z1", root])
            let names = listing.split(separator: "\n").map(String.init)
                .filter { $0.hasPrefix("java.base/java/util/") && $0.hasSuffix(".java") }.sorted()
            var k = 0
            while k < names.count, collected.count < lines {
                let batch = Array(names[k..<min(names.count, k + 20)])
                k += batch.count
                _ = add(try unzip(["-p", root] + batch))
            }
        } else {
            guard let walker = FileManager.default.enumerator(atPath: root) else { throw ValidationError("cannot list \(root)") }
            var paths: [String] = []
            for case let name as String in walker where isSource(name, language: language) { paths.append(name) }
            paths.sort()
            for p in paths {
                guard let data = FileManager.default.contents(atPath: root + "/" + p) else { continue }
                if add(String(decoding: data, as: UTF8.self)) { break }
            }
        }
        if collected.isEmpty { throw ValidationError("no \(language) source files under \(root)") }
        return (collected.prefix(lines).joined(separator: "\n") + "\n", "\(language) sample from \(root)")
    }

    private static func unzip(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw ValidationError("cannot run unzip (install unzip): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("unzip \(arguments.joined(separator: " ")) failed") }
        return String(decoding: data, as: UTF8.self)
    }
}
