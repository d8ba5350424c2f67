import CodeSyncAnalyzer

/// The highlighter for a buffer's language: Python's, or the one C-family lexer shared by Java,
/// JavaScript, Go, C and C++ (their keyword sets differ; comments, strings and numbers are shared).
public enum SyntaxLexer: Equatable, Sendable {
    case python
    case cFamily(CFamilyDialect)

    /// The C-family languages the shared lexer knows.
    public enum CFamilyDialect: String, Sendable { case java, javascript, go, c, cpp }

    /// The lexer for a file name (by extension); Python when the extension is unknown.
    public init(fileName: String) {
        // The analyzer's table, so highlighting and analysis always agree on a file's language.
        switch Analyzer.language(forPath: fileName) {
        case "java": self = .cFamily(.java)
        case "javascript": self = .cFamily(.javascript)
        case "go": self = .cFamily(.go)
        case "c": self = .cFamily(.c)
        case "cpp": self = .cFamily(.cpp)
        default: self = .python
        }
    }

    /// The state after a line that started in `start`.
    public func endState(of line: [Unicode.Scalar], start: UInt8) -> UInt8 {
        switch self {
        case .python: return PythonLexer.endState(of: line, start: start)
        case .cFamily(let d):
            var state = start
            _ = CFamilyLexer.scan(line, dialect: d, state: &state, collect: false)
            return state
        }
    }

    /// Highlighted spans of a line that starts in `start`.
    public func spans(of line: [Unicode.Scalar], start: UInt8) -> [HighlightSpan] {
        switch self {
        case .python: return PythonLexer.spans(of: line, start: start)
        case .cFamily(let d):
            var state = start
            return CFamilyLexer.scan(line, dialect: d, state: &state, collect: true)
        }
    }
}

/// Line-at-a-time C-family highlighter. State carried between lines: 1 inside a `/* */` comment,
/// 2 inside a backtick string (JavaScript template, Go raw string), 3 inside a Java text block.
enum CFamilyLexer {
    static let shared: Set<String> = [
        "if", "else", "for", "while", "do", "switch", "case", "default", "break", "continue", "return", "goto",
        "const", "static", "struct", "enum", "true", "false",
    ]
    static let keywords: [SyntaxLexer.CFamilyDialect: Set<String>] = [
        .java: shared.union([
            "class", "interface", "extends", "implements", "new", "this", "super", "public", "private", "protected",
            "final", "abstract", "void", "int", "long", "short", "byte", "char", "boolean", "double", "float", "try",
            "catch", "finally", "throw", "throws", "import", "package", "null", "instanceof", "synchronized", "var",
            "record", "sealed", "permits", "yield", "assert", "native", "transient", "volatile",
        ]),
        .javascript: shared.union([
            "function", "let", "var", "class", "extends", "new", "this", "super", "try", "catch", "finally", "throw",
            "import", "export", "from", "of", "in", "typeof", "instanceof", "null", "undefined", "async", "await",
            "yield", "delete", "void", "static", "get", "set",
        ]),
        .go: shared.union([
            "func", "package", "import", "var", "type", "map", "chan", "range", "defer", "go", "select", "interface",
            "fallthrough", "nil", "iota",
        ]),
        .c: shared.union([
            "int", "long", "short", "char", "unsigned", "signed", "double", "float", "void", "sizeof", "typedef",
            "union", "extern", "register", "volatile", "inline", "restrict", "NULL", "_Bool", "bool",
        ]),
        .cpp: shared.union([
            "int", "long", "short", "char", "unsigned", "signed", "double", "float", "void", "bool", "sizeof",
            "typedef", "union", "extern", "inline", "class", "public", "private", "protected", "virtual", "override",
            "template", "typename", "namespace", "using", "new", "delete", "this", "try", "catch", "throw", "auto",
            "nullptr", "constexpr", "operator", "friend", "explicit", "mutable", "noexcept", "static_cast",
        ]),
    ]
    static let builtins: [SyntaxLexer.CFamilyDialect: Set<String>] = [
        .java: ["String", "System", "Math", "Arrays", "Collections", "Integer", "Long", "List", "Map", "Set", "Scanner"],
        .javascript: ["console", "Math", "Array", "Object", "Map", "Set", "JSON", "Number", "String", "require"],
        .go: ["len", "cap", "make", "append", "new", "copy", "delete", "panic", "fmt", "string", "int", "int64", "bool", "byte", "rune", "error"],
        .c: ["printf", "scanf", "malloc", "free", "memset", "strlen", "qsort"],
        .cpp: ["std", "vector", "string", "map", "set", "cin", "cout", "sort", "pair", "endl"],
    ]

