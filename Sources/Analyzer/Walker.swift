/// The variables a walker sees: its own bindings layered over the module's. A function used to
/// start from a copy of every global, paid in full on its first assignment; now only what it binds
/// is stored.
struct Env {
    let globals: [String: VarInfo]
    var locals: [String: VarInfo] = [:]

    subscript(name: String) -> VarInfo? {
        get { locals[name] ?? globals[name] }
        set { locals[name] = newValue }
    }

    /// Every visible variable's info (a local hides a global of the same name).
    func forEachVisible(_ body: (VarInfo) -> Void) {
        for (_, v) in locals { body(v) }
        for (n, v) in globals where locals[n] == nil { body(v) }
    }

    /// All visible variables as one dictionary.
    var merged: [String: VarInfo] {
        locals.isEmpty ? globals : globals.merging(locals) { $1 }
    }
}

/// Walks one body (a function's or the module's) and prices every statement.
final class Walker {
    unowned let model: CostModel
    let function: FunctionEntry?
    var env: Env
    var notes: [String] = []
    /// False in the environment-only pass over the module.
    var resolveCalls = true
    var referencedUserFunction = false
    var readsInput = false
    private(set) var maxDepth = 0
    private var depth = 0
    /// Iteration counts of the enclosing loops, innermost last.
    private var loops: [Cost] = []
    /// Names of enclosing loop variables, innermost last.
    private var loopVariables: [Set<String>] = []
    /// Inside a worklist loop (`while queue:`) a loop over `adj[u]` is amortised over the whole run.
    private var worklistDepth = 0
    /// Bodies of the enclosing loops, innermost last (empty for a comprehension).
    private var loopBodies: [[Stmt]] = []

    init(model: CostModel, function: FunctionEntry?) {
        self.model = model
        self.function = function
        env = Env(globals: model.globals)
        if let f = function {
            // Room for a function's usual locals up front: growing a dictionary rehashes every key.
            env.locals.reserveCapacity(16)
            for p in f.def.parameters.list {
                env[p.name] = VarInfo(kind: .unknown, size: .n)
            }
        }
    }

    private func note(_ text: String) {
        if notes.count < 12, !notes.contains(text) { notes.append(text) }
    }

    private var loopProduct: Cost { loops.reduce(Cost.one) { $0.times($1) } }

    // MARK: - Functions and recursion

    func solveFunction() -> SolvedFunction {
        guard let f = function else { return SolvedFunction(bound: .constant(1), notes: [], loopDepth: 0, readsInput: false) }
        let body = f.def.body
        var work = walkBlock(body)
        if f.def.mayCallItself {
            let rec = RecursionScan(name: f.def.name, params: f.def.parameters.list.map(\.name), body: body)
            if rec.calls > 0 {
                work = solveRecurrence(rec, work: work, entry: f)
            }
        }
        return SolvedFunction(bound: work, notes: notes, loopDepth: maxDepth, readsInput: readsInput)
    }

    private func solveRecurrence(_ rec: RecursionScan, work: Bound, entry: FunctionEntry) -> Bound {
        let line = rec.firstLine ?? entry.line
        let name = entry.def.name
        // Before memoisation: `p[x] = find(p[x])` stores results too, but in the parent array.
        if model.rules.contains(.pathCompression), Self.compressesPath(recursive: name, body: entry.def.body) {
            note("union-find find with path compression at line \(line): O(log n) amortised")
            return Bound(cost: Cost.log.times(work.cost), line: line)
        }
        let memoised = model.rules.contains(.memoisedStates) && (entry.def.decorators.contains { Self.isCacheDecorator($0) } || rec.memoised)
        if memoised {
            let dims = max(1, min(3, rec.varyingParameters.count))
            let states = Cost(halfPowers: 2 * dims)
            note("memoised recursion: \(Cost(halfPowers: 2 * dims).complexityClass.rawValue) states of \(name)")
            return Bound(cost: states.times(work.cost), line: work.cost.isConstant ? line : work.line)
        }
        if rec.inInputLoop {
            if model.rules.contains(.permutationBacktracking), rec.backtracking && rec.loopOverAll {
                note("backtracking over all choices at each level: factorial")
                return Bound(cost: .factorial, line: line)
            }
            note("recursive call inside a loop: exponential")
            return Bound(cost: .exponential, line: line)
        }
        switch rec.shrink {
        case .divide(let b):
            // Master theorem: T(n) = a T(n/b) + f(n), comparing a with b^d in integers (a² vs b^(2d)).
            if work.cost.tier > 0 { return work }
            let a = rec.calls
            let twiceD = work.cost.halfPowers
            let aSquared = a * a
            var bPower = 1
            for _ in 0..<twiceD { bPower = min(bPower * b, 1 << 40) }
            if aSquared == bPower {
                note("recursion \(a)×T(n/\(b)) + \(work.cost.complexityClass.rawValue) work: master theorem")
                return Bound(cost: Cost(halfPowers: work.cost.halfPowers, logs: work.cost.logs + 1), line: line)
            }
            if aSquared > bPower {
                // Leaves dominate: n^(log_b a), rounded to the nearest half power.
                var half = twiceD
                var p = bPower
                while p * b <= aSquared { p *= b; half += 1 }
                note("recursion \(a)×T(n/\(b)): master theorem, leaves dominate")
                return Bound(cost: Cost(halfPowers: max(half, 1)), line: line)
            }
            note("recursion \(a)×T(n/\(b)): work per level dominates")
            return work
        case .subtract, .unknown:
            if rec.calls >= 2 {
                note("recursion: \(rec.calls) calls on a smaller input: exponential")
                return Bound(cost: .exponential, line: line)
            }
            note("recursion: one call per level, depth n")
            return Bound(cost: Cost.n.times(work.cost), line: work.cost.isConstant ? line : work.line)
        }
    }

    private static func isCacheDecorator(_ e: Expr) -> Bool {
        switch e {
        case .name(let n): return n == "cache" || n == "lru_cache" || n == "memoize" || n == "memoized"
        case .attribute(_, let n): return n == "cache" || n == "lru_cache"
        case .call(let f, _, _): return isCacheDecorator(f)
        default: return false
        }
    }

    // MARK: - Statements

    static func childBlocks(_ stmt: Stmt) -> [[Stmt]] {
        switch stmt.kind {
        case .ifStmt(_, let b, let o), .whileStmt(_, let b, let o): return [b, o]
        case .forStmt(_, _, let b, let o, _): return [b, o]
        case .with(_, let b, _): return [b]
        case .tryStmt(let b, let hs, let o, let f): return [b] + hs.map(\.body) + [o, f]
        case .match(_, let cases): return cases.map(\.body)
        case .classDef(let c): return [c.body]
        case .function(let f): return [f.body]
        default: return []
        }
    }

    /// Calls `f` with each nested block of `stmt` in the order of `childBlocks`, without building
    /// the array of blocks (this runs for every statement in several whole-file passes).
    static func forEachChildBlock(_ stmt: Stmt, _ f: ([Stmt]) -> Void) {
        switch stmt.kind {
        case .ifStmt(_, let b, let o), .whileStmt(_, let b, let o): f(b); f(o)
        case .forStmt(_, _, let b, let o, _): f(b); f(o)
        case .with(_, let b, _): f(b)
        case .tryStmt(let b, let hs, let o, let fin):
            f(b)
            for h in hs { f(h.body) }
            f(o); f(fin)
        case .match(_, let cases): for c in cases { f(c.body) }
        case .classDef(let c): f(c.body)
        case .function(let fn): f(fn.body)
        default: break
        }
    }

    /// True when `f` holds for some expression held directly by `stmt` (not those of its nested blocks).
    /// Returns a Bool instead of mutating a captured flag, so recursive searches stay cheap.
    static func anyExpression(in stmt: Stmt, _ f: (Expr) -> Bool) -> Bool {
        func any(_ e: Expr?) -> Bool { e.map(f) ?? false }
        switch stmt.kind {
        case .expr(let e): return f(e)
        case .assign(let targets, let value): return targets.contains(where: f) || f(value)
        case .augAssign(let t, _, let v): return f(t) || f(v)
        case .annAssign(let t, let a, let v): return f(t) || f(a) || any(v)
        case .function(let d):
            return d.decorators.contains(where: f)
                || d.parameters.list.contains { any($0.defaultValue) || any($0.annotation) } || any(d.returns)
        case .classDef(let c): return c.decorators.contains(where: f) || c.bases.contains { f($0.value) }
        case .returnStmt(let e): return any(e)
        case .ifStmt(let test, _, _), .whileStmt(let test, _, _): return f(test)
        case .forStmt(let target, let iterable, _, _, _): return f(target) || f(iterable)
        case .with(let items, _, _): return items.contains { f($0.0) || any($0.1) }
        case .tryStmt(_, let handlers, _, _): return handlers.contains { any($0.type) }
        case .match(let subject, let cases): return f(subject) || cases.contains { f($0.pattern) || any($0.guardExpr) }
        case .raise(let e, let cause): return any(e) || any(cause)
        case .assert(let e, let message): return f(e) || any(message)
        case .delete(let targets): return targets.contains(where: f)
        case .typeAlias(_, let value): return f(value)
        case .pass, .breakStmt, .continueStmt, .global, .nonlocal, .importModules, .importFrom, .error: return false
        }
    }

