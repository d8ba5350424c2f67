/// A syntax problem found while parsing, with its 1-based line.
public struct SyntaxIssue: Codable, Equatable, Sendable {
    public var line: Int
    public var message: String

    /// Creates an issue at `line`.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}

private struct ParseError: Error {
    var line: Int
    var message: String
}

/// Top-level statements parsed earlier, by the exact source lines they span and their first line.
struct ParseCache {
    struct Entry {
        var bytes: [UInt8]
        var line: Int
        var statements: [Stmt]
    }

    /// Entries by a hash of their bytes and line; a hit is confirmed by comparing the bytes, so a
    /// collision costs a re-parse, never a wrong tree. (Hashing the chunk as a String was slower
    /// than parsing it.)
    private var entries: [UInt64: Entry] = [:]

    /// The statements cached for exactly these bytes starting on `line`.
    func statements(for bytes: UnsafeBufferPointer<UInt8>, line: Int, hash: UInt64) -> [Stmt]? {
        guard let entry = entries[hash], entry.line == line, entry.bytes.count == bytes.count else { return nil }
        let same = entry.bytes.withUnsafeBufferPointer { Self.equal($0, bytes) }
        return same ? entry.statements : nil
    }

    /// Byte-for-byte equality of two buffers of the same length, eight bytes at a time.
    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        if let pa = UnsafeRawPointer(a.baseAddress), let pb = UnsafeRawPointer(b.baseAddress) {
            while i + 8 <= a.count {
                if pa.loadUnaligned(fromByteOffset: i, as: UInt64.self) != pb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                    return false
                }
                i += 8
            }
        }
        while i < a.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    mutating func store(_ statements: [Stmt], bytes: UnsafeBufferPointer<UInt8>, line: Int, hash: UInt64) {
        entries[hash] = Entry(bytes: Array(bytes), line: line, statements: statements)
    }

    mutating func keep(_ entry: Entry, hash: UInt64) { entries[hash] = entry }

    func entry(_ hash: UInt64) -> Entry? { entries[hash] }

    /// A 64-bit hash of `bytes` and `line`, eight bytes at a time.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: line) ^ (UInt64(bytes.count) << 32)
        var i = 0
        if let base = UnsafeRawPointer(bytes.baseAddress) {
            while i + 8 <= bytes.count {
                h = (h ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 32
                i += 8
            }
        }
        while i < bytes.count {
            h = (h ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3
            i += 1
        }
        return h ^ (h >> 29)
    }
}

/// Recursive-descent parser for Python 3.12 producing `Module`.
///
/// Error recovery works per statement: a statement that fails becomes a `.error` node, the parser
/// skips to the end of its logical line (and any block indented under it) and carries on.
struct Parser {
    private var tokens: [Token]
    private var i = 0
    private var issues: [SyntaxIssue] = []
    /// Line of the last consumed token, used for statement end lines.
    private var lastLine = 1
    /// True while parsing a match-case pattern, where `as` binds inside the pattern.
    private var inPattern = false
    /// Current recursion depth (brackets, unary operators, nested blocks); bounded so that
    /// pathological input is a syntax error instead of a stack overflow.
    private var nesting = 0
    private static let maxNesting = 150
    /// Names of the functions being parsed, innermost last, and whether each body calls its own name.
    private var functionNames: [String] = []
    private var callsOwnName: [Bool] = []
    private static let maxChain = 2_000

    private mutating func enter() throws {
        nesting += 1
        if nesting > Self.maxNesting {
            nesting -= 1
            throw ParseError(line: tok.line, message: "too deeply nested (more than \(Self.maxNesting) levels)")
        }
    }

    /// The source's UTF-8 (borrowed while parsing): names, numbers and strings are read from it.
    private let source: UnsafeBufferPointer<UInt8>
    private let messages: [String]

    private init(tokens: [Token], messages: [String], source: UnsafeBufferPointer<UInt8>) {
        self.tokens = tokens
        self.messages = messages
        self.source = source
    }

    /// Parses `source` into a module, never failing: errors become `.error` statements and issues.
    static func parse(_ source: String) -> Module {
        var text = source
        return text.withUTF8 { bytes in
            let (tokens, messages) = Tokenizer.tokenize(bytes)
            var parser = Parser(tokens: tokens, messages: messages, source: bytes)
            let body = parser.parseFile()
            return Module(body: body, issues: parser.issues)
        }
    }

    /// Parses `source` like `parse`, reusing the statements of `cache` for top-level statements whose
    /// source lines (text and first line number) are unchanged; returns the cache for the next call.
    static func parse(_ source: String, reusing cache: ParseCache) -> (Module, ParseCache) {
        var text = source
        return text.withUTF8 { bytes in
            let (tokens, messages, lineStarts) = Tokenizer.tokenize(bytes, recordingLines: true)
            var parser = Parser(tokens: tokens, messages: messages, source: bytes)
            var next = ParseCache()
            let body = parser.parseFile(reusing: cache, into: &next, lineStarts: lineStarts)
            return (Module(body: body, issues: parser.issues), next)
        }
    }

    /// A token's text: a name, number or string literal as written, an operator or keyword, or an
    /// error token's message.
    private func text(of t: Token) -> String {
        switch t.kind {
        case .op, .keyword: return Token.spell(t.tag)
        case .error: return messages[t.start]
        default: return String(decoding: UnsafeBufferPointer(rebasing: source[t.start..<t.end]), as: UTF8.self)
        }
    }

    /// True when `t` is the name `word` (compared on bytes, no String built).
    private func isName(_ t: Token, _ word: StaticString) -> Bool {
        guard t.kind == .name, t.end - t.start == word.utf8CodeUnitCount else { return false }
        let p = word.utf8Start
        for k in 0..<word.utf8CodeUnitCount where source[t.start + k] != p[k] { return false }
        return true
    }

    // MARK: - Token helpers

    private var tok: Token { tokens[i] }

    private func peekToken(_ n: Int = 1) -> Token {
        let j = i + n
        return j < tokens.count ? tokens[j] : tokens[tokens.count - 1]
    }

