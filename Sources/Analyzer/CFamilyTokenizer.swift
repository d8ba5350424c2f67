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

/// One C-family token: plain data (no String), so copying one costs nothing and the token array
/// is freed without visiting its elements. Its text is read from the source's bytes when needed
/// (`CTokens.text`); operators and keywords are compared through `tag`.
///
/// Operators are single punctuators except `>`, which is always emitted alone so that
/// `List<List<Integer>>` closes two generic lists; the parser joins adjacent `>` into shifts using
/// `offset`.
struct CToken: Sendable {
    enum Kind: UInt8, Sendable, Equatable { case ident, number, string, char, op, end, error }
    /// The text packed into an integer (`CToken.tag`): up to 8 bytes exactly, longer text hashed
    /// with the top bit set. Error tokens: the index of their message.
    var tag: UInt64
    private var startOffset: UInt32
    private var endOffset: UInt32
    private var lineNumber: UInt32
    var kind: Kind
    /// A newline separates this token from the previous one (JavaScript and Go end statements there).
    var newlineBefore: Bool

    init(kind: Kind, tag: UInt64, start: Int, end: Int, line: Int, newlineBefore: Bool) {
        self.kind = kind
        self.tag = tag
        startOffset = UInt32(truncatingIfNeeded: start)
        endOffset = UInt32(truncatingIfNeeded: end)
        lineNumber = UInt32(truncatingIfNeeded: line)
        self.newlineBefore = newlineBefore
    }

    /// The 1-based line the token starts on.
    var line: Int { Int(lineNumber) }
    /// Byte offset of the token's first byte (to tell `> >` from `>>`).
    var offset: Int { Int(startOffset) }
    /// Byte offset just past the token.
    var end: Int { Int(endOffset) }
    /// Length of the token's text in bytes.
    var length: Int { Int(endOffset &- startOffset) }

    /// `s` packed as a token's tag would be. With a literal argument this folds to a constant.
    @inline(__always)
    static func tag(_ s: StaticString) -> UInt64 {
        tag(s.utf8Start, s.utf8CodeUnitCount)
    }

    /// Every word longer than 8 bytes that the parser tests by tag, by tag (see `emit`).
    static let longWords = TagTable<[UInt8]>(
        [
            "instanceof", "synchronized", "static_assert", "_Static_assert", "fallthrough", "interface", "namespace",
            "protected", "transient", "constexpr", "consteval", "constinit", "thread_local", "_Noreturn", "non-sealed",
            "implements", "undefined", "static_cast", "dynamic_cast", "reinterpret_cast",
        ].map { ($0, Array($0.utf8)) })

    /// The text a packed tag (of at most 8 bytes) stands for.
    static func spell(_ tag: UInt64) -> String {
        let count = (64 - tag.leadingZeroBitCount + 7) / 8
        return withUnsafeBytes(of: tag.littleEndian) { raw in
            String(decoding: raw.bindMemory(to: UInt8.self).prefix(count), as: UTF8.self)
        }
    }