    /// True when `f` holds for some nested block of `stmt` (the blocks `forEachChildBlock` visits).
    static func anyChildBlock(_ stmt: Stmt, _ f: ([Stmt]) -> Bool) -> Bool {
        switch stmt.kind {
        case .ifStmt(_, let b, let o), .whileStmt(_, let b, let o): return f(b) || f(o)
        case .forStmt(_, _, let b, let o, _): return f(b) || f(o)
        case .with(_, let b, _): return f(b)
        case .tryStmt(let b, let hs, let o, let fin): return f(b) || hs.contains { f($0.body) } || f(o) || f(fin)
        case .match(_, let cases): return cases.contains { f($0.body) }
        case .classDef(let c): return f(c.body)
        case .function(let fn): return f(fn.body)
        default: return false
        }
    }

    func walkBlock(_ body: [Stmt]) -> Bound {
        var total = Bound.constant(body.first?.line ?? 1)
        for stmt in body {
            total = total.maxed(walk(stmt))
        }
        return total
    }

    private func walk(_ stmt: Stmt) -> Bound {
        let line = stmt.line
        switch stmt.kind {
        case .expr(let e):
            return cost(e, line)
        case .assign(let targets, let value):
            var c = cost(value, line)
            if targets.allSatisfy(Self.isFixedUnpacking), readsInputExpr(value), !Self.isTupleDisplay(value) {
                // `a, b = map(int, input().split())` reads a fixed number of values.
                c = .constant(line)
            }
            for t in targets {
                bind(t, to: value)
            }
            var total = c
            for t in targets { total = total.maxed(targetCost(t, line)) }
            return total
        case .augAssign(let target, let op, let value):
            var c = cost(value, line).maxed(targetCost(target, line))
            if case .name(let n) = target, let v = env[n] {
                if op == "+", v.kind == .sequence || v.kind == .string {
                    // `s += t` copies for strings and extends for lists: linear in what is added.
                    c = c.maxed(Bound(cost: size(of: value), line: line))
                    grow(n, by: loopProduct.times(size(of: value)))
                } else if v.kind == .number || v.kind == .unknown {
                    env[n] = VarInfo(kind: .number, size: magnitudeAfter(op: op, current: v.size, value: value))
                }
            }
            if case .index(.name(let n), _) = target, !loops.isEmpty, let v = env[n], v.kind == .hashed {
                grow(n, by: loopProduct)
            }
            return c
        case .annAssign(let target, _, let value):
            guard let value else { return .constant(line) }
            bind(target, to: value)
            return cost(value, line)
        case .function, .classDef:
            return .constant(line)
        case .returnStmt(let e):
            return e.map { cost($0, line) } ?? .constant(line)
        case .ifStmt(let test, let body, let orElse):
            return cost(test, line).maxed(walkBlock(body)).maxed(walkBlock(orElse))
        case .whileStmt(let test, let body, let orElse):
            return walkWhile(test: test, body: body, line: line).maxed(walkBlock(orElse))
        case .forStmt(let target, let iterable, let body, let orElse, _):
            return walkFor(target: target, iterable: iterable, body: body, line: line).maxed(walkBlock(orElse))
        case .with(let items, let body, _):
            var c = Bound.constant(line)
            for (e, _) in items { c = c.maxed(cost(e, line)) }
            return c.maxed(walkBlock(body))
        case .tryStmt(let body, let handlers, let orElse, let final):
            var c = walkBlock(body)
            for h in handlers { c = c.maxed(walkBlock(h.body)) }
            return c.maxed(walkBlock(orElse)).maxed(walkBlock(final))
        case .match(let subject, let cases):
            var c = cost(subject, line)
            for k in cases { c = c.maxed(walkBlock(k.body)) }
            return c
        case .raise(let e, _):
            return e.map { cost($0, line) } ?? .constant(line)
        case .assert(let e, _):
            return cost(e, line)
        case .delete(let targets):
            var c = Bound.constant(line)
            for t in targets {
                if case .index(.name(let n), _) = t, let v = env[n], v.kind == .sequence {
                    // Deleting from a list shifts the rest.
                    c = c.maxed(Bound(cost: v.size, line: line))
                }
            }
            return c
        case .error:
            return .constant(line)
        default:
            return .constant(line)
        }
    }

    private func targetCost(_ target: Expr, _ line: Int) -> Bound {
        switch target {
        case .index(let base, let idx):
            var c = cost(base, line)
            for i in idx { c = c.maxed(cost(i, line)) }
            return c
        case .attribute(let base, _):
            return cost(base, line)
        default:
            return .constant(line)
        }
    }

    // MARK: - Loops

    private func enterLoop(_ iterations: Cost, variables: Set<String>, body: [Stmt] = []) {
        loops.append(iterations)
        loopVariables.append(variables)
        loopBodies.append(body)
        depth += 1
        maxDepth = max(maxDepth, depth)
    }

    /// Sizes every collection the loop body adds to (`res.append(x)`) by the iterations so far, before
    /// the body is priced: `x in res` before `res.append(x)` scans a list that the earlier
    /// iterations filled, not the empty list it was before the loop.
    /// A collection the body also empties (`s.clear()`, `s = []`) is left as it is: its size
    /// between emptyings is not the iteration count.
    private func growCollections(addedToIn body: [Stmt]) {
        var added: Set<String> = []
        var emptied: Set<String> = []
        func scan(_ block: [Stmt]) {
            for stmt in block {
                switch stmt.kind {
                case .expr(.call(.attribute(.name(let r), let m), _, _)):
                    if Self.addingMethods.contains(m) { added.insert(r) }
                    if m == "clear" { emptied.insert(r) }
                case .assign(let targets, _):
                    for t in targets { if case .name(let n) = t { emptied.insert(n) } }
                case .function, .classDef:
                    continue
                default:
                    break
                }
                Walker.forEachChildBlock(stmt, scan)
            }
        }
        scan(body)
        for r in added.subtracting(emptied) { grow(r, by: loopProduct) }
    }

    private func leaveLoop() {
        loops.removeLast()
        loopVariables.removeLast()
        loopBodies.removeLast()
        depth -= 1
    }

    private func walkFor(target: Expr, iterable: Expr, body: [Stmt], line: Int) -> Bound {
        let setup = cost(iterable, line)
        var iterations = iterationCount(of: iterable)
        // Harmonic inner loop: range(start, n, i) with i an enclosing loop variable sums to n log n.
        if model.rules.contains(.harmonicSteps), case .call(.name("range"), let args, _) = iterable, args.count == 3, case .name(let step) = args[2].value,
            loopVariables.contains(where: { $0.contains(step) })
        {
            iterations = .log
            note("harmonic inner loop at line \(line): steps by the outer variable, log n on average")
        }
        if model.rules.contains(.amortisedAdjacency), worklistDepth > 0, Self.isAdjacencyLookup(iterable) {
            // Adjacency lists walked from a worklist: every edge once over the whole traversal.
            iterations = .one
        } else if model.rules.contains(.amortisedAdjacency), case .index(.name(let lists), let idx) = iterable, idx.count == 1,
            case .name(let u) = idx[0], model.bucketLists.contains(lists), loopVariables.last?.contains(u) == true
        {
            // `for u in order: for v in children[u]`: each bucket once per pass of the enclosing
            // loop, so the pass walks every entry once.
            iterations = .one
            note("adjacency lists at line \(line): every entry once per pass over the vertices")
        }
        let element = elementInfo(of: iterable)
        let names = Self.names(in: target)
        for n in names { env[n] = element }
        if case .call(.name("range"), _, _) = iterable, case .name(let n) = target {
            env[n] = VarInfo(kind: .number, size: iterations)
        }
        let caseCount = model.rules.contains(.testCaseCount) && countsTestCases(iterable: iterable, body: body)
        let testCaseLoop = caseCount || (model.rules.contains(.freshInputPerIteration) && isTestCaseLoop(iterations: iterations, body: body))
        enterLoop(testCaseLoop ? .one : iterations, variables: Set(names), body: body)
        growCollections(addedToIn: body)
        let inner = walkBlock(body)
        leaveLoop()
        var result: Bound
        if caseCount {
            note("loop at line \(line) runs once per test case (a count read from input and used nowhere else)")
            result = inner
        } else if testCaseLoop {
            note("loop at line \(line) reads a whole new test case each time: sizes add up to the input")
            result = inner.cost >= iterations ? inner : Bound(cost: iterations, line: line)
        } else {
            let total = iterations.times(inner.cost)
            result = Bound(cost: total, line: inner.cost.isConstant ? line : inner.line)
        }
        return result.maxed(setup)
    }

