/// The C-family languages the shared front end reads (Java, JavaScript, Go, C, C++).
enum CFamily: String, Sendable {
    case java, javascript, go, c, cpp

    /// The dialect for a language name as callers spell it (`"js"`, `"c++"`, ...), or nil.
    init?(language: String) {
        switch language.lowercased() {
        case "java": self = .java
        case "javascript", "js", "node", "nodejs": self = .javascript
        case "go", "golang": self = .go
        case "c": self = .c
        case "cpp", "c++", "cxx", "cc": self = .cpp
        default: return nil
        }
    }
}

/// One C-family token. Operators are single punctuators except `>`, which is always emitted alone
/// so that `List<List<Integer>>` closes two generic lists; the parser joins adjacent `>` into
/// shifts using `offset`.
struct CToken: Sendable {
    enum Kind: Sendable, Equatable { case ident, number, string, char, op, end, error }
    var kind: Kind
    var text: String
    var line: Int
    /// Byte offset of the token's first byte (to tell `> >` from `>>`).
    var offset: Int
    /// A newline separates this token from the previous one (JavaScript and Go end statements there).
    var newlineBefore: Bool
}

/// Splits C-family source into tokens. Never fails: an unterminated string or comment becomes an
/// `.error` token with a message, and tokenizing goes on.
enum CFamilyTokenizer {
    private static let operators: [String] = [
        ">>>=", "<<=", "...", "->*", "===", "!==", "&^=", "**=", "&&=", "||=", "??=",
        "->", "::", "++", "--", "&&", "||", "==", "!=", "<=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
        "<<", "=>", ":=", "<-", "**", "??", "?.", "&^",
    ]

