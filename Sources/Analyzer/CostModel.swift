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
    private var solved: [String: SolvedFunction] = [:]
    private var inProgress: Set<String> = []
    var globals: [String: VarInfo] = [:]

    /// How often each name is read anywhere in the file; counted on first use (only loops over a
    /// count read from input ask, and most files have none).
    private var uses: [String: Int]?
    /// Names assigned straight from an input read (`t = int(input())`).
    private(set) var readFromInput: Set<String> = []

    init(module: Module) {
        self.module = module
        collectFunctions(module.body)
    }

    func useCount(of name: String) -> Int {
        if uses == nil {
            var counts: [String: Int] = [:]
            Self.countUses(module.body, into: &counts)
            uses = counts
        }
        return uses?[name, default: 0] ?? 0
    }

    private static func countUses(_ body: [Stmt], into uses: inout [String: Int]) {
        for stmt in body {
            var exprs: [Expr]
            switch stmt.kind {
            case .assign(let targets, let value):
                exprs = [value] + targets.filter { if case .name = $0 { return false } else { return true } }
            case .ifStmt(let test, _, _), .whileStmt(let test, _, _): exprs = [test]
            case .forStmt(_, let it, _, _, _): exprs = [it]
            case .with(let items, _, _): exprs = items.map(\.0)
            case .match(let subject, _): exprs = [subject]
            case .function(let f): exprs = f.decorators + f.parameters.list.compactMap(\.defaultValue)
            case .classDef(let c): exprs = c.bases.map(\.value)
            case .augAssign(let target, _, let value): exprs = [target, value]
            default: exprs = RecursionScan.expressions(of: stmt)
            }
            for e in exprs {
                Walker.visit(e) { if case .name(let n) = $0 { uses[n, default: 0] += 1 } }
            }
            Walker.forEachChildBlock(stmt) { countUses($0, into: &uses) }
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
                byName[f.name] = entry
                collectFunctions(f.body)
            case .assign(let targets, .lambda(let params, let body)):
                // `I = lambda: int(input())` behaves like a one-line function.
                if targets.count == 1, case .name(let name) = targets[0] {
                    let def = FunctionDef(
                        name: name, parameters: params,
                        body: [Stmt(kind: .returnStmt(body), line: stmt.line, endLine: stmt.endLine)],
                        decorators: [], returns: nil, isAsync: false)
                    let entry = FunctionEntry(def: def, line: stmt.line, endLine: stmt.endLine, key: "\(name)@\(stmt.line)")
                    byName[name] = entry
                }
            default:
                Walker.forEachChildBlock(stmt) { collectFunctions($0) }
            }
        }
    }

    func function(named name: String) -> FunctionEntry? { byName[name] }

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