    /// True for `for _ in range(t)` where t is a number read from input that nothing else uses and
    /// the body reads its own input: complexity is per test case, so t is not a factor.
    private func countsTestCases(iterable: Expr, body: [Stmt]) -> Bool {
        guard loops.isEmpty, case .call(.name("range"), let args, _) = iterable, args.count == 1 else { return false }
        switch args[0].value {
        case .name(let t):
            guard env[t]?.kind == .number, model.readFromInput.contains(t), model.useCount(of: t) == 1 else { return false }
        case let e where readsInputExpr(e):
            break
        default:
            return false
        }
        var reads = false
        for stmt in body {
            if case .assign(let targets, let value) = stmt.kind, readsInputExpr(value),
                targets.contains(where: {
                    switch $0 {
                    case .name, .tuple, .list: return true  // `n = int(input())`, `a, b = map(int, input().split())`
                    default: return false
                    }
                })
            {
                reads = true
            }
            if case .expr(.call(.name(let f), _, _)) = stmt.kind, let entry = model.function(named: f),
                Self.bodyMentionsInput(entry.def.body) || (resolveCalls && model.solve(entry)?.readsInput == true)
            {
                reads = true
            }
        }
        // Cases are independent: a body that adds to a collection made before the loop is reading
        // one input of t items (`for _ in range(n): a.append(int(input()))`), not t test cases.
        return reads && !Self.accumulatesOutside(body, outputBuffers: model.isOutputBuffer)
    }

    /// True when `body` appends, adds or stores into a collection it does not itself create. An
    /// output buffer (a list only ever printed or joined) holds answers, not input, and is ignored.
    static func accumulatesOutside(_ body: [Stmt], outputBuffers: (String) -> Bool = { _ in false }) -> Bool {
        var created: Set<String> = []
        func visit(_ block: [Stmt]) -> Bool {
            for stmt in block {
                switch stmt.kind {
                case .assign(let targets, _):
                    for t in targets {
                        if case .name(let n) = t { created.insert(n) }
                        if case .index(.name(let n), _) = t, !created.contains(n) { return true }
                    }
                case .expr(.call(.attribute(.name(let n), let m), _, _)):
                    if Self.addingMethods.contains(m), !created.contains(n), !outputBuffers(n) {
                        return true
                    }
                case .expr(.call(.name("heappush"), let args, _)):
                    if case .name(let n)? = args.first?.value, !created.contains(n) { return true }
                case .function, .classDef:
                    continue
                default:
                    break
                }
                if Walker.anyChildBlock(stmt, visit) { return true }
            }
            return false
        }
        return visit(body)
    }

    /// A loop over test cases (`for _ in range(t): n = int(input()) ...`) costs the sum of its cases,
    /// which the per-case cost already bounds when each case reads its own input of size n.
    private func isTestCaseLoop(iterations: Cost, body: [Stmt]) -> Bool {
        guard !iterations.isConstant, loops.isEmpty else { return false }
        var defined: Set<String> = []
        // Single names read whole (`n = int(input())`, `a = list(...)`), as opposed to a pair of values.
        var wholeValues: Set<String> = []
        var callsReader = false
        for stmt in body {
            switch stmt.kind {
            case .assign(let targets, let value) where readsInputExpr(value):
                for t in targets {
                    defined.formUnion(Self.names(in: t))
                    if case .name(let n) = t { wholeValues.insert(n) }
                }
            case .expr(.call(.name(let f), _, _)):
                if let entry = model.function(named: f), let s = resolveCalls ? model.solve(entry) : nil, s.readsInput,
                    !s.bound.cost.isConstant
                {
                    callsReader = true
                }
            default:
                break
            }
        }
        if Self.accumulatesOutside(body, outputBuffers: model.isOutputBuffer) { return false }
        if callsReader { return true }
        if defined.isEmpty { return false }
        // Only when the freshly read values drive the work inside: a loop bound, an iterated
        // collection, or the receiver or argument of a call (`a.sort()`, `sorted(a)`).
        var drives = false
        Self.visitLoops(body) { iterable in
            if !Self.names(inExpr: iterable).isDisjoint(with: defined) { drives = true }
        }
        for stmt in body {
            if case .assign(_, let value) = stmt.kind, readsInputExpr(value) { continue }
            for e in RecursionScan.expressions(of: stmt) {
                Self.visitCalls(e) { callee, args in
                    var used: Set<String> = []
                    for a in args { if case .name(let n) = a.value { used.insert(n) } }
                    if case .attribute(.name(let n), _) = callee { used.insert(n) }
                    if !used.isDisjoint(with: wholeValues) { drives = true }
                }
            }
        }
        return drives
    }

    private static func isTupleDisplay(_ e: Expr) -> Bool {
        if case .tuple = e { return true }
        return false
    }

    private static func isFixedUnpacking(_ target: Expr) -> Bool {
        switch target {
        case .tuple(let items), .list(let items):
            return items.allSatisfy { if case .name = $0 { return true } else { return false } }
        default:
            return false
        }
    }

    private static func isAdjacencyLookup(_ e: Expr) -> Bool {
        switch e {
        case .index: return true
        case .call(.attribute(_, "get"), _, _): return true
        default: return false
        }
    }

    private static func visitLoops(_ body: [Stmt], _ visit: (Expr) -> Void) {
        for stmt in body {
            switch stmt.kind {
            case .forStmt(_, let it, let b, _, _):
                visit(it)
                visitLoops(b, visit)
            case .whileStmt(let test, let b, _):
                visit(test)
                visitLoops(b, visit)
            case .function, .classDef:
                continue
            default:
                Walker.forEachChildBlock(stmt) { visitLoops($0, visit) }
            }
        }
    }

    private func walkWhile(test: Expr, body: [Stmt], line: Int) -> Bound {
        let (iterations, kind) = whileIterations(test: test, body: body, line: line)
        switch kind {
        case .logarithmic: note("halving/doubling loop at line \(line): \(iterations.complexityClass.rawValue) iterations")
        case .binarySearch: note("binary search loop at line \(line): log n iterations")
        case .pathCompression: note("union-find find with path compression at line \(line): O(log n) amortised")
        case .amortised: note("amortised loop at line \(line): what it pops or moves forward is never reset by the enclosing loop, so it runs n times in all")
        default: break
        }
        if kind == .worklist { worklistDepth += 1 }
        enterLoop(iterations, variables: Self.names(inExpr: test), body: body)
        growCollections(addedToIn: body)
        let inner = walkBlock(body).maxed(cost(test, line))
        leaveLoop()
        if kind == .worklist { worklistDepth -= 1 }
        return Bound(cost: iterations.times(inner.cost), line: inner.cost.isConstant ? line : inner.line)
    }

    enum LoopKind { case linear, logarithmic, binarySearch, worklist, constant, amortised, pathCompression }

    private enum Update { case halving, stepping, midpoint, popping, other }

