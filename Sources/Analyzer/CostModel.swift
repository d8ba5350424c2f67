/// What the cost model knows about a variable: its kind and its size (a collection's length, or a
/// number's magnitude), both as growth rates in the input size n.
struct VarInfo: Sendable {
    enum Kind: Sendable { case number, sequence, deque, hashed, string, unknown }
    var kind: Kind
    var size: Cost
}

/// A function (or a lambda bound to a name) the cost model can resolve calls to.
///
/// A class, not a struct: entries are looked up by name on every call expression, and copying a
/// struct holding a whole `FunctionDef` retained and released each of its arrays every time.
final class FunctionEntry: Sendable {
    let def: FunctionDef
    let line: Int
    let endLine: Int
    let key: String

    init(def: FunctionDef, line: Int, endLine: Int, key: String) {
        self.def = def
        self.line = line
        self.endLine = endLine
        self.key = key
    }
}

/// The solved cost of one function.
struct SolvedFunction: Sendable {
    var bound: Bound
    var notes: [String]
    var loopDepth: Int
    var readsInput: Bool
}

/// Static cost model over the parsed module: loops, builtin costs, calls and recurrences.
final class CostModel {
    let module: Module
    private(set) var entries: [FunctionEntry] = []
    private var byName: [String: FunctionEntry] = [:]
    /// One bit per (length, first byte, last byte) class of the names in `byName`. Most names looked
    /// up are not functions (every name read is checked); a clear bit answers without hashing.
    private var nameFilter = [UInt64](repeating: 0, count: 64)
    private var solved: [String: SolvedFunction] = [:]
    private var inProgress: Set<String> = []
    var globals: [String: VarInfo] = [:]
    /// The rules in force (all, except when measuring what each contributes).
    var rules: AnalyzerRules = .all

    /// How often a name is read anywhere in the file, counted per name on first use: only loops
    /// over a count read from input ask, for one or two names per file.
    private var useCounts: [String: Int] = [:]
    /// Names assigned straight from an input read (`t = int(input())`).
    private(set) var readFromInput: Set<String> = []

    /// Lists of buckets (`adj = [[] for _ in range(n)]`, `defaultdict(list)`) that the file fills
    /// with `adj[u].append(v)`: adjacency lists, whose buckets together hold one entry per append.
    private(set) var bucketLists: Set<String> = []

    init(module: Module) {
        self.module = module
        collectFunctions(module.body)
        collectBucketLists(module.body)
    }

    private func collectBucketLists(_ body: [Stmt]) {
        var made: Set<String> = []
        var filled: Set<String> = []
        func scan(_ block: [Stmt]) {
            for stmt in block {
                switch stmt.kind {
                case .assign(let targets, let value):
                    var buckets = false
                    switch value {
                    case .comprehension(.list, .list(let items), _, _, _) where items.isEmpty: buckets = true
                    case .call(.name("defaultdict"), let args, _):
                        if case .name("list")? = args.first?.value { buckets = true }
                    default: break
                    }
                    if buckets { for t in targets { if case .name(let n) = t { made.insert(n) } } }
                case .expr(.call(.attribute(.index(.name(let n), _), "append"), _, _)):
                    filled.insert(n)
                default:
                    break
                }
                Walker.forEachChildBlock(stmt, scan)
            }
        }
        scan(body)
        bucketLists = made.intersection(filled)
    }

    /// Per name: statements that add to it, and times it is handed whole to output; one pass over
    /// the file, made the first time a loop asks.
    private var outputUses: (adds: [String: Int], printed: [String: Int])?

    /// True when every read of `name` in the file adds to it (`ans.append(x)`) or prints it
    /// (`print("\n".join(ans))`, `print(*ans)`, `sys.stdout.write(...)`): a buffer of answers.
    func isOutputBuffer(_ name: String) -> Bool {
        let uses = outputUses ?? collectOutputUses()
        outputUses = uses
        guard let printed = uses.printed[name] else { return false }
        return (uses.adds[name] ?? 0) + printed == useCount(of: name)
    }

    private func collectOutputUses() -> (adds: [String: Int], printed: [String: Int]) {
        var adds: [String: Int] = [:]
        var printed: [String: Int] = [:]
        // The buffer itself handed to output: `print(*ans)`, `print("\n".join(ans))`,
        // `" ".join(map(str, ans))`; `print(len(ans))` reads it for something else.
        func buffer(_ e: Expr) -> String? {
            switch e {
            case .name(let n), .starred(.name(let n)): return n
            case .call(.name("map"), let args, _): return args.count == 2 ? buffer(args[1].value) : nil
            case .call(.attribute(_, "join"), let args, _): return args.count == 1 ? buffer(args[0].value) : nil
            default: return nil
            }
        }
        // Only output statements are looked into (`print(...)`, `sys.stdout.write(...)`): a whole
        // walk of every expression cost 13% of a Python analysis.
        func scan(_ body: [Stmt]) {
            for stmt in body {
                if case .expr(.call(let callee, let args, _)) = stmt.kind {
                    switch callee {
                    case .attribute(.name(let n), let m) where m == "append" || m == "extend":
                        adds[n, default: 0] += 1
                    case .name("print"), .attribute(_, "write"):
                        for a in args { if let n = buffer(a.value) { printed[n, default: 0] += 1 } }
                    default:
                        break
                    }
                }
                Walker.forEachChildBlock(stmt, scan)
            }
        }
        scan(module.body)
        return (adds, printed)
    }

    func useCount(of name: String) -> Int {
        if let known = useCounts[name] { return known }
        var count = 0
        Self.countUses(of: name, in: module.body, into: &count)
        useCounts[name] = count
        return count
    }

