import CodeSyncAnalyzer

extension ComplexityView {
    /// The pane's view of an analyzer report: overall class, errors as "line N: message", functions.
    public init(report: ComplexityReport) {
        guard report.analysed else {
            self.init(note: report.message ?? "not analysed")
            return
        }
        let entries = report.functions.map { function in
            ComplexityEntry(
                name: function.name, complexity: function.class.rawValue,
                rank: ComplexityClass.allCases.firstIndex(of: function.class) ?? 0,
                line: function.startLine, dominatingLine: function.dominatingLine,
                loopDepth: function.loopDepth, costly: function.class >= .quadratic)
        }
        self.init(
            overall: report.overall?.class.rawValue, entries: entries,
            errors: report.errors.map { "line \($0.line): \($0.message)" })
    }

    /// Analyzes `source` as the file at `path` names its language (Python when unknown).
    public static func analyze(_ source: String, path: String) -> ComplexityView {
        ComplexityView(report: Analyzer.analyze(source: source, language: Analyzer.language(forPath: path) ?? "python"))
    }
}