    /// How many times a while loop runs, from how the variables of its condition change in its body.
    private func whileIterations(test: Expr, body: [Stmt], line: Int) -> (Cost, LoopKind) {
        var testVars = Self.names(inExpr: test)
        if Self.isConstantTrue(test) {
            if !model.rules.contains(.breakConditions) { return (.n, .linear) }
            // `while True`: the variables tested before each `break` control the loop.
            testVars = []
            Self.visitBreakTests(body) { testVars.formUnion(Self.names(inExpr: $0)) }
            if testVars.isEmpty { return (.n, .linear) }
        }
        var updates: [String: Update] = [:]
        var midNames: Set<String> = []
        Self.scanUpdates(body, into: &updates, midNames: &midNames)
        let relevant = testVars.compactMap { v in updates[v].map { (v, $0) } }
        let bound = testMagnitude(test)
        if model.rules.contains(.pathCompression), Self.compressesPath(test: test, body: body) {
            return (.log, .pathCompression)
        }
        if model.rules.contains(.binarySearch), relevant.filter({ $0.1 == .midpoint }).count >= 1 && testVars.count >= 2 {
            return (.log, .binarySearch)
        }
        if model.rules.contains(.halvingLoops), relevant.contains(where: { $0.1 == .halving }) {
            // The log of what is halved, not only of the test: `while n % 2 == 0: n //= 2` compares
            // a remainder with 0, yet runs up to log n times.
            var halved = bound
            for (v, u) in relevant where u == .halving { halved = max(halved, magnitude(.name(v))) }
            let c = halved.logarithm
            return (c, c.isConstant ? .constant : .logarithmic)
        }
        if model.rules.contains(.amortisedPointers), let outer = loopBodies.last, !outer.isEmpty,
            Self.isAmortised(test: test, body: body, line: line, updates: updates, outerBody: outer)
        {
            return (.one, .amortised)
        }
        if model.rules.contains(.worklistLoops), relevant.contains(where: { $0.1 == .popping }) || (relevant.isEmpty && isCollectionTest(test)) {
            return (.n, .worklist)
        }
        if relevant.contains(where: { $0.1 == .stepping }) {
            if model.rules.contains(.squareRootBound), Self.hasSquareOf(test, names: Set(relevant.map(\.0))) { return (bound.squareRoot, .linear) }
            return (bound, bound.isConstant ? .constant : .linear)
        }
        return (bound.isConstant && !relevant.isEmpty ? .one : .n, .linear)
    }

    /// True for a while loop, nested in another loop, whose every iteration pops a stack or moves a
    /// pointer forward that the enclosing loop never resets: its iterations add up to the pushes
    /// or the pointer's range over the whole enclosing loop (two pointers, a monotonic stack,
    /// CLRS's multipop), so each pass of the enclosing loop pays O(1) amortised.
    private static func isAmortised(test: Expr, body: [Stmt], line: Int, updates: [String: Update], outerBody: [Stmt]) -> Bool {
        let popped = Set(updates.compactMap { $0.value == .popping ? $0.key : nil })
        var stepped: [String: String] = [:]  // pointer -> "+" or "-"
        var indexNames: Set<String> = []
        func scanBody(_ block: [Stmt]) {
            for stmt in block {
                if case .augAssign(.name(let p), let op, let v) = stmt.kind, op == "+" || op == "-", isConstantish(v) {
                    stepped[p] = stepped[p] == nil || stepped[p] == op ? op : "±"
                }
                if case .function = stmt.kind { continue }
                for e in RecursionScan.expressions(of: stmt) {
                    visit(e) { x in
                        if case .index(_, let idx) = x { for i in idx { if case .name(let n) = i { indexNames.insert(n) } } }
                    }
                }
                Walker.forEachChildBlock(stmt, scanBody)
            }
        }
        scanBody(body)
        let testNames = names(inExpr: test)
        // A pointer counts only when something bounds it: the test, or indexing a sequence with it.
        let pointers = stepped.filter { $0.value != "±" && (testNames.contains($0.key) || indexNames.contains($0.key)) }
        if popped.isEmpty && pointers.isEmpty { return false }

        // What the enclosing loop does to them, outside this while loop.
        var assigned: Set<String> = []
        var pushesInNestedLoops: Set<String> = []
        var pushedInsideThisLoop: Set<String> = []
        var steppedOtherwise: Set<String> = []
        func scanOuter(_ block: [Stmt], nestedLoop: Bool, insideThis: Bool) {
            for stmt in block {
                switch stmt.kind {
                case .assign(let targets, _):
                    // `x = ...` resets x; `a[i] = ...` only writes into a.
                    for t in targets { if case .index = t {} else { assigned.formUnion(names(in: t)) } }
                case .augAssign(.name(let p), let op, _):
                    if let dir = pointers[p], !insideThis, op != dir { steppedOtherwise.insert(p) }
                case .expr(.call(.attribute(.name(let c), let m), _, _)):
                    if Self.addingMethods.contains(m) {
                        if insideThis { pushedInsideThisLoop.insert(c) } else if nestedLoop { pushesInNestedLoops.insert(c) }
                    }
                    if m == "clear" { assigned.insert(c) }
                case .function, .classDef:
                    continue
                default:
                    break
                }
                let isThis: Bool
                if case .whileStmt = stmt.kind { isThis = stmt.line == line } else { isThis = false }
                let isLoop: Bool
                switch stmt.kind {
                case .forStmt, .whileStmt: isLoop = true
                default: isLoop = false
                }
                Walker.forEachChildBlock(stmt) {
                    scanOuter($0, nestedLoop: nestedLoop || (isLoop && !isThis), insideThis: insideThis || isThis)
                }
            }
        }
        scanOuter(outerBody, nestedLoop: false, insideThis: false)
        for c in popped where assigned.contains(c) || pushesInNestedLoops.contains(c) || pushedInsideThisLoop.contains(c) {
            return false
        }
        for p in pointers.keys where assigned.contains(p) || steppedOtherwise.contains(p) { return false }
        return true
    }

    /// `while parent[x] != x:` that also writes into `parent` (`parent[x] = parent[parent[x]]`): a
    /// union-find `find` with path compression (halving or splitting), O(log n) amortised per
    /// call (Tarjan and van Leeuwen); without the write, a chain can be n long.
    private static func compressesPath(test: Expr, body: [Stmt]) -> Bool {
        guard case .compare(let l, let rest) = test, rest.count == 1, rest[0].0 == "!=" else { return false }
        let r = rest[0].1
        var parent: String?
        if case .index(.name(let p), let idx) = l, idx.count == 1, case .name(let x) = idx[0], case .name(x) = r { parent = p }
        if case .index(.name(let p), let idx) = r, idx.count == 1, case .name(let x) = idx[0], case .name(x) = l { parent = p }
        guard let parent else { return false }
        return body.contains { stmt in
            if case .assign(let targets, _) = stmt.kind {
                return targets.contains { if case .index(.name(parent), _) = $0 { return true } else { return false } }
            }
            return false
        }
    }

    /// `parent[x] = find(parent[x])` in `find` itself: the recursive form of path compression.
    private static func compressesPath(recursive name: String, body: [Stmt]) -> Bool {
        func visit(_ block: [Stmt]) -> Bool {
            for stmt in block {
                if case .assign(let targets, .call(.name(name), let args, _)) = stmt.kind, args.count == 1,
                    case .index(.name(let p), _) = args[0].value,
                    targets.contains(where: { if case .index(.name(p), _) = $0 { return true } else { return false } })
                {
                    return true
                }
                if case .function = stmt.kind { continue }
                if Walker.anyChildBlock(stmt, visit) { return true }
            }
            return false
        }
        return visit(body)
    }

    private func isCollectionTest(_ test: Expr) -> Bool {
        switch test {
        case .name(let n): return env[n].map { $0.kind != .number } ?? false
        case .call(.name("len"), _, _): return true
        case .compare(.call(.name("len"), _, _), _): return true
        case .boolOp(_, let items): return items.contains { isCollectionTest($0) }
        default: return false
        }
    }

    private static func isConstantTrue(_ e: Expr) -> Bool {
        switch e {
        case .constant("True"): return true
        case .number(let s): return s != "0"
        default: return false
        }
    }

    private static func visitBreakTests(_ body: [Stmt], _ visit: (Expr) -> Void) {
        for stmt in body {
            switch stmt.kind {
            case .ifStmt(let test, let b, let o):
                if b.contains(where: { if case .breakStmt = $0.kind { return true }; if case .returnStmt = $0.kind { return true }; return false }) {
                    visit(test)
                }
                visitBreakTests(b, visit)
                visitBreakTests(o, visit)
            case .forStmt, .whileStmt, .function, .classDef:
                continue
            default:
                Walker.forEachChildBlock(stmt) { visitBreakTests($0, visit) }
            }
        }
    }

