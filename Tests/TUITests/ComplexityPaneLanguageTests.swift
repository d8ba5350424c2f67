import CodeSyncTUI
import Foundation
import Testing
import CodeSyncTestSupport

/// The complexity pane's view for every analysed language, by file name.
@Suite(.ownThreads) struct ComplexityPaneLanguageTests {
    @Test func paneAnalysesEachLanguageAndShowsItsErrors() {
        let programs: [(String, String)] = [
            ("Main.java", "class Main { static int f(int[] a) { int s = 0; for (int x : a) s += x; return s; } }"),
            ("a.js", "function f(a) { let s = 0; for (const x of a) s += x; return s; }"),
            ("a.go", "package main\nfunc f(a []int) int {\n\ts := 0\n\tfor _, x := range a {\n\t\ts += x\n\t}\n\treturn s\n}\n"),
            ("a.c", "int f(int *a, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }"),
            ("a.cpp", "#include <vector>\nint f(const std::vector<int>& a) { int s = 0; for (int x : a) s += x; return s; }"),
        ]
        for (path, source) in programs {
            let view = ComplexityView.analyze(source, path: path)
            #expect(view.note == nil, "\(path)")
            #expect(view.entries.first { $0.name == "f" }?.complexity == "O(n)", "\(path)")
            let broken = ComplexityView.analyze(source.replacingOccurrences(of: "s += ", with: "s += )"), path: path)
            #expect(!broken.errors.isEmpty, "\(path)")
        }
    }
}