    // Operators and keywords are given as literals: inlined, `Token.tag` folds each to a constant.
    @inline(__always)
    private func isOp(_ s: StaticString) -> Bool { tokens[i].kind == .op && tokens[i].tag == Token.tag(s) }
    @inline(__always)
    private func isKeyword(_ s: StaticString) -> Bool { tokens[i].kind == .keyword && tokens[i].tag == Token.tag(s) }
    private func isName(_ word: StaticString) -> Bool { isName(tokens[i], word) }

    /// True when the token `n` ahead is the operator `s`.
    @inline(__always)
    private func peekIsOp(_ s: StaticString, _ n: Int = 1) -> Bool {
        let t = peekToken(n)
        return t.kind == .op && t.tag == Token.tag(s)
    }

    /// Moves past the current token (never past the end marker).
    private mutating func advance() {
        let kind = tokens[i].kind
        if kind != .newline, kind != .indent, kind != .dedent { lastLine = tokens[i].line }
        if kind != .end { i += 1 }
    }

    /// The current token's text (name, number, string literal; spelled for operators), then `advance()`.
    private mutating func advanceText() -> String {
        let text = text(of: tokens[i])
        advance()
        return text
    }

    @inline(__always)
    private mutating func accept(op s: StaticString) -> Bool {
        if isOp(s) { advance(); return true }
        return false
    }

    @inline(__always)
    private mutating func accept(keyword s: StaticString) -> Bool {
        if isKeyword(s) { advance(); return true }
        return false
    }

    private func error(_ message: String) -> ParseError {
        if tok.kind == .error { return ParseError(line: tok.line, message: text(of: tok)) }
        let found: String
        switch tok.kind {
        case .newline: found = "end of line"
        case .end: found = "end of file"
        case .indent: found = "unexpected indent"
        case .dedent: found = "unexpected dedent"
        default: found = "'\(text(of: tok))'"
        }
        return ParseError(line: tok.line, message: "\(message), found \(found)")
    }

    @inline(__always)
    private mutating func expect(op s: StaticString) throws {
        if !accept(op: s) { throw error("expected '\(s)'") }
    }

    @inline(__always)
    private mutating func expect(keyword s: StaticString) throws {
        if !accept(keyword: s) { throw error("expected '\(s)'") }
    }

    private mutating func expectName() throws -> String {
        // Soft keywords (match, case, type, _) are ordinary names here.
        if tok.kind == .name { return advanceText() }
        throw error("expected a name")
    }

    // MARK: - Statements

    private mutating func parseFile() -> [Stmt] {
        var body: [Stmt] = []
        while tok.kind != .end { parseFileStep(into: &body) }
        return body
    }

    /// One step of the top-level loop: a blank NEWLINE, a stray INDENT or DEDENT, or one statement.
    private mutating func parseFileStep(into body: inout [Stmt]) {
        if tok.kind == .newline { advance(); return }
        if tok.kind == .indent || tok.kind == .dedent {
            let line = tok.line
            if tok.kind == .indent {
                issues.append(SyntaxIssue(line: line, message: "unexpected indent"))
                body.append(Stmt(kind: .error("unexpected indent"), line: line, endLine: line))
                skipBlock()
            } else {
                advance()
            }
            return
        }
        parseStatementRecovering(into: &body)
    }

    /// `parseFile`, taking the statements of an unchanged top-level chunk from `old` instead of
    /// parsing them. A chunk runs from one top-level statement start to the next (see
    /// `chunkStarts`); it is reused only when its exact lines and first line number match, and
    /// cached only when it parsed without errors and ended exactly where the next chunk starts, so
    /// the result is the one `parseFile` gives.
    private mutating func parseFile(reusing old: ParseCache, into new: inout ParseCache, lineStarts: [Int]) -> [Stmt] {
        guard let starts = chunkStarts(), lineStarts.count >= (tokens.last?.line ?? 1) else { return parseFile() }
        var body: [Stmt] = []
        var next = 0
        while tok.kind != .end {
            while next < starts.count, starts[next] < i { next += 1 }
            guard next < starts.count, starts[next] == i else {
                parseFileStep(into: &body)
                continue
            }
            let end = next + 1 < starts.count ? starts[next + 1] : tokens.count - 1
            let firstLine = tokens[i].line
            let endByte = end < tokens.count - 1 ? lineStarts[tokens[end].line - 1] : source.count
            let bytes = UnsafeBufferPointer(rebasing: source[lineStarts[firstLine - 1]..<endByte])
            let hash = ParseCache.hash(bytes, line: firstLine)
            if let statements = old.statements(for: bytes, line: firstLine, hash: hash), let entry = old.entry(hash) {
                body.append(contentsOf: statements)
                new.keep(entry, hash: hash)
                i = end
                continue
            }
            let issueCount = issues.count, bodyCount = body.count
            while i < end, tok.kind != .end { parseFileStep(into: &body) }
            if issues.count == issueCount, i == end {
                new.store(Array(body[bodyCount...]), bytes: bytes, line: firstLine, hash: hash)
            }
        }
        return body
    }

    /// Token indices where a top-level statement starts a new chunk: the first token of a line at
    /// indentation depth 0, except `else`/`elif`/`except`/`finally` (which continue a statement) and
    /// a line after a decorator. Nil when the tokenizer reported an error (its recovery can leave
    /// state that crosses lines), so such a file is parsed whole.
    private func chunkStarts() -> [Int]? {
        var starts: [Int] = []
        var depth = 0
        var atLineStart = true
        var afterDecorator = false
        for (index, t) in tokens.enumerated() {
            switch t.kind {
            case .error:
                return nil
            case .newline:
                atLineStart = true
            case .indent:
                depth += 1
            case .dedent:
                depth -= 1
                if depth < 0 { return nil }
            case .end:
                break
            default:
                if atLineStart, depth == 0 {
                    let continues = t.kind == .keyword
                        && (t.tag == Token.tag("else") || t.tag == Token.tag("elif") || t.tag == Token.tag("except")
                            || t.tag == Token.tag("finally"))
                    if !continues, !afterDecorator { starts.append(index) }
                    afterDecorator = t.kind == .op && t.tag == Token.tag("@")
                }
                atLineStart = false
            }
        }
        return starts
    }