    static func tokenize(_ source: String, dialect: CFamily) -> [CToken] {
        let bytes = Array(source.utf8)
        var tokens: [CToken] = []
        tokens.reserveCapacity(bytes.count / 4)
        var i = 0
        var line = 1
        var newline = true
        let n = bytes.count
        func text(_ a: Int, _ b: Int) -> String { String(decoding: bytes[a..<min(b, n)], as: UTF8.self) }
        func emit(_ kind: CToken.Kind, _ start: Int, _ end: Int, _ l: Int) {
            tokens.append(CToken(kind: kind, text: text(start, end), line: l, offset: start, newlineBefore: newline))
            newline = false
        }
        /// Whether a `/` here starts a JavaScript regular expression rather than a division.
        func regexAllowed() -> Bool {
            guard let last = tokens.last else { return true }
            switch last.kind {
            case .ident:
                return ["return", "typeof", "case", "in", "of", "new", "delete", "void", "throw", "else", "do"].contains(last.text)
            case .number, .string, .char: return false
            case .op: return ![")", "]", "}", "++", "--"].contains(last.text)
            default: return true
            }
        }
        while i < n {
            let c = bytes[i]
            if c == 0x0A { line += 1; newline = true; i += 1; continue }
            if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0C || c == 0x0B { i += 1; continue }
            let start = i, startLine = line
            // Comments.
            if c == UInt8(ascii: "/"), i + 1 < n, bytes[i + 1] == UInt8(ascii: "/") {
                while i < n, bytes[i] != 0x0A { i += 1 }
                continue
            }
            if c == UInt8(ascii: "/"), i + 1 < n, bytes[i + 1] == UInt8(ascii: "*") {
                i += 2
                var closed = false
                while i < n {
                    if bytes[i] == 0x0A { line += 1; newline = true }
                    if bytes[i] == UInt8(ascii: "*"), i + 1 < n, bytes[i + 1] == UInt8(ascii: "/") { i += 2; closed = true; break }
                    i += 1
                }
                if !closed {
                    tokens.append(CToken(kind: .error, text: "unterminated /* comment", line: startLine, offset: start, newlineBefore: newline))
                }
                continue
            }
            // Preprocessor lines (C, C++): skipped whole, with backslash continuations.
            if c == UInt8(ascii: "#"), dialect == .c || dialect == .cpp, newline || tokens.isEmpty {
                while i < n, bytes[i] != 0x0A {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < n, bytes[i + 1] == 0x0A { line += 1; i += 1 }
                    i += 1
                }
                continue
            }
            if c == UInt8(ascii: "#"), dialect == .javascript, i == 0, i + 1 < n, bytes[i + 1] == UInt8(ascii: "!") {
                while i < n, bytes[i] != 0x0A { i += 1 }
                continue
            }
            if isIdentStart(c) {
                while i < n, isIdentPart(bytes[i]) { i += 1 }
                // C++ raw string R"delim(...)delim" and prefixed literals u8"..", L'..'.
                if (dialect == .cpp || dialect == .c), i < n, bytes[i] == UInt8(ascii: "\""), ["R", "u8R", "LR", "uR", "UR"].contains(text(start, i)) {
                    var j = i + 1
                    while j < n, bytes[j] != UInt8(ascii: "(") , bytes[j] != 0x0A { j += 1 }
                    let delim = ")" + text(i + 1, j) + "\""
                    let d = Array(delim.utf8)
                    j += 1
                    while j < n {
                        if bytes[j] == 0x0A { line += 1 }
                        if bytes[j] == d[0], j + d.count <= n, Array(bytes[j..<j + d.count]) == d { j += d.count; break }
                        j += 1
                    }
                    i = j
                    emit(.string, start, i, startLine)
                    continue
                }
                if (dialect == .cpp || dialect == .c), i < n, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'"),
                    ["L", "u", "U", "u8"].contains(text(start, i))
                {
                    let q = bytes[i]
                    i = skipQuoted(bytes, i, q, &line)
                    emit(q == UInt8(ascii: "'") ? .char : .string, start, i, startLine)
                    continue
                }
                emit(.ident, start, i, startLine)
                continue
            }
            if isDigit(c) || (c == UInt8(ascii: ".") && i + 1 < n && isDigit(bytes[i + 1])) {
                i += 1
                while i < n {
                    let d = bytes[i]
                    if isIdentPart(d) || d == UInt8(ascii: ".") {
                        i += 1
                    } else if d == UInt8(ascii: "+") || d == UInt8(ascii: "-"), isExponentSign(bytes, start, i) {
                        i += 1
                    } else if d == UInt8(ascii: "'"), dialect == .cpp, i + 1 < n, isIdentPart(bytes[i + 1]) {
                        i += 1  // digit separator 1'000'000
                    } else {
                        break
                    }
                }
                emit(.number, start, i, startLine)
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                if dialect == .java, c == UInt8(ascii: "\""), i + 2 < n, bytes[i + 1] == c, bytes[i + 2] == c {
                    // Java text block """ ... """.
                    var j = i + 3
                    var closed = false
                    while j < n {
                        if bytes[j] == 0x0A { line += 1 }
                        if bytes[j] == UInt8(ascii: "\\") { j += 2; continue }
                        if bytes[j] == c, j + 2 < n, bytes[j + 1] == c, bytes[j + 2] == c { j += 3; closed = true; break }
                        j += 1
                    }
                    i = j
                    if closed { emit(.string, start, i, startLine) } else {
                        tokens.append(CToken(kind: .error, text: "unterminated text block", line: startLine, offset: start, newlineBefore: newline))
                    }
                    continue
                }
                let end = skipQuoted(bytes, i, c, &line)
                let closed = end <= n && end > i + 1 && bytes[end - 1] == c
                i = end
                if closed {
                    emit(c == UInt8(ascii: "'") && dialect != .javascript ? .char : .string, start, i, startLine)
                } else {
                    tokens.append(CToken(kind: .error, text: "unterminated string", line: startLine, offset: start, newlineBefore: newline))
                    newline = false
                }
                continue
            }
            if c == UInt8(ascii: "`"), dialect == .javascript || dialect == .go {
                // Go raw string, or a JavaScript template literal (its ${...} parts are skipped whole).
                var j = i + 1
                var depth = 0
                var closed = false
                while j < n {
                    let d = bytes[j]
                    if d == 0x0A { line += 1 }
                    if dialect == .javascript {
                        if d == UInt8(ascii: "\\") { j += 2; continue }
                        if d == UInt8(ascii: "$"), j + 1 < n, bytes[j + 1] == UInt8(ascii: "{") { depth += 1; j += 2; continue }
                        if d == UInt8(ascii: "}"), depth > 0 { depth -= 1; j += 1; continue }
                    }
                    if d == UInt8(ascii: "`"), depth == 0 { j += 1; closed = true; break }
                    j += 1
                }
                i = j
                if closed { emit(.string, start, i, startLine) } else {
                    tokens.append(CToken(kind: .error, text: "unterminated template or raw string", line: startLine, offset: start, newlineBefore: newline))
                }
                continue
            }
            if c == UInt8(ascii: "/"), dialect == .javascript, regexAllowed() {
                var j = i + 1
                var inClass = false
                var closed = false
                while j < n, bytes[j] != 0x0A {
                    let d = bytes[j]
                    if d == UInt8(ascii: "\\") { j += 2; continue }
                    if d == UInt8(ascii: "[") { inClass = true } else if d == UInt8(ascii: "]") { inClass = false } else if d == UInt8(ascii: "/"), !inClass {
                        j += 1; closed = true; break
                    }
                    j += 1
                }
                if closed {
                    while j < n, isIdentPart(bytes[j]) { j += 1 }
                    i = j
                    emit(.string, start, i, startLine)
                    continue
                }
            }
            // Operators: longest match; `>` always alone (see CToken).
            if c != UInt8(ascii: ">") {
                var matched = false
                for op in operators where Self.exists(op, in: dialect) {
                    let u = Array(op.utf8)
                    if i + u.count <= n, bytes[i] == u[0], Array(bytes[i..<i + u.count]) == u {
                        i += u.count
                        emit(.op, start, i, startLine)
                        matched = true
                        break
                    }
                }
                if matched { continue }
            }
            if c >= 0x80 {
                // Non-ASCII outside strings: identifiers in Java and JavaScript; skip the whole scalar.
                i += 1
                while i < n, bytes[i] & 0xC0 == 0x80 { i += 1 }
                while i < n, isIdentPart(bytes[i]) || bytes[i] >= 0x80 { i += 1 }
                emit(.ident, start, i, startLine)
                continue
            }
            i += 1
            emit(.op, start, i, startLine)
        }
        tokens.append(CToken(kind: .end, text: "", line: line, offset: n, newlineBefore: true))
        return tokens
    }

