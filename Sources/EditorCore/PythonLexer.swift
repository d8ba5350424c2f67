/// A span of a line with a highlighting role, in scalar columns.
public struct HighlightSpan: Equatable, Sendable {
    public var start: Int
    public var end: Int
    public var role: Role
}

/// Line-at-a-time Python highlighter. The only state carried between lines is an open
/// triple-quoted string (1 = `"""`, 2 = `'''`), so a line can be highlighted from its start state alone.
public enum PythonLexer {
    static let keywords: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
        "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
        "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
        "match", "case",
    ]
    static let builtins: Set<String> = [
        "print", "len", "range", "enumerate", "zip", "map", "filter", "sorted", "reversed", "sum", "min",
        "max", "abs", "int", "str", "float", "list", "dict", "set", "tuple", "bool", "input", "open",
        "isinstance", "super", "self", "any", "all", "iter", "next", "object", "type",
    ]

    /// The state after a line that started in `start`.
    public static func endState(of line: [Unicode.Scalar], start: UInt8) -> UInt8 {
        var state = start
        _ = scan(line, state: &state, collect: false)
        return state
    }

    /// Highlighted spans of a line that starts in `start` (plain text has no span).
    public static func spans(of line: [Unicode.Scalar], start: UInt8) -> [HighlightSpan] {
        var state = start
        return scan(line, state: &state, collect: true)
    }

    private static func scan(_ s: [Unicode.Scalar], state: inout UInt8, collect: Bool) -> [HighlightSpan] {
        var spans: [HighlightSpan] = []
        var i = 0
        let n = s.count
        if state != 0 {
            let quote: Unicode.Scalar = state == 1 ? "\"" : "'"
            if let close = findTripleClose(s, from: 0, quote: quote) {
                if collect { spans.append(HighlightSpan(start: 0, end: close, role: .string)) }
                i = close
                state = 0
            } else {
                if collect && n > 0 { spans.append(HighlightSpan(start: 0, end: n, role: .string)) }
                return spans
            }
        }
        var atLineStart = true
        while i < n {
            let c = s[i]
            if c == " " || c == "\t" { i += 1; continue }
            defer { atLineStart = false }
            if c == "#" {
                if collect { spans.append(HighlightSpan(start: i, end: n, role: .comment)) }
                return spans
            }
            if c == "\"" || c == "'" {
                let end = scanString(s, from: i, quote: c, state: &state)
                if collect { spans.append(HighlightSpan(start: i, end: end, role: .string)) }
                i = end
                continue
            }
            if c == "@" && atLineStart {
                var j = i + 1
                while j < n && (isIdentifier(s[j]) || s[j] == ".") { j += 1 }
                if collect { spans.append(HighlightSpan(start: i, end: j, role: .decorator)) }
                i = j
                continue
            }
            if isDigit(c) || (c == "." && i + 1 < n && isDigit(s[i + 1])) {
                if i > 0 && isIdentifier(s[i - 1]) { i += 1; continue }
                var j = i + 1
                while j < n && (isIdentifier(s[j]) || s[j] == ".") { j += 1 }
                if collect { spans.append(HighlightSpan(start: i, end: j, role: .number)) }
                i = j
                continue
            }
            if isIdentifierStart(c) {
                var j = i + 1
                while j < n && isIdentifier(s[j]) { j += 1 }
                // String prefixes (r"", f'', rb"") belong to the string.
                if j < n && (s[j] == "\"" || s[j] == "'") && j - i <= 2 && isStringPrefix(s[i..<j]) {
                    let end = scanString(s, from: j, quote: s[j], state: &state)
                    if collect { spans.append(HighlightSpan(start: i, end: end, role: .string)) }
                    i = end
                    continue
                }
                if collect {
                    let word = String(String.UnicodeScalarView(s[i..<j]))
                    if keywords.contains(word) {
                        spans.append(HighlightSpan(start: i, end: j, role: .keyword))
                    } else if builtins.contains(word) {
                        spans.append(HighlightSpan(start: i, end: j, role: .builtin))
                    }
                }
                i = j
                continue
            }
            i += 1
        }
        return spans
    }

    /// Scans a string literal opening at `from`; returns the column after it (or the line end).
    private static func scanString(_ s: [Unicode.Scalar], from: Int, quote: Unicode.Scalar, state: inout UInt8) -> Int {
        let n = s.count
        if from + 2 < n && s[from + 1] == quote && s[from + 2] == quote {
            if let close = findTripleClose(s, from: from + 3, quote: quote) { return close }
            state = quote == "\"" ? 1 : 2
            return n
        }
        var j = from + 1
        while j < n {
            if s[j] == "\\" { j += 2; continue }
            if s[j] == quote { return j + 1 }
            j += 1
        }
        return n
    }

    /// The column after the closing triple quote at or after `from`, if the line has one.
    private static func findTripleClose(_ s: [Unicode.Scalar], from: Int, quote: Unicode.Scalar) -> Int? {
        var j = from
        let n = s.count
        while j < n {
            if s[j] == "\\" { j += 2; continue }
            if s[j] == quote && j + 2 < n && s[j + 1] == quote && s[j + 2] == quote { return j + 3 }
            j += 1
        }
        return nil
    }

    private static func isStringPrefix(_ p: ArraySlice<Unicode.Scalar>) -> Bool {
        p.allSatisfy { "rRbBfFuU".unicodeScalars.contains($0) }
    }

    @inline(__always) static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }

    @inline(__always) static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95 || (v > 127 && c.properties.isAlphabetic)
    }

    @inline(__always) static func isIdentifier(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || isDigit(c)
    }
}