    /// Skips an INDENT ... DEDENT block, including nested ones.
    private mutating func skipBlock() {
        var depth = 0
        repeat {
            if tok.kind == .indent { depth += 1 }
            if tok.kind == .dedent { depth -= 1 }
            if tok.kind == .end { return }
            advance()
        } while depth > 0
    }

    /// Parses one statement into `body`; on a syntax error, `body` gets one `.error` statement instead.
    private mutating func parseStatementRecovering(into body: inout [Stmt]) {
        let start = i
        let line = tok.line
        let count = body.count
        do {
            try parseStatement(into: &body)
        } catch let e as ParseError {
            body.removeSubrange(count...)
            issues.append(SyntaxIssue(line: e.line, message: e.message))
            // Resume after this logical line and anything indented under it.
            if i == start, tok.kind != .end, tok.kind != .newline { advance() }
            while tok.kind != .newline, tok.kind != .end, tok.kind != .dedent {
                if tok.kind == .indent { break }
                advance()
            }
            if tok.kind == .newline { advance() }
            if tok.kind == .indent { skipBlock() }
            body.append(Stmt(kind: .error(e.message), line: line, endLine: max(line, lastLine)))
        } catch {
            body.removeSubrange(count...)
        }
    }

    /// Parses one statement (or one line of `;`-separated simple statements) and appends it to `body`.
    private mutating func parseStatement(into body: inout [Stmt]) throws {
        let t = tok
        if t.kind == .error { throw ParseError(line: t.line, message: text(of: t)) }
        if t.kind == .keyword {
            switch t.tag {
            case Token.tag("def"): body.append(try parseFunction(decorators: [], isAsync: false, line: t.line)); return
            case Token.tag("class"): body.append(try parseClass(decorators: [])); return
            case Token.tag("if"): body.append(try parseIf()); return
            case Token.tag("while"): body.append(try parseWhile()); return
            case Token.tag("for"): body.append(try parseFor(isAsync: false, line: t.line)); return
            case Token.tag("try"): body.append(try parseTry()); return
            case Token.tag("with"): body.append(try parseWith(isAsync: false, line: t.line)); return
            case Token.tag("async"):
                advance()
                if isKeyword("def") { body.append(try parseFunction(decorators: [], isAsync: true, line: tok.line)); return }
                if isKeyword("for") { body.append(try parseFor(isAsync: true, line: t.line)); return }
                if isKeyword("with") { body.append(try parseWith(isAsync: true, line: t.line)); return }
                throw error("expected 'def', 'for' or 'with' after 'async'")
            default: break
            }
        }
        if isOp("@") { body.append(try parseDecorated()); return }
        if isName(t, "match"), let m = try tryParseMatch() { body.append(m); return }
        try parseSimpleStatements(into: &body)
    }

    private mutating func parseSimpleStatements(into result: inout [Stmt]) throws {
        while true {
            let line = tok.line
            let kind = try parseSmallStatement()
            result.append(Stmt(kind: kind, line: line, endLine: lastLine))
            if accept(op: ";") {
                if tok.kind == .newline || tok.kind == .end { break }
                continue
            }
            break
        }
        if tok.kind == .newline {
            advance()
        } else if tok.kind != .end {
            throw error("expected end of statement")
        }
    }

    private mutating func parseSmallStatement() throws -> StmtKind {
        let t = tok
        if t.kind == .keyword {
            switch t.tag {
            case Token.tag("pass"): advance(); return .pass
            case Token.tag("break"): advance(); return .breakStmt
            case Token.tag("continue"): advance(); return .continueStmt
            case Token.tag("return"):
                advance()
                if atStatementEnd { return .returnStmt(nil) }
                return .returnStmt(try parseStarExpressions())
            case Token.tag("raise"):
                advance()
                if atStatementEnd { return .raise(nil, cause: nil) }
                let e = try parseExpression()
                let cause = accept(keyword: "from") ? try parseExpression() : nil
                return .raise(e, cause: cause)
            case Token.tag("global"), Token.tag("nonlocal"):
                advance()
                var names = [try expectName()]
                while accept(op: ",") { names.append(try expectName()) }
                return t.tag == Token.tag("global") ? .global(names) : .nonlocal(names)
            case Token.tag("del"):
                advance()
                var targets = [try parseBitOr()]
                while accept(op: ",") {
                    if atStatementEnd { break }
                    targets.append(try parseBitOr())
                }
                return .delete(targets)
            case Token.tag("assert"):
                advance()
                let test = try parseExpression()
                let msg = accept(op: ",") ? try parseExpression() : nil
                return .assert(test, msg)
            case Token.tag("import"):
                advance()
                var names: [(name: String, alias: String?)] = []
                repeat {
                    let name = try parseDottedName()
                    let alias = accept(keyword: "as") ? try expectName() : nil
                    names.append((name, alias))
                } while accept(op: ",")
                return .importModules(names)
            case Token.tag("from"):
                return try parseImportFrom()
            default:
                break
            }
        }
        if isName(t, "type"), peekToken().kind == .name, peekIsOp("=", 2) || peekIsOp("[", 2)
        {
            return try parseTypeAlias()
        }
        return try parseExpressionStatement()
    }

    private var atStatementEnd: Bool {
        tok.kind == .newline || tok.kind == .end || isOp(";")
    }

    private mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while accept(op: ".") { name += "." + (try expectName()) }
        return name
    }

