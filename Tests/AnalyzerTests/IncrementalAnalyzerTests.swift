import CodeSyncAnalyzer
import CodeSyncTestSupport
import Foundation
import Testing

/// The incremental analyzer reuses the parse of unchanged top-level statements; after any sequence
/// of edits its report must equal a fresh `Analyzer.analyze` of the same text.
@Suite(.ownThreads) struct IncrementalAnalyzerTests {
    private static let alphabet = Array("ab x()[]{}:'\"\\#\n\n    =+-.,@def class if else elif except finally return\t;")

    /// Applies `count` random edits (typing, deleting, new lines, replacing) and compares every report.
    private func checkEdits(of start: String, count: Int, seed: UInt64) -> Int {
        var rng = SeededGenerator(seed: seed)
        var text = Array(start)
        let incremental = IncrementalAnalyzer()
        var mismatches = 0
        for step in 0..<count {
            if step > 0 {
                let position = text.isEmpty ? 0 : Int.random(in: 0..<text.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !text.isEmpty:
                    text.remove(at: position)
                case 1:
                    for k in 0..<Int.random(in: 1...4, using: &rng) {
                        text.insert(Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &rng)], at: min(position + k, text.count))
                    }
                case 2:
                    text.insert("\n", at: position)
                default:
                    if !text.isEmpty { text[position] = Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &rng)] }
                }
            }
            let source = String(text)
            if incremental.analyze(source: source) != Analyzer.analyze(source: source) { mismatches += 1 }
        }
        return mismatches
    }

    @Test func matchesAFreshAnalysisAfterRandomEdits() {
        let program = """
            import sys
            from functools import lru_cache

            @lru_cache(None)
            def fib(n):
                if n < 2:
                    return n
                return fib(n - 1) + fib(n - 2)

            class Solver:
                def __init__(self, a):
                    self.a = sorted(a)

                def count(self, x):
                    lo, hi = 0, len(self.a)
                    while lo < hi:
                        mid = (lo + hi) // 2
                        if self.a[mid] < x:
                            lo = mid + 1
                        else:
                            hi = mid
                    return lo

            def main():
                n = int(input())
                a = list(map(int, input().split()))
                s = Solver(a)
                try:
                    print(sum(s.count(v) for v in a), fib(n))
                except ValueError:
                    pass
                finally:
                    sys.stdout.flush()

            main()
            """
        #expect(checkEdits(of: program, count: 300, seed: 7) == 0)
    }

    @Test func matchesAFreshAnalysisOnStandardLibraryFiles() throws {
        let directory = "/usr/lib/python3.11"
        var checked = 0
        for name in ["bisect.py", "heapq.py", "textwrap.py", "fractions.py"] {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            #expect(checkEdits(of: String(decoding: data, as: UTF8.self), count: 40, seed: UInt64(name.utf8.count)) == 0, "\(name)")
            checked += 1
        }
        if checked == 0 {
            let _: Bool? = try TestEnvironment.missing("the Python standard library at \(directory)", fix: "install python3.11")
        }
    }

    @Test func aClauseAddedAfterAnUnchangedBlockJoinsItsStatement() {
        // The lines of the `if`/`for`/`try` stay the same; only the clause after them appears.
        let pairs = [
            ("if x:\n    a = 1\ny = 2\n", "if x:\n    a = 1\nelse:\n    y = 2\n"),
            ("if x:\n    a = 1\ny = 2\n", "if x:\n    a = 1\nelif y:\n    y = 2\n"),
            ("for i in r:\n    a = 1\ny = 2\n", "for i in r:\n    a = 1\nelse:\n    y = 2\n"),
            ("try:\n    a = 1\nfinally:\n    b = 1\ny = 2\n", "try:\n    a = 1\nexcept E:\n    y = 2\nfinally:\n    b = 1\n"),
            ("try:\n    a = 1\nexcept E:\n    b = 1\ny = 2\n", "try:\n    a = 1\nexcept E:\n    b = 1\nfinally:\n    y = 2\n"),
            ("def f():\n    pass\n", "@cache\ndef f():\n    pass\n"),
        ]
        for (before, after) in pairs {
            let incremental = IncrementalAnalyzer()
            _ = incremental.analyze(source: before)
            let report = incremental.analyze(source: after)
            #expect(report == Analyzer.analyze(source: after), "\(after)")
            #expect(report.errors.isEmpty, "\(after)")
        }
    }

    @Test func unsupportedLanguagesAreReportedLikeTheOneShotAnalyzer() {
        let incremental = IncrementalAnalyzer()
        #expect(incremental.analyze(source: "int main() {}", language: "c") == Analyzer.analyze(source: "int main() {}", language: "c"))
        #expect(incremental.analyze(source: "x = 1\n") == Analyzer.analyze(source: "x = 1\n"))
    }
}