    static func scan(_ s: [Unicode.Scalar], dialect: SyntaxLexer.CFamilyDialect, state: inout UInt8, collect: Bool) -> [HighlightSpan] {
        var spans: [HighlightSpan] = []
        let n = s.count
        var i = 0
        func add(_ a: Int, _ b: Int, _ role: Role) { if collect, b > a { spans.append(HighlightSpan(start: a, end: b, role: role)) } }
        if state != 0 {
            let close = closeOfContinued(s, from: 0, state: state)
            add(0, close ?? n, state == 1 ? .comment : .string)
            guard let close else { return spans }
            i = close
            state = 0
        }
        let kw = keywords[dialect] ?? shared
        let bi = builtins[dialect] ?? []
        var atLineStart = true
        while i < n {
            let c = s[i]
            if c == " " || c == "\t" { i += 1; continue }
            defer { atLineStart = false }
            if c == "/", i + 1 < n, s[i + 1] == "/" { add(i, n, .comment); return spans }
            if c == "/", i + 1 < n, s[i + 1] == "*" {
                if let close = closeOfContinued(s, from: i + 2, state: 1) { add(i, close, .comment); i = close; continue }
                add(i, n, .comment)
                state = 1
                return spans
            }
            if c == "#", atLineStart, dialect == .c || dialect == .cpp { add(i, n, .decorator); return spans }
            if c == "@", dialect == .java {
                var j = i + 1
                while j < n, PythonLexer.isIdentifier(s[j]) || s[j] == "." { j += 1 }
                add(i, j, .decorator)
                i = j
                continue
            }
            if c == "\"", dialect == .java, i + 2 < n, s[i + 1] == "\"", s[i + 2] == "\"" {
                if let close = closeOfContinued(s, from: i + 3, state: 3) { add(i, close, .string); i = close; continue }
                add(i, n, .string)
                state = 3
                return spans
            }
            if c == "`", dialect == .javascript || dialect == .go {
                if let close = closeOfContinued(s, from: i + 1, state: 2) { add(i, close, .string); i = close; continue }
                add(i, n, .string)
                state = 2
                return spans
            }
            if c == "\"" || c == "'" {
                var j = i + 1
                while j < n, s[j] != c { j += s[j] == "\\" ? 2 : 1 }
                let end = min(n, j + 1)
                add(i, end, .string)
                i = end
                continue
            }
            if PythonLexer.isDigit(c) || (c == "." && i + 1 < n && PythonLexer.isDigit(s[i + 1])) {
                if i > 0 && PythonLexer.isIdentifier(s[i - 1]) { i += 1; continue }
                var j = i + 1
                while j < n && (PythonLexer.isIdentifier(s[j]) || s[j] == "." || s[j] == "'") { j += 1 }
                add(i, j, .number)
                i = j
                continue
            }
            if PythonLexer.isIdentifierStart(c) || c == "$" {
                var j = i + 1
                while j < n && (PythonLexer.isIdentifier(s[j]) || s[j] == "$") { j += 1 }
                if collect {
                    let word = String(String.UnicodeScalarView(s[i..<j]))
                    if kw.contains(word) { add(i, j, .keyword) } else if bi.contains(word) { add(i, j, .builtin) }
                }
                i = j
                continue
            }
            i += 1
        }
        return spans
    }

    /// The column after what closes a construct continued from an earlier line (`*/`, a backtick,
    /// `"""`), searching from `from`; nil when the line does not close it.
    private static func closeOfContinued(_ s: [Unicode.Scalar], from: Int, state: UInt8) -> Int? {
        var j = from
        let n = s.count
        while j < n {
            switch state {
            case 1:
                if s[j] == "*", j + 1 < n, s[j + 1] == "/" { return j + 2 }
            case 2:
                if s[j] == "\\" { j += 2; continue }
                if s[j] == "`" { return j + 1 }
            default:
                if s[j] == "\\" { j += 2; continue }
                if s[j] == "\"", j + 2 < n, s[j + 1] == "\"", s[j + 2] == "\"" { return j + 3 }
            }
            j += 1
        }
        return nil
    }
}