    private mutating func parseImportFrom() throws -> StmtKind {
        try expect(keyword: "from")
        var module = ""
        while isOp(".") || isOp("...") { module += advanceText() }
        if tok.kind == .name { module += try parseDottedName() }
        if module.isEmpty { throw error("expected a module name") }
        try expect(keyword: "import")
        var names: [(name: String, alias: String?)] = []
        if accept(op: "*") { return .importFrom(module: module, [("*", nil)]) }
        let parenthesised = accept(op: "(")
        repeat {
            if parenthesised, isOp(")") { break }
            let name = try expectName()
            let alias = accept(keyword: "as") ? try expectName() : nil
            names.append((name, alias))
        } while accept(op: ",")
        if parenthesised { try expect(op: ")") }
        if names.isEmpty { throw error("expected a name to import") }
        return .importFrom(module: module, names)
    }

    private mutating func parseTypeAlias() throws -> StmtKind {
        advance()  // type
        let name = try expectName()
        if isOp("[") { try parseTypeParams() }
        try expect(op: "=")
        return .typeAlias(name: name, value: try parseExpression())
    }

    /// Parses a PEP 695 type parameter list `[T: bound, *Ts, **P]` (checked, then dropped).
    private mutating func parseTypeParams() throws {
        try expect(op: "[")
        repeat {
            if isOp("]") { break }
            if accept(op: "*") || accept(op: "**") {
                _ = try expectName()
            } else {
                _ = try expectName()
                if accept(op: ":") { _ = try parseExpression() }
            }
            if accept(op: "=") { _ = try parseExpression() }
        } while accept(op: ",")
        try expect(op: "]")
    }

    /// True when the current token is an augmented assignment operator (`+=`, `//=`, ...).
    private var atAugmentedOp: Bool {
        guard tokens[i].kind == .op else { return false }
        switch tokens[i].tag {
        case Token.tag("+="), Token.tag("-="), Token.tag("*="), Token.tag("/="), Token.tag("//="), Token.tag("%="),
            Token.tag("**="), Token.tag(">>="), Token.tag("<<="), Token.tag("&="), Token.tag("|="), Token.tag("^="),
            Token.tag("@="):
            return true
        default:
            return false
        }
    }

    private mutating func parseExpressionStatement() throws -> StmtKind {
        let first = try parseStarExpressions(allowStar: true)
        if tok.kind == .op {
            if atAugmentedOp {
                let op = advanceText()
                let value = isKeyword("yield") ? try parseYield() : try parseStarExpressions()
                return .augAssign(first, String(op.dropLast()), value)
            }
            if isOp(":") {
                advance()
                let annotation = try parseExpression()
                var value: Expr?
                if accept(op: "=") { value = isKeyword("yield") ? try parseYield() : try parseStarExpressions() }
                return .annAssign(first, annotation: annotation, value: value)
            }
            if isOp("=") {
                var targets = [first]
                var value = first
                while accept(op: "=") {
                    value = isKeyword("yield") ? try parseYield() : try parseStarExpressions(allowStar: true)
                    targets.append(value)
                }
                targets.removeLast()
                return .assign(targets: targets, value: value)
            }
        }
        return .expr(first)
    }

    /// Parses a block after ':': an indented suite or simple statements on the same line.
    private mutating func parseBlock() throws -> [Stmt] {
        try expect(op: ":")
        if tok.kind != .newline {
            var body: [Stmt] = []
            try parseSimpleStatements(into: &body)
            return body
        }
        advance()
        guard tok.kind == .indent else { throw error("expected an indented block") }
        try enter()
        defer { nesting -= 1 }
        advance()
        var body: [Stmt] = []
        // Blocks rarely hold a single statement; starting at four saves the first regrowths.
        body.reserveCapacity(4)
        while tok.kind != .dedent, tok.kind != .end {
            if tok.kind == .newline { advance(); continue }
            if tok.kind == .indent {
                let line = tok.line
                issues.append(SyntaxIssue(line: line, message: "unexpected indent"))
                body.append(Stmt(kind: .error("unexpected indent"), line: line, endLine: line))
                skipBlock()
                continue
            }
            parseStatementRecovering(into: &body)
        }
        if tok.kind == .dedent { advance() }
        return body
    }

    private mutating func parseDecorated() throws -> Stmt {
        var decorators: [Expr] = []
        while accept(op: "@") {
            decorators.append(try parseNamedExpression())
            if tok.kind != .newline { throw error("expected end of line after decorator") }
            advance()
        }
        if isKeyword("def") { return try parseFunction(decorators: decorators, isAsync: false, line: tok.line) }
        if isKeyword("async") {
            advance()
            if isKeyword("def") { return try parseFunction(decorators: decorators, isAsync: true, line: tok.line) }
        }
        if isKeyword("class") { return try parseClass(decorators: decorators) }
        throw error("expected 'def' or 'class' after decorator")
    }

    private mutating func parseFunction(decorators: [Expr], isAsync: Bool, line: Int) throws -> Stmt {
        try expect(keyword: "def")
        let defLine = lastLine
        let name = try expectName()
        if isOp("[") { try parseTypeParams() }
        try expect(op: "(")
        let params = try parseParameters(closing: Token.tag(")"), annotations: true)
        try expect(op: ")")
        let returns = accept(op: "->") ? try parseExpression() : nil
        functionNames.append(name)
        callsOwnName.append(false)
        defer {
            functionNames.removeLast()
            callsOwnName.removeLast()
        }
        let body = try parseBlock()
        let def = FunctionDef(
            name: name, parameters: params, body: body, decorators: decorators, returns: returns, isAsync: isAsync,
            mayCallItself: callsOwnName[callsOwnName.count - 1])
        return Stmt(kind: .function(def), line: defLine, endLine: max(defLine, body.last?.endLine ?? lastLine))
    }

