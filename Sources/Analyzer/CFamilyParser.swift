/// Recursive-descent parser shared by Java, JavaScript, Go, C and C++. It lowers each program
/// straight into the analyzer's neutral model (`Stmt`/`Expr`): a counted `for (i = a; i < b; i++)`
/// becomes a loop over `range(a, b)`, any other `for` its init plus a `while` with the step at the
/// end of the body, declarations become assignments, classes keep their methods, and library calls
/// become the neutral operations of `LibraryCalls`. A statement that does not parse becomes an
/// `.error` node and a `SyntaxIssue`; parsing resumes after the next `;` or closing brace.
struct CFamilyParser {
    struct ParseError: Error {
        var line: Int
        var message: String
        /// The token where parsing stopped (-1 when unknown).
        var index = -1
    }

    let dialect: CFamily
    private var lexed: CTokens
    private var tokens: [CToken]
    private var pos = 0
    private(set) var issues: [SyntaxIssue] = []
    /// C and C++ constructs that did not parse but that a macro's expansion could make well formed
    /// (see `macroCouldExplain`): skipped, listed, and not counted as syntax errors.
    private(set) var skipped: [SyntaxIssue] = []
    /// What each declared variable holds (`TreeMap`, `priority_queue`, `HashSet`, ...), by name.
    var containers: [String: LibraryCalls.Container] = [:]
    private var nesting = 0
    // 100, not 200: the C-family grammar grew (templates, requires, folds) and a debug build used
    // some 45 KB of stack per level, so 199 nested braces overflowed an 8 MiB main thread.
    private static let maxNesting = 100
    /// The parameters and body of the last function expression or lambda parsed: a name bound
    /// to one (`const f = (n) => {...}`) becomes a function of that name.
    private var lastLambda: (Parameters, [Stmt])?
    /// Arms of switch expressions met while parsing a statement; they run with it.
    private var hoistedArms: [Stmt] = []
    /// Anonymous class bodies met inside expressions, added to the module at the end.
    private var hoisted: [Stmt] = []

    init(source: String, dialect: CFamily) {
        self.dialect = dialect
        lexed = CFamilyTokenizer.tokenize(source, dialect: dialect)
        tokens = lexed.tokens
        lexed.tokens = []
    }

    static func parse(_ source: String, dialect: CFamily) -> Module {
        var p = CFamilyParser(source: source, dialect: dialect)
        for t in p.tokens where t.kind == .error { p.issues.append(SyntaxIssue(line: t.line, message: p.lexed.text(t))) }
        p.tokens.removeAll { $0.kind == .error }
        var body = p.parseTopLevel()
        body.append(contentsOf: p.hoisted)
        // Java, Go, C and C++ run `main`; the whole-file cost is its cost with every call resolved.
        if dialect != .javascript, p.definesMain(body) {
            let line = body.last?.endLine ?? 1
            body.append(Stmt(kind: .expr(.call(.name("main"), [], line: line)), line: line, endLine: line))
        }
        return Module(body: body, issues: p.issues, skipped: p.skipped)
    }

    private func definesMain(_ body: [Stmt]) -> Bool {
        for s in body {
            switch s.kind {
            case .function(let f) where f.name == "main": return true
            case .classDef(let c): if definesMain(c.body) { return true }
            default: continue
            }
        }
        return false
    }

    // MARK: - Tokens

    private var tok: CToken { tokens[pos] }
    private func peek(_ k: Int = 1) -> CToken { tokens[max(0, min(pos + k, tokens.count - 1))] }
    private var atEnd: Bool { tok.kind == .end }
    private mutating func advance() { if pos < tokens.count - 1 { pos += 1 } }
    // Operators and words are compared by tag (`CToken.tag` of a literal folds to a constant).
    @inline(__always) private func isOp(_ s: StaticString) -> Bool { let t = tok; return t.tag == CToken.tag(s) && t.kind == .op }
    @inline(__always) private func isOp(_ s: StaticString, _ t: CToken) -> Bool { t.tag == CToken.tag(s) && t.kind == .op }
    @inline(__always) private func isWord(_ s: StaticString) -> Bool { let t = tok; return t.tag == CToken.tag(s) && t.kind == .ident }
    @inline(__always) private func isWord(_ s: StaticString, _ t: CToken) -> Bool { t.tag == CToken.tag(s) && t.kind == .ident }
    /// The token is an operator with this tag (for operators chosen at run time).
    private func isOp(tag: UInt64, _ t: CToken) -> Bool { t.tag == tag && t.kind == .op }
    @inline(__always) private mutating func accept(_ s: StaticString) -> Bool {
        if isOp(s) { advance(); return true }
        return false
    }
    @inline(__always) private mutating func acceptWord(_ s: StaticString) -> Bool {
        if isWord(s) { advance(); return true }
        return false
    }
    private mutating func expect(_ s: StaticString) throws {
        guard accept(s) else { throw fail("expected '\(s)' but found \(describe(tok))") }
    }
    private mutating func expect(tag: UInt64) throws {
        guard isOp(tag: tag, tok) else { throw fail("expected '\(CToken.spell(tag))' but found \(describe(tok))") }
        advance()
    }
    private func fail(_ message: String) -> ParseError { ParseError(line: tok.line, message: message, index: pos) }
    private func describe(_ t: CToken) -> String { t.kind == .end ? "end of file" : "'\(text(t))'" }
    /// The token's source text.
    private func text(_ t: CToken) -> String { lexed.text(t) }
    /// The source text of the tokens in `range`, without the spaces between them.
    private func text(_ range: Range<Int>) -> String {
        var out = ""
        for t in tokens[range] { out += text(t) }
        return out
    }

    private mutating func enter() throws {
        nesting += 1
        if nesting > Self.maxNesting { nesting -= 1; throw fail("too deeply nested (more than \(Self.maxNesting) levels)") }
    }
    private mutating func leave() { nesting -= 1 }

    /// Skips a balanced group starting at an opening bracket; returns false if it is not closed.
    @discardableResult
    private mutating func skipGroup() -> Bool {
        let open = tok.tag
        let close = open == CToken.tag("(") ? CToken.tag(")") : open == CToken.tag("[") ? CToken.tag("]") : CToken.tag("}")
        var depth = 0
        while !atEnd {
            if tok.kind == .op {
                if tok.tag == open { depth += 1 } else if tok.tag == close {
                    depth -= 1
                    if depth == 0 { advance(); return true }
                }
            }
            advance()
        }
        return false
    }

    /// Skips `<...>` type arguments if they are there and well formed; restores the position otherwise.
    private mutating func skipTypeArguments() -> Bool {
        guard isOp("<") else { return false }
        let start = pos
        var depth = 0
        // Arguments that can only be template arguments, so constant expressions with `&&`, `==`
        // and `?:` may appear in them: in a declaration's type at namespace or class scope
        // (`enable_if_t<A<T> && B<T>, int> f();`), or when a type word opens them
        // (`span<const byte, N == 0 ? 1 : N>`, `integral_constant < bool, a && b > ()`).
        let certain = dialect == .cpp
            && (inDeclarationType || isWord("const", peek()) || isWord("typename", peek())
                || (Self.isPrimitive(peek()) && !isOp("(", peek(2))))
        while !atEnd {
            // Nested arguments (`f<g<a || b>>`) are template arguments too: a comparison chained
            // inside a comparison is not C++ anyone writes.
            if certain || (dialect == .cpp && depth >= 2), depth > 0, tok.kind == .op, Self.constantExpressionOperators.contains(tok) {
                advance()
                continue
            }
            if tok.kind == .op {
                switch tok.tag {
                case CToken.tag("<"): depth += 1
                case CToken.tag(">"):
                    depth -= 1
                    if depth == 0 { advance(); return true }
                case CToken.tag("(") where dialect == .cpp && depth > 0:
                    // A call or `decltype(...)` inside C++ template arguments: `f<X::g()>()`.
                    if !skipGroup() { pos = start; return false }
                    continue
                case CToken.tag("&&") where dialect == .cpp && (isOp(",", peek()) || isOp(">", peek()) || isOp("...", peek())):
                    break  // an rvalue reference type, `pair<T&&, U>`
                case CToken.tag("!"), CToken.tag("+"), CToken.tag("-"), CToken.tag("/"), CToken.tag("%"):
                    // Non-type C++ template arguments: `enable_if<!is_void<T>::value>`, `get<N - 1>`.
                    if dialect != .cpp || depth == 0 { pos = start; return false }
                case CToken.tag("("), CToken.tag(")"), CToken.tag("{"), CToken.tag("}"), CToken.tag(";"), CToken.tag("="),
                    CToken.tag("&&"), CToken.tag("||"), CToken.tag("=="), CToken.tag("!="), CToken.tag("+"), CToken.tag("-"),
                    CToken.tag("/"), CToken.tag("%"), CToken.tag("!"), CToken.tag("+="), CToken.tag("-="):
                    pos = start
                    return false
                default: break
                }
            } else if tok.kind == .string || tok.kind == .char {
                pos = start
                return false
            }
            advance()
        }
        pos = start
        return false
    }

    /// Operators of constant expressions that `skipTypeArguments` otherwise takes as a sign of a comparison.
    private static let constantExpressionOperators = TagTable(words: ["&&", "||", "==", "!="])

    /// Set while reading the type of a declaration at namespace or class scope, where `<` after a
    /// name always opens template arguments (no expression statements stand there).
    private var inDeclarationType = false

    /// Skips `<...>` after `template`: parameters may have defaults (`class A = allocator<T>`,
    /// `int N = (1 > 0)`), so only a brace or `;` before the closing `>` means it is not one.
    private mutating func skipTemplateParameters() -> Bool {
        guard isOp("<") else { return false }
        let start = pos
        var depth = 0
        // Names of the non-type parameters declared so far (`size_t __w`): in a later default,
        // `__w < x` is a comparison, since a non-type parameter cannot name a template.
        var valueNames: [UInt64] = []
        var parameterStart = false, typeParameter = false, inDefault = false
        var lastName: UInt64?
        func endParameter() {
            if !typeParameter, !inDefault, let lastName { valueNames.append(lastName) }
            lastName = nil
        }
        while !atEnd {
            if isOp("(") || isOp("[") { skipGroup(); parameterStart = false; continue }
            if depth == 1, parameterStart {
                typeParameter = isWord("typename") || isWord("class") || isWord("template")
                inDefault = false
                parameterStart = false
            }
            if isOp("<") {
                if depth == 1, dialect == .cpp, peek(-1).kind == .ident, valueNames.contains(peek(-1).tag) {
                    advance()  // a comparison
                    continue
                }
                depth += 1
                if depth == 1 { parameterStart = true }
            } else if isOp(">") {
                if depth == 1 { endParameter() }
                depth -= 1
                if depth == 0 { advance(); return true }
            } else if isOp("{") || isOp(";") || isOp("}") {
                break
            } else if depth == 1, isOp(",") {
                endParameter()
                parameterStart = true
            } else if depth == 1, isOp("=") {
                endParameter()
                inDefault = true
            } else if depth == 1, tok.kind == .ident, !inDefault {
                lastName = tok.tag
            }
            advance()
        }
        pos = start
        return false
    }

    /// A declaration of a function pointer, `void (*f)(int);`, `void (C::*pm)();`, or a C++17
    /// deduction guide, `vec(It, It) -> vec<T>;`: nothing runs, so it is skipped to its `;`.
    private mutating func skipFunctionPointerOrGuide(guides: Bool) throws -> Bool {
        let save = pos
        if guides, tok.kind == .ident, isOp("(", peek()), dialect == .cpp {
            advance()
            if skipGroup(), isOp("->") { try skipToSemicolonOverBraces(); return true }
            pos = save
        }
        guard skipType(), isOp("(") else { pos = save; return false }
        var k = 1
        while peek(k).kind == .ident, isOp("::", peek(k + 1)) { k += 2 }
        // `(* name)` then its parameters or array bounds: `swap(*a, *b)` is a call.
        guard isOp("*", peek(k)) || isOp("&", peek(k)) || isOp("^", peek(k)), peek(k + 1).kind == .ident || isOp(")", peek(k + 1)) else {
            pos = save
            return false
        }
        let close = peek(k + 1).kind == .ident ? k + 2 : k + 1
        guard isOp(")", peek(close)), isOp("(", peek(close + 1)) || isOp("[", peek(close + 1)) else { pos = save; return false }
        try skipToSemicolonOverBraces()
        return true
    }

    /// A whole argument that is a type (`void *`, `signed char`): skips it and returns true;
    /// otherwise leaves the position alone.
    private mutating func typeArgumentHere() -> Bool {
        let save = pos
        if skipType(), isOp(",") || isOp(")") { return true }
        pos = save
        return false
    }

    /// After `skipType` read `const int array<T, N>::size` as one type: steps back to the member
    /// name (a static member defined outside its class) when a declarator follows.
    private mutating func definitionNameIsLast() -> Bool {
        guard dialect == .cpp, tok.kind != .ident, isOp("=") || isOp(";") || isOp("{") || isOp("[") else { return false }
        if isOp("::", peek(-2)), peek(-1).kind == .ident {
            pos -= 1
            return true
        }
        // `bool enable_borrowed_range<subrange<I>> = true;`: a primitive type, then the name of a
        // variable template with its arguments.
        guard isOp(">", peek(-1)) else { return false }
        var k = pos - 1
        var depth = 0
        while k > 0 {
            if isOp(">", tokens[k]) { depth += 1 } else if isOp("<", tokens[k]) {
                depth -= 1
                if depth == 0 { break }
            } else if isOp(";", tokens[k]) || isOp("{", tokens[k]) || isOp("}", tokens[k]) { return false }
            k -= 1
        }
        guard k >= 2, tokens[k - 1].kind == .ident, Self.isPrimitive(tokens[k - 2]) else { return false }
        pos = k - 1
        return true
    }

    /// Skips a C++20 requires-clause, `requires C<T> && (sizeof(T) > 1) || requires { ... }`,
    /// positioned at `requires`: terms joined by `&&`/`||`, each a name with template arguments,
    /// a parenthesised expression, or a requires-expression.
    private mutating func skipConstraint() {
        advance()  // requires
        repeat {
            while accept("!") {}
            if isWord("requires") {
                advance()
                if isOp("(") { skipGroup() }
                if isOp("{") { skipGroup() }
            } else if isOp("(") {
                skipGroup()
            } else if tok.kind == .ident || tok.kind == .number {
                advance()
                while true {
                    if isOp("<"), skipTypeArguments() { continue }
                    if isOp("::"), peek().kind == .ident { advance(); advance(); continue }
                    if isOp("(") { skipGroup(); continue }
                    break
                }
            } else {
                return
            }
        } while accept("&&") || accept("||")
    }

    /// Ends a simple statement: `;`, or (JavaScript, Go) a line break, `}` or the end of the file.
    private mutating func endStatement() throws {
        if accept(";") { return }
        if dialect == .javascript || dialect == .go {
            if tok.newlineBefore || isOp("}") || atEnd || isOp(")") { return }
        }
        throw fail("expected ';' but found \(describe(tok))")
    }

    /// After an error: skips to just past the next `;` at this depth, or to a `}` that closes the
    /// enclosing block, or past a braced group that ends a line (a broken block statement).
    private mutating func recover(from start: Int) {
        if pos == start { advance() }
        var depth = 0
        while !atEnd {
            if tok.kind == .op {
                switch tok.tag {
                case CToken.tag("("), CToken.tag("["): depth += 1
                case CToken.tag(")"), CToken.tag("]"): depth = max(0, depth - 1)
                case CToken.tag("{"):
                    if skipGroup(), depth == 0, tok.newlineBefore || isOp("}") { return }
                    continue
                case CToken.tag("}"):
                    if depth == 0 { return }
                case CToken.tag(";"):
                    if depth == 0 { advance(); return }
                default: break
                }
            }
            advance()
        }
    }

    private mutating func report(_ e: ParseError) {
        if issues.count < 200 { issues.append(SyntaxIssue(line: e.line, message: e.message)) }
    }

    // MARK: - Top level and declarations

    private mutating func parseTopLevel() -> [Stmt] {
        var body: [Stmt] = []
        while !atEnd {
            if accept("}") {
                let e = ParseError(line: peek(-1).line, message: "unmatched '}'", index: pos - 1)
                if lexed.skippedBranchHadBraces, dialect == .c || dialect == .cpp { skip(e, from: pos - 1) } else { report(e) }
                continue
            }
            parseMember(into: &body, inClass: nil)
        }
        return body
    }

