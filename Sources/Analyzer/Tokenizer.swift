/// One lexical token of Python source.
struct Token: Sendable {
    /// What kind of token this is; keywords are names whose text is a hard keyword.
    enum Kind: UInt8, Sendable {
        case name, keyword, number, string, op, newline, indent, dedent, end, error
    }

    /// Operators and keywords: their bytes packed into an integer (`Token.pack`), so the parser tests
    /// them by comparing integers instead of Strings. Names, numbers and string literals (prefix and
    /// quotes included): their byte range in the source, `start | end << 32`. Error tokens: the index
    /// of their message. Tokens hold no String, so the token array is 16-byte plain data: nothing to
    /// retain when a token is copied or to release when the array is freed.
    var tag: UInt64 = 0
    private var lineNumber: UInt32
    // Declared last: fields are laid out in order, so the token packs into 16 bytes.
    var kind: Kind

    init(kind: Kind, tag: UInt64 = 0, line: Int) {
        self.kind = kind
        self.tag = tag
        lineNumber = UInt32(truncatingIfNeeded: line)
    }

    /// The 1-based line the token starts on.
    var line: Int { Int(lineNumber) }
    /// First byte of a name, number or string literal; an error token's message index.
    var start: Int { Int(tag & 0xFFFF_FFFF) }
    /// End (exclusive) of a name, number or string literal.
    var end: Int { Int(tag >> 32) }

    /// Packs up to 8 bytes of `s` into an integer; longer text gets a value no token carries.
    static func pack(_ s: String) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for b in s.utf8 {
            if shift == 64 { return .max }
            value |= UInt64(b) << shift
            shift += 8
        }
        return value
    }

    /// `pack` for a literal; inlined, it folds to a constant, so `tag == Token.tag("def")` is one compare.
    @inline(__always)
    static func tag(_ s: StaticString) -> UInt64 {
        var value: UInt64 = 0
        let p = s.utf8Start
        for k in 0..<s.utf8CodeUnitCount { value |= UInt64(p[k]) << (8 * UInt64(k)) }
        return value
    }

    /// The text a packed tag stands for.
    static func spell(_ tag: UInt64) -> String {
        let count = (64 - tag.leadingZeroBitCount + 7) / 8
        return withUnsafeBytes(of: tag.littleEndian) { raw in
            String(decoding: raw.bindMemory(to: UInt8.self).prefix(count), as: UTF8.self)
        }
    }
}

/// Turns Python source into tokens, with INDENT/DEDENT and implicit line joining inside brackets.
///
/// The tokenizer never fails: problems become `.error` tokens carrying a message, so the parser can
/// report them on the right line and carry on with the next statement.
struct Tokenizer {
    /// Keywords that can never appear inside an expression: a line starting with one inside
    /// brackets means a bracket was left open, so the tokenizer closes it there (typing recovery).
    private static let statementOnlyKeywords: [UInt64] = [
        "def", "class", "return", "while", "try", "elif", "except", "finally", "pass", "break",
        "continue", "raise", "import", "global", "nonlocal", "del", "assert", "with",
    ].map(Token.pack)


    private static let stringPrefixes = ["r", "u", "b", "f", "br", "rb", "fr", "rf"]

    /// The source's UTF-8, borrowed for the duration of `tokenize` (no copy; every read is guarded
    /// by an explicit `pos < bytes.count` check or `peek`).
    private let bytes: UnsafeBufferPointer<UInt8>
    private var pos = 0
    private var line = 1
    private var tokens: [Token] = []
    private var recordingLines = false
    private var lineStarts = [0]
    /// Messages of error tokens, indexed by their `start`.
    private var messages: [String] = []
    private var indents: [Int] = [0]
    private var brackets: [(byte: UInt8, line: Int)] = []
    private var atLineStart = true

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Tokenizes UTF-8 source: the tokens, and the messages their error tokens refer to.
    static func tokenize(_ bytes: UnsafeBufferPointer<UInt8>) -> (tokens: [Token], messages: [String]) {
        let result = tokenize(bytes, recordingLines: false)
        return (result.tokens, result.messages)
    }