    /// Parameters of a def (`closing` = ")") or a lambda (`closing` = ":").
    private mutating func parseParameters(closing: UInt64, annotations: Bool) throws -> Parameters {
        var params = Parameters()
        var kind = Parameter.Kind.positional
        while !(tok.kind == .op && tok.tag == closing) {
            if accept(op: "/") {
                // Positional-only marker.
            } else if accept(op: "**") {
                let name = try expectName()
                let ann = annotations && accept(op: ":") ? try parseExpression() : nil
                params.list.append(Parameter(name: name, kind: .keywordVariadic, defaultValue: nil, annotation: ann))
            } else if accept(op: "*") {
                kind = .keywordOnly
                if tok.kind == .name {
                    let name = advanceText()
                    var ann: Expr?
                    if annotations, accept(op: ":") {
                        ann = accept(op: "*") ? .starred(try parseExpression()) : try parseExpression()
                    }
                    params.list.append(Parameter(name: name, kind: .variadic, defaultValue: nil, annotation: ann))
                }
            } else {
                let name = try expectName()
                let ann = annotations && accept(op: ":") ? try parseExpression() : nil
                let def = accept(op: "=") ? try parseExpression() : nil
                params.list.append(Parameter(name: name, kind: kind, defaultValue: def, annotation: ann))
            }
            if !accept(op: ",") { break }
        }
        return params
    }

    private mutating func parseClass(decorators: [Expr]) throws -> Stmt {
        try expect(keyword: "class")
        let line = lastLine
        let name = try expectName()
        if isOp("[") { try parseTypeParams() }
        var bases: [Argument] = []
        if accept(op: "(") {
            bases = try parseArguments()
            try expect(op: ")")
        }
        let body = try parseBlock()
        return Stmt(
            kind: .classDef(ClassDef(name: name, bases: bases, body: body, decorators: decorators)),
            line: line, endLine: max(line, body.last?.endLine ?? lastLine))
    }

    private mutating func parseIf() throws -> Stmt {
        let line = tok.line
        advance()  // if / elif
        let test = try parseNamedExpression()
        let body = try parseBlock()
        var orElse: [Stmt] = []
        if isKeyword("elif") {
            orElse = [try parseIf()]
        } else if accept(keyword: "else") {
            orElse = try parseBlock()
        }
        return Stmt(kind: .ifStmt(test, body: body, orElse: orElse), line: line, endLine: lastLine)
    }

    private mutating func parseWhile() throws -> Stmt {
        let line = tok.line
        advance()
        let test = try parseNamedExpression()
        let body = try parseBlock()
        let orElse = accept(keyword: "else") ? try parseBlock() : []
        return Stmt(kind: .whileStmt(test, body: body, orElse: orElse), line: line, endLine: lastLine)
    }

    private mutating func parseFor(isAsync: Bool, line: Int) throws -> Stmt {
        try expect(keyword: "for")
        let target = try parseTargetList()
        try expect(keyword: "in")
        let iterable = try parseStarExpressions(allowStar: true)
        let body = try parseBlock()
        let orElse = accept(keyword: "else") ? try parseBlock() : []
        return Stmt(
            kind: .forStmt(target: target, iterable: iterable, body: body, orElse: orElse, isAsync: isAsync),
            line: line, endLine: lastLine)
    }

    /// A for-loop or comprehension target: expressions above comparison level, so `in` ends it.
    private mutating func parseTargetList() throws -> Expr {
        if isKeyword("in") { throw error("expected a loop target") }
        let first = try parseTargetItem()
        // A single target (the common case) needs no array.
        if !accept(op: ",") { return first }
        var items = Self.list(first)
        var trailingComma = true
        while !isKeyword("in") {
            items.append(try parseTargetItem())
            trailingComma = isOp(",")
            if !accept(op: ",") { break }
        }
        return items.count == 1 && !trailingComma ? items[0] : .tuple(items)
    }

    private mutating func parseTargetItem() throws -> Expr {
        if accept(op: "*") { return .starred(try parseBitOr()) }
        return try parseBitOr()
    }

    private mutating func parseTry() throws -> Stmt {
        let line = tok.line
        advance()
        let body = try parseBlock()
        var handlers: [ExceptHandler] = []
        while isKeyword("except") {
            let hLine = tok.line
            advance()
            _ = accept(op: "*")
            var type: Expr?
            var name: String?
            if !isOp(":") {
                type = try parseExpression()
                if accept(op: ",") {
                    // Parenthesis-free tuple of exception types (Python 3.14 form).
                    var items = [type ?? .constant("None")]
                    repeat { items.append(try parseExpression()) } while accept(op: ",")
                    type = .tuple(items)
                }
                if accept(keyword: "as") { name = try expectName() }
            }
            handlers.append(ExceptHandler(type: type, name: name, body: try parseBlock(), line: hLine))
        }
        let orElse = accept(keyword: "else") ? try parseBlock() : []
        let final = accept(keyword: "finally") ? try parseBlock() : []
        if handlers.isEmpty, final.isEmpty { throw error("expected 'except' or 'finally' block") }
        return Stmt(
            kind: .tryStmt(body: body, handlers: handlers, orElse: orElse, finally: final),
            line: line, endLine: lastLine)
    }

    private mutating func parseWith(isAsync: Bool, line: Int) throws -> Stmt {
        try expect(keyword: "with")
        var items: [(Expr, Expr?)] = []
        if isOp("(") {
            // Parenthesised context managers (3.9+); fall back to a parenthesised expression.
            let save = i, saveLine = lastLine
            if let parsed = try? parseParenthesisedWithItems() {
                items = parsed
            } else {
                i = save
                lastLine = saveLine
            }
        }
        if items.isEmpty {
            repeat {
                let e = try parseExpression()
                let target = accept(keyword: "as") ? try parseTarget() : nil
                items.append((e, target))
            } while accept(op: ",")
        }
        let body = try parseBlock()
        return Stmt(kind: .with(items: items, body: body, isAsync: isAsync), line: line, endLine: lastLine)
    }

    private mutating func parseParenthesisedWithItems() throws -> [(Expr, Expr?)] {
        try expect(op: "(")
        var items: [(Expr, Expr?)] = []
        repeat {
            if isOp(")") { break }
            let e = try parseExpression()
            let target = accept(keyword: "as") ? try parseTarget() : nil
            items.append((e, target))
        } while accept(op: ",")
        try expect(op: ")")
        if !isOp(":") { throw error("expected ':'") }
        return items
    }

    private mutating func parseTarget() throws -> Expr {
        if accept(op: "*") { return .starred(try parseBitOr()) }
        return try parseBitOr()
    }

