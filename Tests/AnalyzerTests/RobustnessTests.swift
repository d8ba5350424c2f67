import CodeSyncAnalyzer
import CodeSyncTestSupport
import Foundation
import Testing

/// The analyzer runs on every keystroke: no input may crash it, hang it, or report a line that
/// does not exist.
@Suite(.ownThreads) struct RobustnessTests {
    private static let seedSource = #"""
        import heapq
        from collections import deque

        class Graph:
            def __init__(self, n):
                self.adj = [[] for _ in range(n)]

            def bfs(self, s):
                seen = {s}
                q = deque([s])
                while q:
                    u = q.popleft()
                    for v in self.adj[u]:
                        if v not in seen:
                            seen.add(v)
                            q.append(v)
                return seen

        def solve(a, k=3, *args, **kw):
            total = sum(x * x for x in a if x % 2)
            s = f"{total!r:>{k}} {a[0]['x']}"
            match a:
                case [first, *rest] if first > 0:
                    return first
                case _:
                    pass
            lo, hi = 0, len(a) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if a[mid] < k: lo = mid + 1
                else: hi = mid
            return [heapq.heappop(a) for _ in range(len(a))], s, lambda y: y + 1

        n = int(input())
        print(solve(sorted(map(int, input().split()))))
        """#

    private static let alphabet = Array("()[]{}:'\"\\#\n    =+*-/.,@fdefclassifwhile\u{00E9}😀\t")

    @Test func mutatedSourcesNeverCrashOrHang() {
        var rng = SeededGenerator(seed: 20_241_127)
        let base = Array(Self.seedSource)
        for _ in 0..<400 {
            var chars = base
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let position = Int.random(in: 0..<max(1, chars.count), using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where !chars.isEmpty: chars.remove(at: min(position, chars.count - 1))
                case 1: chars.insert(Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &rng)], at: position)
                default: chars = Array(chars.prefix(position))
                }
            }
            let source = String(chars)
            let lines = source.split(separator: "\n", omittingEmptySubsequences: false).count
            let report = Analyzer.analyze(source: source)
            #expect(report.analysed)
            for issue in report.errors {
                #expect(issue.line >= 1 && issue.line <= max(lines, 1), "issue \(issue) outside 1...\(lines)")
            }
            for f in report.functions {
                #expect(f.startLine >= 1 && f.endLine >= f.startLine)
            }
        }
    }

    @Test func pathologicalNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000)
        let chain = "x = " + Array(repeating: "a", count: 50_000).joined(separator: " + ")
        let attrs = "y = a" + String(repeating: ".b", count: 50_000)
        let unary = "z = " + String(repeating: "-", count: 50_000) + "1"
        var blocks = ""
        for depth in 0..<300 { blocks += String(repeating: " ", count: depth) + "if x:\n" }
        blocks += String(repeating: " ", count: 300) + "pass\n"
        for source in [deep, chain, attrs, unary, blocks] {
            let report = Analyzer.analyze(source: source + "\ndef after():\n    pass\n")
            #expect(!report.errors.isEmpty)
            #expect(report.functions.map(\.name) == ["after"])
        }
    }

    @Test func emptyAndWhitespaceSources() {
        for source in ["", "\n", "   ", "#", "\\", "\t\n\t", "'''", "(", ")"] {
            let report = Analyzer.analyze(source: source)
            #expect(report.analysed)
            #expect(report.overall != nil)
        }
    }
}

/// Deep nesting in every C-family language: within the parser's limit it parses, beyond it it is an
/// error, and neither crashes on an ordinary thread's 8 MiB stack (199 nested braces once did).
@Suite(.ownThreads) struct CFamilyNestingTests {
    @Test(arguments: ["c", "cpp", "java", "javascript", "go"])
    func deepNestingIsParsedOrAnErrorNeverACrash(language: String) {
        for depth in [99, 199, 5_000] {
            let braces = "int g() { " + String(repeating: "{", count: depth) + String(repeating: "}", count: depth) + " }\n"
            let calls = "int h() { return f(" + String(repeating: "f(", count: depth) + "1" + String(repeating: ")", count: depth) + "); }\n"
            for source in [braces, calls] {
                let report = Analyzer.analyze(source: source, language: language)
                if depth > 100 { #expect(!report.errors.isEmpty, "\(language), depth \(depth): no error") }
            }
        }
    }
}
