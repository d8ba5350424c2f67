/// Re-analyses a buffer as it is edited, reusing the parse of top-level statements whose lines did
/// not change (a keystroke usually touches one function; the rest is parsed once, not every time).
///
/// Results are identical to `Analyzer.analyze`. One instance serves one buffer; it keeps the last
/// parse's statements, so it is not shared across threads.
public final class IncrementalAnalyzer {
    private var cache = ParseCache()

    /// Creates an analyzer with nothing cached.
    public init() {}

    /// Analyses `source` as `Analyzer.analyze` does, reusing unchanged statements of the previous call.
    public func analyze(source: String, language: String = "python") -> ComplexityReport {
        let lang = language.lowercased()
        // C-family front ends parse the whole buffer each time (they are not chunked yet).
        guard ["python", "py", "python3"].contains(lang) else {
            cache = ParseCache()
            return Analyzer.analyze(source: source, language: language)
        }
        let (module, next) = Parser.parse(source, reusing: cache)
        cache = next
        return Analyzer.report(for: module, source: source)
    }
}