    /// Classifies how each variable is updated in a loop body (nested loops included, nested functions not).
    private static func scanUpdates(_ body: [Stmt], into updates: inout [String: Update], midNames: inout Set<String>) {
        func record(_ name: String, _ u: Update) {
            // The most telling update wins: halving beats stepping beats anything else.
            let rank: (Update) -> Int = { [.halving: 5, .midpoint: 4, .popping: 3, .stepping: 2, .other: 1][$0] ?? 0 }
            if let old = updates[name], rank(old) >= rank(u) { return }
            updates[name] = u
        }
        for stmt in body {
            switch stmt.kind {
            case .augAssign(.name(let n), let op, let value):
                switch op {
                case "//", ">>":
                    // A loop that divides by a variable ends only if it divides by 2 or more each
                    // time (`n //= base` in a digit loop): geometric, like a constant divisor.
                    record(n, .halving)
                case "/", "*", "<<", "%":
                    record(n, isConstantish(value) || op == "%" ? .halving : .other)
                case "+", "-":
                    if case .name(let v) = value, v == n { record(n, .halving) } else { record(n, .stepping) }
                default: record(n, .other)
                }
            case .assign(let targets, let value):
                for t in targets {
                    if case .name(let n) = t {
                        if isMidpoint(value) {
                            midNames.insert(n)
                            record(n, .other)
                        } else {
                            record(n, classify(assignTo: n, value: value, midNames: midNames))
                        }
                    } else if case .tuple(let items) = t, case .tuple(let values) = value, items.count == values.count {
                        for (item, v) in zip(items, values) {
                            if case .name(let n) = item {
                                record(n, classify(assignTo: n, value: v, midNames: midNames, tupleSwap: true))
                            }
                        }
                    }
                }
            case .expr(.call(.attribute(.name(let n), let method), _, _)):
                if ["pop", "popleft", "popitem", "remove", "discard", "clear"].contains(method) { record(n, .popping) }
            case .expr(.call(.attribute(_, "heappop"), let args, _)), .expr(.call(.name("heappop"), let args, _)):
                if case .name(let n)? = args.first?.value { record(n, .popping) }
            case .function, .classDef:
                continue
            default:
                break
            }
            Walker.forEachChildBlock(stmt) { scanUpdates($0, into: &updates, midNames: &midNames) }
            // Assignments whose value or target pops (`u = q.popleft()`, `res[st.pop()] = i`)
            // shrink the collection too.
            if case .assign(let targets, let value) = stmt.kind {
                for e in targets + [value] { visitCalls(e) { callee, args in
                    if case .attribute(.name(let n), let m) = callee, ["pop", "popleft", "popitem"].contains(m) {
                        record(n, .popping)
                    }
                    if case .attribute(_, "heappop") = callee, case .name(let n)? = args.first?.value { record(n, .popping) }
                    if case .name("heappop") = callee, case .name(let n)? = args.first?.value { record(n, .popping) }
                } }
            }
        }
    }

    private static func classify(assignTo n: String, value: Expr, midNames: Set<String>, tupleSwap: Bool = false) -> Update {
        if case .name(let v) = value, midNames.contains(v) { return .midpoint }
        if case .binary(let op, let l, let r) = value {
            if case .name(let v) = l, midNames.contains(v), op == "+" || op == "-" { return .midpoint }
            let mentionsSelf = names(inExpr: l).contains(n) || names(inExpr: r).contains(n)
            switch op {
            case "//", "/", ">>", "*", "<<":
                if mentionsSelf && (isConstantish(r) || isConstantish(l)) { return .halving }
                if case .name(let a) = l, case .name(let b) = r, a == n, b == n { return .halving }
                // `n = n // b`: see the augmented form in `scanUpdates`.
                if op == "//" || op == ">>", case .name(let a) = l, a == n { return .halving }
            case "%":
                if tupleSwap || mentionsSelf { return .halving }
            case "+", "-":
                if case .name(let a) = l, case .name(let b) = r, a == b, a == n { return .halving }
                // `a = a * 10 + 9`: multiplied by a constant each time, plus a little: geometric.
                if case .binary("*", let x, let k) = l, case .name(let a) = x, a == n, isConstantish(k) { return .halving }
                if mentionsSelf { return .stepping }
            default:
                break
            }
        }
        if tupleSwap, case .name = value { return .halving }
        if isMidpoint(value) { return .midpoint }
        return .other
    }

    private static func isMidpoint(_ e: Expr) -> Bool {
        switch e {
        case .binary("//", .binary("+", _, _), .number("2")), .binary(">>", .binary("+", _, _), .number("1")):
            return true
        case .binary("+", _, .binary("//", .binary("-", _, _), .number("2"))):
            return true
        case .binary("+", _, .binary(">>", .binary("-", _, _), .number("1"))):
            return true
        case .call(.name("int"), let args, _):
            if case .binary("/", .binary("+", _, _), .number("2"))? = args.first?.value { return true }
            return false
        default:
            return false
        }
    }

    private static func isConstantish(_ e: Expr) -> Bool {
        switch e {
        case .number: return true
        case .unary(_, let x): return isConstantish(x)
        case .binary(_, let a, let b): return isConstantish(a) && isConstantish(b)
        default: return false
        }
    }

    private static func hasSquareOf(_ e: Expr, names: Set<String>) -> Bool {
        var found = false
        visit(e) { x in
            if case .binary("*", .name(let a), .name(let b)) = x, a == b, names.contains(a) { found = true }
            if case .binary("**", .name(let a), .number("2")) = x, names.contains(a) { found = true }
        }
        return found
    }

    /// The magnitude of the largest operand of a loop condition.
    private func testMagnitude(_ test: Expr) -> Cost {
        switch test {
        case .compare(let l, let rest):
            var m = magnitude(l)
            for (_, r) in rest { m = max(m, magnitude(r)) }
            return m
        case .boolOp(_, let items):
            return items.map { testMagnitude($0) }.max() ?? .one
        case .unary("not", let x):
            return testMagnitude(x)
        case .constant("True"):
            var m = Cost.one
            env.forEachVisible { v in if v.kind == .number { m = max(m, v.size) } }
            return m == .one ? .n : m
        default:
            return magnitude(test)
        }
    }

    // MARK: - Expressions

    /// The cost of evaluating `e` once.
    func cost(_ e: Expr, _ line: Int) -> Bound {
        switch e {
        case .call(let callee, let args, let callLine):
            var c = Bound.constant(callLine)
            if case .attribute(let base, _) = callee { c = c.maxed(cost(base, callLine)) }
            for a in args { c = c.maxed(cost(a.value, callLine)) }
            return c.maxed(callCost(callee, args, line: callLine))
        case .comprehension(_, let element, let value, let gens, let compLine):
            return comprehensionCost(element: element, value: value, gens: gens, line: compLine)
        case .compare(let left, let rest):
            var c = cost(left, line)
            for (op, r) in rest {
                c = c.maxed(cost(r, line))
                if op == "in" || op == "not in" {
                    let member = membershipCost(r)
                    if !member.isConstant, !loops.isEmpty {
                        note("'in' on a list inside a loop at line \(line): linear scan each time")
                    }
                    c = c.maxed(Bound(cost: member, line: line))
                }
            }
            return c
        case .index(let base, let idx):
            var c = cost(base, line)
            for i in idx {
                c = c.maxed(cost(i, line))
                if case .slice = i {
                    // Slicing copies the slice.
                    c = c.maxed(Bound(cost: size(of: base), line: line))
                }
            }
            return c
        case .binary(let op, let l, let r):
            var c = cost(l, line).maxed(cost(r, line))
            if op == "*", isSequenceExpr(l) { c = c.maxed(Bound(cost: magnitude(r).times(size(of: l)), line: line)) }
            if op == "+" {
                // Concatenation copies both sides; only sides known to be sequences are charged.
                let left = isSequenceExpr(l) ? size(of: l) : .one
                let right = isSequenceExpr(r) ? size(of: r) : .one
                c = c.maxed(Bound(cost: max(left, right), line: line))
            }
            return c
        case .lambda:
            return .constant(line)
        case .name(let n):
            if !referencedUserFunction, model.function(named: n) != nil, n != function?.def.name { referencedUserFunction = true }
            return .constant(line)
        default:
            var c = Bound.constant(line)
            Self.children(e) { c = c.maxed(cost($0, line)) }
            return c
        }
    }

    private func comprehensionCost(element: Expr, value: Expr?, gens: [Comprehension], line: Int) -> Bound {
        var setup = Bound.constant(line)
        var count = Cost.one
        let saved = env
        for g in gens {
            setup = setup.maxed(Bound(cost: count.times(cost(g.iterable, line).cost), line: line))
            let it = iterationCount(of: g.iterable)
            let element = elementInfo(of: g.iterable)
            for n in Self.names(in: g.target) { env[n] = element }
            if case .call(.name("range"), _, _) = g.iterable, case .name(let n) = g.target {
                env[n] = VarInfo(kind: .number, size: it)
            }
            enterLoop(it, variables: Set(Self.names(in: g.target)))
            count = count.times(it)
        }
        var inner = cost(element, line)
        if let value { inner = inner.maxed(cost(value, line)) }
        for g in gens { for c in g.conditions { inner = inner.maxed(cost(c, line)) } }
        for _ in gens { leaveLoop() }
        env = saved
        let total = count.times(inner.cost)
        return setup.maxed(Bound(cost: total, line: inner.cost.isConstant ? line : inner.line))
    }

