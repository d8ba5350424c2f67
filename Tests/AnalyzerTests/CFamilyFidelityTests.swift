import CodeSyncAnalyzer
import CodeSyncTestSupport
import Foundation
import Testing

/// A value handed from one thread to another; written before a semaphore is signalled, read after.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// The Go, JavaScript, C and C++ front ends over large real corpora installed from packages (as
/// `JavaFidelityTests` does for the JDK): the share of files parsed without a syntax error, with
/// every rejection listed (file, line, message). The issue's bar is 99% of files accepted, and
/// every corpus is held to it. C and C++ constructs skipped because a macro could explain them
/// (`report.skipped`) do not reject a file; they are counted and listed too, so the tolerance
/// stays visible.
@Suite(.ownThreads) struct CFamilyFidelityTests {
    /// The issue's bar.
    static let issueBar = 99.0

    /// One corpus: where its files are looked for (first existing directory wins), which files count,
    /// and the package that installs it.
    struct Corpus: Sendable {
        var language: String
        var roots: [String]
        var package: String
        var minimumFiles: Int
        /// Percent of files that must parse without a syntax error.
        var minimumAccepted = CFamilyFidelityTests.issueBar
        var accepts: @Sendable (String) -> Bool
    }

    /// Test data and tests of the corpora are left out: Go's `testdata` holds deliberately broken
    /// programs, and test files of the Go standard library use the same syntax as the rest.
    private static func isTestData(_ relative: String) -> Bool {
        relative.contains("testdata/") || relative.hasPrefix("testdata")
    }

    static let go = Corpus(
        language: "go",
        roots: ["/usr/lib/go/src", "/usr/share/go/src"] + installed("/usr/share", prefix: "go-", suffix: "/src"),
        package: "golang-src", minimumFiles: 2_000,
        accepts: { $0.hasSuffix(".go") && !isTestData($0) })
    static let javascript = Corpus(
        language: "javascript", roots: ["/usr/lib/node_modules/npm", "/usr/share/nodejs"], package: "nodejs (its bundled npm)",
        minimumFiles: 300,
        // Minified bundles are one line of generated code, and `.mjs`/ESM-only files are outside the
        // scripts the pane runs; everything else under node_modules is plain CommonJS.
        accepts: { $0.hasSuffix(".js") && !$0.hasSuffix(".min.js") })
    static let c = Corpus(
        language: "c", roots: ["/usr/src/libxcrypt"], package: "libxcrypt-source", minimumFiles: 50,
        accepts: { $0.hasSuffix(".c") || $0.hasSuffix(".h") })
    static let cpp = Corpus(
        language: "cpp", roots: installed("/usr/include/c++", prefix: "", suffix: "").sorted(by: >),
        package: "libstdc++-12-dev", minimumFiles: 300,
        // libstdc++'s headers, every file: standard headers have no extension, the rest are .h and .tcc.
        accepts: { _ in true })

    private static func installed(_ dir: String, prefix: String, suffix: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
        return names.map { "\(dir)/\($0)\(suffix)" }
    }

    /// Parses every file of the corpus; returns (accepted, total, rejections) or nil when it is not installed.
    static func run(_ corpus: Corpus) throws -> (accepted: Int, total: Int, rejected: [String])? {
        guard let root = corpus.roots.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return try TestEnvironment.missing("the \(corpus.language) corpus (\(corpus.roots.joined(separator: " or ")))", fix: "apt-get install \(corpus.package)")
        }
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            Issue.record("cannot list \(root)")
            return nil
        }
        var paths: [String] = []
        for case let relative as String in walker where corpus.accepts(relative) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                paths.append(relative)
            }
        }
        paths.sort()
        let files = paths
        let language = corpus.language
        let (rejected, skipped, skippedTotal) = onLargeStack {
            var rejected: [String] = []
            var skipped: [String] = []
            var skippedTotal = 0
            for relative in files {
                guard let data = FileManager.default.contents(atPath: root + "/" + relative) else { continue }
                let report = Analyzer.analyze(source: String(decoding: data, as: UTF8.self), language: language)
                if let first = report.errors.first { rejected.append("\(relative):\(first.line): \(first.message)") }
                if let first = report.skipped.first {
                    skipped.append("\(relative):\(first.line): \(first.message) (\(report.skipped.count) in the file)")
                    skippedTotal += report.skipped.count
                }
            }
            return (rejected, skipped, skippedTotal)
        }
        let accepted = paths.count - rejected.count
        print("\(corpus.language) corpus \(root): \(accepted)/\(paths.count) files accepted")
        for r in rejected { print("  rejected \(r)") }
        if !skipped.isEmpty {
            print("\(corpus.language): \(skippedTotal) constructs a macro could explain were skipped, in \(skipped.count) files")
            for s in skipped { print("  skipped \(s)") }
        }
        return (accepted, paths.count, rejected)
    }

    /// Runs `body` on a thread with a 256 MB stack and waits for it. Unoptimised (debug) builds
    /// give the recursive-descent parser frames of several kilobytes, so ten nested blocks of real
    /// code overflow the small stacks test tasks run on; release frames are a small fraction of that.
    static func onLargeStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.stackSize = 256 << 20
        thread.start()
        done.wait()
        return box.value!
    }

    private static func check(_ corpus: Corpus) throws {
        guard let (accepted, total, _) = try run(corpus) else { return }
        #expect(total >= corpus.minimumFiles, "only \(total) \(corpus.language) files found")
        let percent = total == 0 ? 0 : Double(accepted) * 100 / Double(total)
        #expect(percent >= corpus.minimumAccepted, "\(corpus.language): \(accepted)/\(total) accepted")
    }

    @Test func goStandardLibraryParses() throws { try Self.check(Self.go) }
    @Test func nodeJavaScriptParses() throws { try Self.check(Self.javascript) }
    @Test func libxcryptCSourcesParse() throws { try Self.check(Self.c) }
    @Test func libstdcxxHeadersParse() throws { try Self.check(Self.cpp) }
}
