import CodeSyncAnalyzer
import CodeSyncTestSupport
import Foundation
import Testing

/// Our parser against CPython's `ast` over the whole standard library on this machine: per file, the
/// (function name, line) pairs must match. CPython's side runs once for all files (tools/ast_functions.py).
@Suite(.ownThreads) struct StdlibFidelityTests {
    private static let minimumIdentical = 99.5

    private struct Pair: Hashable, Comparable {
        var name: String
        var line: Int
        static func < (a: Pair, b: Pair) -> Bool { (a.line, a.name) < (b.line, b.name) }
    }

    /// The stdlib folder: CODESYNC_STDLIB, else Debian's /usr/lib/python3.11, else the newest /usr/lib/python3.*.
    private static func stdlibDirectory() -> String? {
        if let explicit = TestEnvironment.value("CODESYNC_STDLIB") { return explicit }
        let preferred = "/usr/lib/python3.11"
        if FileManager.default.fileExists(atPath: preferred + "/os.py") { return preferred }
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
        return candidates.filter { $0.hasPrefix("python3.") }.sorted().last.map { "/usr/lib/" + $0 }
    }

    @Test func functionsMatchCPythonAcrossTheStandardLibrary() throws {
        guard Command.exists("python3") else {
            _ = try TestEnvironment.missing("python3", fix: "apt-get install python3") as Bool?
            return
        }
        guard let directory = Self.stdlibDirectory() else {
            _ = try TestEnvironment.missing("a Python standard library under /usr/lib/python3*", fix: "apt-get install python3") as Bool?
            return
        }
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            Issue.record("cannot list \(directory)")
            return
        }
        var files: [String] = []
        for case let relative as String in enumerator where relative.hasSuffix(".py") {
            files.append(directory + "/" + relative)
        }
        files.sort()
        #expect(files.count > 100, "expected a whole standard library in \(directory)")

        let script = TestEnvironment.packageRoot().appendingPathComponent("tools/ast_functions.py").path
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
        let result = try Command.run([python, script], input: files.joined(separator: "\n") + "\n", timeout: 600)
        #expect(result.status == 0, "ast_functions.py failed: \(result.stderr.prefix(500))")
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            Issue.record("ast_functions.py printed no JSON object")
            return
        }

        var compared = 0, identical = 0, excluded = 0, withErrors = 0
        var differing: [String] = []
        for path in files {
            guard let entry = object[path] else { continue }
            guard let list = entry as? [[Any]] else {
                excluded += 1  // CPython itself rejects this file (e.g. Python 2 test data).
                continue
            }
            let expected = list.compactMap { item -> Pair? in
                guard item.count == 2, let name = item[0] as? String, let line = item[1] as? Int else { return nil }
                return Pair(name: name, line: line)
            }.sorted()
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let source = String(decoding: data, as: UTF8.self)
            let ours = PythonSource.functionLocations(in: source).map { Pair(name: $0.name, line: $0.line) }.sorted()
            if !PythonSource.syntaxIssues(in: source).isEmpty { withErrors += 1 }
            compared += 1
            if ours == expected { identical += 1 } else { differing.append(path) }
        }
        let percent = compared == 0 ? 0 : Double(identical) * 100 / Double(compared)
        print("""
            stdlib fidelity (\(directory)): \(identical)/\(compared) files identical \
            (\(String(format: "%.2f", percent))%), \(withErrors) with syntax errors from our parser, \
            \(excluded) excluded because CPython cannot parse them
            """)
        for path in differing.prefix(10) { print("  differs: \(path)") }
        #expect(compared > 100)
        #expect(withErrors == 0, "every file CPython accepts must parse without errors")
        #expect(percent >= Self.minimumIdentical)
    }
}
