import CodeSyncAnalyzer
import Testing
import CodeSyncTestSupport

/// Parsing and counting shortcuts taken for speed (lone atoms, single targets, word-at-a-time line
/// counting, the recursion pre-check) must give the answers of the general paths.
@Suite(.ownThreads) struct ShortcutTests {
    @Test func lineCountMatchesNewlinesAtEveryOffset() {
        // Newlines at every position within and across 8-byte words, with and without a final one.
        for length in 0..<40 {
            for newlineEvery in [1, 2, 3, 7, 8, 9, 17] {
                var text = ""
                for k in 0..<length { text += k % newlineEvery == newlineEvery - 1 ? "\n" : "x" }
                let newlines = text.filter { $0 == "\n" }.count
                let expected = text.hasSuffix("\n") ? newlines : newlines + 1
                let report = Analyzer.analyze(source: text)
                #expect(report.overall?.endLine == expected, "length \(length), newline every \(newlineEvery)")
            }
        }
        #expect(Analyzer.analyze(source: "x = 1\r\ny = 2\r\n").overall?.endLine == 2)
        #expect(Analyzer.analyze(source: "s = 'é😀'\nt = 2").overall?.endLine == 2)
    }

    @Test func targetAndExpressionListFormsParse() {
        let source = """
            for a, in x: pass
            for a, b, in y: pass
            for *a, b in z: pass
            for (a, b) in w: pass
            x = a,
            x = *a, b
            a, = f()
            a = b = c
            y = m[1:2, ::3], n[i], f(a)(b)[0]
            def g(p):
                return p,
            def h(q): return q
            """
        #expect(PythonSource.syntaxIssues(in: source).isEmpty)
        #expect(PythonSource.functionLocations(in: source).map(\.line) == [10, 12])
    }

    @Test func brokenTargetsAndListsStillReportTheirLine() {
        let issues = PythonSource.syntaxIssues(in: "ok = 1\nfor in x: pass\nx = ,\nfor a, b c in y: pass\nz = 2\n")
        #expect(issues.map(\.line) == [2, 3, 4])
        #expect(issues.first?.message.hasPrefix("expected a loop target") == true)
    }

    @Test func loneAtomsBeforeClosingTokensKeepTheirMeaning() {
        // `n` alone as an argument, a subscript and a value: the loop bound must still be read.
        let source = """
            def f(a, n):
                for i in range(n):
                    for j in range(n):
                        a[i] = min(a[j], n)
                return a
            """
        let report = Analyzer.analyze(source: source)
        #expect(report.functions.first?.class == .quadratic)
    }

    @Test func recursionIsFoundThroughSelfAndPlainCallsOnly() {
        let source = """
            class T:
                def walk(self, n):
                    if n <= 1:
                        return 1
                    return self.walk(n - 1) + self.walk(n - 2)

            def other(n):
                walk = 0
                for i in range(n):
                    walk += i
                return walk
            """
        let report = Analyzer.analyze(source: source)
        #expect(report.functions.map(\.class) == [.exponential, .linear])
    }
}