    /// `match` is a soft keyword: try the statement form, and back off to an expression if it fails.
    private mutating func tryParseMatch() throws -> Stmt? {
        let next = peekToken()
        if next.kind == .newline || next.kind == .end { return nil }
        if next.kind == .op {
            switch next.tag {
            case Token.tag("="), Token.tag("."), Token.tag(","), Token.tag(")"), Token.tag("]"), Token.tag("}"),
                Token.tag(":"), Token.tag("+="), Token.tag("-="), Token.tag("*="), Token.tag("/="), Token.tag("=="),
                Token.tag("!="):
                return nil
            default:
                break
            }
        }
        let save = i, saveLine = lastLine, saveIssues = issues.count
        let line = tok.line
        advance()
        let subject: Expr
        do {
            subject = try parseStarExpressions(allowStar: true, named: true)
            guard isOp(":"), peekToken().kind == .newline else { throw error("not a match statement") }
        } catch {
            i = save
            lastLine = saveLine
            issues.removeSubrange(saveIssues...)
            return nil
        }
        advance()  // :
        advance()  // NEWLINE
        guard tok.kind == .indent else { throw error("expected an indented block of 'case' clauses") }
        advance()
        var cases: [MatchCase] = []
        while tok.kind != .dedent, tok.kind != .end {
            if tok.kind == .newline { advance(); continue }
            guard isName("case") else { throw error("expected 'case'") }
            advance()
            inPattern = true
            let pattern: Expr
            do {
                pattern = try parseStarExpressions(allowStar: true)
                inPattern = false
            } catch {
                inPattern = false
                throw error
            }
            let guardExpr = accept(keyword: "if") ? try parseNamedExpression() : nil
            cases.append(MatchCase(pattern: pattern, guardExpr: guardExpr, body: try parseBlock()))
        }
        if tok.kind == .dedent { advance() }
        return Stmt(kind: .match(subject, cases), line: line, endLine: lastLine)
    }

    // MARK: - Expressions

    /// Comma-separated expressions; more than one (or a trailing comma) makes a tuple.
    private mutating func parseStarExpressions(allowStar: Bool = true, named: Bool = false) throws -> Expr {
        if atStarExpressionsEnd { throw error("expected an expression") }
        let first = try parseStarExpressionItem(allowStar: allowStar, named: named)
        // The common case, a single expression, needs no array.
        if !accept(op: ",") { return first }
        var items = Self.list(first)
        var trailingComma = true
        while !atStarExpressionsEnd {
            items.append(try parseStarExpressionItem(allowStar: allowStar, named: named))
            trailingComma = isOp(",")
            if !accept(op: ",") { break }
        }
        return items.count == 1 && !trailingComma ? items[0] : .tuple(items)
    }

    private var atStarExpressionsEnd: Bool {
        atStatementEnd || isOp("=") || isOp(")") || isOp(":") || atAugmentedOp
    }

    private mutating func parseStarExpressionItem(allowStar: Bool, named: Bool) throws -> Expr {
        if allowStar, accept(op: "*") { return .starred(try parseBitOr()) }
        return named ? try parseNamedExpression() : try parseExpression()
    }

    private mutating func parseNamedExpression() throws -> Expr {
        if tok.kind == .name, peekIsOp(":=") {
            let name = advanceText()
            advance()
            return .namedExpr(name, try parseExpression())
        }
        return try parseExpression()
    }

    private mutating func parseExpression() throws -> Expr {
        try enter()
        defer { nesting -= 1 }
        if isKeyword("lambda") { return try parseLambda() }
        if let atom = takeLoneAtom() { return atom }
        let body = try parseOr()
        if !inPattern, isKeyword("if") {
            // Do not swallow a comprehension's `if` clause: the else branch is required here.
            advance()
            let test = try parseOr()
            try expect(keyword: "else")
            let orElse = try parseExpression()
            return .ifExp(test: test, body: body, orElse: orElse)
        }
        if inPattern, accept(keyword: "as") {
            return .patternAs(body, try expectName())
        }
        return body
    }

    /// A name or number followed by a token that cannot continue an expression (`,` `)` `]` `}` `:`
    /// `=` or the end of the line) is the whole expression: taken here without descending through
    /// every precedence level, with the same result.
    private mutating func takeLoneAtom() -> Expr? {
        let kind = tokens[i].kind
        guard kind == .name || kind == .number else { return nil }
        let next = peekToken()
        switch next.kind {
        case .newline:
            break
        case .op:
            switch next.tag {
            case Token.tag(","), Token.tag(")"), Token.tag("]"), Token.tag("}"), Token.tag(":"), Token.tag("="): break
            default: return nil
            }
        default:
            return nil
        }
        let value = text(of: tokens[i])
        advance()
        return kind == .name ? .name(value) : .number(value)
    }

    /// An expression without a conditional (used where `if` belongs to an enclosing comprehension).
    private mutating func parseExpressionNoCond() throws -> Expr {
        if isKeyword("lambda") { return try parseLambda(noCond: true) }
        return try parseOr()
    }

    private mutating func parseLambda(noCond: Bool = false) throws -> Expr {
        try expect(keyword: "lambda")
        let params = try parseParameters(closing: Token.tag(":"), annotations: false)
        try expect(op: ":")
        let body = noCond ? try parseExpressionNoCond() : try parseExpression()
        return .lambda(params, body)
    }

    private mutating func parseOr() throws -> Expr {
        let first = try parseAnd()
        guard isKeyword("or") else { return first }
        var items = Self.list(first)
        while accept(keyword: "or") { items.append(try parseAnd()) }
        return .boolOp("or", items)
    }

    private mutating func parseAnd() throws -> Expr {
        let first = try parseNot()
        guard isKeyword("and") else { return first }
        var items = Self.list(first)
        while accept(keyword: "and") { items.append(try parseNot()) }
        return .boolOp("and", items)
    }

