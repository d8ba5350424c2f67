/// The complexity verdict for one function (or for the whole file).
public struct FunctionReport: Codable, Equatable, Sendable {
    public var name: String
    public var startLine: Int
    public var endLine: Int
    public var `class`: ComplexityClass
    /// The line whose cost dominates the function (a loop header, a call, a recursive call).
    public var dominatingLine: Int
    /// Deepest syntactic loop nesting (comprehension clauses count as loops).
    public var loopDepth: Int
    /// Short reasons, e.g. "sorted() inside loop at line 12".
    public var notes: [String]

    /// Creates a report.
    public init(
        name: String, startLine: Int, endLine: Int, class complexity: ComplexityClass, dominatingLine: Int,
        loopDepth: Int, notes: [String]
    ) {
        self.name = name
        self.startLine = startLine
        self.endLine = endLine
        self.class = complexity
        self.dominatingLine = dominatingLine
        self.loopDepth = loopDepth
        self.notes = notes
    }
}

/// The analyzer's result for one source file.
public struct ComplexityReport: Codable, Equatable, Sendable {
    /// The language analysed, as given by the caller (lowercased).
    public var language: String
    /// False when the language is not supported; then `overall` is nil and `message` says why.
    public var analysed: Bool
    /// A one-line explanation when nothing was analysed.
    public var message: String?
    /// The whole file: module-level code plus every function it reaches.
    public var overall: FunctionReport?
    /// Every function and method, in source order.
    public var functions: [FunctionReport]
    /// Syntax errors; each cost only its own statement.
    public var errors: [SyntaxIssue]
    /// C and C++ constructs left out because a macro, which is not expanded, could make them well
    /// formed (`if _GLIBCXX17_CONSTEXPR (c)`); not errors, but their cost is not counted.
    public var skipped: [SyntaxIssue]

    /// Creates a report.
    public init(
        language: String, analysed: Bool, message: String?, overall: FunctionReport?, functions: [FunctionReport],
        errors: [SyntaxIssue], skipped: [SyntaxIssue] = []
    ) {
        self.language = language
        self.analysed = analysed
        self.message = message
        self.overall = overall
        self.functions = functions
        self.errors = errors
        self.skipped = skipped
    }
}

/// Static time-complexity analysis of source code.
public enum Analyzer {
    /// Languages `analyze` understands.
    public static let supportedLanguages: Set<String> = [
        "python", "py", "python3", "java", "javascript", "js", "node", "nodejs", "go", "golang", "c", "cpp", "c++", "cxx", "cc",
    ]

    /// The canonical name of a supported language (`"js"` → `"javascript"`), or nil.
    public static func canonicalLanguage(_ language: String) -> String? {
        let lang = language.lowercased()
        if ["python", "py", "python3"].contains(lang) { return "python" }
        return CFamily(language: lang)?.rawValue
    }

    /// Analyses `source` and returns a report; never throws and never does I/O.
    ///
    /// `rules` switches cost-model rules off for measurement (see `AnalyzerRules`); normal use keeps them all.
    public static func analyze(source: String, language: String = "python", rules: AnalyzerRules = .all) -> ComplexityReport {
        let lang = language.lowercased()
        guard supportedLanguages.contains(lang) else {
            return ComplexityReport(
                language: lang, analysed: false, message: "not analysed: unsupported language '\(language)'",
                overall: nil, functions: [], errors: [])
        }
        if let dialect = CFamily(language: lang) {
            return report(for: CFamilyParser.parse(source, dialect: dialect), source: source, language: dialect.rawValue, rules: rules)
        }
        return report(for: Parser.parse(source), source: source, rules: rules)
    }

    /// The report for a parsed module of `source` (Python's tree, or a C-family program lowered into it).
    static func report(for module: Module, source: String, language: String = "python", rules: AnalyzerRules = .all) -> ComplexityReport {
        let model = CostModel(module: module)
        model.rules = rules
        let (overall, functions) = model.run(lineCount: lineCount(source))
        return ComplexityReport(
            language: language, analysed: true, message: nil, overall: overall, functions: functions,
            errors: module.issues, skipped: module.skipped)
    }

    /// Lines in `source`: newlines, plus one for a last line without its newline (an empty source counts 1).
    static func lineCount(_ source: String) -> Int {
        var text = source
        // Counting over contiguous UTF-8 is a simple byte loop; iterating `String.UTF8View` is far slower.
        return text.withUTF8 { bytes in
            var count = 0
            var i = 0
            if let base = UnsafeRawPointer(bytes.baseAddress) {
                // Eight bytes at a time: a byte of `x` is zero exactly where the word holds '\n'.
                let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
                while i + 8 <= bytes.count {
                    let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ (0x0A &* ones)
                    let zeroes = ~(((x & ~highs) &+ ~highs) | x) & highs
                    count += zeroes.nonzeroBitCount
                    i += 8
                }
            }
            while i < bytes.count {
                if bytes[i] == 0x0A { count += 1 }
                i += 1
            }
            return bytes.last == 0x0A ? count : count + 1
        }
    }

    /// Maps a file name's extension to a language name (`main.py` → "python"), or nil if unknown.
    /// The one table of source languages by extension: the analyzer and the editor's highlighter
    /// both read it (the runner's languages are configurable data with their own extensions).
    public static func language(forPath path: String) -> String? {
        guard let dot = path.lastIndex(of: ".") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "py", "pyw": return "python"
        case "java": return "java"
        case "js", "mjs", "cjs": return "javascript"
        case "ts": return "typescript"
        case "go": return "go"
        case "c", "h": return "c"
        case "cc", "cpp", "cxx", "hpp", "hh": return "cpp"
        case "rs": return "rust"
        case "swift": return "swift"
        default: return nil
        }
    }
}