    /// The tag of a String (for the few comparisons against text that is not a literal).
    static func tag(text s: String) -> UInt64 {
        var copy = s
        return copy.withUTF8 { tag($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
    }

    @inline(__always)
    static func tag(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        if count <= 8 {
            var value: UInt64 = 0
            for k in 0..<count { value |= UInt64(p[k]) << (8 * UInt64(k)) }
            return value
        }
        // FNV-1a; the top bit keeps it apart from every packed tag of ASCII text.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in 0..<count { hash = (hash ^ UInt64(p[k])) &* 0x100_0000_01b3 }
        return hash | 1 << 63
    }
}

/// A small table keyed by token tags. A 64-bit filter answers most misses with one multiply and
/// one mask; hits and the rare false positive scan a short array. (Swift's hashed Set and
/// Dictionary seed and run SipHash on every look-up, which dominated the parser's profile.)
struct TagTable<Value: Sendable>: Sendable {
    private var filter: UInt64 = 0
    private var keys: [UInt64] = []
    private var values: [Value] = []

    /// A table of `pairs`, keyed by the tags of their texts.
    init(_ pairs: [(String, Value)]) {
        for (text, value) in pairs {
            let tag = CToken.tag(text: text)
            filter |= Self.bit(tag)
            keys.append(tag)
            values.append(value)
        }
    }

    @inline(__always) private static func bit(_ tag: UInt64) -> UInt64 { 1 << ((tag &* 0x9E37_79B9_7F4A_7C15) >> 58) }

    /// The value stored for `tag`, or nil.
    @inline(__always) func value(_ tag: UInt64) -> Value? {
        guard filter & Self.bit(tag) != 0 else { return nil }
        for k in keys.indices where keys[k] == tag { return values[k] }
        return nil
    }
}

extension TagTable where Value == Bool {
    /// A set of words.
    init(words: [String]) { self.init(words.map { ($0, true) }) }

    /// Whether the token's text is one of the words.
    @inline(__always) func contains(_ t: CToken) -> Bool { value(t.tag) != nil }
}

/// The tokens of one source, with its bytes (token texts are read from them) and error messages.
struct CTokens: Sendable {
    var tokens: [CToken]
    let bytes: [UInt8]
    var messages: [String]
    /// Tags of the names this source `#define`s (C, C++): the parser may skip them where a
    /// macro's expansion, which it cannot see, would make the code well formed.
    var definedMacros: Set<UInt64> = []
    /// A skipped `#if` branch had a brace in it: the branch read may then leave braces unbalanced
    /// (`#if A  namespace x {  #else ... #endif`), which the parser does not count as an error.
    var skippedBranchHadBraces = false
    /// The file opens with `#ifdef NAME` (or `#if defined(NAME)`) before any code, for a NAME it
    /// never defines: a fragment meant to be `#include`d where NAME is defined (libstdc++'s pb_ds
    /// `*_imps.hpp` files are pieces of a class template), not a translation unit by itself.
    var includedFragment = false

    /// The token's text (an error token's message).
    func text(_ t: CToken) -> String {
        if t.kind == .error { return messages[Int(t.tag)] }
        let a = min(t.offset, bytes.count), b = min(max(t.end, a), bytes.count)
        return String(decoding: bytes[a..<b], as: UTF8.self)
    }
}

/// Splits C-family source into tokens. Never fails: an unterminated string or comment becomes an
/// `.error` token with a message, and tokenizing goes on.
enum CFamilyTokenizer {
    static func tokenize(_ source: String, dialect: CFamily) -> CTokens {
        let bytes = Array(source.utf8)
        var messages: [String] = []
        var macros: Set<UInt64> = []
        var braces = false
        var guardName: UInt64?
        var tokens: [CToken] = []
        // Dense code (data tables) has a token every 3-4 bytes; growing the array copies it all.
        tokens.reserveCapacity(bytes.count / 3 + 16)
        bytes.withUnsafeBufferPointer { buffer in
            scan(buffer, dialect: dialect, into: &tokens, messages: &messages, macros: &macros, skippedBraces: &braces, guardName: &guardName)
        }
        var lexed = CTokens(tokens: tokens, bytes: bytes, messages: messages, definedMacros: macros, skippedBranchHadBraces: braces)
        lexed.includedFragment = guardName.map { !macros.contains($0) } ?? false
        return lexed
    }

    private static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, dialect: CFamily, into tokens: inout [CToken], messages: inout [String], macros: inout Set<UInt64>,
        skippedBraces: inout Bool, guardName: inout UInt64?
    ) {
        var sawConditional = false
        var i = 0
        var line = 1
        var newline = true
        let n = bytes.count
        guard let base = bytes.baseAddress else {
            tokens.append(CToken(kind: .end, tag: 0, start: 0, end: 0, line: 1, newlineBefore: true))
            return
        }
        let isJS = dialect == .javascript, isGo = dialect == .go, isC = dialect == .c || dialect == .cpp
        func emit(_ kind: CToken.Kind, _ start: Int, _ end: Int, _ l: Int) {
            let e = min(end, n)
            var tag = CToken.tag(base + start, e - start)
            if e - start > 8, kind == .ident {
                // A long word's tag is a hash: one that equals a keyword's but is not that keyword
                // is moved, so a tag test alone is exact for every word the parser looks for.
                while let word = CToken.longWords.value(tag), !word.elementsEqual(UnsafeBufferPointer(start: base + start, count: e - start)) {
                    tag ^= 1
                }
            }
            tokens.append(CToken(kind: kind, tag: tag, start: start, end: e, line: l, newlineBefore: newline))
            newline = false
        }
        func error(_ message: String, _ start: Int, _ l: Int) {
            tokens.append(CToken(kind: .error, tag: UInt64(messages.count), start: start, end: start, line: l, newlineBefore: newline))
            messages.append(message)
        }
        func at(_ k: Int) -> UInt8 { k < n ? bytes[k] : 0 }
        /// Whether a `/` here starts a JavaScript regular expression rather than a division.
        func regexAllowed() -> Bool {
            guard let last = tokens.last else { return true }
            switch last.kind {
            case .ident:
                return regexKeywords.contains(last)
            case .number, .string, .char: return false
            case .op:
                let t = last.tag
                return !(t == CToken.tag(")") || t == CToken.tag("]") || t == CToken.tag("}") || t == CToken.tag("++") || t == CToken.tag("--"))
            default: return true
            }
        }
        while i < n {
            let c = bytes[i]
            if c == 0x0A { line += 1; newline = true; i += 1; continue }
            if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0C || c == 0x0B { i += 1; continue }
            let start = i, startLine = line
            // Comments.
            if c == UInt8(ascii: "/"), at(i + 1) == UInt8(ascii: "/") {
                while i < n, bytes[i] != 0x0A { i += 1 }
                continue
            }
            if c == UInt8(ascii: "/"), at(i + 1) == UInt8(ascii: "*") {
                i += 2
                var closed = false
                while i < n {
                    if bytes[i] == 0x0A { line += 1; newline = true }
                    if bytes[i] == UInt8(ascii: "*"), at(i + 1) == UInt8(ascii: "/") { i += 2; closed = true; break }
                    i += 1
                }
                if !closed { error("unterminated /* comment", start, startLine) }
                continue
            }
            // Preprocessor lines (C, C++): skipped whole, with backslash continuations. There is no
            // preprocessor, so of each `#if` group only one branch is read, as ctags does: the
            // first, or the next one after `#if 0`; reading both would join code meant as
            // alternatives (`#if X  = true; #else  = false; #endif`).
            if c == UInt8(ascii: "#"), isC, newline || tokens.isEmpty {
                let directive = directiveWord(bytes, i + 1)
                skipDirectiveLine(bytes, &i, &line)
                if !sawConditional, directive.tag == CToken.tag("if") || directive.tag == CToken.tag("ifdef") || directive.tag == CToken.tag("ifndef") {
                    sawConditional = true
                    if tokens.isEmpty, directive.tag == CToken.tag("ifdef"), !directive.argument.isEmpty {
                        guardName = CToken.tag(base + directive.argument.lowerBound, directive.argument.count)
                    }
                }
                switch directive.tag {
                case CToken.tag("define"):
                    let name = directive.argument
                    if !name.isEmpty { macros.insert(CToken.tag(base + name.lowerBound, name.count)) }
                case CToken.tag("if") where directive.argumentIsZero:
                    // `#if 0`: a comment; read the branch after it, if any.
                    skippedBraces = skipConditionalBranch(bytes, &i, &line, stopAtElse: true) || skippedBraces
                case CToken.tag("else"), CToken.tag("elif"), CToken.tag("elifdef"), CToken.tag("elifndef"):
                    // A branch was read already: the alternatives up to `#endif` are skipped.
                    skippedBraces = skipConditionalBranch(bytes, &i, &line, stopAtElse: false) || skippedBraces
                default:
                    break
                }
                newline = true
                continue
            }
            if c == UInt8(ascii: "#"), isJS, i == 0, at(i + 1) == UInt8(ascii: "!") {
                while i < n, bytes[i] != 0x0A { i += 1 }
                continue
            }
            if isIdentStart(c) {
                i += 1
                while i < n, isIdentPart(bytes[i]) { i += 1 }
                // C++ raw string R"delim(...)delim" and prefixed literals u8"..", L'..'.
                if isC, i < n, bytes[i] == UInt8(ascii: "\""), i - start <= 3 {
                    let prefix = CToken.tag(base + start, i - start)
                    if prefix == CToken.tag("R") || prefix == CToken.tag("u8R") || prefix == CToken.tag("LR") || prefix == CToken.tag("uR")
                        || prefix == CToken.tag("UR")
                    {
                        var j = i + 1
                        while j < n, bytes[j] != UInt8(ascii: "("), bytes[j] != 0x0A { j += 1 }
                        // The closing delimiter is `)` + the opening delimiter + `"`.
                        let delimiter = (i + 1)..<min(j, n)
                        j += 1
                        while j < n {
                            if bytes[j] == 0x0A { line += 1 }
                            // `at` is 0 past the end, so the quote test also keeps the comparison in bounds.
                            if bytes[j] == UInt8(ascii: ")"), at(j + delimiter.count + 1) == UInt8(ascii: "\""),
                                delimiter.indices.allSatisfy({ bytes[j + 1 + $0 - delimiter.lowerBound] == bytes[$0] })
                            {
                                j += delimiter.count + 2
                                break
                            }
                            j += 1
                        }
                        i = min(j, n)
                        emit(.string, start, i, startLine)
                        continue
                    }
                }
                if isC, i < n, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'"), i - start <= 2 {
                    let prefix = CToken.tag(base + start, i - start)
                    if prefix == CToken.tag("L") || prefix == CToken.tag("u") || prefix == CToken.tag("U") || prefix == CToken.tag("u8") {
                        let q = bytes[i]
                        i = skipQuoted(bytes, i, q, &line)
                        emit(q == UInt8(ascii: "'") ? .char : .string, start, i, startLine)
                        continue
                    }
                }
                emit(.ident, start, i, startLine)
                continue
            }
            if isDigit(c) || (c == UInt8(ascii: ".") && isDigit(at(i + 1))) {
                i += 1
                while i < n {
                    let d = bytes[i]
                    if isIdentPart(d) || d == UInt8(ascii: ".") {
                        i += 1
                    } else if d == UInt8(ascii: "+") || d == UInt8(ascii: "-"), isExponentSign(bytes, start, i) {
                        i += 1
                    } else if d == UInt8(ascii: "'"), dialect == .cpp, isIdentPart(at(i + 1)) {
                        i += 1  // digit separator 1'000'000
                    } else {
                        break
                    }
                }
                emit(.number, start, i, startLine)
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                if dialect == .java, c == UInt8(ascii: "\""), at(i + 1) == c, at(i + 2) == c {
                    // Java text block """ ... """.
                    var j = i + 3
                    var closed = false
                    while j < n {
                        if bytes[j] == 0x0A { line += 1 }
                        if bytes[j] == UInt8(ascii: "\\") { j += 2; continue }
                        if bytes[j] == c, at(j + 1) == c, at(j + 2) == c { j += 3; closed = true; break }
                        j += 1
                    }
                    i = min(j, n)
                    if closed { emit(.string, start, i, startLine) } else { error("unterminated text block", start, startLine) }
                    continue
                }
                let end = skipQuoted(bytes, i, c, &line)
                let closed = end <= n && end > i + 1 && bytes[end - 1] == c
                i = end
                if closed {
                    emit(c == UInt8(ascii: "'") && !isJS ? .char : .string, start, i, startLine)
                } else {
                    error("unterminated string", start, startLine)
                    newline = false
                }
                continue
            }
            if c == UInt8(ascii: "`"), isJS || isGo {
                // Go raw string, or a JavaScript template literal (its ${...} parts are skipped whole).
                var j = i + 1
                var depth = 0
                var closed = false
                while j < n {
                    let d = bytes[j]
                    if d == 0x0A { line += 1 }
                    if isJS {
                        if d == UInt8(ascii: "\\") { j += 2; continue }
                        if d == UInt8(ascii: "$"), at(j + 1) == UInt8(ascii: "{") { depth += 1; j += 2; continue }
                        if d == UInt8(ascii: "}"), depth > 0 { depth -= 1; j += 1; continue }
                    }
                    if d == UInt8(ascii: "`"), depth == 0 { j += 1; closed = true; break }
                    j += 1
                }
                i = min(j, n)
                if closed { emit(.string, start, i, startLine) } else { error("unterminated template or raw string", start, startLine) }
                continue
            }
            if c == UInt8(ascii: "/"), isJS, regexAllowed() {
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
            if c >= 0x80 {
                // Non-ASCII outside strings: identifiers in Java and JavaScript; skip the whole scalar.
                i += 1
                while i < n, bytes[i] & 0xC0 == 0x80 { i += 1 }
                while i < n, isIdentPart(bytes[i]) || bytes[i] >= 0x80 { i += 1 }
                emit(.ident, start, i, startLine)
                continue
            }
            // Operators: longest match; `>` always alone (see CToken).
            i += operatorLength(c, at(i + 1), at(i + 2), dialect)
            emit(.op, start, i, startLine)
        }
        tokens.append(CToken(kind: .end, tag: 0, start: n, end: n, line: line, newlineBefore: true))
    }

    /// The directive word after a `#` at `from` (`define`, `if`, ...), its tag, and its first
    /// argument word's byte range; `argumentIsZero` for `#if 0`.
    private static func directiveWord(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int) -> (tag: UInt64, argument: Range<Int>, argumentIsZero: Bool) {
        let n = bytes.count
        var j = from
        while j < n, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
        let w = j
        while j < n, isIdentPart(bytes[j]) { j += 1 }
        guard let base = bytes.baseAddress, j > w else { return (0, 0..<0, false) }
        let tag = CToken.tag(base + w, j - w)
        while j < n, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
        let a = j
        while j < n, isIdentPart(bytes[j]) { j += 1 }
        var k = j
        while k < n, bytes[k] == 0x20 || bytes[k] == 0x09 || bytes[k] == 0x0D { k += 1 }
        let zero = j == a + 1 && bytes[a] == UInt8(ascii: "0") && (k >= n || bytes[k] == 0x0A || bytes[k] == UInt8(ascii: "/"))
        return (tag, a..<j, zero)
    }

    /// Moves `i` to the newline ending the directive line at `i`, over backslash continuations
    /// and comments that span lines.
    private static func skipDirectiveLine(_ bytes: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ line: inout Int) {
        let n = bytes.count
        while i < n, bytes[i] != 0x0A {
            if bytes[i] == UInt8(ascii: "\\"), i + 1 < n, bytes[i + 1] == 0x0A { line += 1; i += 2; continue }
            if bytes[i] == UInt8(ascii: "\\"), i + 2 < n, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A { line += 1; i += 3; continue }
            if bytes[i] == UInt8(ascii: "/"), i + 1 < n, bytes[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i < n, !(bytes[i] == UInt8(ascii: "*") && i + 1 < n && bytes[i + 1] == UInt8(ascii: "/")) {
                    if bytes[i] == 0x0A { line += 1 }
                    i += 1
                }
                i = min(i + 2, n)
                continue
            }
            i += 1
        }
    }

    /// Skips lines up to and including the `#endif` closing the current conditional group (nested
    /// groups inside are skipped whole), or with `stopAtElse` up to and including an `#else` or
    /// `#elif` of this group, whose branch is then read. `i` is at the newline ending the
    /// directive that started the skip; it is left at the newline ending the last line skipped.
    /// Returns whether a skipped line had a brace.
    private static func skipConditionalBranch(_ bytes: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ line: inout Int, stopAtElse: Bool) -> Bool {
        let n = bytes.count
        var depth = 0
        var braces = false
        while i < n {
            // At a newline: go to the next line's first non-blank byte.
            if bytes[i] == 0x0A { line += 1 }
            i += 1
            while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 }
            guard i < n else { return braces }
            guard bytes[i] == UInt8(ascii: "#") else {
                while i < n, bytes[i] != 0x0A {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < n, bytes[i + 1] == 0x0A { line += 1; i += 1 }
                    if bytes[i] == UInt8(ascii: "{") || bytes[i] == UInt8(ascii: "}") { braces = true }
                    i += 1
                }
                continue
            }
            let directive = directiveWord(bytes, i + 1).tag
            skipDirectiveLine(bytes, &i, &line)
            switch directive {
            case CToken.tag("if"), CToken.tag("ifdef"), CToken.tag("ifndef"): depth += 1
            case CToken.tag("endif"):
                if depth == 0 { return braces }
                depth -= 1
            case CToken.tag("else"), CToken.tag("elif"), CToken.tag("elifdef"), CToken.tag("elifndef"):
                if depth == 0, stopAtElse { return braces }
            default: break
            }
        }
        return braces
    }