    private func membershipCost(_ container: Expr) -> Cost {
        switch container {
        case .name(let n):
            guard let v = env[n] else { return .n }
            switch v.kind {
            case .hashed, .number: return .one
            default: return v.size
            }
        case .call(.name(let f), let args, _):
            if ["set", "frozenset", "dict", "range", "Counter", "defaultdict"].contains(f) { return .one }
            return size(of: .call(.name(f), args, line: 0))
        case .call(.attribute(_, let m), _, _):
            return m == "keys" ? .one : .n
        case .list(let items), .tuple(let items):
            return items.count > 8 ? .n : .one
        case .set, .dict, .string:
            return .one
        default:
            return .one
        }
    }

    private enum BuiltinKind { case sortLike, linear, log }

    /// Builtins with a known cost by kind: one look-up per call instead of one per kind.
    private static let builtinKinds: [String: BuiltinKind] = {
        var kinds: [String: BuiltinKind] = [:]
        for f in ["sorted", "nlargest", "nsmallest"] { kinds[f] = .sortLike }
        for f in [
            "list", "tuple", "set", "frozenset", "dict", "sum", "max", "min", "any", "all", "Counter", "deque",
            "heapify", "bytearray", "accumulate", "reduce", "OrderedDict", "fsum", "prod",
        ] { kinds[f] = .linear }
        for f in [
            "bisect", "bisect_left", "bisect_right", "insort", "insort_left", "insort_right", "heappush", "heappop",
            "heappushpop", "heapreplace", "gcd", "lcm", "pow", "log", "log2", "log10",
        ] { kinds[f] = .log }
        return kinds
    }()

    private func callCost(_ callee: Expr, _ args: [Argument], line: Int) -> Bound {
        let firstSize = args.first.map { size(of: $0.value) } ?? .one
        // `threading.Thread(target=main).start()`: contest code runs its main this way for a
        // deeper stack; the thread runs the function once.
        if case .name(let t) = callee, t == "Thread", let entry = threadTargetEntry(args) { return userCall(entry, line: line) }
        if case .attribute(_, "Thread") = callee, let entry = threadTargetEntry(args) { return userCall(entry, line: line) }
        switch callee {
        case .name(let f), .attribute(.name("heapq"), let f), .attribute(.name("bisect"), let f),
            .attribute(.name("math"), let f), .attribute(.name("itertools"), let f), .attribute(.name("collections"), let f),
            .attribute(.name("functools"), let f):
            if case .name = callee, let entry = model.function(named: f) {
                return userCall(entry, line: line)
            }
            if f == "input" { readsInput = true; return .constant(line) }
            let kind = Self.builtinKinds[f]
            if kind == .sortLike {
                let c = firstSize.times(firstSize.logarithm)
                if !loops.isEmpty, !firstSize.isConstant { note("\(f)() inside loop at line \(line)") }
                return Bound(cost: c, line: line)
            }
            if kind == .linear {
                if f == "max" || f == "min", args.count >= 2 { return .constant(line) }
                if !loops.isEmpty, !firstSize.isConstant, ["sum", "max", "min", "list", "set", "Counter"].contains(f) {
                    note("\(f)() inside loop at line \(line)")
                }
                return Bound(cost: firstSize, line: line)
            }
            if kind == .log {
                if f.hasPrefix("heappush") || f.hasPrefix("insort"), !loops.isEmpty, case .name(let h)? = args.first?.value {
                    grow(h, by: loopProduct)
                }
                if f == "pow", args.count < 3 { return .constant(line) }
                if ["insort", "insort_left", "insort_right"].contains(f) { return Bound(cost: firstSize, line: line) }
                if f.hasPrefix("heap") || f.hasPrefix("bisect") {
                    // Heaps and sorted lists: log of their length (a heap filled in a loop is input-sized).
                    return Bound(cost: firstSize.isConstant ? .log : firstSize.logarithm, line: line)
                }
                // Arithmetic: pow(a, e, m) squares log e times; gcd/lcm/log take log of the value.
                let operand = f == "pow" ? args[1].value : (args.first?.value ?? .number("1"))
                return Bound(cost: magnitude(operand).logarithm, line: line)
            }
            if f == "print" {
                var c = Cost.one
                for a in args where a.keyword == "*" { c = max(c, size(of: a.value)) }
                return Bound(cost: c, line: line)
            }
            if f == "factorial" || f == "comb" || f == "perm" { return Bound(cost: .n, line: line) }
            return .constant(line)
        case .attribute(let receiver, let method):
            if case .name("self") = receiver, let entry = model.function(named: method) {
                return userCall(entry, line: line)
            }
            if case .name(let r) = receiver, env[r] == nil, let entry = model.function(named: method), r != "sys", r != "os" {
                return userCall(entry, line: line)
            }
            return Bound(cost: methodCost(receiver: receiver, method: method, args: args, line: line), line: line)
        default:
            return .constant(line)
        }
    }

    private func userCall(_ entry: FunctionEntry, line: Int) -> Bound {
        referencedUserFunction = true
        guard resolveCalls else { return .constant(line) }
        if entry.key == function?.key { return .constant(line) }
        guard let s = model.solve(entry) else { return .constant(line) }
        if s.readsInput { readsInput = true }
        if !loops.isEmpty, !s.bound.cost.isConstant, !loopProduct.isConstant {
            note("\(entry.def.name)() (\(s.bound.cost.complexityClass.rawValue)) called inside loop at line \(line)")
        }
        return Bound(cost: s.bound.cost, line: s.bound.cost.isConstant ? line : line)
    }

    private func threadTargetEntry(_ args: [Argument]) -> FunctionEntry? {
        guard let target = args.first(where: { $0.keyword == "target" }), case .name(let f) = target.value else { return nil }
        return model.function(named: f)
    }

    /// Methods that add to the collection they are called on (it grows with the loop around them).
    static let addingMethods: Set<String> = ["append", "appendleft", "add", "insert", "extend"]

    /// Every method name `methodCost` prices; any other method costs O(1).
    private static let pricedMethods: Set<String> = [
        "sort", "index", "count", "remove", "reverse", "copy", "find", "rfind", "replace", "lower", "upper", "strip",
        "rstrip", "lstrip", "isdigit", "isalpha", "rindex", "swapcase", "title", "split", "insert", "pop", "join",
        "extend", "update", "union", "intersection", "difference", "symmetric_difference", "issubset", "issuperset",
        "readline", "readlines", "read",
    ]

    private func methodCost(receiver: Expr, method: String, args: [Argument], line: Int) -> Cost {
        var recv = VarInfo(kind: .unknown, size: .n)
        var isNamed = false
        if case .name(let r) = receiver {
            isNamed = true
            if !loops.isEmpty, Self.addingMethods.contains(method) {
                grow(r, by: loopProduct)
            }
            if let v = env[r] { recv = v }
        }
        // Most methods called are none of the priced ones below; one hash answers that instead of
        // comparing the name with every case in turn.
        guard Self.pricedMethods.contains(method) else { return .one }
        switch method {
        case "sort":
            if !loops.isEmpty, !recv.size.isConstant { note("sort() inside loop at line \(line)") }
            return recv.size.times(recv.size.logarithm)
        case "index", "count", "remove", "reverse", "copy":
            if recv.kind == .hashed, method == "copy" { return recv.size }
            if recv.kind == .hashed || recv.kind == .number { return .one }
            return isNamed ? recv.size : .one
        case "find", "rfind", "replace", "lower", "upper", "strip", "rstrip", "lstrip", "isdigit", "isalpha", "rindex",
            "swapcase", "title":
            // Only strings known to be input-sized cost their length; words and tokens are short.
            if !model.rules.contains(.shortStrings) { return recv.size }
            return isNamed && recv.kind == .string ? recv.size : .one
        case "split":
            return isNamed ? recv.size : .one
        case "insert":
            if recv.kind == .deque { return .one }
            return recv.size
        case "pop":
            if recv.kind == .sequence, let first = args.first?.value, case .number(let s) = first, s == "0" {
                note("list.pop(0) at line \(line) shifts the whole list")
                return recv.size
            }
            return .one
        case "join":
            return args.first.map { size(of: $0.value) } ?? .one
        case "extend", "update", "union", "intersection", "difference", "symmetric_difference", "issubset", "issuperset":
            return args.first.map { size(of: $0.value) } ?? .one
        case "readline", "readlines", "read":
            readsInput = true
            return .one
        default:
            return .one
        }
    }

    // MARK: - Sizes and magnitudes

    private func isSequenceExpr(_ e: Expr) -> Bool {
        switch e {
        case .list, .comprehension(.list, _, _, _, _), .string: return true
        case .call(.name(let f), _, _): return ["str", "bin", "hex", "oct", "list", "sorted"].contains(f)
        case .binary("*", let l, let r): return isSequenceExpr(l) || isSequenceExpr(r)
        case .index(let base, let idx):
            return idx.contains { if case .slice = $0 { return true } else { return false } } && isSequenceExpr(base)
        case .name(let n): return env[n].map { $0.kind == .sequence || $0.kind == .string } ?? false
        default: return false
        }
    }

