/// A Python expression.
enum Expr: Sendable {
    case name(String)
    /// A number literal, kept as written (`10**9`, `1_000`, `3j`).
    case number(String)
    /// A string or bytes literal (adjacent literals joined); f-strings are kept opaque.
    case string(String)
    /// `True`, `False`, `None` or `...`.
    case constant(String)
    indirect case attribute(Expr, String)
    indirect case index(Expr, [Expr])
    indirect case slice(Expr?, Expr?, Expr?)
    indirect case call(Expr, [Argument], line: Int)
    indirect case binary(String, Expr, Expr)
    indirect case unary(String, Expr)
    indirect case boolOp(String, [Expr])
    indirect case compare(Expr, [(String, Expr)])
    indirect case lambda(Parameters, Expr)
    indirect case ifExp(test: Expr, body: Expr, orElse: Expr)
    case tuple([Expr])
    case list([Expr])
    case set([Expr])
    /// Dictionary display; a nil key is a `**mapping` spread.
    case dict([(Expr?, Expr)])
    indirect case comprehension(ComprehensionKind, element: Expr, value: Expr?, [Comprehension], line: Int)
    indirect case starred(Expr)
    indirect case doubleStarred(Expr)
    indirect case yield(Expr?)
    indirect case yieldFrom(Expr)
    indirect case await(Expr)
    indirect case namedExpr(String, Expr)
    /// `pattern as name` inside a match case.
    indirect case patternAs(Expr, String)
}

/// The kind of a comprehension display.
enum ComprehensionKind: Sendable { case list, set, dict, generator }

/// One `for ... in ... if ...` clause of a comprehension.
struct Comprehension: Sendable {
    var target: Expr
    var iterable: Expr
    var conditions: [Expr]
    var isAsync: Bool
}

/// A call argument: positional, `name=value`, `*args` or `**kwargs`.
struct Argument: Sendable {
    var keyword: String?
    var value: Expr
}

/// One parameter of a function or lambda.
struct Parameter: Sendable {
    enum Kind: Sendable { case positional, variadic, keywordOnly, keywordVariadic }
    var name: String
    var kind: Kind
    var defaultValue: Expr?
    var annotation: Expr?
}

/// A parameter list.
struct Parameters: Sendable {
    var list: [Parameter] = []
}

/// A Python statement with its line span (1-based, inclusive).
struct Stmt: Sendable {
    var kind: StmtKind
    var line: Int
    var endLine: Int
}

/// A statement's content. Only large cases are boxed, so the common small statements (expressions,
/// assignments, returns) are stored inline in their block's array.
enum StmtKind: Sendable {
    case expr(Expr)
    case assign(targets: [Expr], value: Expr)
    indirect case augAssign(Expr, String, Expr)
    indirect case annAssign(Expr, annotation: Expr, value: Expr?)
    indirect case function(FunctionDef)
    indirect case classDef(ClassDef)
    case returnStmt(Expr?)
    indirect case ifStmt(Expr, body: [Stmt], orElse: [Stmt])
    indirect case whileStmt(Expr, body: [Stmt], orElse: [Stmt])
    indirect case forStmt(target: Expr, iterable: Expr, body: [Stmt], orElse: [Stmt], isAsync: Bool)
    indirect case with(items: [(Expr, Expr?)], body: [Stmt], isAsync: Bool)
    indirect case tryStmt(body: [Stmt], handlers: [ExceptHandler], orElse: [Stmt], finally: [Stmt])
    indirect case match(Expr, [MatchCase])
    indirect case raise(Expr?, cause: Expr?)
    indirect case assert(Expr, Expr?)
    case delete([Expr])
    case pass
    case breakStmt
    case continueStmt
    case global([String])
    case nonlocal([String])
    indirect case importModules([(name: String, alias: String?)])
    indirect case importFrom(module: String, [(name: String, alias: String?)])
    indirect case typeAlias(name: String, value: Expr)
    /// A statement that did not parse; the message says why.
    case error(String)
}

/// A `def` or `async def`.
struct FunctionDef: Sendable {
    var name: String
    var parameters: Parameters
    var body: [Stmt]
    var decorators: [Expr]
    var returns: Expr?
    var isAsync: Bool
    /// False when the body (outside nested functions and classes) has no call to the function's own
    /// name or `self.name`; the parser notes this as it goes, so the cost model skips the recursion
    /// scan for the many functions that cannot recurse.
    var mayCallItself: Bool
}

/// A `class` statement.
struct ClassDef: Sendable {
    var name: String
    var bases: [Argument]
    var body: [Stmt]
    var decorators: [Expr]
}

/// One `except` clause.
struct ExceptHandler: Sendable {
    var type: Expr?
    var name: String?
    var body: [Stmt]
    var line: Int
}

/// One `case` of a `match` statement.
struct MatchCase: Sendable {
    var pattern: Expr
    var guardExpr: Expr?
    var body: [Stmt]
}

/// A parsed module: its statements and the syntax errors met on the way.
struct Module: Sendable {
    var body: [Stmt]
    var issues: [SyntaxIssue]
    /// Constructs skipped without being errors (C and C++ code a macro could explain).
    var skipped: [SyntaxIssue] = []
}