    private mutating func parseNot() throws -> Expr {
        if accept(keyword: "not") {
            try enter()
            defer { nesting -= 1 }
            return .unary("not", try parseNot())
        }
        return try parseComparison()
    }

    private static let comparisonOps = ["<", ">", "==", ">=", "<=", "!="].map(Token.pack)

    private mutating func parseComparison() throws -> Expr {
        let left = try parseBitOr()
        var ops: [(String, Expr)] = []
        while true {
            var op: String?
            if tok.kind == .op, Self.comparisonOps.contains(tok.tag) {
                op = advanceText()
            } else if isKeyword("in") {
                advance()
                op = "in"
            } else if isKeyword("not"), peekToken().kind == .keyword, peekToken().tag == Token.tag("in") {
                advance(); advance()
                op = "not in"
            } else if isKeyword("is") {
                advance()
                op = accept(keyword: "not") ? "is not" : "is"
            }
            guard let o = op else { break }
            ops.append((o, try parseBitOr()))
        }
        return ops.isEmpty ? left : .compare(left, ops)
    }

    /// Precedence of a binary operator token, from `|` (1) to `*`/`/`/`//`/`%`/`@` (6); 0 for anything else.
    private func binaryPrecedence(_ t: Token) -> Int {
        guard t.kind == .op else { return 0 }
        switch t.tag {
        case Token.tag("|"): return 1
        case Token.tag("^"): return 2
        case Token.tag("&"): return 3
        case Token.tag("<<"), Token.tag(">>"): return 4
        case Token.tag("+"), Token.tag("-"): return 5
        case Token.tag("*"), Token.tag("/"), Token.tag("//"), Token.tag("%"), Token.tag("@"): return 6
        default: return 0
        }
    }

    /// Binary operators `|` down to `*` by precedence climbing (all left-associative): the same
    /// trees as one function per level, without descending six levels for every operand.
    private mutating func parseBinary(_ minPrecedence: Int) throws -> Expr {
        var left = try parseFactor()
        // Operands chained at one level, as a per-level loop would count them.
        var terms = 1
        var level = 0
        while true {
            let p = binaryPrecedence(tokens[i])
            if p < minPrecedence || p == 0 { break }
            if p != level {
                level = p
                terms = 1
            }
            let op = advanceText()
            left = .binary(op, left, try parseBinary(p + 1))
            terms += 1
            if terms > Self.maxChain { throw error("expression too long (more than \(Self.maxChain) operands)") }
        }
        return left
    }

    private mutating func parseBitOr() throws -> Expr {
        try parseBinary(1)
    }

    private mutating func parseFactor() throws -> Expr {
        if isOp("-") || isOp("+") || isOp("~") {
            let op = advanceText()
            try enter()
            defer { nesting -= 1 }
            return .unary(op, try parseFactor())
        }
        return try parsePower()
    }

    private mutating func parsePower() throws -> Expr {
        var base: Expr
        if accept(keyword: "await") {
            base = .await(try parsePrimary())
        } else {
            base = try parsePrimary()
        }
        if accept(op: "**") {
            base = .binary("**", base, try parseFactor())
        }
        return base
    }

    private mutating func parsePrimary() throws -> Expr {
        var e = try parseAtom()
        var trailers = 0
        while tok.kind == .op {
            trailers += 1
            if trailers > Self.maxChain { throw error("expression too long (more than \(Self.maxChain) trailers)") }
            switch tok.tag {
            case Token.tag("."):
                advance()
                e = .attribute(e, try expectName())
            case Token.tag("("):
                let line = tok.line
                advance()
                let args = try parseArguments()
                try expect(op: ")")
                noteCall(e)
                e = .call(e, args, line: line)
            case Token.tag("["):
                advance()
                e = .index(e, try parseSlices())
                try expect(op: "]")
            default:
                return e
            }
        }
        return e
    }

    /// A list starting with `first`, with room for a few more (most lists here get a second item).
    private static func list(_ first: Expr) -> [Expr] {
        var items: [Expr] = []
        items.reserveCapacity(4)
        items.append(first)
        return items
    }

    /// Marks the innermost function as possibly recursive when `callee` is its name or `x.` its name
    /// (a superset of the `self.` calls the recursion scan counts).
    private mutating func noteCall(_ callee: Expr) {
        guard let current = functionNames.last else { return }
        switch callee {
        case .name(let n), .attribute(.name, let n):
            // Compare lengths first: most callees differ, and unequal Strings take a slow comparison.
            if n.utf8.count == current.utf8.count, n == current { callsOwnName[callsOwnName.count - 1] = true }
        default:
            break
        }
    }

    private mutating func parseSlices() throws -> [Expr] {
        var items: [Expr] = []
        repeat {
            if isOp("]") { break }
            items.append(try parseSlice())
        } while accept(op: ",")
        if items.isEmpty { throw error("expected a subscript") }
        return items
    }

    private mutating func parseSlice() throws -> Expr {
        if accept(op: "*") { return .starred(try parseBitOr()) }
        var lower: Expr?
        if !isOp(":") {
            lower = try parseNamedExpression()
            if !isOp(":") { return lower ?? .constant("None") }
        }
        try expect(op: ":")
        var upper: Expr?
        if !isOp(":"), !isOp("]"), !isOp(",") { upper = try parseExpression() }
        var step: Expr?
        if accept(op: ":") {
            if !isOp("]"), !isOp(",") { step = try parseExpression() }
        }
        return .slice(lower, upper, step)
    }

    private mutating func parseArguments() throws -> [Argument] {
        var args: [Argument] = []
        if !isOp(")") { args.reserveCapacity(3) }
        while !isOp(")") {
            if accept(op: "*") {
                args.append(Argument(keyword: "*", value: try parseExpression()))
            } else if accept(op: "**") {
                args.append(Argument(keyword: "**", value: try parseExpression()))
            } else if tok.kind == .name, peekIsOp("=") {
                let name = advanceText()
                advance()
                args.append(Argument(keyword: name, value: try parseExpression()))
            } else {
                let line = tok.line
                let value = try parseNamedExpression()
                if isKeyword("for") || isKeyword("async") {
                    let gens = try parseComprehensionClauses()
                    args.append(Argument(keyword: nil, value: .comprehension(.generator, element: value, value: nil, gens, line: line)))
                } else {
                    args.append(Argument(keyword: nil, value: value))
                }
            }
            if !accept(op: ",") { break }
        }
        return args
    }