    /// How many times a loop over `e` runs.
    private func iterationCount(of e: Expr) -> Cost {
        size(of: e)
    }

    /// The length of the collection `e` evaluates to.
    func size(of e: Expr) -> Cost {
        switch e {
        case .name(let n):
            return env[n]?.size ?? .n
        case .number, .constant:
            return .one
        case .string:
            return .one
        case .list(let items), .tuple(let items), .set(let items):
            var c = Cost.one
            for i in items { if case .starred(let x) = i { c = max(c, size(of: x)) } }
            return c
        case .dict:
            return .one
        case .comprehension(_, _, _, let gens, _):
            return gens.reduce(Cost.one) { $0.times(size(of: $1.iterable)) }
        case .index(let base, let idx):
            if idx.contains(where: { if case .slice = $0 { return true } else { return false } }) { return size(of: base) }
            // An element of a collection of collections: assume rows as long as the whole.
            let s = size(of: base)
            if case .name(let n) = base, let v = env[n], v.kind == .string { return .one }
            return s
        case .binary("*", let l, let r):
            if isSequenceExpr(l) { return size(of: l).times(magnitude(r)) }
            if isSequenceExpr(r) { return size(of: r).times(magnitude(l)) }
            return magnitude(e)
        case .binary("+", let l, let r):
            return max(size(of: l), size(of: r))
        case .call(let callee, let args, _):
            return callResultSize(callee, args)
        case .ifExp(_, let a, let b):
            return max(size(of: a), size(of: b))
        case .boolOp(_, let items):
            return items.map { size(of: $0) }.max() ?? .one
        default:
            return .n
        }
    }

    private func callResultSize(_ callee: Expr, _ args: [Argument]) -> Cost {
        let first = args.first.map { size(of: $0.value) } ?? .one
        switch callee {
        case .name(let f), .attribute(.name("itertools"), let f), .attribute(.name("collections"), let f):
            switch f {
            case "range":
                if args.isEmpty { return .one }
                var m = Cost.one
                // range(stop) or range(start, stop[, step]): the span is the larger bound's magnitude.
                for a in args.prefix(2) { m = max(m, magnitude(a.value)) }
                if args.count == 3, case .number = args[2].value {} else if args.count == 3, !magnitude(args[2].value).isConstant {
                    return m
                }
                return m
            case "input":
                readsInput = true
                return .n
            case "list", "tuple", "set", "frozenset", "sorted", "reversed", "enumerate", "iter", "deque", "Counter",
                "dict", "filter", "OrderedDict", "bytearray", "accumulate":
                if f == "filter" || f == "map" { return args.count > 1 ? size(of: args[1].value) : .one }
                return args.isEmpty ? .one : first
            case "map", "starmap":
                return args.count > 1 ? args.dropFirst().map { size(of: $0.value) }.max() ?? .one : .one
            case "zip", "zip_longest":
                return args.map { size(of: $0.value) }.max() ?? .one
            case "product":
                if let r = args.first(where: { $0.keyword == "repeat" }) {
                    let k = magnitude(r.value)
                    return k.isConstant ? (Self.literalInt(r.value).map { Cost(halfPowers: 2 * $0) } ?? .n) : .exponential
                }
                return args.reduce(Cost.one) { $0.times(size(of: $1.value)) }
            case "permutations":
                if args.count >= 2, let k = Self.literalInt(args[1].value) { return Cost(halfPowers: 2 * k).times(first.isConstant ? .one : .one) }
                return first.isConstant ? .one : .factorial
            case "combinations", "combinations_with_replacement":
                if first.isConstant { return .one }
                if args.count >= 2, let k = Self.literalInt(args[1].value) { return Cost(halfPowers: 2 * k) }
                return .exponential
            case "str", "bin", "hex", "oct":
                return args.first.map { magnitude($0.value).logarithm } ?? .one
            case "defaultdict", "set_", "chain":
                return f == "chain" ? (args.map { size(of: $0.value) }.max() ?? .one) : .one
            default:
                return model.function(named: f) != nil ? .n : .one
            }
        case .attribute(let base, let m):
            switch m {
            case "split", "strip", "rstrip", "lstrip", "readline", "read", "lower", "upper", "replace", "copy", "keys", "values",
                "items", "readlines":
                if case .call = base { readsInput = readsInput || readsInputExpr(base) }
                if m == "readline" || m == "read" || m == "readlines" { readsInput = true; return .n }
                return size(of: base)
            case "join":
                return args.first.map { size(of: $0.value) } ?? .one
            default:
                return .n
            }
        default:
            return .n
        }
    }

    private static func literalInt(_ e: Expr) -> Int? {
        if case .number(let s) = e { return Int(s.filter { $0 != "_" }) }
        return nil
    }

    /// The size of a number's value, in terms of n.
    func magnitude(_ e: Expr) -> Cost {
        switch e {
        case .number, .string, .constant:
            return .one
        case .name(let n):
            return env[n]?.size ?? .n
        case .unary(_, let x):
            return magnitude(x)
        case .binary(let op, let l, let r):
            let a = magnitude(l), b = magnitude(r)
            switch op {
            case "+", "-", "|", "^": return max(a, b)
            case "*": return a.times(b)
            case "//", "/", ">>", "&": return a
            case "%": return min(a, b)
            case "<<":
                return b.isConstant ? a : .exponential
            case "**":
                if let k = Self.literalInt(r) { return k <= 0 ? .one : (0..<k).reduce(Cost.one) { acc, _ in acc.times(a) } }
                if case .number(let s) = r, s == "0.5" { return a.squareRoot }
                if case .binary("/", .number("1"), .number("2")) = r { return a.squareRoot }
                return b.isConstant ? a : (a.isConstant ? .exponential : .exponential)
            default: return max(a, b)
            }
        case .call(let callee, let args, _):
            let first = args.first.map { magnitude($0.value) } ?? .one
            switch callee {
            case .name("len"):
                return args.first.map { size(of: $0.value) } ?? .one
            case .name("int"), .name("abs"), .name("round"), .name("float"), .name("ceil"), .name("floor"),
                .attribute(_, "ceil"), .attribute(_, "floor"):
                if let a = args.first?.value, readsInputExpr(a) { return .n }
                return first
            case .name("isqrt"), .name("sqrt"), .attribute(_, "isqrt"), .attribute(_, "sqrt"):
                return first.squareRoot
            case .name("log2"), .name("log"), .attribute(_, "log2"), .attribute(_, "log"), .attribute(_, "bit_length"):
                return first.logarithm
            case .name("min"):
                return args.count >= 2 ? args.map { magnitude($0.value) }.min() ?? .one : .n
            case .name("max"):
                return args.count >= 2 ? args.map { magnitude($0.value) }.max() ?? .one : .n
            case .name("pow"):
                return args.count >= 3 ? magnitude(args[2].value) : .n
            case .name("input"):
                readsInput = true
                return .n
            default:
                return .n
            }
        case .index(let base, _):
            if case .name(let n) = base, let v = env[n], v.size.isConstant, v.kind != .unknown { return .one }
            return .n
        case .ifExp(_, let a, let b):
            return max(magnitude(a), magnitude(b))
        default:
            return .n
        }
    }

    private func magnitudeAfter(op: String, current: Cost, value: Expr) -> Cost {
        switch op {
        case "+", "-": return max(current, magnitude(value))
        case "*": return current.times(magnitude(value))
        default: return current
        }
    }

    /// What iterating `e` yields for each element.
    private func elementInfo(of e: Expr) -> VarInfo {
        switch e {
        case .call(.name("range"), _, _):
            return VarInfo(kind: .number, size: size(of: e))
        case .name(let n):
            if let v = env[n], v.kind == .string { return VarInfo(kind: .string, size: .one) }
            return VarInfo(kind: .unknown, size: .n)
        default:
            return VarInfo(kind: .unknown, size: .n)
        }
    }

    /// True when `e` reads input: `input()`, a `readline`/`read`/`readlines` method, or a call to
    /// another user function whose body reads input directly.
    private func readsInputExpr(_ e: Expr) -> Bool {
        if case .call(let callee, _, _) = e {
            switch callee {
            case .name("input"): return true
            case .attribute(_, "readline"), .attribute(_, "read"), .attribute(_, "readlines"): return true
            case .name(let f):
                if let entry = model.function(named: f), entry.key != function?.key,
                    Self.bodyMentionsInput(entry.def.body)
                {
                    return true
                }
            default: break
            }
        }
        return Self.anyChild(e) { readsInputExpr($0) }
    }