    /// Operators that only some dialects have (`a<-1` in Java is `a < -1`).
    private static func exists(_ op: String, in dialect: CFamily) -> Bool {
        switch op {
        case "<-", ":=", "&^", "&^=": return dialect == .go
        case "=>", "===", "!==", "**", "**=", "??", "??=", "?.", "&&=", "||=": return dialect == .javascript
        case "::": return dialect == .java || dialect == .cpp
        case "->*": return dialect == .cpp
        default: return true
        }
    }

    /// The index after a quoted literal starting at `i` (or at the line's end for an unclosed one).
    private static func skipQuoted(_ bytes: [UInt8], _ start: Int, _ q: UInt8, _ line: inout Int) -> Int {
        var i = start + 1
        while i < bytes.count {
            let d = bytes[i]
            if d == UInt8(ascii: "\\") {
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A { line += 1 }
                i += 2
                continue
            }
            if d == q { return i + 1 }
            if d == 0x0A { return i }
            i += 1
        }
        return i
    }

    /// A `+`/`-` at `i` belongs to the number started at `start` (`1e-9`, `0x1p+3`), not an operator.
    private static func isExponentSign(_ bytes: [UInt8], _ start: Int, _ i: Int) -> Bool {
        let prev = bytes[i - 1] | 0x20
        let hex = i - start > 1 && bytes[start] == UInt8(ascii: "0") && bytes[start + 1] | 0x20 == UInt8(ascii: "x")
        return hex ? prev == UInt8(ascii: "p") : prev == UInt8(ascii: "e")
    }

    static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "$")
    }

    static func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}