    /// Tokenizes UTF-8 source; with `recordingLines`, also the byte offset where each line starts
    /// (`lineStarts[0]` is line 1), counting line breaks exactly as token line numbers do.
    static func tokenize(_ bytes: UnsafeBufferPointer<UInt8>, recordingLines: Bool)
        -> (tokens: [Token], messages: [String], lineStarts: [Int])
    {
        guard bytes.count < Int(UInt32.max) else {
            // Byte offsets are kept in 32 bits.
            let tokens = [Token(kind: .error, tag: 0, line: 1), Token(kind: .newline, line: 1), Token(kind: .end, line: 1)]
            return (tokens, ["file too large to analyse (over 4 GiB)"], [0])
        }
        var t = Tokenizer(bytes)
        t.recordingLines = recordingLines
        t.run()
        return (t.tokens, t.messages, t.lineStarts)
    }


    private func peek(_ offset: Int = 0) -> UInt8 {
        let i = pos + offset
        return i < bytes.count ? bytes[i] : 0
    }

    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[from..<to]), as: UTF8.self)
    }

    /// Appends a token without text (NEWLINE, INDENT, DEDENT, end).
    private mutating func emit(_ kind: Token.Kind) {
        tokens.append(Token(kind: kind, line: line))
    }

    /// Appends a name, number or string token spanning `start..<end` of the source.
    private mutating func emit(_ kind: Token.Kind, _ start: Int, _ end: Int, line: Int? = nil) {
        tokens.append(Token(kind: kind, tag: UInt64(start) | UInt64(end) << 32, line: line ?? self.line))
    }

    /// Appends an error token carrying `message`.
    private mutating func emitError(_ message: String, line: Int? = nil) {
        tokens.append(Token(kind: .error, tag: UInt64(messages.count), line: line ?? self.line))
        messages.append(message)
    }

    /// Appends an operator or keyword token spanning `start..<end`, identified by its packed bytes.
    private mutating func emitTagged(_ kind: Token.Kind, _ start: Int, _ end: Int) {
        tokens.append(Token(kind: kind, tag: packed(start, end), line: line))
    }

    private mutating func newLine() {
        line += 1
        if recordingLines { lineStarts.append(pos) }
    }

    private mutating func run() {
        // About one token per three bytes of typical Python; growing a large array copies all of it.
        tokens.reserveCapacity(bytes.count / 3 + 16)
        while pos < bytes.count {
            if atLineStart {
                if handleLineStart() { continue }
            }
            let c = bytes[pos]
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0C:
                pos += 1
            case UInt8(ascii: "#"):
                while pos < bytes.count, bytes[pos] != 0x0A, bytes[pos] != 0x0D { pos += 1 }
            case 0x0A, 0x0D:
                if c == 0x0D, peek(1) == 0x0A { pos += 1 }
                if brackets.isEmpty { emit(.newline) }
                pos += 1
                newLine()
                atLineStart = true
            case UInt8(ascii: "\\"):
                // Explicit line joining: backslash before the end of the line.
                var p = pos + 1
                if p < bytes.count, bytes[p] == 0x0D { p += 1 }
                if p < bytes.count, bytes[p] == 0x0A {
                    pos = p + 1
                    newLine()
                } else if p >= bytes.count {
                    pos = p
                } else {
                    emitError("unexpected character after line continuation")
                    pos += 1
                }
            default:
                scanToken(c)
            }
        }
        if let last = tokens.last, last.kind != .newline, last.kind != .dedent, last.kind != .indent {
            emit(.newline)
        }
        if let open = brackets.first {
            emitError("'\(Character(UnicodeScalar(open.byte)))' was never closed", line: open.line)
            emit(.newline)
        }
        while indents.count > 1 {
            indents.removeLast()
            emit(.dedent)
        }
        emit(.end)
    }

    /// Measures indentation at the start of a logical line; returns true when the line was blank or a comment.
    private mutating func handleLineStart() -> Bool {
        var col = 0
        var p = pos
        while p < bytes.count {
            let b = bytes[p]
            if b == UInt8(ascii: " ") { col += 1 } else if b == UInt8(ascii: "\t") { col = (col / 8 + 1) * 8 } else if b == 0x0C { col = 0 } else { break }
            p += 1
        }
        if p >= bytes.count { pos = p; return true }
        let b = bytes[p]
        if b == UInt8(ascii: "#") || b == 0x0A || b == 0x0D {
            // Blank and comment-only lines carry no indentation meaning.
            pos = p
            while pos < bytes.count, bytes[pos] != 0x0A, bytes[pos] != 0x0D { pos += 1 }
            if pos < bytes.count {
                if bytes[pos] == 0x0D, peek(1) == 0x0A { pos += 1 }
                pos += 1
                newLine()
            }
            return true
        }
        if b == UInt8(ascii: "\\") {
            // A line that is only a continuation backslash joins with the next one.
            pos = p
            atLineStart = false
            return false
        }
        pos = p
        atLineStart = false
        if !brackets.isEmpty {
            if Self.startsStatementOnlyKeyword(bytes, at: p) {
                // An unclosed bracket swallowed this line; close it so the rest of the file survives.
                let open = brackets[0]
                emitError("'\(Character(UnicodeScalar(open.byte)))' was never closed", line: open.line)
                brackets.removeAll()
                emit(.newline)
            } else {
                return false
            }
        }
        let current = indents[indents.count - 1]
        if col > current {
            indents.append(col)
            emit(.indent)
        } else if col < current {
            while indents.count > 1, col < indents[indents.count - 1] {
                indents.removeLast()
                emit(.dedent)
            }
            if col != indents[indents.count - 1] {
                emitError("unindent does not match any outer indentation level")
                indents.append(col)
            }
        }
        return false
    }

    /// The bytes `start..<end` (at most 8) packed as `Token.pack` does.
    @inline(__always)
    private func packed(_ start: Int, _ end: Int) -> UInt64 {
        var tag: UInt64 = 0
        for k in start..<end { tag |= UInt64(bytes[k]) << (8 * UInt64(k - start)) }
        return tag
    }

    /// True when a packed word is a hard keyword: integer compares, no String built or hashed.
    private static func isKeyword(_ tag: UInt64) -> Bool {
        switch tag {
        case Token.tag("False"), Token.tag("None"), Token.tag("True"), Token.tag("and"), Token.tag("as"),
            Token.tag("assert"), Token.tag("async"), Token.tag("await"), Token.tag("break"), Token.tag("class"),
            Token.tag("continue"), Token.tag("def"), Token.tag("del"), Token.tag("elif"), Token.tag("else"),
            Token.tag("except"), Token.tag("finally"), Token.tag("for"), Token.tag("from"), Token.tag("global"),
            Token.tag("if"), Token.tag("import"), Token.tag("in"), Token.tag("is"), Token.tag("lambda"),
            Token.tag("nonlocal"), Token.tag("not"), Token.tag("or"), Token.tag("pass"), Token.tag("raise"),
            Token.tag("return"), Token.tag("try"), Token.tag("while"), Token.tag("with"), Token.tag("yield"):
            return true
        default:
            return false
        }
    }

    private static func startsStatementOnlyKeyword(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        var p = start
        while p < bytes.count, isIdentifierByte(bytes[p]) { p += 1 }
        if p == start || p - start > 8 { return false }
        var tag: UInt64 = 0
        for k in start..<p { tag |= UInt64(bytes[k]) << (8 * UInt64(k - start)) }
        return statementOnlyKeywords.contains(tag)
    }

    private static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || b >= 0x80
    }

    private static func isIdentifierByte(_ b: UInt8) -> Bool {
        isIdentifierStart(b) || (b >= 0x30 && b <= 0x39)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private mutating func scanToken(_ c: UInt8) {
        if Self.isIdentifierStart(c) {
            let start = pos
            while pos < bytes.count, Self.isIdentifierByte(bytes[pos]) { pos += 1 }
            // String prefixes: r, b, u, f and their two-letter combinations.
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") || bytes[pos] == UInt8(ascii: "'"), pos - start <= 2 {
                let prefix = text(start, pos).lowercased()
                if Self.stringPrefixes.contains(prefix) {
                    let startLine = line
                    let ok = scanString(isFormat: prefix.contains("f"), isRaw: prefix.contains("r"))
                    if ok {
                        emit(.string, start, pos, line: startLine)
                    } else {
                        emitError("unterminated string literal", line: startLine)
                    }
                    return
                }
            }
            // Keywords are 2-8 ASCII letters starting with a lowercase letter or F/N/T.
            let first = bytes[start]
            let maybeKeyword = pos - start >= 2 && pos - start <= 8
                && ((first >= 0x61 && first <= 0x79) || first == UInt8(ascii: "F") || first == UInt8(ascii: "N") || first == UInt8(ascii: "T"))
            if maybeKeyword && Self.isKeyword(packed(start, pos)) {
                emitTagged(.keyword, start, pos)
            } else {
                emit(.name, start, pos)
            }
            return
        }
        if Self.isDigit(c) || (c == UInt8(ascii: ".") && Self.isDigit(peek(1))) {
            let start = pos
            scanNumber()
            emit(.number, start, pos)
            return
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            let start = pos, startLine = line
            let ok = scanString(isFormat: false, isRaw: false)
            if ok {
                emit(.string, start, pos, line: startLine)
            } else {
                emitError("unterminated string literal", line: startLine)
            }
            return
        }
        // Operators and delimiters: longest match first, decided on bytes (no string hashing).
        let length = operatorLength(c)
        if length > 1 {
            emitTagged(.op, pos, pos + length)
            pos += length
            return
        }
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
            brackets.append((c, line))
        case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
            if brackets.isEmpty {
                pos += 1
                emitError("unmatched '\(Character(UnicodeScalar(c)))'")
                return
            }
            brackets.removeLast()
        default:
            break
        }
        if Self.isSingleCharOperator(c) {
            emitTagged(.op, pos, pos + 1)
            pos += 1
            return
        }
        // Skip one whole (possibly multi-byte) invalid character.
        let start = pos
        pos += 1
        while pos < bytes.count, bytes[pos] & 0xC0 == 0x80 { pos += 1 }
        emitError("invalid character '\(text(start, pos))'")
    }

    private static func isSingleCharOperator(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
            UInt8(ascii: "}"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "."),
            UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "%"),
            UInt8(ascii: "|"), UInt8(ascii: "&"), UInt8(ascii: "^"), UInt8(ascii: "~"), UInt8(ascii: "<"),
            UInt8(ascii: ">"), UInt8(ascii: "="), UInt8(ascii: "@"), UInt8(ascii: "!"):
            return true
        default:
            return false
        }
    }

    /// Length of a two- or three-character operator starting at `pos`, or 1.
    private func operatorLength(_ c: UInt8) -> Int {
        let d = peek(1), e = peek(2)
        let eq = UInt8(ascii: "=")
        switch c {
        case UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: ">"), UInt8(ascii: "<"):
            if d == c { return e == eq ? 3 : 2 }  // ** // >> << and **= //= >>= <<=
            return d == eq ? 2 : 1
        case UInt8(ascii: "."):
            return d == c && e == c ? 3 : 1
        case UInt8(ascii: "-"):
            return d == UInt8(ascii: ">") || d == eq ? 2 : 1
        case UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "+"), UInt8(ascii: "%"),
            UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "^"), UInt8(ascii: "@"):
            return d == eq ? 2 : 1
        default:
            return 1
        }
    }

    private mutating func scanNumber() {
        let c = bytes[pos]
        if c == UInt8(ascii: "0"), [UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "b"), UInt8(ascii: "B")].contains(peek(1)) {
            pos += 2
            while pos < bytes.count, Self.isIdentifierByte(bytes[pos]) { pos += 1 }
            return
        }
        func digits(_ t: inout Tokenizer) {
            while t.pos < t.bytes.count, Self.isDigit(t.bytes[t.pos]) || t.bytes[t.pos] == UInt8(ascii: "_") { t.pos += 1 }
        }
        digits(&self)
        if peek() == UInt8(ascii: ".") {
            pos += 1
            digits(&self)
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            let sign = peek(1) == UInt8(ascii: "+") || peek(1) == UInt8(ascii: "-")
            if Self.isDigit(peek(sign ? 2 : 1)) {
                pos += sign ? 2 : 1
                digits(&self)
            }
        }
        if peek() == UInt8(ascii: "j") || peek() == UInt8(ascii: "J") { pos += 1 }
    }

    /// Scans a string literal starting at its opening quote; false when it is unterminated.
    private mutating func scanString(isFormat: Bool, isRaw: Bool) -> Bool {
        let quote = bytes[pos]
        let triple = peek(1) == quote && peek(2) == quote
        pos += triple ? 3 : 1
        return scanStringBody(quote: quote, triple: triple, isFormat: isFormat)
    }

    private mutating func scanStringBody(quote: UInt8, triple: Bool, isFormat: Bool) -> Bool {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\\") {
                pos += 1
                if pos < bytes.count {
                    if bytes[pos] == 0x0D, peek(1) == 0x0A { pos += 1 }
                    if bytes[pos] == 0x0A { pos += 1; newLine() } else { pos += 1 }
                }
                continue
            }
            if b == 0x0A || b == 0x0D {
                if !triple { return false }
                if b == 0x0D, peek(1) == 0x0A { pos += 1 }
                pos += 1
                newLine()
                continue
            }
            if b == quote {
                if !triple { pos += 1; return true }
                if peek(1) == quote, peek(2) == quote { pos += 3; return true }
                pos += 1
                continue
            }
            if isFormat, b == UInt8(ascii: "{") {
                if peek(1) == UInt8(ascii: "{") { pos += 2; continue }
                pos += 1
                if !scanReplacementField(triple: triple) { return false }
                continue
            }
            pos += 1
        }
        return false
    }

    /// Scans an f-string replacement field after its `{`, through the matching `}`. Nested strings
    /// may reuse the outer quote (Python 3.12); a top-level `:` starts the format spec.
    private mutating func scanReplacementField(triple: Bool) -> Bool {
        var depth = 0
        while pos < bytes.count {
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                pos += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"):
                depth -= 1
                pos += 1
            case UInt8(ascii: "}"):
                pos += 1
                if depth == 0 { return true }
                depth -= 1
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                // A nested literal; its prefix letters (if any) were skipped as identifier bytes.
                var p = pos - 1
                var isFormat = false
                while p >= 0, Self.isIdentifierByte(bytes[p]) {
                    if bytes[p] == UInt8(ascii: "f") || bytes[p] == UInt8(ascii: "F") { isFormat = true }
                    p -= 1
                }
                if !scanString(isFormat: isFormat, isRaw: false) { return false }
            case UInt8(ascii: "!") where depth == 0 && peek(1) != UInt8(ascii: "="):
                pos += 1
            case UInt8(ascii: ":") where depth == 0:
                pos += 1
                return scanFormatSpec(triple: triple)
            case 0x0A, 0x0D:
                if b == 0x0D, peek(1) == 0x0A { pos += 1 }
                pos += 1
                newLine()
            default:
                pos += 1
            }
        }
        return false
    }

    private mutating func scanFormatSpec(triple: Bool) -> Bool {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "}") { pos += 1; return true }
            if b == UInt8(ascii: "{") {
                pos += 1
                if !scanReplacementField(triple: triple) { return false }
                continue
            }
            if b == 0x0A {
                if !triple { return false }
                pos += 1
                newLine()
                continue
            }
            pos += 1
        }
        return false
    }
}