    /// True when `e` calls `input()` or a `readline`/`read` method directly.
    static func mentionsInputCall(_ e: Expr) -> Bool {
        if case .call(let callee, _, _) = e {
            switch callee {
            case .name("input"), .attribute(_, "readline"), .attribute(_, "read"): return true
            default: break
            }
        }
        return anyChild(e, mentionsInputCall)
    }

    /// True when a statement of `body` itself (a return value, expression or assigned value, nested
    /// blocks not included) calls `input()` or a `readline`/`read` method.
    private static func bodyMentionsInput(_ body: [Stmt]) -> Bool {
        body.contains { stmt in
            switch stmt.kind {
            case .returnStmt(let e?), .expr(let e), .assign(_, let e): return mentionsInputCall(e)
            default: return false
            }
        }
    }

    // MARK: - Binding

    private func bind(_ target: Expr, to value: Expr) {
        switch target {
        case .name(let n):
            env[n] = info(of: value)
        case .tuple(let items), .list(let items):
            if case .tuple(let values) = value, values.count == items.count {
                let infos = values.map { info(of: $0) }
                for (item, i) in zip(items, infos) { if case .name(let n) = item { env[n] = i } }
            } else {
                let element: VarInfo
                if readsInputExpr(value) {
                    element = VarInfo(kind: .number, size: .n)
                } else {
                    element = VarInfo(kind: .unknown, size: .n)
                }
                for item in items {
                    if case .name(let n) = item { env[n] = element }
                    if case .starred(.name(let n)) = item { env[n] = VarInfo(kind: .sequence, size: .n) }
                }
            }
        case .index(.name(let n), _):
            if !loops.isEmpty, let v = env[n], v.kind == .hashed || v.kind == .unknown { grow(n, by: loopProduct) }
        default:
            break
        }
    }

    private func grow(_ name: String, by amount: Cost) {
        guard var v = env[name] else { return }
        if amount > v.size {
            v.size = amount
            env[name] = v
        }
    }

    /// Kind and size of the value `e`.
    private func info(of e: Expr) -> VarInfo {
        switch e {
        case .list, .comprehension(.list, _, _, _, _), .comprehension(.generator, _, _, _, _):
            return VarInfo(kind: .sequence, size: size(of: e))
        case .tuple:
            return VarInfo(kind: .sequence, size: size(of: e))
        case .set, .dict, .comprehension(.set, _, _, _, _), .comprehension(.dict, _, _, _, _):
            return VarInfo(kind: .hashed, size: size(of: e))
        case .string:
            return VarInfo(kind: .string, size: .one)
        case .number, .constant:
            return VarInfo(kind: .number, size: .one)
        case .binary(let op, let l, _):
            if (op == "*" || op == "+") && isSequenceExpr(l) { return VarInfo(kind: .sequence, size: size(of: e)) }
            return VarInfo(kind: .number, size: magnitude(e))
        case .name(let n):
            return env[n] ?? VarInfo(kind: .unknown, size: .n)
        case .index(let base, let idx) where idx.contains(where: { if case .slice = $0 { return true } else { return false } }):
            var v = info(of: base)
            v.size = size(of: e)
            return v
        case .call(let callee, let args, _):
            switch callee {
            case .name(let f):
                switch f {
                case "int", "len", "abs", "pow", "float", "round", "ord", "isqrt", "sqrt", "min", "max", "sum", "gcd":
                    if (f == "min" || f == "max" || f == "sum"), args.count == 1 { return VarInfo(kind: .number, size: .n) }
                    return VarInfo(kind: .number, size: magnitude(e))
                case "list", "sorted", "tuple", "reversed":
                    return VarInfo(kind: .sequence, size: size(of: e))
                case "deque":
                    return VarInfo(kind: .deque, size: size(of: e))
                case "set", "frozenset", "dict", "Counter", "defaultdict", "OrderedDict":
                    return VarInfo(kind: .hashed, size: size(of: e))
                case "input", "str", "bin", "hex", "oct":
                    return VarInfo(kind: .string, size: size(of: e))
                default:
                    if let entry = model.function(named: f), Self.bodyMentionsInput(entry.def.body) {
                        return VarInfo(kind: .unknown, size: .n)
                    }
                    return VarInfo(kind: .unknown, size: .n)
                }
            case .attribute(_, let m):
                switch m {
                case "split", "readlines": return VarInfo(kind: .sequence, size: size(of: e))
                case "readline", "strip", "rstrip", "lower", "upper", "replace", "join": return VarInfo(kind: .string, size: size(of: e))
                case "copy": return VarInfo(kind: .sequence, size: size(of: e))
                case "deque": return VarInfo(kind: .deque, size: size(of: e))
                case "defaultdict", "Counter": return VarInfo(kind: .hashed, size: size(of: e))
                default: return VarInfo(kind: .unknown, size: .n)
                }
            default:
                return VarInfo(kind: .unknown, size: .n)
            }
        default:
            return VarInfo(kind: .number, size: magnitude(e))
        }
    }

    // MARK: - Traversal helpers

    static func names(in target: Expr) -> [String] {
        switch target {
        case .name(let n): return [n]
        case .tuple(let items), .list(let items): return items.flatMap { names(in: $0) }
        case .starred(let x): return names(in: x)
        default: return []
        }
    }

    static func names(inExpr e: Expr) -> Set<String> {
        var out: Set<String> = []
        visit(e) { if case .name(let n) = $0 { out.insert(n) } }
        return out
    }

    /// Calls `f` on `e` and every sub-expression (lambdas included).
    static func visit(_ e: Expr, _ f: (Expr) -> Void) {
        f(e)
        children(e) { visit($0, f) }
    }

    static func visitCalls(_ e: Expr, _ f: (Expr, [Argument]) -> Void) {
        visit(e) { if case .call(let callee, let args, _) = $0 { f(callee, args) } }
    }

    /// True when `f` holds for some direct sub-expression of `e` (the ones `children` visits).
    static func anyChild(_ e: Expr, _ f: (Expr) -> Bool) -> Bool {
        func any(_ x: Expr?) -> Bool { x.map(f) ?? false }
        switch e {
        case .name, .number, .string, .constant: return false
        case .attribute(let b, _): return f(b)
        case .index(let b, let idx): return f(b) || idx.contains(where: f)
        case .slice(let a, let b, let c): return any(a) || any(b) || any(c)
        case .call(let c, let args, _): return f(c) || args.contains { f($0.value) }
        case .binary(_, let a, let b): return f(a) || f(b)
        case .unary(_, let a): return f(a)
        case .boolOp(_, let items), .tuple(let items), .list(let items), .set(let items): return items.contains(where: f)
        case .compare(let l, let rest): return f(l) || rest.contains { f($0.1) }
        case .lambda(_, let body): return f(body)
        case .ifExp(let t, let b, let o): return f(t) || f(b) || f(o)
        case .dict(let pairs): return pairs.contains { any($0.0) || f($0.1) }
        case .comprehension(_, let el, let v, let gens, _):
            return f(el) || any(v) || gens.contains { f($0.iterable) || $0.conditions.contains(where: f) }
        case .starred(let x), .doubleStarred(let x), .yieldFrom(let x), .await(let x), .namedExpr(_, let x),
            .patternAs(let x, _):
            return f(x)
        case .yield(let x): return any(x)
        }
    }

    static func children(_ e: Expr, _ f: (Expr) -> Void) {
        switch e {
        case .name, .number, .string, .constant: break
        case .attribute(let b, _): f(b)
        case .index(let b, let idx): f(b); idx.forEach(f)
        case .slice(let a, let b, let c): a.map(f); b.map(f); c.map(f)
        case .call(let c, let args, _): f(c); args.forEach { f($0.value) }
        case .binary(_, let a, let b): f(a); f(b)
        case .unary(_, let a): f(a)
        case .boolOp(_, let items), .tuple(let items), .list(let items), .set(let items): items.forEach(f)
        case .compare(let l, let rest): f(l); rest.forEach { f($0.1) }
        case .lambda(_, let body): f(body)
        case .ifExp(let t, let b, let o): f(t); f(b); f(o)
        case .dict(let pairs): pairs.forEach { $0.0.map(f); f($0.1) }
        case .comprehension(_, let el, let v, let gens, _):
            f(el); v.map(f)
            for g in gens { f(g.iterable); g.conditions.forEach(f) }
        case .starred(let x), .doubleStarred(let x), .yieldFrom(let x), .await(let x), .namedExpr(_, let x),
            .patternAs(let x, _):
            f(x)
        case .yield(let x): x.map(f)
        }
    }
}