    /// Counts reads of `name`: in values, tests, iterables, decorators, defaults, bases and non-name
    /// targets (a plain `name = ...` is a write, not a read).
    private static func countUses(of name: String, in body: [Stmt], into count: inout Int) {
        func visit(_ e: Expr) {
            if case .name(let n) = e, n == name { count += 1 }
            Walker.children(e, visit)
        }
        for stmt in body {
            switch stmt.kind {
            case .assign(let targets, let value):
                visit(value)
                for t in targets { if case .name = t {} else { visit(t) } }
            case .ifStmt(let test, _, _), .whileStmt(let test, _, _): visit(test)
            case .forStmt(_, let it, _, _, _): visit(it)
            case .with(let items, _, _): for item in items { visit(item.0) }
            case .match(let subject, _): visit(subject)
            case .function(let f):
                f.decorators.forEach(visit)
                for p in f.parameters.list { if let d = p.defaultValue { visit(d) } }
            case .classDef(let c): for b in c.bases { visit(b.value) }
            case .augAssign(let target, _, let value): visit(target); visit(value)
            default: RecursionScan.expressions(of: stmt).forEach(visit)
            }
            Walker.forEachChildBlock(stmt) { countUses(of: name, in: $0, into: &count) }
        }
    }

    /// Records every function (and lambda bound to a name) and every name assigned from an input read.
    private func collectFunctions(_ body: [Stmt]) {
        for stmt in body {
            if case .assign(let targets, let value) = stmt.kind, Walker.mentionsInputCall(value) {
                for t in targets { if case .name(let n) = t { readFromInput.insert(n) } }
            }
            switch stmt.kind {
            case .function(let f):
                let entry = FunctionEntry(def: f, line: stmt.line, endLine: stmt.endLine, key: "\(f.name)@\(stmt.line)")
                entries.append(entry)
                register(f.name, entry)
                collectFunctions(f.body)
            case .assign(let targets, .lambda(let params, let body)):
                // `I = lambda: int(input())` behaves like a one-line function.
                if targets.count == 1, case .name(let name) = targets[0] {
                    let lambdaBody = [Stmt(kind: .returnStmt(body), line: stmt.line, endLine: stmt.endLine)]
                    let def = FunctionDef(
                        name: name, parameters: params, body: lambdaBody, decorators: [], returns: nil, isAsync: false,
                        mayCallItself: RecursionScan.mayCallItself(name, in: lambdaBody))
                    let entry = FunctionEntry(def: def, line: stmt.line, endLine: stmt.endLine, key: "\(name)@\(stmt.line)")
                    register(name, entry)
                }
            default:
                Walker.forEachChildBlock(stmt) { collectFunctions($0) }
            }
        }
    }

    func function(named name: String) -> FunctionEntry? {
        let bit = Self.filterBit(name)
        guard nameFilter[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { return nil }
        return byName[name]
    }

    private func register(_ name: String, _ entry: FunctionEntry) {
        byName[name] = entry
        let bit = Self.filterBit(name)
        nameFilter[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    private static func filterBit(_ name: String) -> Int {
        let utf8 = name.utf8
        // Native Strings (all names here) expose their bytes directly; `last` on the view is slow.
        let ends = utf8.withContiguousStorageIfAvailable { ($0.first ?? 0, $0.last ?? 0) } ?? (utf8.first ?? 0, utf8.last ?? 0)
        return (utf8.count &* 977 &+ Int(ends.0) &* 31 &+ Int(ends.1)) & 4095
    }

    /// Solves a function's cost once; a call that is already being solved (mutual recursion) costs O(1) here.
    func solve(_ entry: FunctionEntry) -> SolvedFunction? {
        if let done = solved[entry.key] { return done }
        if inProgress.contains(entry.key) { return nil }
        inProgress.insert(entry.key)
        let walker = Walker(model: self, function: entry)
        let result = walker.solveFunction()
        inProgress.remove(entry.key)
        solved[entry.key] = result
        return result
    }

    /// Runs the model: the whole-file report and one report per function, in source order.
    func run(lineCount: Int) -> (FunctionReport, [FunctionReport]) {
        // First pass records module-level variables (sizes of input, constants) for functions to see.
        let envPass = Walker(model: self, function: nil)
        envPass.resolveCalls = false
        _ = envPass.walkBlock(module.body)
        globals = envPass.env.merged

        let main = Walker(model: self, function: nil)
        var bound = main.walkBlock(module.body)
        var notes = main.notes
        var depth = main.maxDepth
        var functionReports: [FunctionReport] = []
        for entry in entries {
            guard let s = solve(entry) else { continue }
            functionReports.append(
                FunctionReport(
                    name: entry.def.name, startLine: entry.line, endLine: entry.endLine, class: s.bound.cost.complexityClass,
                    dominatingLine: s.bound.line, loopDepth: s.loopDepth, notes: s.notes))
        }
        if !main.referencedUserFunction {
            // A file of definitions only: report the worst function, as nothing else runs.
            for entry in entries {
                guard let s = solve(entry), s.bound.cost > bound.cost else { continue }
                bound = s.bound
                notes = ["worst function: \(entry.def.name) (nothing at module level calls it)"] + s.notes
                depth = max(depth, s.loopDepth)
            }
        }
        let overall = FunctionReport(
            name: "<module>", startLine: 1, endLine: lineCount, class: bound.cost.complexityClass,
            dominatingLine: bound.line, loopDepth: depth, notes: Array(notes.prefix(8)))
        return (overall, functionReports)
    }
}