    private static let modifiers = TagTable(words: [
        "public", "private", "protected", "static", "final", "abstract", "synchronized", "native", "transient",
        "volatile", "strictfp", "default", "sealed", "non-sealed", "inline", "extern", "virtual", "explicit",
        "constexpr", "consteval", "constinit", "friend", "register", "mutable", "export", "async", "override",
        "thread_local", "__inline", "_Noreturn", "noexcept",
    ])

    /// One top-level or class-body item. Statements are allowed too (JavaScript and C++ scripts).
    private mutating func parseMember(into body: inout [Stmt], inClass cls: String?) {
        let start = pos
        let count = body.count
        do {
            try enter()
            defer { leave() }
            try parseMemberThrowing(into: &body, inClass: cls)
        } catch let e as ParseError {
            if wholeMacroCall(e, from: start) {
                body.removeSubrange(count...)
                skip(e, from: start)
                pos = e.index
                return
            }
            if skipMacroArguments(e, from: start, inBody: false) {
                body.removeSubrange(count...)
                skip(e, from: start)
                return
            }
            recover(from: start)
            if macroCouldExplain(e, from: start, to: pos) {
                body.removeSubrange(count...)
                skip(e, from: start)
                // Still analyse a function whose head had a macro in it: `T NAME(f)(args) ATTR {`.
                salvageFunction(from: start, into: &body)
                return
            }
            report(e)
            let line = tokens[start].line
            body.append(Stmt(kind: .error(e.message), line: line, endLine: line))
        } catch {}
    }

    /// Records a construct skipped because a macro could explain it (see `macroCouldExplain`).
    private mutating func skip(_ e: ParseError, from start: Int) {
        if skipped.count < 200 { skipped.append(SyntaxIssue(line: e.line, message: e.message)) }
    }

    /// Without a preprocessor, C and C++ cannot be parsed exactly: a macro may expand to anything
    /// (`PB_DS_CLASS_C_DEC::`, `if _GLIBCXX17_CONSTEXPR (c)`, `{ ASSERT_VALID(x) }` without `;`).
    /// Tools that read C without preprocessing it (ctags, tree-sitter's error recovery) skip such
    /// constructs. One is skipped here, not reported, only when (a) its brackets balance, so the
    /// damage stays inside it, and (b) parsing stopped at a name that may be a macro, or right after
    /// one (over its argument list): a name `#define`d in the file, an upper-case name, an
    /// `<inttypes.h>` format macro, or a reserved identifier (`__x`, `_X`), which belong to the
    /// implementation and its macros. Also skipped: a file that ends inside a block, or closes one
    /// too many, when an `#if` branch not read had braces. Anything else (`x = ;`, a missing `)`, `retrun x;`) is a
    /// syntax error as before.
    private func macroCouldExplain(_ e: ParseError, from start: Int, to end: Int) -> Bool {
        guard dialect == .c || dialect == .cpp, e.index >= start, e.index < tokens.count, end > start else { return false }
        // Only one branch of each `#if` group is read; when a skipped one had braces, the file
        // may end inside a block that another branch closes.
        // A fragment meant to be included (see `CTokens.includedFragment`) may end inside a
        // construct that the including file completes.
        if lexed.skippedBranchHadBraces || lexed.includedFragment, tokens[e.index].kind == .end { return true }
        var parens = 0, squares = 0, braces = 0
        for k in start..<min(end, tokens.count) where tokens[k].kind == .op {
            switch tokens[k].tag {
            case CToken.tag("("): parens += 1
            case CToken.tag(")"): parens -= 1
            case CToken.tag("["): squares += 1
            case CToken.tag("]"): squares -= 1
            case CToken.tag("{"): braces += 1
            case CToken.tag("}"): braces -= 1
            default: break
            }
            if parens < 0 || squares < 0 || braces < 0 { return false }
        }
        guard parens == 0, squares == 0, braces == 0 else { return false }
        if mayBeMacro(tokens[e.index]) { return true }
        // Inside the arguments of a macro, which may be operators or statements:
        // `DEFINE_OP(==, Equal);`, `_GLIBCXX_DEBUG_ONLY(check(x);)`.
        if let open = innermostOpenParenthesis(before: e.index, from: start), open > start, mayBeMacro(tokens[open - 1]) {
            return true
        }
        // The name before the failure, over one argument list: `M(x) }`, `M(x) int y;`.
        var k = e.index - 1
        if k > start, isOp(")", tokens[k]) {
            var depth = 0
            while k > start {
                if isOp(")", tokens[k]) { depth += 1 } else if isOp("(", tokens[k]) {
                    depth -= 1
                    if depth == 0 { break }
                }
                k -= 1
            }
            k -= 1
        }
        return k >= start && mayBeMacro(tokens[k])
    }

    /// Parsing failed inside the argument list of a name that may be a macro, whose arguments may be
    /// operators or statements (`_GLIBCXX_DEBUG_ONLY(check(x);)`, `DEFINE_OP(==, Eq)`): skips the
    /// statement up to its `;`, or only the call when it ends its line (a macro used as a
    /// statement). False, with the position unchanged, if the list does not close.
    private mutating func skipMacroArguments(_ e: ParseError, from start: Int, inBody: Bool) -> Bool {
        guard dialect == .c || dialect == .cpp, e.index > start, e.index < tokens.count,
            let open = innermostOpenParenthesis(before: e.index, from: start), open > start, mayBeMacro(tokens[open - 1])
        else { return false }
        let save = pos
        pos = open
        // Outside function bodies, a function definition's head (`__f(const ::T& a) {`) is left to
        // the salvage that follows; inside one, `M(x;)` then a block is a statement and a block.
        guard skipGroup(), inBody || !isOp("{") else { pos = save; return false }
        if accept(";") || tok.newlineBefore || isOp("}") || atEnd { return true }
        recover(from: pos)
        return true
    }

    /// The `(` in `start..<index` that is still open at `index`, if any.
    private func innermostOpenParenthesis(before index: Int, from start: Int) -> Int? {
        var depth = 0
        var k = index - 1
        while k >= start {
            if isOp(")", tokens[k]) { depth += 1 } else if isOp("(", tokens[k]) {
                if depth == 0 { return k }
                depth -= 1
            }
            k -= 1
        }
        return nil
    }

    /// The statement that failed is exactly `M(args)` with a name that may be a macro, and parsing
    /// stopped at the next line or a `}`: a macro used as a statement without `;`.
    private func wholeMacroCall(_ e: ParseError, from start: Int) -> Bool {
        guard dialect == .c || dialect == .cpp, e.index > start + 2, e.index < tokens.count, mayBeMacro(tokens[start]),
            isOp("(", tokens[start + 1]), isOp(")", tokens[e.index - 1]),
            tokens[e.index].newlineBefore || isOp("}", tokens[e.index])
        else { return false }
        var depth = 0
        for k in (start + 1)..<e.index where tokens[k].kind == .op {
            if isOp("(", tokens[k]) { depth += 1 } else if isOp(")", tokens[k]) {
                depth -= 1
                if depth == 0 { return k == e.index - 1 }
            }
        }
        return false
    }

    /// A name that may be a macro (`isMacroLike`) or an implementation's reserved identifier.
    private func mayBeMacro(_ t: CToken) -> Bool {
        guard t.kind == .ident else { return false }
        if isMacroLike(t) { return true }
        let b = lexed.bytes, o = t.offset
        guard t.length >= 2, b[o] == UInt8(ascii: "_") else { return false }
        return b[o + 1] == UInt8(ascii: "_") || (b[o + 1] >= UInt8(ascii: "A") && b[o + 1] <= UInt8(ascii: "Z"))
    }

    /// Words before a parenthesised group that do not name a function (`__attribute__((x))`).
    private static let notFunctionNames = TagTable(words: [
        "__attribute__", "__attribute", "alignas", "_Alignas", "decltype", "noexcept", "throw", "requires", "__declspec",
        "sizeof", "alignof", "__alignof__", "typeof", "__typeof__", "__typeof", "static_assert", "if", "while", "for",
        "switch", "return", "operator", "explicit",
    ])

    /// After a skipped member: if it has the shape of a function definition, `name(...) ... {`,
    /// with a name that is not a macro or attribute, parses that function so its cost is known.
    private mutating func salvageFunction(from start: Int, into body: inout [Stmt]) {
        let end = pos
        var k = start
        var depth = 0
        var namePos = -1
        while k < end {
            let t = tokens[k]
            if t.kind == .op {
                switch t.tag {
                case CToken.tag("("):
                    if depth == 0, namePos < 0, k > start, tokens[k - 1].kind == .ident, !isMacroLike(tokens[k - 1]),
                        !Self.notFunctionNames.contains(tokens[k - 1]), !isReserved(tokens[k - 1])
                    {
                        namePos = k - 1
                    }
                    depth += 1
                case CToken.tag("["): depth += 1
                case CToken.tag(")"), CToken.tag("]"): depth -= 1
                case CToken.tag("{"):
                    if depth == 0 { k = end }
                case CToken.tag(";"), CToken.tag("="):
                    if depth == 0 { return }
                default: break
                }
            } else if t.kind == .ident, depth == 0,
                isWord("class", t) || isWord("struct", t) || isWord("union", t) || isWord("enum", t) || isWord("namespace", t)
            {
                return
            }
            k += 1
        }
        guard namePos >= 0, end > 0, isOp("}", tokens[end - 1]) else { return }
        let count = body.count, issueCount = issues.count, skipCount = skipped.count
        pos = namePos + 1
        do {
            // Counted as a level of nesting: a salvaged body that fails inside salvages again.
            try enter()
            defer { leave() }
            try parseFunctionRest(name: text(tokens[namePos]), into: &body, line: tokens[namePos].line)
            if pos == end { return }
        } catch {}
        body.removeSubrange(count...)
        issues.removeSubrange(issueCount...)
        skipped.removeSubrange(skipCount...)
        pos = end
    }

    private mutating func skipAnnotations() {
        while isOp("@"), peek().kind == .ident, !isWord("interface", peek()) {
            advance()
            advance()
            while isOp("."), peek().kind == .ident { advance(); advance() }
            if isOp("(") { skipGroup() }
        }
    }

    private mutating func parseMemberThrowing(into body: inout [Stmt], inClass cls: String?) throws {
        let line = tok.line
        if accept(";") { return }
        if skipMacroLine() { return }
        switch dialect {
        case .java:
            skipAnnotations()
            if isWord("package") || isWord("import") { try skipToSemicolon(); return }
        case .go:
            if isWord("package") { advance(); advance(); try endStatement(); return }
            if isWord("import") { advance(); if isOp("(") { skipGroup() } else { while !tok.newlineBefore, !atEnd, !isOp(";") { advance() } }; _ = accept(";"); return }
            if isWord("type") { try skipGoType(); return }
            if isWord("func") { try parseGoFunc(into: &body, line: line); return }
        case .c, .cpp:
            while isWord("__extension__") { advance() }  // GCC's marker for extensions: `__extension__ union {...};`
            if isWord("using") || isWord("typedef") || isWord("static_assert") || isWord("_Static_assert") {
                // A `;` inside braces (`typedef struct {...} T;`) does not end these.
                try skipToSemicolonOverBraces()
                return
            }
            if isWord("extern"), isWord("template", peek()) { advance() }
            if isWord("template") {
                advance()
                // An explicit instantiation, `template class vector<int>;`, declares nothing new.
                if !isOp("<") { try skipToSemicolonOverBraces(); return }
                if !skipTemplateParameters() { throw fail("expected template parameters") }
                if isWord("requires") { skipConstraint() }
                return try parseMemberThrowing(into: &body, inClass: cls)
            }
            if isWord("concept") {
                // `concept C = constraint;`: nothing runs.
                try skipToSemicolonOverBraces()
                return
            }
            if isWord("inline"), isWord("namespace", peek()) { advance() }
            // `static const struct {...} table[] = {...};`: the qualifiers belong to the declarators.
            while isWord("static") || isWord("const") || isWord("volatile"), isWord("struct", peek()) || isWord("union", peek()) || isWord("enum", peek()) || isWord("const", peek())
                || (isWord("const") && isWord("class", peek()))
            {
                advance()
            }
            if isWord("namespace") || (isWord("extern") && peek().kind == .string) {
                advance()
                while !isOp("{"), !isOp(";"), !atEnd { advance() }
                if accept(";") { return }
                try expect("{")
                while !isOp("}"), !atEnd { parseMember(into: &body, inClass: cls) }
                try expect("}")
                return
            }
        case .javascript:
            break
        }
        if cls != nil, dialect == .javascript {
            try parseJSClassMember(into: &body, line: line)
            return
        }
        if dialect == .javascript, isWord("export"), isOp("{", peek()) || isOp("*", peek()) {
            // `export { a as b } [from 'm']`, `export * from 'm'`: names only, nothing runs.
            advance()
            try skipToStatementEnd()
            return
        }
        while true {
            if skipAttributes() { continue }
            guard tok.kind == .ident && Self.modifiers.contains(tok) || (dialect == .java && isOp("@")) || isImplementationMacro()
                || (isWord("non") && isOp("-", peek()) && isWord("sealed", peek(2)))
            else { break }
            if isOp("@") {
                // `@interface` (an annotation type) and a stray `@` are not annotations: stop here
                // rather than loop without moving.
                let before = pos
                skipAnnotations()
                if pos == before { break }
                continue
            }
            if isWord("non") { advance(); advance(); advance(); continue }
            advance()
            if dialect == .cpp, isOp("("), isWord("explicit", peek(-1)) { skipGroup() }  // `explicit(cond)`
        }
        if dialect == .java || dialect == .cpp || dialect == .c || dialect == .javascript {
            if isWord("class") || isWord("interface") || isWord("enum") || isWord("record") || isWord("struct") || isWord("union")
                || (isOp("@") && isWord("interface", peek()))
            {
                if let c = try parseClass(line: line) { body.append(c) }
                return
            }
        }
        if dialect == .java, cls != nil, isOp("{") {
            // An initializer block.
            body.append(contentsOf: try parseBlock())
            return
        }
        if dialect == .java, isOp("<") { _ = skipTypeArguments() }
        if dialect == .java || dialect == .c || dialect == .cpp {
            if let cls, tok.kind == .ident, tok.tag == CToken.tag(text: cls), text(tok) == cls,
                isOp("(", peek()) || (dialect == .cpp && isOp("::", peek()) && (isOp("~", peek(2)) || text(peek(2)) == cls))
            {
                // Constructor: named after its class, so `new Foo(n)` costs it.
                advance()
                try parseFunctionRest(name: cls, into: &body, line: line)
                return
            }
            if dialect == .cpp, isOp("~") { advance(); advance(); try parseFunctionRest(name: "~", into: &body, line: line); return }
            if dialect == .cpp, cls != nil, tok.kind == .ident, isOp("(", peek()) {
                // A constructor of a class whose name the header spelt qualified (`class path::iterator`):
                // `iterator() noexcept : ...`, then a body.
                let here = pos
                advance()
                if skipGroup(), isOp("{") || isOp(":") || isOp(";") || isOp("=") || isWord("noexcept") || isWord("throw") {
                    let name = text(tokens[here])
                    pos = here + 1
                    try parseFunctionRest(name: name, into: &body, line: line)
                    return
                }
                pos = here
            }
            let save = pos
            if dialect == .cpp, tok.kind == .ident, isOp("::", peek()) || isOp("<", peek()), let name = qualifiedFunctionName() {
                // An out-of-class constructor or destructor: `Foo<T>::Foo(...)`, `Foo::~Foo()`.
                try parseFunctionRest(name: name, into: &body, line: line)
                return
            }
            if dialect == .cpp, isWord("operator") {
                // A conversion operator (`operator bool() const`) has no return type before it.
                advance()
                while !isOp("("), !isOp(";"), !isOp("{"), !atEnd { advance() }
                try parseFunctionRest(name: "operator", into: &body, line: line)
                return
            }
            if dialect == .c || dialect == .cpp, try skipFunctionPointerOrGuide(guides: true) { return }
            pos = save
            inDeclarationType = dialect == .cpp
            let declared: String?
            do { declared = try declarationName() } catch { inDeclarationType = false; throw error }
            inDeclarationType = false
            if let name = declared, isOp("(") || (dialect == .cpp && name == "operator") {
                if dialect != .java, isWord("operator", peek(-1)) || name == "operator" {
                    // `operator()(...)`, `operator|(...)`, `operator new[](...)`: up to the parameters.
                    if isOp("("), isOp(")", peek()) { advance(); advance() }
                    while !isOp("("), !isOp(";"), !isOp("{"), !atEnd { advance() }
                }
                try parseFunctionRest(name: name, into: &body, line: line)
                return
            }
            pos = save
        }
        // Anything else is a statement (globals, JavaScript scripts, C++ at namespace scope).
        try parseStatement(into: &body)
    }

