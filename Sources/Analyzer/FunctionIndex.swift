/// Where a `def` (or `async def`) is: its name and the 1-based line of the `def` keyword.
public struct FunctionLocation: Codable, Hashable, Sendable {
    public var name: String
    public var line: Int

    /// Creates a location.
    public init(name: String, line: Int) {
        self.name = name
        self.line = line
    }
}

/// Python source structure queries built on the parser.
public enum PythonSource {
    /// Every function and method definition in `source`, nested ones included, in source order.
    public static func functionLocations(in source: String) -> [FunctionLocation] {
        var out: [FunctionLocation] = []
        collect(Parser.parse(source).body, into: &out)
        return out
    }

    /// The syntax errors in `source`, one per broken statement.
    public static func syntaxIssues(in source: String) -> [SyntaxIssue] {
        Parser.parse(source).issues
    }

    private static func collect(_ body: [Stmt], into out: inout [FunctionLocation]) {
        for stmt in body {
            switch stmt.kind {
            case .function(let f):
                out.append(FunctionLocation(name: f.name, line: stmt.line))
                collect(f.body, into: &out)
            case .classDef(let c):
                collect(c.body, into: &out)
            case .ifStmt(_, let body, let orElse), .whileStmt(_, let body, let orElse),
                .forStmt(_, _, let body, let orElse, _):
                collect(body, into: &out)
                collect(orElse, into: &out)
            case .with(_, let body, _):
                collect(body, into: &out)
            case .tryStmt(let body, let handlers, let orElse, let final):
                collect(body, into: &out)
                for h in handlers { collect(h.body, into: &out) }
                collect(orElse, into: &out)
                collect(final, into: &out)
            case .match(_, let cases):
                for c in cases { collect(c.body, into: &out) }
            default:
                break
            }
        }
    }
}