    /// Words after which a `/` starts a regular expression in JavaScript.
    private static let regexKeywords = TagTable(words: ["return", "typeof", "case", "in", "of", "new", "delete", "void", "throw", "else", "do"])

    /// Length of the operator starting with `c` (then `d`, `e`): the longest that exists in the
    /// dialect (`a<-1` is `a < -1` outside Go; `=>`, `===`, `**`, `??`, `?.` are JavaScript's).
    @inline(__always)
    private static func operatorLength(_ c: UInt8, _ d: UInt8, _ e: UInt8, _ dialect: CFamily) -> Int {
        let js = dialect == .javascript, go = dialect == .go
        switch c {
        case UInt8(ascii: "<"):
            if d == UInt8(ascii: "<") { return e == UInt8(ascii: "=") ? 3 : 2 }
            if d == UInt8(ascii: "=") || (d == UInt8(ascii: "-") && go) { return 2 }
        case UInt8(ascii: "."):
            if d == UInt8(ascii: "."), e == UInt8(ascii: ".") { return 3 }
        case UInt8(ascii: "-"):
            if d == UInt8(ascii: ">") { return e == UInt8(ascii: "*") && dialect == .cpp ? 3 : 2 }
            if d == UInt8(ascii: "-") || d == UInt8(ascii: "=") { return 2 }
        case UInt8(ascii: "="):
            if d == UInt8(ascii: "=") { return js && e == UInt8(ascii: "=") ? 3 : 2 }
            if d == UInt8(ascii: ">"), js { return 2 }
        case UInt8(ascii: "!"):
            if d == UInt8(ascii: "=") { return js && e == UInt8(ascii: "=") ? 3 : 2 }
        case UInt8(ascii: "&"):
            if d == UInt8(ascii: "^"), go { return e == UInt8(ascii: "=") ? 3 : 2 }
            if d == UInt8(ascii: "&") { return js && e == UInt8(ascii: "=") ? 3 : 2 }
            if d == UInt8(ascii: "=") { return 2 }
        case UInt8(ascii: "|"):
            if d == UInt8(ascii: "|") { return js && e == UInt8(ascii: "=") ? 3 : 2 }
            if d == UInt8(ascii: "=") { return 2 }
        case UInt8(ascii: "*"):
            if d == UInt8(ascii: "*"), js { return e == UInt8(ascii: "=") ? 3 : 2 }
            if d == UInt8(ascii: "=") { return 2 }
        case UInt8(ascii: "?"):
            if js, d == UInt8(ascii: "?") { return e == UInt8(ascii: "=") ? 3 : 2 }
            if js, d == UInt8(ascii: ".") { return 2 }
        case UInt8(ascii: ":"):
            if d == UInt8(ascii: ":"), dialect == .java || dialect == .cpp { return 2 }
            if d == UInt8(ascii: "="), go { return 2 }
        case UInt8(ascii: "+"):
            if d == UInt8(ascii: "+") || d == UInt8(ascii: "=") { return 2 }
        case UInt8(ascii: "/"), UInt8(ascii: "%"), UInt8(ascii: "^"):
            if d == UInt8(ascii: "=") { return 2 }
        default:
            break
        }
        return 1
    }

    /// The index after a quoted literal starting at `i` (or at the line's end for an unclosed one).
    private static func skipQuoted(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ q: UInt8, _ line: inout Int) -> Int {
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
    private static func isExponentSign(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ i: Int) -> Bool {
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