    /// Skips C/C++ attributes, `[[nodiscard]]`, `__attribute__((x))`, `alignas(8)`,
    /// `__declspec(x)`; returns whether there were any.
    private mutating func skipAttributes() -> Bool {
        guard dialect == .c || dialect == .cpp else { return false }
        var any = false
        while true {
            if isOp("["), isOp("[", peek()) {
                skipGroup()
            } else if tok.kind == .ident, isOp("(", peek()), Self.attributeWords.contains(tok) {
                advance()
                skipGroup()
            } else {
                return any
            }
            any = true
        }
    }

    private static let attributeWords = TagTable(words: ["__attribute__", "__attribute", "alignas", "_Alignas", "__declspec", "__extension__"])

    /// Skips a C/C++ macro used as a whole line (`_GLIBCXX_BEGIN_NAMESPACE_VERSION`, `STEP(a, b)`
    /// with no `;`): an upper-case name, with arguments or not, that ends its line. Macros are not
    /// expanded, so this is all that can be said about them; returns false (nothing skipped) otherwise.
    private mutating func skipMacroLine() -> Bool {
        guard dialect == .c || dialect == .cpp, tok.kind == .ident, tok.length >= 2, isMacroName(tok) else { return false }
        let save = pos
        advance()
        if isOp("("), !tok.newlineBefore { skipGroup() }
        // (Nor a constructor named in capitals with its initializers on the next line: `_NFA(int f)\n: _B(f)`.)
        if (tok.newlineBefore && !isOp("{") && !isOp(";") && !isOp(":") && !functionHeadHere()) || atEnd { return true }
        pos = save
        return false
    }

    /// `name(...)` then `{`, `const`, `noexcept` or `override`: the head of a function definition,
    /// which no statement looks like, so a macro on the line before it is its return type.
    private func functionHeadHere() -> Bool {
        guard tok.kind == .ident, isOp("(", peek()), !isMacroName(tok), !Self.notFunctionNames.contains(tok), !Self.notNames.contains(tok)
        else { return false }
        var k = pos + 1, depth = 0
        while k < tokens.count - 1 {
            if isOp("(", tokens[k]) { depth += 1 } else if isOp(")", tokens[k]) {
                depth -= 1
                if depth == 0 { break }
            } else if isOp(";", tokens[k]) || isOp("{", tokens[k]) || isOp("}", tokens[k]) {
                return false
            }
            k += 1
        }
        let next = tokens[min(k + 1, tokens.count - 1)], after = tokens[min(k + 2, tokens.count - 1)]
        if isWord("const", next) {
            // `f() const {`, `f() const noexcept`; not `f(x)` then `const int y = ...;`.
            return isOp("{", after) || isWord("noexcept", after) || isWord("override", after) || isOp("&", after) || isOp("->", after)
        }
        return isOp("{", next) || isWord("noexcept", next) || isWord("override", next)
    }

    /// A C/C++ library's attribute macro before a declaration (`_GLIBCXX14_CONSTEXPR inline void f()`):
    /// a macro name starting with `_` (reserved to implementations) followed by another word.
    private func isImplementationMacro() -> Bool {
        guard dialect == .c || dialect == .cpp, tok.kind == .ident, peek().kind == .ident, !peek().newlineBefore, tok.length >= 2
        else { return false }
        // A name starting with `_` is the implementation's; any other upper-case name only before a
        // type word (`NO_INLINE void f()`), so a macro type (`LL f(LL n)`) is still read as a type.
        guard lexed.bytes[tok.offset] == UInt8(ascii: "_") || Self.primitiveWords.contains(peek()) || Self.modifiers.contains(peek())
        else { return false }
        return isMacroName(tok)
    }

    /// `A::B<T>::name` directly followed by `(`: returns `name`, positioned at `(`; otherwise nil
    /// with the position unchanged.
    private mutating func qualifiedFunctionName() -> String? {
        let save = pos
        var name = ""
        var qualified = false
        while tok.kind == .ident {
            name = text(tok)
            advance()
            if isOp("<"), !skipTypeArguments() { break }
            guard accept("::") else { break }
            qualified = true
            _ = accept("~")
        }
        if qualified, isOp("("), !name.isEmpty { return name }
        pos = save
        return nil
    }

    /// Joins adjacent C string literals (`"a" "b"`) and the string macros between them
    /// (`"%08" PRIx32 "\n"`, which the preprocessor would expand to a literal) into `s`.
    private mutating func concatenateStrings(_ s: inout String) {
        while true {
            if tok.kind == .string {
                s += text(tok)
            } else if tok.kind == .ident, isMacroLike(tok), peek(-1).kind == .string || peek().kind == .string {
                s += text(tok)
            } else {
                return
            }
            advance()
        }
    }

    /// A name that may be a macro where the parser cannot see its expansion: one `#define`d in
    /// this file, an upper-case name (`NOINLINE`, `MAXN`), or one of C99's `<inttypes.h>` format
    /// macros (`PRIx32`, `SCNd64`).
    private func isMacroLike(_ t: CToken) -> Bool {
        guard t.kind == .ident, dialect == .c || dialect == .cpp else { return false }
        if lexed.definedMacros.contains(t.tag) || (t.length >= 2 && isMacroName(t)) { return true }
        // PRI/SCN, a conversion letter, then a width (`PRId64`, `PRIuPTR`, `SCNxMAX`, `PRIxFAST32`).
        guard t.length >= 5, t.length <= 12 else { return false }
        let b = lexed.bytes, o = t.offset
        let prefix = (b[o], b[o + 1], b[o + 2])
        guard prefix == (0x50, 0x52, 0x49) || prefix == (0x53, 0x43, 0x4E) else { return false }  // "PRI", "SCN"
        return "diouxX".utf8.contains(b[o + 3])
    }

