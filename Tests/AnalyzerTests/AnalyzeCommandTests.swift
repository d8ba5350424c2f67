import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync analyze` run as a real process on real files.
@Suite(.ownThreads) struct AnalyzeCommandTests {
    private func write(_ text: String, name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-analyze-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func jsonReportHasClassesAsStrings() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let path = try write("""
            def helper(a):
                return sorted(a)

            n = int(input())
            a = list(map(int, input().split()))
            for i in range(n):
                b = helper(a)
            x = = 1
            """, name: "prog.py")
        let result = try Command.run([binary.path, "analyze", path, "--json"], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let overall = object?["overall"] as? [String: Any]
        #expect(overall?["class"] as? String == "O(n^2 log n)")
        #expect(overall?["dominatingLine"] as? Int == 7)
        let functions = object?["functions"] as? [[String: Any]]
        #expect(functions?.first?["class"] as? String == "O(n log n)")
        #expect(functions?.first?["name"] as? String == "helper")
        let errors = object?["errors"] as? [[String: Any]]
        #expect(errors?.first?["line"] as? Int == 8)
    }

    @Test func humanReportNamesOverallAndFunctions() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let path = try write("def f(n):\n    while n > 0:\n        n //= 2\n", name: "log.py")
        let result = try Command.run([binary.path, "analyze", path], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stdout.contains("overall O(log n)"))
        #expect(result.stdout.contains("f  O(log n)"))
    }

    @Test func otherLanguagesAreNotGuessed() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let path = try write("fn main() { for i in 0..10 {} }", name: "a.rs")
        let result = try Command.run([binary.path, "analyze", path, "--json"], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"message\" : \"not analysed: unsupported language 'rust'\""))
        let forced = try Command.run([binary.path, "analyze", path, "--lang", "python"], timeout: 30)
        #expect(forced.stdout.contains("syntax error at line 1"))
    }

    @Test func cFamilyFilesAreAnalysedByExtension() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let path = try write("class A { static void f(int n) { for (int i = 1; i < n; i *= 2) {} } }", name: "A.java")
        let result = try Command.run([binary.path, "analyze", path], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stdout.contains("f  O(log n)"))
        let broken = try write("int main() { int x = ; return 0; }", name: "b.c")
        let errors = try Command.run([binary.path, "analyze", broken], timeout: 30)
        #expect(errors.stdout.contains("syntax error at line 1"))
    }

    @Test func missingFileIsAOneLineError() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let result = try Command.run([binary.path, "analyze", "/nonexistent/prog.py"], timeout: 30)
        #expect(result.status != 0)
        #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == "Error: no such file: /nonexistent/prog.py — check the path")
    }
}