    private mutating func parseComprehensionClauses() throws -> [Comprehension] {
        var result: [Comprehension] = []
        while isKeyword("for") || (isKeyword("async") && peekToken().kind == .keyword && peekToken().tag == Token.tag("for")) {
            let isAsync = accept(keyword: "async")
            try expect(keyword: "for")
            let target = try parseTargetList()
            try expect(keyword: "in")
            let iterable = try parseOr()
            var conditions: [Expr] = []
            while accept(keyword: "if") { conditions.append(try parseExpressionNoCond()) }
            result.append(Comprehension(target: target, iterable: iterable, conditions: conditions, isAsync: isAsync))
        }
        return result
    }

    private mutating func parseStrings() -> Expr {
        var text = ""
        while tok.kind == .string { text += advanceText() }
        return .string(text)
    }

    private mutating func parseAtom() throws -> Expr {
        let t = tok
        switch t.kind {
        case .name:
            advance()
            return .name(text(of: t))
        case .number:
            advance()
            return .number(text(of: t))
        case .string:
            return parseStrings()
        case .keyword:
            switch t.tag {
            case Token.tag("True"), Token.tag("False"), Token.tag("None"):
                advance()
                return .constant(text(of: t))
            case Token.tag("yield"):
                // Only valid inside parentheses here; statements handle the bare form.
                return try parseYield()
            case Token.tag("lambda"):
                return try parseLambda()
            default:
                throw error("expected an expression")
            }
        case .op:
            switch t.tag {
            case Token.tag("("): return try parseParenthesised()
            case Token.tag("["): return try parseListDisplay()
            case Token.tag("{"): return try parseDictOrSet()
            case Token.tag("..."):
                advance()
                return .constant("...")
            default:
                throw error("expected an expression")
            }
        case .error:
            throw ParseError(line: t.line, message: text(of: t))
        default:
            throw error("expected an expression")
        }
    }

    private mutating func parseYield() throws -> Expr {
        try expect(keyword: "yield")
        if accept(keyword: "from") { return .yieldFrom(try parseExpression()) }
        if atStatementEnd || isOp(")") || isOp("]") || isOp("}") || isOp("=") { return .yield(nil) }
        return .yield(try parseStarExpressions(allowStar: true))
    }

    private mutating func parseParenthesised() throws -> Expr {
        let line = tok.line
        try expect(op: "(")
        if accept(op: ")") { return .tuple([]) }
        if isKeyword("yield") {
            let y = try parseYield()
            try expect(op: ")")
            return y
        }
        let first = accept(op: "*") ? Expr.starred(try parseBitOr()) : try parseNamedExpression()
        if isKeyword("for") || isKeyword("async") {
            let gens = try parseComprehensionClauses()
            try expect(op: ")")
            return .comprehension(.generator, element: first, value: nil, gens, line: line)
        }
        if accept(op: ")") {
            if case .starred = first, !inPattern { throw error("cannot use starred expression here") }
            return first
        }
        var items = Self.list(first)
        while accept(op: ",") {
            if isOp(")") { break }
            items.append(accept(op: "*") ? .starred(try parseBitOr()) : try parseNamedExpression())
        }
        try expect(op: ")")
        return .tuple(items)
    }

    private mutating func parseListDisplay() throws -> Expr {
        let line = tok.line
        try expect(op: "[")
        if accept(op: "]") { return .list([]) }
        let first = accept(op: "*") ? Expr.starred(try parseBitOr()) : try parseNamedExpression()
        if isKeyword("for") || isKeyword("async") {
            let gens = try parseComprehensionClauses()
            try expect(op: "]")
            return .comprehension(.list, element: first, value: nil, gens, line: line)
        }
        var items = Self.list(first)
        while accept(op: ",") {
            if isOp("]") { break }
            items.append(accept(op: "*") ? .starred(try parseBitOr()) : try parseNamedExpression())
        }
        try expect(op: "]")
        return .list(items)
    }

    private mutating func parseDictOrSet() throws -> Expr {
        let line = tok.line
        try expect(op: "{")
        if accept(op: "}") { return .dict([]) }
        // First element decides between dict and set.
        if accept(op: "**") {
            var pairs: [(Expr?, Expr)] = [(nil, try parseBitOr())]
            try parseDictRest(&pairs)
            return .dict(pairs)
        }
        let first = accept(op: "*") ? Expr.starred(try parseBitOr()) : try parseNamedExpression()
        if accept(op: ":") {
            let value = try parseExpression()
            if isKeyword("for") || isKeyword("async") {
                let gens = try parseComprehensionClauses()
                try expect(op: "}")
                return .comprehension(.dict, element: first, value: value, gens, line: line)
            }
            var pairs: [(Expr?, Expr)] = [(first, value)]
            try parseDictRest(&pairs)
            return .dict(pairs)
        }
        if isKeyword("for") || isKeyword("async") {
            let gens = try parseComprehensionClauses()
            try expect(op: "}")
            return .comprehension(.set, element: first, value: nil, gens, line: line)
        }
        var items = Self.list(first)
        while accept(op: ",") {
            if isOp("}") { break }
            items.append(accept(op: "*") ? .starred(try parseBitOr()) : try parseNamedExpression())
        }
        try expect(op: "}")
        return .set(items)
    }

    private mutating func parseDictRest(_ pairs: inout [(Expr?, Expr)]) throws {
        while accept(op: ",") {
            if isOp("}") { break }
            if accept(op: "**") {
                pairs.append((nil, try parseBitOr()))
            } else {
                let key = try parseExpression()
                try expect(op: ":")
                pairs.append((key, try parseExpression()))
            }
        }
        try expect(op: "}")
    }
}