    /// Upper-case letters, digits and underscores only, with at least one letter (`FOO_BAR2`).
    private func isMacroName(_ t: CToken) -> Bool {
        var letter = false
        for k in t.offset..<min(t.end, lexed.bytes.count) {
            let c = lexed.bytes[k]
            if c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") { letter = true } else if !(c == UInt8(ascii: "_") || CFamilyTokenizer.isDigit(c)) {
                return false
            }
        }
        return letter
    }

    private mutating func skipToSemicolon() throws {
        while !isOp(";"), !atEnd { advance() }
        try expect(";")
    }

    private mutating func skipToSemicolonOverBraces() throws {
        while !isOp(";"), !atEnd { if isOp("{") { skipGroup() } else { advance() } }
        try expect(";")
    }

    private mutating func skipGoType() throws {
        advance()  // type
        if isOp("(") { skipGroup(); try endStatement(); return }
        while !atEnd {
            if isOp("{") { skipGroup(); break }
            if isOp("(") { skipGroup(); continue }
            if isOp("[") { skipGroup(); continue }
            if tok.newlineBefore, pos > 0 { break }
            if isOp(";") { break }
            advance()
        }
        _ = accept(";")
    }

    /// A class, interface, enum, record or struct; its methods become functions in a class.
    private mutating func parseClass(line: Int) throws -> Stmt? {
        if isOp("@") { advance() }
        let isEnum = isWord("enum")
        advance()
        var name = "anonymous"
        if dialect == .c || dialect == .cpp {
            // `class [[nodiscard]] X`, `class _GLIBCXX_ABI_TAG X`: attributes and a macro before the name.
            _ = skipAttributes()
            if tok.kind == .ident, peek().kind == .ident, !isWord("final", peek()), mayBeMacro(tok) { advance() }
        }
        if tok.kind == .ident { name = text(tok); advance() }
        // Headers: generics, `extends`, `implements`, bases, record components, C++ `final`.
        while !isOp("{"), !isOp(";"), !atEnd {
            if isOp("<"), skipTypeArguments() || skipTemplateParameters() { continue }
            if isOp("(") || isOp("[") { skipGroup(); continue }
            if tok.kind == .ident {
                // Declarations like `struct P p;` or `struct P *next;` use the struct as a type.
                if (dialect == .c || dialect == .cpp), tok.kind == .ident, isOp(";", peek()) || isOp("=", peek()) || isOp("[", peek()) {
                    advance()
                    try skipToSemicolonOverBraces()
                    return nil
                }
            }
            if (dialect == .c || dialect == .cpp), isOp("*") || isOp("(") {
                try skipToSemicolonOverBraces()
                return nil
            }
            advance()
        }
        if accept(";") { return nil }
        try expect("{")
        var members: [Stmt] = []
        if isEnum {
            // Enum constants up to `;` (Java) or the closing brace.
            var depth = 0
            while !atEnd {
                if depth == 0, isOp("}") { break }
                if depth == 0, isOp(";") { advance(); break }
                if isOp("(") || isOp("{") || isOp("[") { depth += 1 } else if isOp(")") || isOp("}") || isOp("]") { depth -= 1 }
                advance()
            }
        }
        while !isOp("}"), !atEnd {
            if dialect == .cpp || dialect == .c, isWord("public") || isWord("private") || isWord("protected"), isOp(":", peek()) {
                advance(); advance(); continue
            }
            parseMember(into: &members, inClass: name)
        }
        let end = tok.line
        try expect("}")
        if dialect == .c || dialect == .cpp {
            // `struct P {...} a, b;`, `struct {...} tests[] = {{...}, ...};`
            if tok.kind == .ident || isOp("*") || isOp("&") || isOp("=") || isOp("[") || isOp(",") {
                try skipToSemicolonOverBraces()
            } else {
                _ = accept(";")
            }
        }
        return Stmt(kind: .classDef(ClassDef(name: name, bases: [], body: members, decorators: [])), line: line, endLine: end)
    }

    /// A JavaScript class member: a method (`name(...) {`, `get x()`, `static async *m()`) or a field.
    private mutating func parseJSClassMember(into body: inout [Stmt], line: Int) throws {
        while isWord("static") || isWord("async") || isWord("get") || isWord("set"), !isOp("(", peek()), !isOp("=", peek()),
            !isOp(";", peek()), !peek().newlineBefore
        {
            advance()
        }
        _ = accept("*")
        _ = accept("#")
        if isOp("{") { _ = try parseBlock(); return }
        guard tok.kind == .ident || tok.kind == .string || isOp("[") else { throw fail("expected a class member, found \(describe(tok))") }
        var name = text(tok)
        if isOp("[") { skipGroup(); name = "computed" } else { advance() }
        if isOp("(") {
            try parseFunctionRest(name: name == "constructor" ? "constructor" : name, into: &body, line: line)
            return
        }
        if accept("=") { _ = try parseExpression() }
        try endStatement()
    }

    /// Reads a declaration's type and returns the declared name, positioned after it; nil when the
    /// tokens here are not `Type name`. `Type` covers qualified names, generics, arrays, pointers.
    private mutating func declarationName() throws -> String? {
        guard skipType() else { return nil }
        if dialect == .cpp, isOp("::", peek(-2)) {
            // An out-of-class member read as one qualified type: `void deque<T, A>::clear(`,
            // `bool Foo<T>::operator==(`. The last name is the function's.
            if isOp("("), peek(-1).kind == .ident, !isReserved(peek(-1)) { return text(peek(-1)) }
            if isWord("operator", peek(-1)) { return "operator" }
        }
        // A function of the global namespace: `friend void ::f(int);`.
        if dialect == .cpp, isOp("::"), peek().kind == .ident { advance() }
        guard tok.kind == .ident, !isReserved(tok) else { return nil }
        var name = text(tok)
        advance()
        // C++ out-of-class definitions: `int Foo::bar(...)`, `T* basic_ios<C, T>::rdbuf(...)`;
        // a specialization named with its arguments: `friend T f<>(int);`.
        let save = pos
        if dialect == .cpp, isOp("<"), name == "operator" || !skipTypeArguments() || !(isOp("::") || isOp("(")) { pos = save }
        while isOp("::"), peek().kind == .ident || isOp("~", peek()) {
            advance()
            if accept("~") {}
            name = text(tok)
            advance()
            if dialect == .cpp, isOp("<") {
                let here = pos
                if !skipTypeArguments() || !isOp("::") { pos = here }
            }
        }
        return name
    }

    /// True for a word that cannot be a declared name in this dialect (`in`, `delete`, `await` are
    /// names in Java: `Scanner in`, `boolean delete(int i)`).
    private func isReserved(_ t: CToken) -> Bool {
        guard t.kind == .ident else { return false }
        if Self.notNames.contains(t) { return true }
        switch dialect {
        case .javascript: return Self.notNamesInJavaScript.contains(t)
        case .cpp: return t.tag == CToken.tag("delete")
        default: return false
        }
    }

    private static let notNamesInJavaScript = TagTable(words: ["in", "of", "await", "yield", "typeof", "delete"])

    /// Words that cannot be a declared name in any dialect.
    private static let notNames = TagTable(words: [
        "return", "new", "throw", "case", "else", "instanceof", "sizeof", "goto",
        "break", "continue", "do", "while", "for", "if", "switch", "try", "catch", "finally",
    ])
    private static let primitiveWordList = [
        "int", "long", "short", "char", "unsigned", "signed", "double", "float", "bool", "boolean", "byte", "void",
        "const", "struct", "enum", "union", "auto", "size_t", "var", "final", "static", "volatile", "register",
        "typename", "constexpr", "__int128", "wchar_t", "thread_local", "_Thread_local",
    ]
    private static let primitiveWords = TagTable(words: primitiveWordList)

    /// The primitive words that are type words in Java (`register`, `auto`, `struct` are names there).
    private static let javaTypeWords = TagTable(words: [
        "int", "long", "short", "char", "double", "float", "boolean", "byte", "void", "final", "var", "static", "volatile",
    ])

    /// Java's type words that are plain names in C and C++ (`unsigned int byte`).
    private static let javaOnlyTypeWords = TagTable(words: ["boolean", "byte", "var", "final"])

    /// Whether the token is a primitive type word (of any dialect).
    private static func isPrimitive(_ t: CToken) -> Bool { t.kind == .ident && primitiveWords.contains(t) }

    private static let typeContinuations = TagTable(words: ["<", ".", "::", "*", "&", "&&", "..."])

    /// Skips a type if one is here; false (position unchanged) otherwise.
    private mutating func skipType() -> Bool {
        let start = pos
        var sawName = false
        if dialect == .cpp, isWord("decltype"), isOp("(", peek()) {
            // `decltype(auto) f()`, `decltype(n) i = 0`: a type, then the declarator.
            advance()
            skipGroup()
            while isOp("*") || isOp("&") || isOp("&&") || isWord("const") { advance() }
            return true
        }
        while tok.kind == .ident, Self.primitiveWords.contains(tok),
            dialect == .c || dialect == .cpp ? !Self.javaOnlyTypeWords.contains(tok) : Self.javaTypeWords.contains(tok)
        {
            sawName = true
            advance()
        }
        // After modifiers or primitive words, the next identifier is still part of the type when a
        // type continues after it (`final Object[] es`, `const Foo& x`); else it is the declared name.
        let next = peek()
        let typeContinues = next.kind == .ident
            || (next.kind == .op && Self.typeContinuations.contains(next))
            || (isOp("[", next) && isOp("]", peek(2)) && (peek(3).kind == .ident || isOp("[", peek(3)) || isOp("...", peek(3))))
        // `operator` names a function (`bool operator<(...)`), it never starts a type.
        if !sawName || (tok.kind == .ident && typeContinues && !(dialect == .cpp && isWord("operator"))) {
            if tok.kind == .ident {
                if isReserved(tok) { pos = start; return false }
                advance()
                sawName = true
                // C and C++ qualify type names with `::` only: `g.template operator()<T>()` is a call.
                while isOp(".") && dialect != .c && dialect != .cpp || isOp("::"), peek().kind == .ident {
                    advance()
                    advance()
                    if isOp("<"), dialect != .javascript { _ = skipTypeArguments() }
                }
            }
        }
        guard sawName else { pos = start; return false }
        if dialect != .javascript, dialect != .go, isOp("<") {
            if !skipTypeArguments() { pos = start; return false }
            while isOp("::") || isOp("."), peek().kind == .ident { advance(); advance(); if isOp("<") { _ = skipTypeArguments() } }
        }
        while true {
            if dialect == .java || dialect == .cpp, isOp("["), isOp("]", peek()) { advance(); advance(); continue }
            if dialect == .java, isOp("...") { advance(); continue }
            if dialect == .c || dialect == .cpp, isOp("*") || isOp("&") || isOp("&&") || isWord("const") { advance(); continue }
            break
        }
        return true
    }

    /// Parameters, then a body (or `;` for a declaration only), after the function's name.
    private mutating func parseFunctionRest(name: String, into body: inout [Stmt], line: Int) throws {
        let params = try parseParameters()
        // Trailing qualifiers and Java `throws`, C++ `-> type`, initializer lists.
        while !isOp("{"), !isOp(";"), !atEnd {
            if isOp("=") && dialect == .cpp {
                // `= default;` / `= delete;` / `= 0;`
                advance(); advance(); continue
            }
            if isOp("(") || isOp("[") { skipGroup(); continue }
            if isOp("{") { break }
            if dialect == .cpp, isWord("requires") { skipConstraint(); continue }
            if dialect == .cpp, isOp(":") {
                // Constructor initializer list: `: a(x), b{y}`.
                advance()
                while !atEnd {
                    while tok.kind == .ident || isOp("::") || isOp(".") { advance() }
                    if isOp("<") { _ = skipTypeArguments() }
                    if isOp("(") || isOp("{") { skipGroup() }
                    if !accept(",") { break }
                }
                continue
            }
            if dialect == .javascript { break }
            advance()
        }
        if accept(";") { return }
        if dialect == .javascript, !isOp("{") { throw fail("expected '{' to start the body of \(name)") }
        let end: Int
        let stmts: [Stmt]
        (stmts, end) = try parseBlockWithEnd()
        body.append(makeFunction(name: name, params: params, body: stmts, line: line, endLine: end))
    }

    private func makeFunction(name: String, params: [String], body: [Stmt], line: Int, endLine: Int) -> Stmt {
        let list = params.map { Parameter(name: $0, kind: .positional, defaultValue: nil, annotation: nil) }
        let def = FunctionDef(
            name: name, parameters: Parameters(list: list), body: body, decorators: [], returns: nil, isAsync: false,
            mayCallItself: RecursionScan.mayCallItself(name, in: body))
        return Stmt(kind: .function(def), line: line, endLine: endLine)
    }

    /// `( ... )`: each parameter's name (the last identifier before `=`, `[`, `:` in C/Java; the
    /// first in Go and JavaScript).
    private mutating func parseParameters() throws -> [String] {
        try expect("(")
        var names: [String] = []
        var chunk: [CToken] = []
        var depth = 0
        func flush() {
            var idents = chunk.filter { $0.kind == .ident && !Self.primitiveWords.contains($0) }
            if dialect == .java || dialect == .c || dialect == .cpp {
                if let eq = chunk.firstIndex(where: { isOp("=", $0) }) {
                    idents = chunk[..<eq].filter { $0.kind == .ident }
                }
                if let last = idents.last, idents.count >= 1 { names.append(text(last)) }
            } else if let first = idents.first {
                names.append(text(first))
            }
            chunk.removeAll()
        }
        while !atEnd {
            if tok.kind == .op {
                if isOp("(") || isOp("[") || isOp("{") || isOp("<") { depth += 1 }
                if isOp(")") || isOp("]") || isOp("}") || isOp(">") {
                    if depth == 0, isOp(")") { flush(); advance(); return names }
                    depth = max(0, depth - 1)
                }
                if isOp(","), depth == 0 { flush(); advance(); continue }
                if isOp("{") || isOp("}"), depth > 50 { break }
            }
            if isOp(";") { throw fail("expected ')' to close the parameter list") }
            chunk.append(tok)
            advance()
        }
        throw fail("expected ')' to close the parameter list")
    }

    // MARK: - Go functions

    private mutating func parseGoFunc(into body: inout [Stmt], line: Int) throws {
        advance()  // func
        if isOp("(") { skipGroup() }  // receiver
        guard tok.kind == .ident else { throw fail("expected a function name after 'func'") }
        let name = text(tok)
        advance()
        if isOp("[") { skipGroup() }  // type parameters
        let params = try parseParameters()
        // Results: a type or a parenthesised list.
        while !isOp("{"), !atEnd, !(tok.newlineBefore && !isOp("(")) {
            if isOp("(") || isOp("[") { skipGroup(); continue }
            if isOp(";") { break }
            advance()
        }
        if !isOp("{") { _ = accept(";"); return }  // declaration without a body
        let (stmts, end) = try parseBlockWithEnd()
        body.append(makeFunction(name: name, params: goParameterNames(params), body: stmts, line: line, endLine: end))
    }

    /// Go writes `a, b int`: every chunk's first identifier is a name, except a lone type.
    private func goParameterNames(_ names: [String]) -> [String] { names }

    // MARK: - Blocks and statements

    private mutating func parseBlock() throws -> [Stmt] { try parseBlockWithEnd().0 }

    private mutating func parseBlockWithEnd() throws -> ([Stmt], Int) {
        try expect("{")
        var body: [Stmt] = []
        while !isOp("}"), !atEnd {
            parseStatementRecovering(into: &body)
        }
        let end = tok.line
        if atEnd { throw fail("expected '}' before the end of the file") }
        advance()
        return (Self.foldTemporarySwaps(body), end)
    }

    /// `t = a % b; a = b; b = t;` (and `t = b; b = a % b; a = t;`) is Euclid's step written with a
    /// temporary; it becomes `a, b = b, a % b`, the form the model reads as a halving update.
    static func foldTemporarySwaps(_ body: [Stmt]) -> [Stmt] {
        guard body.count >= 3 else { return body }
        var out: [Stmt] = []
        var i = 0
        func assign(_ s: Stmt) -> (String, Expr)? {
            if case .assign(let targets, let value) = s.kind, targets.count == 1, case .name(let n) = targets[0] { return (n, value) }
            return nil
        }
        while i < body.count {
            if i + 2 < body.count, let (t, v1) = assign(body[i]), let (x, v2) = assign(body[i + 1]), let (y, v3) = assign(body[i + 2]),
                case .name(let last) = v3, last == t
            {
                // t = a % b; a = b; b = t
                if case .binary("%", .name(let a), .name(let b)) = v1, x == a, case .name(let bb) = v2, bb == b, y == b {
                    out.append(Stmt(kind: .assign(targets: [.tuple([.name(a), .name(b)])], value: .tuple([.name(b), v1])), line: body[i].line, endLine: body[i + 2].endLine))
                    i += 3
                    continue
                }
                // t = b; b = a % b; a = t
                if case .name(let b) = v1, x == b, case .binary("%", .name(let a), .name(let b2)) = v2, b2 == b, y == a {
                    out.append(Stmt(kind: .assign(targets: [.tuple([.name(a), .name(b)])], value: .tuple([.name(b), v2])), line: body[i].line, endLine: body[i + 2].endLine))
                    i += 3
                    continue
                }
            }
            out.append(body[i])
            i += 1
        }
        return out
    }

    private mutating func parseStatementRecovering(into body: inout [Stmt]) {
        let start = pos
        do {
            try enter()
            defer { leave() }
            let saved = hoistedArms
            hoistedArms = []
            var one: [Stmt] = []
            try parseStatement(into: &one)
            body.append(contentsOf: hoistedArms)
            body.append(contentsOf: one)
            hoistedArms = saved
        } catch let e as ParseError {
            if wholeMacroCall(e, from: start) {
                // `__glibcxx_requires_valid_range(a, b)` with no `;`: only the call is skipped.
                skip(e, from: start)
                pos = e.index
                return
            }
            if skipMacroArguments(e, from: start, inBody: true) {
                skip(e, from: start)
                return
            }
            recover(from: start)
            if macroCouldExplain(e, from: start, to: pos) {
                skip(e, from: start)
                return
            }
            report(e)
            let line = tokens[start].line
            body.append(Stmt(kind: .error(e.message), line: line, endLine: line))
        } catch {}
    }

    /// Records `name` as an object of a user class when `value` constructs one (`new Solver()`):
    /// its method calls are then calls of the user's methods.
    private mutating func noteObject(_ name: String, _ value: Expr) {
        if case .call(.name(let cls), _, _) = value, cls.first?.isUppercase == true, containers[name] == nil {
            containers[name] = .object
        }
    }

    /// A statement as a block: braces give their statements, anything else one statement.
    private mutating func parseBody() throws -> [Stmt] {
        if isOp("{") { return try parseBlock() }
        var body: [Stmt] = []
        try enter()
        defer { leave() }
        try parseStatement(into: &body)
        return body
    }

    private func stmt(_ kind: StmtKind, _ line: Int, _ end: Int? = nil) -> Stmt {
        Stmt(kind: kind, line: line, endLine: end ?? line)
    }

    private var lastLine: Int { tokens[max(0, pos - 1)].line }

    mutating func parseStatement(into body: inout [Stmt]) throws {
        let line = tok.line
        if accept(";") { return }
        if dialect == .c || dialect == .cpp { _ = skipAttributes() }
        if skipMacroLine() { return }
        if isOp("{") {
            body.append(contentsOf: try parseBlock())
            return
        }
        if dialect == .c || dialect == .cpp, isWord("asm") || isWord("__asm__") || isWord("__asm") {
            // GNU inline assembly, `asm volatile ("..." : "=r"(x) : "r"(y));`: operands, no work to price.
            advance()
            while isWord("volatile") || isWord("__volatile__") || isWord("goto") || isWord("inline") { advance() }
            guard isOp("("), skipGroup() else { throw fail("expected '(' after 'asm'") }
            try endStatement()
            return
        }
        if dialect == .java {
            skipAnnotations()
            // Local classes: `final class Sink implements ...`.
            while isWord("final") || isWord("abstract") || isWord("static") || isWord("strictfp"),
                isWord("class", peek()) || isWord("interface", peek()) || isWord("record", peek()) || isWord("enum", peek())
                    || isWord("abstract", peek()) || isWord("static", peek())
            {
                advance()
            }
        }
        // Labels: `outer:`.
        if tok.kind == .ident, isOp(":", peek()), !isWord("default"), dialect != .go || !isOp("=", peek(2)) {
            advance(); advance()
            return try parseStatement(into: &body)
        }
        if tok.kind == .ident {
            switch tok.tag {
            case CToken.tag("if"): return try parseIf(into: &body, line: line)
            case CToken.tag("while") where dialect != .go:
                advance()
                let test = try parseCondition()
                if dialect == .c || dialect == .cpp || dialect == .java || dialect == .javascript {
                    if let loop = countedDownLoop(test, line: line) {
                        let b = try parseBody()
                        body.append(stmt(.forStmt(target: .name("_"), iterable: loop, body: b, orElse: [], isAsync: false), line, lastLine))
                        return
                    }
                }
                let b = try parseBody()
                body.append(stmt(.whileStmt(test, body: b, orElse: []), line, lastLine))
                return
            case CToken.tag("do") where dialect != .go:
                advance()
                let b = try parseBody()
                guard acceptWord("while") else { throw fail("expected 'while' after the body of 'do'") }
                let test = try parseCondition()
                _ = accept(";")
                body.append(stmt(.whileStmt(test, body: b, orElse: []), line, lastLine))
                return
            case CToken.tag("for"): return try parseFor(into: &body, line: line)
            case CToken.tag("switch"), CToken.tag("select"): return try parseSwitch(into: &body, line: line)
            case CToken.tag("return"):
                advance()
                var value: Expr?
                if !isOp(";"), !isOp("}"), !atEnd, !((dialect == .javascript || dialect == .go) && tok.newlineBefore) {
                    value = try parseExpressionList()
                }
                try endStatement()
                body.append(stmt(.returnStmt(value), line))
                return
            case CToken.tag("break"), CToken.tag("continue"):
                let isBreak = isWord("break")
                advance()
                if tok.kind == .ident, !tok.newlineBefore { advance() }  // label
                try endStatement()
                body.append(stmt(isBreak ? .breakStmt : .continueStmt, line))
                return
            case CToken.tag("goto"), CToken.tag("fallthrough"):
                advance()
                if tok.kind == .ident, !tok.newlineBefore { advance() }
                try endStatement()
                return
            case CToken.tag("throw") where dialect != .go:
                advance()
                if dialect == .cpp, accept(";") { return }  // `throw;` rethrows
                let e = try parseExpression()
                try endStatement()
                body.append(stmt(.raise(e, cause: nil), line))
                return
            case CToken.tag("try") where dialect != .go, CToken.tag("__try") where dialect == .cpp:
                // libstdc++ spells try/catch as the macros `__try`/`__catch` (no-ops without exceptions).
                return try parseTry(into: &body, line: line)
            case CToken.tag("defer") where dialect == .go, CToken.tag("go") where dialect == .go:
                advance()
                return try parseStatement(into: &body)
            case CToken.tag("function") where dialect == .javascript:
                if peek().kind == .ident || (isOp("*", peek()) && peek(2).kind == .ident) {
                    advance()
                    _ = accept("*")
                    let name = text(tok)
                    advance()
                    try parseFunctionRest(name: name, into: &body, line: line)
                    return
                }
            case CToken.tag("async") where dialect == .javascript && isWord("function", peek()):
                advance()
                return try parseStatement(into: &body)
            case CToken.tag("class") where dialect == .javascript || dialect == .java || dialect == .cpp:
                if let c = try parseClass(line: line) { body.append(c) }
                return
            case CToken.tag("interface") where dialect == .java && peek().kind == .ident, CToken.tag("record") where dialect == .java && peek().kind == .ident:
                if let c = try parseClass(line: line) { body.append(c) }
                return
            case CToken.tag("struct"), CToken.tag("enum"), CToken.tag("union"):
                if dialect == .java, isWord("enum"), peek().kind == .ident {
                    if let c = try parseClass(line: line) { body.append(c) }
                    return
                }
                guard dialect == .c || dialect == .cpp, peek().kind == .ident && isOp("{", peek(2)) || isOp("{", peek())
                    || localClassWithBases()
                else { break }
                if let c = try parseClass(line: line) { body.append(c) }
                return
            case CToken.tag("constexpr") where dialect == .cpp, CToken.tag("static") where dialect == .c || dialect == .cpp,
                CToken.tag("const") where dialect == .c || dialect == .cpp:
                // `constexpr struct { ... } __f = {...};`: a local type defined with its variables.
                var k = 1
                while isWord("constexpr", peek(k)) || isWord("static", peek(k)) || isWord("const", peek(k)) { k += 1 }
                guard isWord("struct", peek(k)) || isWord("union", peek(k)) || isWord("class", peek(k)) && dialect == .cpp,
                    isOp("{", peek(k + 1)) || peek(k + 1).kind == .ident && isOp("{", peek(k + 2))
                else { break }
                for _ in 0..<k { advance() }
                if let c = try parseClass(line: line) { body.append(c) }
                return
            
            case CToken.tag("type") where dialect == .go:
                try skipGoType()
                return
            case CToken.tag("func") where dialect == .go && peek().kind == .ident:
                try parseGoFunc(into: &body, line: line)
                return
            case CToken.tag("var") where dialect == .go, CToken.tag("const") where dialect == .go:
                return try parseGoVar(into: &body, line: line)
            case CToken.tag("import") where dialect == .javascript && !isOp("(", peek()):
                try skipToStatementEnd()
                return
            case CToken.tag("export") where dialect == .javascript:
                if isOp("{", peek()) || isOp("*", peek()) {
                    // `export { a as b }`, `export * from 'm'`: names only, nothing runs.
                    advance()
                    try skipToStatementEnd()
                    return
                }
                advance()
                _ = acceptWord("default")
                return try parseStatement(into: &body)
            case CToken.tag("using") where dialect == .cpp || dialect == .c, CToken.tag("typedef") where dialect == .cpp || dialect == .c,
                CToken.tag("static_assert") where dialect == .cpp || dialect == .c:
                try skipToSemicolonOverBraces()
                return
            case CToken.tag("template") where dialect == .cpp:
                return try parseMemberThrowing(into: &body, inClass: nil)
            case CToken.tag("synchronized") where dialect == .java && isOp("(", peek()):
                advance()
                _ = try parseCondition()
                body.append(contentsOf: try parseBlock())
                return
            case CToken.tag("assert") where dialect == .java:
                advance()
                let e = try parseExpression()
                if accept(":") { _ = try parseExpression() }
                try endStatement()
                body.append(stmt(.assert(e, nil), line))
                return
            case CToken.tag("yield") where dialect == .java && !isOp("=", peek()) && !isOp("(", peek()):
                advance()
                let e = try parseExpression()
                try endStatement()
                body.append(stmt(.expr(e), line))
                return
            default:
                break
            }
        }
        if dialect == .javascript, isWord("let") || isWord("const") || isWord("var"),
            peek().kind == .ident || isOp("[", peek()) || isOp("{", peek())
        {
            advance()
            try parseDeclarators(into: &body, line: line, typeText: nil)
            try endStatement()
            return
        }
        if dialect == .c || dialect == .cpp, tok.kind == .ident, isOp("(", peek()) || Self.isPrimitive(tok) || peek().kind == .ident {
            // `void (*f)(int);` inside a function: a declaration, no work.
            if try skipFunctionPointerOrGuide(guides: false) { return }
        }
        if dialect == .cpp, isWord("auto") || isWord("const") || isWord("static") {
            // A structured binding, `const auto& [k, v] = *it;`: the names hold unknown values.
            let save = pos
            if skipType(), isWord("auto", peek(-1)) || isOp("&", peek(-1)) || isOp("&&", peek(-1)), isOp("[") {
                skipGroup()
                if accept("=") {
                    body.append(stmt(.expr(try parseAssignmentExpression()), line))
                } else if isOp("{") || isOp("(") {
                    skipGroup()
                }
                try endStatement()
                return
            }
            pos = save
        }
        if dialect != .javascript, dialect != .go {
            let save = pos
            let typeStart = pos
            if tok.kind == .ident, skipType(), definitionNameIsLast() || tok.kind == .ident, !isReserved(tok),
                isOp("=", peek()) || isOp(";", peek()) || isOp(",", peek()) || isOp("[", peek()) || isOp(":", peek())
                    || (dialect == .cpp && (isOp("::", peek()) || isOp("<", peek())))
                    || ((dialect == .cpp) && (isOp("(", peek()) || isOp("{", peek())))
            {
                let typeText = text(typeStart..<pos)
                // A local function declaration in C/C++ (`int f(int);`) or a constructor-style variable.
                try parseDeclarators(into: &body, line: line, typeText: typeText)
                try endStatement()
                return
            }
            pos = save
        }
        // Expression statement (with assignments, increments, input reads and library rewrites).
        try parseExpressionStatement(into: &body, line: line)
        try endStatement()
    }

    /// At `struct`/`class` in a C++ function body: `struct Name : Base {` or `struct Name final {`,
    /// a local class with bases (a declaration `struct Name x;` is a variable instead).
    private func localClassWithBases() -> Bool {
        guard dialect == .cpp, peek().kind == .ident else { return false }
        return isOp(":", peek(2)) && !isOp("::", peek(2)) || isWord("final", peek(2))
    }

    private mutating func skipToStatementEnd() throws {
        while !atEnd, !isOp(";"), !isOp("}") {
            if isOp("{") { skipGroup(); continue }
            advance()
            if dialect == .javascript, tok.newlineBefore { break }
        }
        _ = accept(";")
    }

    /// `name [= value] (, name [= value])*` after a type (Java, C, C++) or `let`/`const`/`var` (JavaScript).
    private mutating func parseDeclarators(into body: inout [Stmt], line: Int, typeText: String?) throws {
        repeat {
            // C/C++ pointer stars between declarators: `int *a, *b;`.
            while isOp("*") || isOp("&") { advance() }
            if dialect == .javascript, isOp("[") || isOp("{") {
                // Destructuring: the names are bound to unknown-sized values.
                skipGroup()
                if accept("=") {
                    let v = try parseAssignmentExpression()
                    body.append(stmt(.expr(v), line))
                }
                continue
            }
            guard tok.kind == .ident else { throw fail("expected a variable name, found \(describe(tok))") }
            var name = text(tok)
            advance()
            // A static member defined outside its class: `int Foo::count = 0;`, `const T X<T>::npos = 1;`,
            // and a variable template's specialization: `bool enabled<vector<T>> = true;`.
            while dialect == .cpp {
                let here = pos
                if isOp("<"), !skipTypeArguments() { pos = here; break }
                guard isOp("::"), peek().kind == .ident else { break }
                advance()
                name = text(tok)
                advance()
            }
            if dialect == .c || dialect == .cpp { _ = skipAttributes() }  // `const size_type __n2 [[maybe_unused]] = __n;`
            if dialect == .c || dialect == .cpp, accept(":") { _ = try parseConditional() }  // a bit-field, `unsigned f : 1`
            var dims: [Expr] = []
            while isOp("[") {
                advance()
                if isOp("]") { advance(); continue }
                dims.append(try parseExpression())
                try expect("]")
            }
            if let typeText { containers[name] = LibraryCalls.container(forType: typeText, dialect: dialect) }
            var value: Expr?
            lastLambda = nil
            if accept("=") {
                // `= {...}` is an initializer list, except in JavaScript where it is an object literal.
                value = isOp("{") && dialect != .javascript ? try parseBraceList() : try parseAssignmentExpression()
            } else if dialect == .cpp, isOp("(") || isOp("{") {
                // `vector<int> v(n);` / `vector<int> v{1, 2}`.
                let close = isOp("(") ? CToken.tag(")") : CToken.tag("}")
                advance()
                var args: [Expr] = []
                while !isOp(tag: close, tok), !atEnd {
                    args.append(try parseAssignmentExpression())
                    _ = accept("...")  // a pack expansion, `T x(std::forward<A>(a)...)`
                    if !accept(",") { break }
                }
                try expect(tag: close)
                if let typeText, typeText.hasPrefix("vector") || typeText.hasPrefix("std::vector") || typeText.hasPrefix("string")
                    || typeText.hasPrefix("std::string") || typeText.hasPrefix("deque")
                {
                    value = args.first.map { .binary("*", .list([.number("0")]), $0) } ?? .list([])
                } else {
                    value = .call(.name(LibraryCalls.baseTypeName(typeText ?? "")), args.map { Argument(keyword: nil, value: $0) }, line: line)
                }
            } else if dialect == .java, isOp(":") {
                return  // enhanced-for variable, handled by the caller
            }
            if value == nil, let typeText {
                value = LibraryCalls.defaultValue(forType: typeText, dialect: dialect)
            }
            if !dims.isEmpty, value == nil || dialect == .c || dialect == .cpp {
                // `int a[n][m]`: a sequence of the first dimension's length.
                value = dims.reversed().reduce(Expr.number("0")) { inner, d in .binary("*", .list([inner]), d) }
            }
            if let value, case .lambda = value, let (ps, fb) = lastLambda {
                let def = FunctionDef(
                    name: name, parameters: ps, body: fb, decorators: [], returns: nil, isAsync: false,
                    mayCallItself: RecursionScan.mayCallItself(name, in: fb))
                body.append(stmt(.function(def), line, lastLine))
            } else if let value {
                noteObject(name, value)
                body.append(stmt(.assign(targets: [.name(name)], value: value), line, lastLine))
            }
        } while accept(",")
    }

    /// `{a, b, c}` as an array initializer.
    private mutating func parseBraceList() throws -> Expr {
        try expect("{")
        var items: [Expr] = []
        while !isOp("}"), !atEnd {
            if isOp(".") && peek().kind == .ident { advance(); advance(); try expect("=") }  // C designated initializer
            if isOp("[") { skipGroup(); try expect("=") }
            items.append(isOp("{") ? try parseBraceList() : try parseAssignmentExpression())
            if dialect == .cpp { _ = accept("...") }  // `{ std::forward<Ts>(ts)... }`
            if !accept(",") { break }
        }
        try expect("}")
        return .list(items)
    }

    private mutating func parseGoVar(into body: inout [Stmt], line: Int) throws {
        advance()
        if isOp("(") {
            advance()
            while !isOp(")"), !atEnd {
                let l = tok.line
                try parseGoVarSpec(into: &body, line: l)
                if !accept(";") && !tok.newlineBefore && !isOp(")") { throw fail("expected a new line in the var list") }
            }
            try expect(")")
            try endStatement()
            return
        }
        try parseGoVarSpec(into: &body, line: line)
        try endStatement()
    }

    /// `a, b [Type] [= x, y]`.
    private mutating func parseGoVarSpec(into body: inout [Stmt], line: Int) throws {
        var names: [String] = []
        repeat {
            guard tok.kind == .ident else { throw fail("expected a name in var declaration") }
            names.append(text(tok))
            advance()
        } while accept(",")
        var typeText = ""
        while !isOp("="), !isOp(";"), !isOp(")"), !atEnd, !tok.newlineBefore || typeText.isEmpty && false {
            if isOp("{") || isOp("(") || isOp("[") {
                let s = pos
                skipGroup()
                typeText += text(s..<pos)
                continue
            }
            typeText += text(tok)
            advance()
            if tok.newlineBefore { break }
        }
        for n in names { containers[n] = LibraryCalls.container(forType: typeText, dialect: .go) }
        if accept("=") {
            let values = try parseExpressionListItems()
            for (i, n) in names.enumerated() {
                let v = i < values.count ? values[i] : (values.count == 1 ? values[0] : .constant("None"))
                body.append(stmt(.assign(targets: [.name(n)], value: v), line, lastLine))
            }
        } else if let v = LibraryCalls.defaultValue(forType: typeText, dialect: .go) {
            for n in names { body.append(stmt(.assign(targets: [.name(n)], value: v), line)) }
        }
    }

    private mutating func parseIf(into body: inout [Stmt], line: Int) throws {
        advance()
        var pre: [Stmt] = []
        let test: Expr
        if dialect == .go {
            test = try parseGoHeader(pre: &pre)
        } else {
            _ = acceptWord("constexpr")
            if dialect == .cpp, isWord("consteval") || (isOp("!") && isWord("consteval", peek())) {
                // C++23 `if consteval { ... }`: no condition.
                if isOp("!") { advance() }
                advance()
                let then = try parseBody()
                var orElse: [Stmt] = []
                if acceptWord("else") { orElse = try parseBody() }
                body.append(stmt(.ifStmt(.constant("True"), body: then, orElse: orElse), line, lastLine))
                return
            }
            // `if _GLIBCXX17_CONSTEXPR (c)`: a macro standing for `constexpr`.
            if dialect == .c || dialect == .cpp, isMacroLike(tok), isOp("(", peek()) { advance() }
            test = try parseCondition()
        }
        let then = try parseBody()
        var orElse: [Stmt] = []
        if acceptWord("else") {
            if isWord("if") {
                try parseIf(into: &orElse, line: tok.line)
            } else {
                orElse = try parseBody()
            }
        }
        body.append(contentsOf: pre)
        body.append(stmt(.ifStmt(test, body: then, orElse: orElse), line, lastLine))
    }

    /// A Go `if`/`switch` header: `[init;] cond` before `{`.
    private mutating func parseGoHeader(pre: inout [Stmt]) throws -> Expr {
        noBraceLiterals += 1
        defer { noBraceLiterals -= 1 }
        if isOp("{") { return .constant("True") }
        let l = tok.line
        var first: [Stmt] = []
        let e = try parseSimpleStatement(into: &first, line: l)
        if accept(";") {
            pre.append(contentsOf: first)
            if isOp("{") { return .constant("True") }
            var second: [Stmt] = []
            return try parseSimpleStatement(into: &second, line: l) ?? .constant("True")
        }
        if let e { return e }
        pre.append(contentsOf: first)
        return .constant("True")
    }

    /// `( expr )` of if/while/switch.
    private mutating func parseCondition() throws -> Expr {
        try expect("(")
        var e: Expr
        // C++17 `if (init; cond)`, and declarations in conditions: `while (int x = f())`.
        let save = pos
        if dialect == .cpp || dialect == .java, tok.kind == .ident, skipType(), tok.kind == .ident, isOp("=", peek()) {
            advance(); advance()
        } else {
            pos = save
        }
        // Inside the parentheses a comma is the comma operator (`if (f = 1, y && g())`).
        parenDepth += 1
        defer { parenDepth -= 1 }
        e = try parseExpression()
        if accept(";") { e = try parseExpression() }
        try expect(")")
        return e
    }

    /// `while (t-- > 0)`, `while (t--)`, `while (--t >= 0)`: a loop counted down from `t`.
    private func countedDownLoop(_ test: Expr, line: Int) -> Expr? {
        guard let t = decrementedName(test) else { return nil }
        return .call(.name("range"), [Argument(keyword: nil, value: .name(t))], line: line)
    }

    private func decrementedName(_ test: Expr) -> String? {
        switch test {
        case .unary("post--", .name(let t)): return t
        case .compare(.unary("post--", .name(let t)), let rest) where rest.count == 1:
            if case .number(let z) = rest[0].1, z == "0", rest[0].0 == ">" || rest[0].0 == "!=" { return t }
            return nil
        case .compare(.unary("pre--", .name(let t)), let rest) where rest.count == 1:
            if case .number(let z) = rest[0].1, z == "0", rest[0].0 == ">=" { return t }
            return nil
        default: return nil
        }
    }

    private mutating func parseTry(into body: inout [Stmt], line: Int) throws {
        advance()
        if isOp("(") { skipGroup() }  // try-with-resources
        let b = try parseBlock()
        var handlers: [ExceptHandler] = []
        var fin: [Stmt] = []
        while isWord("catch") || (dialect == .cpp && isWord("__catch")) {
            let l = tok.line
            advance()
            if isOp("(") { skipGroup() }
            handlers.append(ExceptHandler(type: nil, name: nil, body: try parseBlock(), line: l))
        }
        if acceptWord("finally") { fin = try parseBlock() }
        body.append(stmt(.tryStmt(body: b, handlers: handlers, orElse: [], finally: fin), line, lastLine))
    }

    /// `switch (e) { case ...: ... }` (Java arrow cases too) or Go's `switch`/`select`: every case
    /// body is an alternative, so the statement costs its dearest case.
    private mutating func parseSwitch(into body: inout [Stmt], line: Int) throws {
        advance()
        var pre: [Stmt] = []
        let subject: Expr
        if dialect == .go {
            subject = isOp("{") ? .constant("True") : try parseGoHeader(pre: &pre)
        } else {
            subject = try parseCondition()
        }
        try expect("{")
        var cases: [[Stmt]] = []
        var current: [Stmt] = []
        var started = false
        while !isOp("}"), !atEnd {
            if isWord("case") || isWord("default") {
                if started { cases.append(current) }
                current = []
                started = true
                advance()
                // Labels up to ':' or '->'; nested ternaries and lambdas are rare in labels.
                var depth = 0
                while !atEnd {
                    if depth == 0, isOp(":") || isOp("->") { break }
                    if isOp("(") || isOp("[") || isOp("{") { depth += 1 }
                    if isOp(")") || isOp("]") || isOp("}") { if depth == 0 { break }; depth -= 1 }
                    advance()
                }
                if accept("->") {
                    if isOp("{") { current.append(contentsOf: try parseBlock()) } else { parseStatementRecovering(into: &current) }
                } else {
                    try expect(":")
                }
                continue
            }
            parseStatementRecovering(into: &current)
        }
        if started { cases.append(current) }
        try expect("}")
        body.append(contentsOf: pre)
        // One flat statement of alternatives (Python's `match`), not a chain of nested `if`s: a
        // generated switch of thousands of cases would nest that deep, and every pass over the
        // tree recurses through it.
        body.append(stmt(.expr(subject), line))
        if !cases.isEmpty {
            let arms = cases.map { MatchCase(pattern: .constant("None"), guardExpr: nil, body: $0) }
            body.append(stmt(.match(subject, arms), line, lastLine))
        }
    }

    // MARK: - for loops

    private mutating func parseFor(into body: inout [Stmt], line: Int) throws {
        advance()
        if dialect == .go { return try parseGoFor(into: &body, line: line) }
        if dialect == .javascript { _ = acceptWord("await") }
        try expect("(")
        if dialect == .java { skipAnnotations(); _ = acceptWord("final"); skipAnnotations() }
        // for-each forms: `T x : e` (Java, C++), `const x of e` / `in e` (JavaScript).
        let save = pos
        if let (target, iterable) = try forEachHeader() {
            try expect(")")
            let b = try parseBody()
            body.append(stmt(.forStmt(target: target, iterable: iterable, body: b, orElse: [], isAsync: false), line, lastLine))
            return
        }
        pos = save
        var initial: [Stmt] = []
        if !isOp(";") {
            try parseForClause(into: &initial, line: line)
        }
        try expect(";")
        let test: Expr? = isOp(";") ? nil : try parseExpression()
        try expect(";")
        var step: [Stmt] = []
        while !isOp(")"), !atEnd {
            try parseStepExpression(into: &step, line: tok.line)
            if !accept(",") { break }
        }
        try expect(")")
        let b = try parseBody()
        emitFor(initial: initial, test: test, step: step, body: b, line: line, into: &body)
    }

    /// Lowers a three-part loop: a counted one to `for i in range(a, b[, s])`, anything else to
    /// its init, then `while test: body; step`.
    private func emitFor(initial: [Stmt], test: Expr?, step: [Stmt], body b: [Stmt], line: Int, into body: inout [Stmt]) {
        let end = lastLine
        if let range = countedRange(initial: initial, test: test, step: step, body: b, line: line) {
            // The condition runs before every iteration: a costly bound (`i < strlen(s)`) is paid each time.
            var b = b
            if let test, Self.hasCostlyCall(test) { b.insert(stmt(.expr(test), line), at: 0) }
            body.append(stmt(.forStmt(target: .name(range.variable), iterable: range.iterable, body: b, orElse: [], isAsync: false), line, end))
            return
        }
        body.append(contentsOf: initial)
        let test = test ?? .constant("True")
        body.append(stmt(.whileStmt(test, body: b + step, orElse: []), line, end))
    }

    private func countedRange(initial: [Stmt], test: Expr?, step: [Stmt], body: [Stmt], line: Int) -> (variable: String, iterable: Expr)? {
        guard initial.count == 1, case .assign(let targets, let start) = initial[0].kind, targets.count == 1,
            case .name(let v) = targets[0], let test, step.count == 1,
            case .augAssign(.name(let sv), let op, let amount) = step[0].kind, sv == v, op == "+" || op == "-",
            case .compare(.name(let tv), let rest) = test, tv == v, rest.count == 1
        else { return nil }
        // The body must not move the variable itself (then the loop is not simply counted).
        if Self.assigns(v, in: body) { return nil }
        let (cmp, bound) = rest[0]
        let one: Bool = { if case .number(let s) = amount { return s == "1" }; return false }()
        var args: [Expr]
        if op == "+" {
            guard cmp == "<" || cmp == "<=" || cmp == "!=" else { return nil }
            let stop = cmp == "<=" ? Expr.binary("+", bound, .number("1")) : bound
            if case .number(let z) = start, z == "0", one { args = [stop] } else { args = [start, stop] }
            if !one { args = [start, stop, amount] }
        } else {
            guard cmp == ">" || cmp == ">=" || cmp == "!=" else { return nil }
            let stop = cmp == ">=" ? Expr.binary("-", bound, .number("1")) : bound
            args = [start, stop, .unary("-", amount)]
            if !one, case .name = amount { args = [bound, start] }
        }
        return (v, .call(.name("range"), args.map { Argument(keyword: nil, value: $0) }, line: line))
    }

    /// True when `e` calls something other than a length or a constant-time accessor.
    static func hasCostlyCall(_ e: Expr) -> Bool {
        if case .call(let callee, _, _) = e {
            if case .name(let f) = callee, f == "len" || f == "int" { return false }
            if case .attribute(_, let m) = callee, ["get", "charAt", "at"].contains(m) { return false }
            return true
        }
        var found = false
        Walker.children(e) { if hasCostlyCall($0) { found = true } }
        return found
    }

    /// True when `body` assigns `name` (outside nested functions).
    static func assigns(_ name: String, in body: [Stmt]) -> Bool {
        for s in body {
            switch s.kind {
            case .assign(let targets, _):
                if targets.contains(where: { if case .name(let n) = $0 { return n == name }; return false }) { return true }
            case .augAssign(.name(let n), _, _) where n == name: return true
            case .forStmt(.name(let n), _, _, _, _) where n == name: return true
            case .function, .classDef: continue
            default: break
            }
            if Walker.anyChildBlock(s, { assigns(name, in: $0) }) { return true }
        }
        return false
    }

    private mutating func forEachHeader() throws -> (Expr, Expr)? {
        if dialect == .javascript {
            if isWord("let") || isWord("const") || isWord("var") { advance() }
            var target: Expr
            if isOp("[") || isOp("{") {
                skipGroup()
                target = .name("_")
            } else if tok.kind == .ident {
                target = .name(text(tok))
                advance()
            } else {
                return nil
            }
            if acceptWord("of") {
                return (target, try parseAssignmentExpression())
            }
            if acceptWord("in") {
                // Keys of an object or array: as many as its length.
                let e = try parseAssignmentExpression()
                return (target, e)
            }
            _ = target
            return nil
        }
        guard dialect == .java || dialect == .cpp else { return nil }
        guard skipType() else { return nil }
        if dialect == .cpp, isOp("[") {
            // Structured binding `auto [a, b] : v`.
            skipGroup()
            guard accept(":") else { return nil }
            return (.name("_"), try parseExpression())
        }
        guard tok.kind == .ident else { return nil }
        let name = text(tok)
        advance()
        guard accept(":") else { return nil }
        return (.name(name), try parseExpression())
    }

    /// The init clause: declarations or expressions.
    private mutating func parseForClause(into body: inout [Stmt], line: Int) throws {
        if dialect == .javascript, isWord("let") || isWord("const") || isWord("var") {
            advance()
            try parseDeclarators(into: &body, line: line, typeText: nil)
            return
        }
        if dialect != .javascript {
            let save = pos
            if tok.kind == .ident, skipType(), tok.kind == .ident, isOp("=", peek()) || isOp(",", peek()) || isOp(";", peek()) {
                try parseDeclarators(into: &body, line: line, typeText: nil)
                return
            }
            pos = save
        }
        repeat { try parseStepExpression(into: &body, line: line) } while accept(",")
    }

    private mutating func parseStepExpression(into body: inout [Stmt], line: Int) throws {
        var local: [Stmt] = []
        if let e = try parseSimpleStatement(into: &local, line: line) {
            local.append(stmt(.expr(e), line))
        }
        body.append(contentsOf: local)
    }

    private var noBraceLiterals = 0

    private mutating func parseGoFor(into body: inout [Stmt], line: Int) throws {
        noBraceLiterals += 1
        if isOp("{") {
            noBraceLiterals -= 1
            let b = try parseBlock()
            body.append(stmt(.whileStmt(.constant("True"), body: b, orElse: []), line, lastLine))
            return
        }
        // `for k, v := range x` / `for range x` / `for x := range n`.
        let save = pos
        var names: [String] = []
        while tok.kind == .ident, isOp(",", peek()) || isOp(":=", peek()) || isOp("=", peek()) {
            names.append(text(tok))
            advance()
            if accept(",") { continue }
            advance()
            break
        }
        if acceptWord("range") {
            let e = try parseExpression()
            noBraceLiterals -= 1
            let b = try parseBlock()
            // Ranging over a slice or map binds an index (and value); over an integer, 0..<n.
            let target: Expr = names.count == 2 ? .tuple([.name(names[0]), .name(names[1])]) : .name(names.first ?? "_")
            var iterable = e
            if names.count == 2 { iterable = .call(.name("enumerate"), [Argument(keyword: nil, value: e)], line: line) }
            if containers[Self.rootName(e) ?? ""] == nil, case .number = e { iterable = .call(.name("range"), [Argument(keyword: nil, value: e)], line: line) }
            body.append(stmt(.forStmt(target: target, iterable: iterable, body: b, orElse: [], isAsync: false), line, lastLine))
            return
        }
        pos = save
        var initial: [Stmt] = []
        var test: Expr?
        var step: [Stmt] = []
        let firstExpr = isOp(";") ? nil : try parseSimpleStatement(into: &initial, line: line)
        if accept(";") {
            if let firstExpr { initial.append(stmt(.expr(firstExpr), line)) }
            test = isOp(";") ? nil : try parseExpression()
            try expect(";")
            if !isOp("{") {
                try parseStepExpression(into: &step, line: line)
            }
        } else {
            test = firstExpr
        }
        noBraceLiterals -= 1
        let b = try parseBlock()
        emitFor(initial: initial, test: test, step: step, body: b, line: line, into: &body)
    }

    static func rootName(_ e: Expr) -> String? {
        switch e {
        case .name(let n): return n
        case .attribute(let b, _), .index(let b, _): return rootName(b)
        default: return nil
        }
    }

    // MARK: - Expression statements

    private mutating func parseExpressionStatement(into body: inout [Stmt], line: Int) throws {
        var local: [Stmt] = []
        if let e = try parseSimpleStatement(into: &local, line: line) {
            local.append(stmt(.expr(e), line, lastLine))
        }
        // Comma-separated expression statements (`a = 1, b = 2;`).
        while dialect != .go, accept(",") {
            if let e = try parseSimpleStatement(into: &local, line: line) { local.append(stmt(.expr(e), line)) }
        }
        body.append(contentsOf: local)
    }

    /// An assignment, increment, short variable declaration or plain expression. Statement forms
    /// are appended to `body`; a plain expression is returned (the caller decides what it is).
    private mutating func parseSimpleStatement(into body: inout [Stmt], line: Int) throws -> Expr? {
        if dialect == .go {
            // `a, b := x, y` and `a, b = x, y`.
            let save = pos
            var targets: [Expr] = []
            if tok.kind == .ident && isOp(",", peek()) || goTargetListAhead() {
                while true {
                    targets.append(try parseUnary())
                    if !accept(",") { break }
                }
                if isOp(":=") || isOp("=") {
                    advance()
                    let values = try parseExpressionListItems()
                    if values.count == targets.count {
                        for (t, v) in zip(targets, values) { body.append(stmt(.assign(targets: [t], value: v), line, lastLine)) }
                    } else {
                        body.append(stmt(.assign(targets: [.tuple(targets)], value: values.first ?? .constant("None")), line, lastLine))
                    }
                    return nil
                }
                pos = save
            }
        }
        let lhs = try parseConditional()
        if dialect == .go, isOp("<-") {
            // A send `ch <- v`: costs evaluating v.
            advance()
            let value = try parseAssignmentExpression()
            body.append(stmt(.expr(value), line, lastLine))
            return nil
        }
        if dialect == .cpp || dialect == .c, let reads = LibraryCalls.streamReads(lhs), !reads.isEmpty {
            for t in reads { body.append(stmt(.assign(targets: [t], value: LibraryCalls.readValue), line)) }
            return nil
        }
        if tok.kind == .op {
            if isOp("=") || isOp(":=") {
                advance()
                var targets = [lhs]
                var value = isOp("{") && dialect != .javascript ? try parseBraceList() : try parseConditionalOrLambda()
                while isOp("=") {
                    advance()
                    targets.append(value)
                    value = try parseConditionalOrLambda()
                }
                if tok.kind == .op, Self.compoundOperators.value(tok.tag) != nil || shiftAssignWidth() != nil {
                    // `head = h += taken`: the value is the compound assignment's.
                    for _ in 0..<(shiftAssignWidth() ?? 1) { advance() }
                    value = try parseAssignmentExpression()
                }
                if case .name(let n) = lhs { noteObject(n, value) }
                if let rewritten = LibraryCalls.rewriteAssignment(target: lhs, value: value, containers: containers, dialect: dialect) {
                    body.append(stmt(rewritten, line, lastLine))
                    return nil
                }
                body.append(stmt(.assign(targets: targets, value: value), line, lastLine))
                return nil
            }
            if tok.kind == .op, let op = Self.compoundOperators.value(tok.tag) {
                advance()
                if case .index(.name(let m), let keys) = lhs, containers[m] == .ordered {
                    // `m[k] += v` on a tree map: an O(log n) look-up or insertion.
                    _ = try parseAssignmentExpression()
                    body.append(stmt(.expr(.call(.name("heappush"), [Argument(keyword: nil, value: .name(m))] + keys.prefix(1).map { Argument(keyword: nil, value: $0) }, line: line)), line, lastLine))
                    return nil
                }
                let value = try parseAssignmentExpression()
                body.append(stmt(.augAssign(lhs, op, value), line, lastLine))
                return nil
            }
            if let width = shiftAssignWidth() {
                for _ in 0..<width { advance() }
                let value = try parseAssignmentExpression()
                body.append(stmt(.augAssign(lhs, "//", value), line, lastLine))
                return nil
            }
        }
        switch lhs {
        case .unary("post++", .index(.name(let m), let keys)) where containers[m] == .ordered,
            .unary("pre++", .index(.name(let m), let keys)) where containers[m] == .ordered,
            .unary("post--", .index(.name(let m), let keys)) where containers[m] == .ordered:
            body.append(stmt(.expr(.call(.name("heappush"), [Argument(keyword: nil, value: .name(m))] + keys.prefix(1).map { Argument(keyword: nil, value: $0) }, line: line)), line))
            return nil
        case .unary("post++", let t), .unary("pre++", let t):
            body.append(stmt(.augAssign(t, "+", .number("1")), line))
            return nil
        case .unary("post--", let t), .unary("pre--", let t):
            body.append(stmt(.augAssign(t, "-", .number("1")), line))
            return nil
        default:
            break
        }
        if let s = LibraryCalls.rewriteStatement(lhs, containers: containers, dialect: dialect) {
            body.append(contentsOf: s.map { stmt($0, line) })
            return nil
        }
        return lhs
    }

    /// Compound assignment operators (by tag) and the binary operator each applies (`>>=` and
    /// `>>>=` arrive as separate `>` tokens: see `shiftAssignWidth`).
    /// Whether a comma at bracket depth 0 comes before an `=` or `:=` on this line
    /// (`hdr.Size, err = f()`, `m[k], ok = x`): a Go assignment to several targets.
    private func goTargetListAhead() -> Bool {
        var depth = 0
        var comma = false
        var k = pos
        while k < tokens.count {
            let t = tokens[k]
            if t.kind == .end || (k > pos && t.newlineBefore && depth == 0) { return false }
            if t.kind == .op {
                switch t.tag {
                case CToken.tag("("), CToken.tag("["): depth += 1
                case CToken.tag(")"), CToken.tag("]"):
                    depth -= 1
                    if depth < 0 { return false }
                case CToken.tag("{"), CToken.tag("}"), CToken.tag(";"): if depth == 0 { return false }
                case CToken.tag(","): if depth == 0 { comma = true }
                case CToken.tag("="), CToken.tag(":="): if depth == 0 { return comma }
                default: break
                }
            }
            k += 1
        }
        return false
    }

    private static let compoundOperators = TagTable([
        ("+=", "+"), ("-=", "-"), ("*=", "*"), ("/=", "//"), ("%=", "%"), ("&=", "&"), ("|=", "|"), ("^=", "^"), ("<<=", "<<"),
        ("**=", "**"), ("&&=", "&"), ("||=", "|"), ("??=", "|"), ("&^=", "&"),
    ])

    /// Tokens spanned by `>>=` or `>>>=` here (split into `>` tokens by the tokenizer), or nil.
    private func shiftAssignWidth() -> Int? {
        guard isOp(">"), isOp(">", peek()), adjacent(2) else { return nil }
        if isOp("=", peek(2)), adjacent(3) { return 3 }
        if isOp(">", peek(2)), isOp("=", peek(3)), adjacent(4) { return 4 }
        return nil
    }

    /// True when the next `count` tokens touch (no space between them), as in `>>=` split into `>`s.
    private func adjacent(_ count: Int) -> Bool {
        for k in 0..<(count - 1) where peek(k + 1).offset != peek(k).offset + 1 { return false }
        return true
    }

    // MARK: - Expressions

    mutating func parseExpression() throws -> Expr {
        var e = try parseAssignmentExpression()
        // The comma operator in C-family expressions keeps its last value.
        while dialect != .go, isOp(","), parenDepth > 0 {
            advance()
            e = try parseAssignmentExpression()
        }
        return e
    }

    private var parenDepth = 0

    private mutating func parseExpressionList() throws -> Expr {
        let items = try parseExpressionListItems()
        return items.count == 1 ? items[0] : .tuple(items)
    }

    private mutating func parseExpressionListItems() throws -> [Expr] {
        var items = [try parseAssignmentExpression()]
        while isOp(",") {
            advance()
            items.append(try parseAssignmentExpression())
        }
        return items
    }

    /// An expression where an assignment is allowed as a value (`while ((line = r.readLine()) != null)`).
    private mutating func parseAssignmentExpression() throws -> Expr {
        if let atom = atomBeforeTerminator() { return atom }
        let lhs = try parseConditionalOrLambda()
        if isOp("=") || Self.compoundOperators.value(tok.tag) != nil && tok.kind == .op || shiftAssignWidth() != nil {
            for _ in 0..<(shiftAssignWidth() ?? 1) { advance() }
            let value = try parseAssignmentExpression()
            if case .name(let n) = lhs { return .namedExpr(n, value) }
            return value
        }
        return lhs
    }

    /// A lone number, string, character or plain name followed by `,` `)` `]` `}` or `;` (most
    /// arguments and every item of a data table): the same tree the full chain of precedence levels
    /// would build, without descending through it.
    private mutating func atomBeforeTerminator() -> Expr? {
        let next = peek()
        guard next.kind == .op, isOp(",", next) || isOp(")", next) || isOp("]", next) || isOp("}", next) || isOp(";", next) else {
            return nil
        }
        let t = tok
        switch t.kind {
        case .number:
            advance()
            return .number(normalisedNumber(t))
        case .char:
            advance()
            return .number("1")
        case .string:
            advance()
            return .string(text(t))
        case .ident where !Self.expressionWords.contains(t):
            advance()
            return .name(text(t))
        default:
            return nil
        }
    }

    private static let casts = TagTable(words: ["static_cast", "dynamic_cast", "const_cast", "reinterpret_cast", "bit_cast"])

    /// Words that `parseUnary` or `parsePrimary` treat specially in some dialect.
    private static let expressionWords = TagTable(words: [
        "typeof", "void", "delete", "await", "sizeof", "alignof", "_Alignof", "new", "throw", "yield", "map", "chan", "struct",
        "interface", "func", "function", "async", "switch", "class", "operator", "true", "false", "null", "nullptr", "nil",
        "undefined", "NULL", "this", "super",
    ])

    private mutating func parseConditionalOrLambda() throws -> Expr {
        if let lambda = try parseLambdaIfHere() { return lambda }
        return try parseConditional()
    }

    /// `x -> e`, `(a, b) -> {..}` (Java), `x => e`, `async (a) => {..}` (JavaScript).
    private mutating func parseLambdaIfHere() throws -> Expr? {
        guard dialect == .java || dialect == .javascript else { return nil }
        let arrow = dialect == .java ? CToken.tag("->") : CToken.tag("=>")
        let save = pos
        if dialect == .javascript, isWord("async") { if isOp("(", peek()) || peek().kind == .ident { advance() } }
        var params: [String] = []
        if tok.kind == .ident, isOp(tag: arrow, peek()) {
            params = [text(tok)]
            advance()
        } else if isOp("(") {
            let open = pos
            guard skipGroup(), isOp(tag: arrow, tok) else { pos = save; return nil }
            for t in tokens[(open + 1)..<(pos - 1)] where t.kind == .ident { params.append(text(t)) }
        } else {
            pos = save
            return nil
        }
        try expect(tag: arrow)
        let ps = Parameters(list: params.map { Parameter(name: $0, kind: .positional, defaultValue: nil, annotation: nil) })
        if isOp("{") {
            let b = try parseBlock()
            lastLambda = (ps, b)
            return .lambda(ps, Self.lambdaValue(b))
        }
        let l = tok.line
        let value = try parseAssignmentExpression()
        lastLambda = (ps, [stmt(.returnStmt(value), l, lastLine)])
        return .lambda(ps, value)
    }

    /// A block-bodied lambda's value for the model: what its first `return` gives (loops inside a
    /// callback are not priced; see docs/ANALYZER.md).
    private static func lambdaValue(_ body: [Stmt]) -> Expr {
        for s in body { if case .returnStmt(let e?) = s.kind { return e } }
        return .constant("None")
    }

    private mutating func parseConditional() throws -> Expr {
        let test = try parseBinary(0)
        if isOp("?") {
            advance()
            let a = try parseConditionalOrLambda()
            try expect(":")
            let b = try parseConditionalOrLambda()
            return .ifExp(test: test, body: a, orElse: b)
        }
        return test
    }

    private static let operatorNames = [
        "??", "||", "&&", "|", "^", "&", "==", "!=", "===", "!==", "<", ">", "<=", ">=", "instanceof", "in",
        "<<", ">>", ">>>", "+", "-", "*", "/", "%", "**", "&^", "<=>",
    ]
    /// Binary operators by tag: precedence and spelling.
    private static let precedence = TagTable(
        Array(zip(operatorNames, [1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 8, 8, 8, 9, 9, 10, 10, 10, 11, 10, 7]).map { ($0, ($1, $0)) }))

    /// The binary operator here (by tag, joining adjacent `>` tokens) and how many tokens it spans.
    private func binaryOperator() -> (UInt64, Int)? {
        let t = tok
        if t.kind == .ident {
            if t.tag == CToken.tag("instanceof"), dialect == .java || dialect == .javascript { return (t.tag, 1) }
            if t.tag == CToken.tag("in"), dialect == .javascript, noInOperator == 0 { return (t.tag, 1) }
            if dialect == .cpp, let spelled = Self.alternativeTokens.value(t.tag) { return (spelled, 1) }
            return nil
        }
        guard t.kind == .op else { return nil }
        // C++20's three-way comparison: `<=` then the lone `>` the tokenizer always emits.
        if t.tag == CToken.tag("<="), dialect == .cpp, isOp(">", peek()), peek().offset == t.end { return (CToken.tag("<=>"), 2) }
        if t.tag == CToken.tag(">") {
            if isOp(">", peek()), adjacent(2) {
                if isOp(">", peek(2)), adjacent(3) {
                    if isOp("=", peek(3)), adjacent(4) { return nil }
                    return (CToken.tag(">>>"), 3)
                }
                if isOp("=", peek(2)), adjacent(3) { return nil }  // >>= is an assignment
                return (CToken.tag(">>"), 2)
            }
            if isOp("=", peek()), adjacent(2) { return (CToken.tag(">="), 2) }
            return (t.tag, 1)
        }
        return Self.precedence.value(t.tag) != nil ? (t.tag, 1) : nil
    }

    private var noInOperator = 0

    /// C++'s alternative spellings of binary operators (`a and b` is `a && b`); in C they are
    /// `<iso646.h>` macros of the same meaning, but there they are also ordinary names.
    private static let alternativeTokens = TagTable<UInt64>([
        ("and", CToken.tag("&&")), ("or", CToken.tag("||")), ("bitand", CToken.tag("&")), ("bitor", CToken.tag("|")),
        ("xor", CToken.tag("^")), ("not_eq", CToken.tag("!=")),
    ])

    private mutating func parseBinary(_ minPrec: Int) throws -> Expr {
        var lhs = try parseUnary()
        while let (tag, width) = binaryOperator(), let (prec, op) = Self.precedence.value(tag), prec > minPrec {
            if dialect == .go, tok.newlineBefore { break }
            for _ in 0..<width { advance() }
            if tag == CToken.tag("instanceof") {
                _ = skipType()
                if tok.kind == .ident, dialect == .java { advance() }  // pattern variable
                lhs = .compare(lhs, [("is", .constant("None"))])
                continue
            }
            let rhs = try parseBinary(tag == CToken.tag("**") ? prec - 1 : prec)
            lhs = Self.combine(tag, op, lhs, rhs)
        }
        return lhs
    }

    private static func combine(_ tag: UInt64, _ op: String, _ l: Expr, _ r: Expr) -> Expr {
        switch tag {
        case CToken.tag("&&"): return .boolOp("and", [l, r])
        case CToken.tag("||"), CToken.tag("??"): return .boolOp("or", [l, r])
        case CToken.tag("=="), CToken.tag("==="): return .compare(l, [("==", r)])
        case CToken.tag("!="), CToken.tag("!=="): return .compare(l, [("!=", r)])
        case CToken.tag("<"), CToken.tag(">"), CToken.tag("<="), CToken.tag(">="): return .compare(l, [(op, r)])
        case CToken.tag("in"): return .compare(l, [("in", r)])
        case CToken.tag("/"): return .binary("//", l, r)
        case CToken.tag(">>>"): return .binary(">>", l, r)
        case CToken.tag("&^"): return .binary("&", l, r)
        default: return .binary(op, l, r)
        }
    }

    private mutating func parseUnary() throws -> Expr {
        try enter()
        defer { leave() }
        if tok.kind == .op {
            switch tok.tag {
            case CToken.tag("!"): advance(); return .unary("not", try parseUnary())
            case CToken.tag("-"), CToken.tag("+"), CToken.tag("~"): let op = text(tok); advance(); return .unary(op, try parseUnary())
            case CToken.tag("^") where dialect == .go: advance(); return .unary("~", try parseUnary())
            case CToken.tag("*") where dialect == .c || dialect == .cpp || dialect == .go,
                CToken.tag("&") where dialect == .c || dialect == .cpp || dialect == .go:
                advance()
                return try parseUnary()
            case CToken.tag("&&") where dialect == .cpp: advance(); return try parseUnary()
            case CToken.tag("<-") where dialect == .go: advance(); return try parseUnary()
            case CToken.tag("...") where dialect == .javascript: advance(); return try parseUnary()
            case CToken.tag("++"), CToken.tag("--"):
                let increment = isOp("++")
                advance()
                return .unary(increment ? "pre++" : "pre--", try parseUnary())
            case CToken.tag("("):
                if let cast = try castIfHere() { return cast }
            default: break
            }
        }
        if dialect == .cpp, isWord("not"), peek().kind == .ident || peek().kind == .number || isOp("(", peek()) || isOp("!", peek()) {
            // `not x`, C++'s alternative spelling of `!x`.
            advance()
            return .unary("not", try parseUnary())
        }
        if dialect == .cpp, isOp("::"), isWord("new", peek()) || isWord("delete", peek()) { advance() }  // `::new (p) T`
        if dialect == .cpp, isWord("typename"), peek().kind == .ident || isOp("::", peek()) { advance() }  // `typename T::type()`
        if tok.kind == .ident {
            switch tok.tag {
            case CToken.tag("typeof") where dialect == .javascript, CToken.tag("void") where dialect == .javascript,
                CToken.tag("delete") where dialect == .javascript, CToken.tag("await") where dialect == .javascript:
                advance()
                return try parseUnary()
            case CToken.tag("sizeof") where dialect == .c || dialect == .cpp, CToken.tag("alignof") where dialect == .c || dialect == .cpp,
                CToken.tag("_Alignof") where dialect == .c || dialect == .cpp, CToken.tag("__alignof__") where dialect == .c || dialect == .cpp:
                advance()
                _ = accept("...")  // `sizeof...(Ts)`
                if isOp("(") { skipGroup() } else { _ = try parseUnary() }
                return .number("8")
            case CToken.tag("decltype") where dialect == .cpp && isOp("(", peek()):
                // A type as a value: `decltype(x){v}`, `decltype(f)(a)`.
                advance()
                skipGroup()
                if isOp("{") { _ = try parseBraceList() }
                return try parsePostfix(.constant("None"))
            case CToken.tag("requires") where dialect == .cpp:
                // A requires-expression, `requires (T a) { a + a; }`: a compile-time test.
                advance()
                if isOp("(") { skipGroup() }
                if isOp("{") { skipGroup() }
                return .constant("True")
            case CToken.tag("new") where dialect != .go:
                return try parsePostfix(try parseNew())
            case CToken.tag("delete") where dialect == .cpp:
                advance()
                if isOp("["), isOp("]", peek()) { advance(); advance() }
                return try parseUnary()
            case CToken.tag("throw") where dialect == .cpp || dialect == .javascript:
                advance()
                return try parseAssignmentExpression()
            case CToken.tag("yield") where dialect == .javascript:
                advance()
                _ = accept("*")
                if isOp(")") || isOp(";") || isOp("]") || isOp("}") || isOp(",") || tok.newlineBefore { return .constant("None") }
                return try parseAssignmentExpression()
            default: break
            }
        }
        return try parsePostfix(try parsePrimary())
    }

    /// `(Type) expr` in Java, C and C++: the cast disappears.
    private mutating func castIfHere() throws -> Expr? {
        guard dialect == .java || dialect == .c || dialect == .cpp else { return nil }
        let save = pos
        advance()
        guard tok.kind == .ident else { pos = save; return nil }
        let first = tok
        guard skipType() else { pos = save; return nil }
        // Java intersection casts: `(Comparator<T> & Serializable) (a, b) -> ...`.
        while dialect == .java, isOp("&"), peek().kind == .ident {
            advance()
            guard skipType() else { pos = save; return nil }
        }
        guard isOp(")") else { pos = save; return nil }
        // A type ending in `*` (`(blk_t *)&B[i]`) is a pointer type: only a cast can follow it.
        let pointer = (dialect == .c || dialect == .cpp) && isOp("*", peek(-1))
        advance()
        // Only a cast when an operand follows (not `(a) + b`); primitive type words are always casts.
        let operandStarts = tok.kind == .ident || tok.kind == .number || tok.kind == .string || tok.kind == .char
            || isOp("(") || isOp("!") || isOp("~")
            || ((Self.isPrimitive(first) || pointer) && (isOp("-") || isOp("*") || isOp("&") || isOp("+")))
        guard operandStarts, !isReserved(tok) || isWord("new") || isWord("sizeof") || isWord("switch") else {
            pos = save
            return nil
        }
        if isWord("instanceof") || (dialect == .javascript && isWord("in")) { pos = save; return nil }
        return try parseUnary()
    }

    /// `new T(args)`, `new T[n][m]`, `new T[]{...}`, anonymous classes.
    private mutating func parseNew() throws -> Expr {
        let line = tok.line
        advance()
        if isOp("(") { skipGroup() }  // C++ placement new
        let typeStart = pos
        while tok.kind == .ident || isOp(".") || isOp("::") || (dialect == .javascript && isOp("#")) {
            advance()
            if isOp("<") { if !skipTypeArguments() { break } }
        }
        if dialect == .cpp { while isOp("*") { advance() } }
        let typeText = text(typeStart..<pos)
        if isOp("[") {
            var dims: [Expr] = []
            while isOp("[") {
                advance()
                if accept("]") { continue }
                dims.append(try parseExpression())
                try expect("]")
            }
            if isOp("{") { return try parseBraceList() }
            return dims.reversed().reduce(Expr.number("0")) { inner, d in .binary("*", .list([inner]), d) }
        }
        var args: [Argument] = []
        if isOp("(") {
            args = try parseArguments()
        } else if isOp("{"), dialect == .cpp {
            _ = try parseBraceList()
        }
        if dialect == .java, isOp("{") {
            // Anonymous class body (a Runnable, a comparator): its methods join the program as a
            // class of their own, so a thread's `run` is found when `start()` is called.
            advance()
            var members: [Stmt] = []
            while !isOp("}"), !atEnd { parseMember(into: &members, inClass: "anonymous") }
            let end = tok.line
            try expect("}")
            hoisted.append(stmt(.classDef(ClassDef(name: "anonymous", bases: [], body: members, decorators: [])), line, end))
        }
        if let value = LibraryCalls.constructed(typeText, args: args, dialect: dialect) { return value }
        return .call(.name(LibraryCalls.baseTypeName(typeText)), args, line: line)
    }

    private mutating func parseArguments() throws -> [Argument] {
        try expect("(")
        parenDepth += 1
        defer { parenDepth -= 1 }
        let saveIn = noInOperator
        noInOperator = 0
        let saveBrace = noBraceLiterals
        noBraceLiterals = 0
        defer { noInOperator = saveIn; noBraceLiterals = saveBrace }
        var args: [Argument] = []
        while !isOp(")"), !atEnd {
            if dialect == .go, isOp("[") || isWord("map") || isWord("chan") || isWord("func") && !isOp("(", peek()) {
                // A type as an argument (`make([]int, n)`, `new(T)`).
                let t = try parseGoTypeOrComposite()
                if isOp("...") { advance() }
                args.append(Argument(keyword: nil, value: t))
            } else if dialect == .c || dialect == .cpp, Self.isPrimitive(tok), typeArgumentHere() {
                // A type given to a macro: `va_arg(ap, void *)`, `__glibcxx_digits(signed char)`.
                args.append(Argument(keyword: nil, value: .constant("None")))
            } else {
                var e = try parseAssignmentExpression()
                if dialect == .go || dialect == .cpp, isOp("...") { advance() }  // spread / pack expansion
                if dialect == .javascript, case .unary = e {} else if dialect == .c || dialect == .cpp, isOp("{") { _ = e }
                if case .name = e, dialect == .java, tok.kind == .ident { advance(); e = .constant("None") }
                args.append(Argument(keyword: nil, value: e))
            }
            if !accept(",") { break }
        }
        try expect(")")
        return args
    }

    /// A Go type (`[]int`, `map[string]int`, `[5]int`) optionally followed by a composite literal.
    private mutating func parseGoTypeOrComposite() throws -> Expr {
        let start = pos
        var isMap = false
        var arrayLength: Expr?
        while !atEnd {
            if isOp("[") {
                advance()
                if !isOp("]") {
                    if isOp("...") { advance() } else { arrayLength = try parseExpression() }
                }
                try expect("]")
                continue
            }
            if isWord("map") { isMap = true; advance(); if isOp("[") { skipGroup() }; continue }
            if isWord("chan") || isOp("<-") || isOp("*") { advance(); continue }
            if isWord("func") {
                advance()
                if isOp("(") { skipGroup() }
                if isOp("(") { skipGroup() } else if tok.kind == .ident, !tok.newlineBefore { advance() }
                break
            }
            if isWord("struct") || isWord("interface") { advance(); if isOp("{") { skipGroup() }; break }
            if tok.kind == .ident {
                advance()
                while isOp("."), peek().kind == .ident { advance(); advance() }
                }
            break
        }
        if pos == start { throw fail("expected a type, found \(describe(tok))") }
        // A literal of a slice, array or map type is allowed even in an `if`/`for`/`switch` header
        // (only a bare type name there would be ambiguous with the block).
        if isOp("{"), noBraceLiterals == 0 || isOp("[", tokens[start]) || isWord("map", tokens[start]) {
            let items = try parseGoComposite()
            return isMap ? .dict(items.map { (Expr.constant("None"), $0) }) : .list(items)
        }
        if isOp("("), !isWord("func", tokens[start]) {
            // A conversion (`[]byte(s)`, `map[string]int(m)`): the converted value.
            let args = try parseArguments()
            return args.first?.value ?? .list([])
        }
        if isMap { return .dict([]) }
        if let arrayLength { return .binary("*", .list([.number("0")]), arrayLength) }
        return .list([])
    }

    /// `{a, b}` or `{k: v, ...}` of a Go composite literal; values only.
    private mutating func parseGoComposite() throws -> [Expr] {
        try expect("{")
        let saveBrace = noBraceLiterals
        noBraceLiterals = 0
        defer { noBraceLiterals = saveBrace }
        var items: [Expr] = []
        while !isOp("}"), !atEnd {
            var e = isOp("{") ? Expr.list(try parseGoComposite()) : try parseAssignmentExpression()
            if accept(":") { e = isOp("{") ? .list(try parseGoComposite()) : try parseAssignmentExpression() }
            items.append(e)
            if !accept(",") { break }
        }
        try expect("}")
        return items
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = tok
        switch t.kind {
        case .number:
            advance()
            return .number(normalisedNumber(t))
        case .string:
            advance()
            var s = text(t)
            if dialect == .c || dialect == .cpp { concatenateStrings(&s) }
            return .string(s)
        case .char:
            advance()
            return .number("1")
        case .ident:
            if dialect == .c || dialect == .cpp, peek().kind == .string, isMacroLike(t) {
                // `PRIx64 "\n"`: a macro that expands to a string, joined to the literal after it.
                var s = text(t)
                advance()
                concatenateStrings(&s)
                return .string(s)
            }
            if dialect == .go, isWord("map", t) || isWord("chan", t) || isWord("struct", t) || isWord("interface", t) {
                return try parseGoTypeOrComposite()
            }
            if dialect == .go, isWord("func", t) {
                advance()
                let params = try parseParameters()
                while !isOp("{"), !atEnd { if isOp("(") { skipGroup() } else { advance() } }
                let b = try parseBlock()
                let ps = Parameters(list: params.map { Parameter(name: $0, kind: .positional, defaultValue: nil, annotation: nil) })
                return .lambda(ps, Self.lambdaValue(b))
            }
            if dialect == .javascript, isWord("function", t) || (isWord("async", t) && isWord("function", peek())) {
                if isWord("async", t) { advance() }
                advance()
                _ = accept("*")
                if tok.kind == .ident { advance() }
                let params = try parseParameters()
                let b = try parseBlock()
                let ps = Parameters(list: params.map { Parameter(name: $0, kind: .positional, defaultValue: nil, annotation: nil) })
                lastLambda = (ps, b)
                return .lambda(ps, Self.lambdaValue(b))
            }
            if dialect == .java, isWord("switch", t), isOp("(", peek()) {
                // A switch expression: its arms are priced where they sit (as alternatives).
                var arms: [Stmt] = []
                try parseSwitch(into: &arms, line: t.line)
                hoistedArms.append(contentsOf: arms)
                return .constant("None")
            }
            if dialect == .javascript, isWord("class", t) {
                _ = try parseClass(line: t.line)
                return .constant("None")
            }
            if dialect == .cpp, isWord("operator", t) {
                advance()
                while !isOp("("), !atEnd { advance() }
                return .name("operator")
            }
            advance()
            switch t.tag {
            case CToken.tag("true"): return .constant("True")
            case CToken.tag("false"): return .constant("False")
            case CToken.tag("null"), CToken.tag("nullptr"), CToken.tag("nil"), CToken.tag("undefined"), CToken.tag("NULL"):
                return .constant("None")
            case CToken.tag("this"): return .name("self")
            case CToken.tag("super"): return .name("super")
            default:
                if dialect == .cpp, isOp("<"), Self.casts.contains(t) {
                    // `static_cast<T&&>(x)`: the target type may hold `&&`, `>` in parentheses, ...
                    _ = skipTemplateParameters()
                } else if dialect == .cpp || dialect == .java, isOp("<"), let generic = try genericCallIfHere() {
                    _ = generic
                }
                if dialect == .java, isOp("::") {
                    // Method reference `Foo::bar`.
                    advance()
                    advance()
                    return .constant("None")
                }
                return .name(text(t))
            }
        case .op:
            switch t.tag {
            case CToken.tag("...") where dialect == .cpp:
                // The pack in a fold expression: `(f(xs), ...)`, `(... && bs)`.
                advance()
                return .constant("None")
            case CToken.tag("("):
                if dialect == .javascript || dialect == .java, let lambda = try parseLambdaIfHere() { return lambda }
                advance()
                parenDepth += 1
                let saveIn = noInOperator
                noInOperator = 0
                let saveBrace = noBraceLiterals
                noBraceLiterals = 0
                defer { noInOperator = saveIn; noBraceLiterals = saveBrace }
                let e = try parseExpression()
                parenDepth -= 1
                if dialect == .java || dialect == .javascript, isOp("->") || isOp("=>") { throw fail("unexpected lambda arrow") }
                try expect(")")
                return e
            case CToken.tag("["):
                if dialect == .go { return try parseGoTypeOrComposite() }
                if dialect == .cpp {
                    // Lambda: [captures](params) { body }.
                    skipGroup()
                    var params: [String] = []
                    if isOp("(") { params = try parseParameters() }
                    while !isOp("{"), !atEnd { if isOp("(") { skipGroup() } else { advance() } }
                    let b = try parseBlock()
                    let ps = Parameters(list: params.map { Parameter(name: $0, kind: .positional, defaultValue: nil, annotation: nil) })
                    return .lambda(ps, Self.lambdaValue(b))
                }
                // JavaScript array literal (also Java/C annotations never reach here).
                advance()
                var items: [Expr] = []
                while !isOp("]"), !atEnd {
                    if isOp(",") { advance(); continue }
                    if accept("...") { items.append(.starred(try parseAssignmentExpression())) } else { items.append(try parseAssignmentExpression()) }
                    if !accept(",") { break }
                }
                try expect("]")
                return .list(items)
            case CToken.tag("{"):
                if dialect == .javascript { return try parseObjectLiteral() }
                return try parseBraceList()
            case CToken.tag("@") where dialect == .java:
                let before = pos
                skipAnnotations()
                if pos == before { throw fail("unexpected '@'") }
                return try parsePrimary()
            case CToken.tag("#") where dialect == .javascript:
                advance()
                return try parsePrimary()
            case CToken.tag("::") where dialect == .cpp:
                advance()
                return try parsePrimary()
            default:
                break
            }
        default:
            break
        }
        throw fail("unexpected \(describe(t))")
    }

    /// `foo<int>(x)` / `Collections.<T>emptyList()`: type arguments before a call are skipped.
    private mutating func genericCallIfHere() throws -> Expr? {
        let save = pos
        if skipTypeArguments(), isOp("(") || isOp("::") || isOp("{") { return .constant("None") }
        // A C++ variable template or template-id as a value: `if constexpr (is_same_v<A, B>)`.
        if dialect == .cpp, pos > save,
            isOp(")") || isOp(";") || isOp(",") || isOp("&&") || isOp("||") || isOp(".") || isOp("==") || isOp("!=") || isOp("?") || isOp("]")
                || isOp("|") || isOp("}") || isOp(":") || isOp("/") || isOp("%") || isOp("<=")
        {
            return .constant("None")
        }
        pos = save
        return nil
    }

    private mutating func parseObjectLiteral() throws -> Expr {
        try expect("{")
        var pairs: [(Expr?, Expr)] = []
        while !isOp("}"), !atEnd {
            if accept("...") { pairs.append((nil, try parseAssignmentExpression())); if !accept(",") { break }; continue }
            var key: Expr
            while isWord("get") || isWord("set") || isWord("async") || isWord("static"), peek().kind == .ident || isOp("[", peek()) || isOp("*", peek()) { advance() }
            _ = accept("*")
            if isOp("[") { skipGroup(); key = .constant("None") } else {
                guard tok.kind == .ident || tok.kind == .string || tok.kind == .number else { throw fail("expected a property name, found \(describe(tok))") }
                key = .string(text(tok))
                advance()
            }
            if isOp("(") {
                _ = try parseParameters()
                _ = try parseBlock()
                pairs.append((key, .constant("None")))
            } else if accept(":") {
                pairs.append((key, try parseAssignmentExpression()))
            } else {
                if accept("=") { _ = try parseAssignmentExpression() }
                pairs.append((key, key))
            }
            if !accept(",") { break }
        }
        try expect("}")
        return .dict(pairs)
    }

    /// A number's text without digit separators (`'`, `_`) and type suffixes (`10L`, `1e9f`,
    /// `0xFFu`, `10n`); `1e9` stays a literal of magnitude 10^9, which is all the model needs.
    private func normalisedNumber(_ t: CToken) -> String {
        let bytes = lexed.bytes
        let range = min(t.offset, bytes.count)..<min(t.end, bytes.count)
        if let last = bytes[range].last, CFamilyTokenizer.isDigit(last),
            !bytes[range].contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "_") })
        {
            return String(decoding: bytes[range], as: UTF8.self)  // most numbers: nothing to remove
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(t.length)
        for k in t.offset..<min(t.end, bytes.count) where bytes[k] != UInt8(ascii: "'") && bytes[k] != UInt8(ascii: "_") {
            digits.append(bytes[k])
        }
        let hex = digits.count >= 2 && digits[0] == UInt8(ascii: "0") && digits[1] | 0x20 == UInt8(ascii: "x")
        while let last = digits.last, Self.isNumberSuffix(last, hex: hex) { digits.removeLast() }
        return digits.isEmpty ? "0" : String(decoding: digits, as: UTF8.self)
    }

    private static func isNumberSuffix(_ c: UInt8, hex: Bool) -> Bool {
        switch c | 0x20 {
        case UInt8(ascii: "l"), UInt8(ascii: "u"): return true
        case UInt8(ascii: "f"), UInt8(ascii: "d"): return !hex
        default: return c == UInt8(ascii: "n") && !hex
        }
    }

    private mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            if dialect == .go || dialect == .javascript, tok.newlineBefore, isOp("(") || isOp("[") {
                if dialect == .go { break }
            }
            let line = tok.line
            if isOp("(") {
                let args = try parseArguments()
                e = LibraryCalls.call(e, args, line: line, containers: containers, dialect: dialect)
                continue
            }
            if dialect == .cpp, isOp("->*") || (isOp(".") && isOp("*", peek())) {
                // A pointer to member applied: `(obj.*pm)(x)`, `(this->*f)()`.
                if isOp(".") { advance() }
                advance()
                e = .binary("*", e, try parseUnary())
                continue
            }
            if dialect == .java, isOp("["), isOp("]", peek()) {
                advance(); advance()  // `Object[].class`
                continue
            }
            if isOp("[") {
                advance()
                parenDepth += 1
                // Inside brackets a Go composite literal is unambiguous, even in a header.
                let saveBrace = noBraceLiterals
                noBraceLiterals = 0
                defer { parenDepth -= 1; noBraceLiterals = saveBrace }
                if dialect == .go, isOp(":") {
                    advance()
                    let hi: Expr? = isOp("]") ? nil : try parseExpression()
                    if accept(":") { _ = try parseExpression() }  // full slice s[:j:k]
                    try expect("]")
                    e = .index(e, [.slice(nil, hi, nil)])
                    continue
                }
                let first = try parseExpression()
                if dialect == .go, accept(":") {
                    let hi: Expr? = isOp("]") || isOp(":") ? nil : try parseExpression()
                    if accept(":") { _ = try parseExpression() }
                    try expect("]")
                    e = .index(e, [.slice(first, hi, nil)])
                    continue
                }
                while accept(",") { _ = try parseExpression() }  // Go generic instantiation f[int, string]
                try expect("]")
                e = .index(e, [first])
                continue
            }
            if isOp(".") || (isOp("->") && (dialect == .c || dialect == .cpp)) || isOp("?.") || isOp("::") {
                let sep = tok
                advance()
                if isOp("?.", sep) && (isOp("(") || isOp("[")) { continue }
                if dialect == .go, isOp("(") {
                    skipGroup()  // type assertion x.(T)
                    continue
                }
                if isOp("<"), dialect == .java { _ = skipTypeArguments() }
                if dialect == .java, isWord("new") {
                    e = try parseNew()  // `outer.new Inner()`
                    continue
                }
                if dialect == .cpp, isWord("template") { advance() }
                if isOp("~") { advance() }
                if isOp("#") { advance() }
                if dialect == .cpp, isWord("operator") {
                    // An operator called by name: `x.operator->()`, `_Base::operator[](i)`.
                    advance()
                    if isOp("("), isOp(")", peek()) { advance(); advance() }
                    while !isOp("("), !isOp(";"), !isOp(")"), !atEnd { advance() }
                    e = .attribute(e, "operator")
                    continue
                }
                guard tok.kind == .ident else {
                    if dialect == .java, isWord("class", peek(-1)) { continue }
                    throw fail("expected a member name after '\(text(sep))', found \(describe(tok))")
                }
                let member = text(tok)
                advance()
                if isOp("::", sep), case .name(let ns) = e, ns == "std" || ns == "ranges" {
                    e = .name(member)
                } else {
                    e = .attribute(e, member)
                }
                if (dialect == .cpp || dialect == .java), isOp("<") { _ = try genericCallIfHere() }
                continue
            }
            if isOp("++") || isOp("--"), !(tok.newlineBefore && dialect == .javascript) {
                let op = isOp("++") ? "post++" : "post--"
                advance()
                e = .unary(op, e)
                continue
            }
            // (A `{` on the next line continues only a template-id: `return subrange<I, I>\n{a, b};`.)
            if dialect == .cpp, isOp("{"), !tok.newlineBefore || isOp(">", peek(-1)), Self.looksLikeType(e) {
                // Brace initialisation as a value: `return Point{x, y}`, `throw bad_cast{}`.
                var items: [Expr] = []
                if case .list(let parsed) = try parseBraceList() { items = parsed }
                e = .call(e, items.map { Argument(keyword: nil, value: $0) }, line: line)
                continue
            }
            if dialect == .go, isOp("{"), noBraceLiterals == 0, Self.looksLikeType(e) {
                let items = try parseGoComposite()
                e = .list(items)
                continue
            }
            if dialect == .javascript, tok.kind == .string, lexed.bytes[tok.offset] == UInt8(ascii: "`") {
                advance()  // tagged template
                continue
            }
            if dialect == .javascript, isOp("!"), !tok.newlineBefore, isOp(")", peek()) || isOp(".", peek()) || isOp(";", peek()) || isOp(",", peek()) || isOp("]", peek()) {
                advance()  // TypeScript-style non-null assertion in .js is rare; tolerate it
                continue
            }
            break
        }
        return e
    }

    /// Whether `e` can be the type of a Go composite literal or a C++ brace initialisation `T{...}`
    /// (any name: Go types are often lower-case; a header's block is told apart by `noBraceLiterals`).
    private static func looksLikeType(_ e: Expr) -> Bool {
        switch e {
        case .name, .attribute(.name, _), .list, .index: return true
        default: return false
        }
    }
}
