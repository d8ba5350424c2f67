/// The shape of a function's calls to itself: how many per invocation, how the input shrinks, and
/// whether results are remembered (memoisation, visited sets) or undone (backtracking).
struct RecursionScan {
    /// How the recursive calls shrink the input.
    enum Shrink: Equatable { case divide(Int), subtract, unknown }

    let name: String
    let params: [String]
    /// Calls per invocation, with if/else branches counted as alternatives (max, not sum).
    private(set) var calls = 0
    private(set) var inInputLoop = false
    private(set) var loopOverAll = false
    private(set) var backtracking = false
    private(set) var memoised = false
    private(set) var shrink = Shrink.unknown
    private(set) var varyingParameters: Set<String> = []
    private(set) var firstLine: Int?
    private var shrinks: [Shrink] = []
    /// Locals assigned a midpoint (`mid = (lo + hi) // 2`) or a filtered part of a parameter.
    private var dividedNames: Set<String> = []

    init(name: String, params: [String], body: [Stmt]) {
        self.name = name
        self.params = params
        collectDivided(body)
        calls = count(body, loopDepth: 0, allLoop: false)
        if shrinks.contains(where: { if case .divide = $0 { return false } else { return true } }) || shrinks.isEmpty {
            shrink = shrinks.contains(.subtract) ? .subtract : .unknown
            if !shrinks.isEmpty, shrinks.allSatisfy({ if case .divide = $0 { return true } else { return false } }) {
                shrink = shrinks[0]
            }
        } else {
            shrink = shrinks[0]
        }
        // One call per invocation that sometimes halves and sometimes steps by a constant
        // (fast power: odd → n-1, even → n/2) still halves at least every other level.
        if calls == 1, let divide = shrinks.first(where: { if case .divide = $0 { return true } else { return false } }) {
            shrink = divide
        }
        if calls > 0 { detectState(body) }
    }

    /// False when no statement of `body` (outside nested functions and classes) contains a call to
    /// `name` or `self.name`: then a scan would count no calls, and most functions are not recursive.
    static func mayCallItself(_ name: String, in body: [Stmt]) -> Bool {
        for stmt in body {
            switch stmt.kind {
            case .function, .classDef: continue
            default: break
            }
            if Walker.anyExpression(in: stmt, { callsItself(name, $0) }) { return true }
            if Walker.anyChildBlock(stmt, { mayCallItself(name, in: $0) }) { return true }
        }
        return false
    }

    private static func callsItself(_ name: String, _ e: Expr) -> Bool {
        if case .call(let callee, _, _) = e {
            switch callee {
            case .name(let n) where n == name: return true
            case .attribute(.name(let receiver), let n) where n == name && receiver == "self": return true
            default: break
            }
        }
        return Walker.anyChild(e) { callsItself(name, $0) }
    }

    private mutating func collectDivided(_ body: [Stmt]) {
        for stmt in body {
            if case .assign(let targets, let value) = stmt.kind {
                var divides = false
                Walker.visit(value) { e in
                    if case .binary(let op, _, let r) = e, op == "//" || op == ">>" || op == "/" {
                        if case .number = r { divides = true }
                    }
                }
                if case .comprehension(_, _, _, let gens, _) = value, gens.contains(where: { !$0.conditions.isEmpty }) {
                    // Partitioning (quicksort's `less`/`greater`): expected halves.
                    divides = true
                }
                if divides { for t in targets { dividedNames.formUnion(Walker.names(in: t)) } }
            }
            if case .function = stmt.kind { continue }
            Walker.forEachChildBlock(stmt) { collectDivided($0) }
        }
    }

    /// Counts self-calls in `body`; `allLoop` is true inside a loop over a whole collection (not from an index).
    private mutating func count(_ body: [Stmt], loopDepth: Int, allLoop: Bool) -> Int {
        var total = 0
        for (index, stmt) in body.enumerated() {
            // `if c: return f(..)` followed by more code: the rest is the other branch, not an addition.
            if case .ifStmt(let test, let inner, let orElse) = stmt.kind, Self.endsInReturn(inner) {
                let rest = Array(body[(index + 1)...])
                let t = countExpr(test, line: stmt.line, inLoop: loopDepth > 0, allLoop: allLoop)
                let taken = count(inner, loopDepth: loopDepth, allLoop: allLoop)
                let other = count(orElse, loopDepth: loopDepth, allLoop: allLoop) + count(rest, loopDepth: loopDepth, allLoop: allLoop)
                return total + t + max(taken, other)
            }
            total += count(stmt, loopDepth: loopDepth, allLoop: allLoop)
        }
        return total
    }

    private static func endsInReturn(_ body: [Stmt]) -> Bool {
        guard let last = body.last else { return false }
        switch last.kind {
        case .returnStmt, .raise, .continueStmt, .breakStmt: return true
        default: return false
        }
    }

    private mutating func count(_ stmt: Stmt, loopDepth: Int, allLoop: Bool) -> Int {
        switch stmt.kind {
        case .ifStmt(let test, let body, let orElse):
            let t = countExpr(test, line: stmt.line, inLoop: loopDepth > 0, allLoop: allLoop)
            return t + max(count(body, loopDepth: loopDepth, allLoop: allLoop), count(orElse, loopDepth: loopDepth, allLoop: allLoop))
        case .forStmt(_, let iterable, let body, let orElse, _):
            let constant = Self.constantCount(iterable)
            let whole = !Self.startsFromParameter(iterable, params: params)
            let inner = count(body, loopDepth: constant == nil ? loopDepth + 1 : loopDepth, allLoop: constant == nil ? whole : allLoop)
            return inner * (constant ?? 1) + count(orElse, loopDepth: loopDepth, allLoop: allLoop)
        case .whileStmt(let test, let body, _):
            let inner = count(body, loopDepth: loopDepth + 1, allLoop: true)
            return inner + countExpr(test, line: stmt.line, inLoop: loopDepth > 0, allLoop: allLoop)
        case .function, .classDef:
            return 0
        case .match(_, let cases):
            return cases.map { count($0.body, loopDepth: loopDepth, allLoop: allLoop) }.max() ?? 0
        case .tryStmt(let body, let handlers, let orElse, let final):
            return count(body, loopDepth: loopDepth, allLoop: allLoop)
                + (handlers.map { count($0.body, loopDepth: loopDepth, allLoop: allLoop) }.max() ?? 0)
                + count(orElse, loopDepth: loopDepth, allLoop: allLoop) + count(final, loopDepth: loopDepth, allLoop: allLoop)
        case .with(_, let body, _):
            return count(body, loopDepth: loopDepth, allLoop: allLoop)
        default:
            var total = 0
            for e in Self.expressions(of: stmt) { total += countExpr(e, line: stmt.line, inLoop: loopDepth > 0, allLoop: allLoop) }
            return total
        }
    }

    static func expressions(of stmt: Stmt) -> [Expr] {
        switch stmt.kind {
        case .expr(let e), .returnStmt(let e?), .augAssign(_, _, let e), .assert(let e, _), .raise(let e?, _):
            return [e]
        case .assign(let targets, let v): return targets + [v]
        case .annAssign(_, _, let v?): return [v]
        default: return []
        }
    }

    private mutating func countExpr(_ e: Expr, line: Int, inLoop: Bool, allLoop: Bool) -> Int {
        switch e {
        case .call(let callee, let args, let callLine):
            var n = args.reduce(0) { $0 + countExpr($1.value, line: line, inLoop: inLoop, allLoop: allLoop) }
            if isSelf(callee) {
                n += 1
                if firstLine == nil { firstLine = callLine }
                if inLoop {
                    inInputLoop = true
                    if allLoop { loopOverAll = true }
                }
                shrinks.append(classify(args))
                for (i, a) in args.enumerated() where a.keyword == nil && i < params.count {
                    if case .name(let v) = a.value, v == params[i] { continue }
                    varyingParameters.insert(params[i])
                }
                for a in args {
                    if let k = a.keyword, k != "*", k != "**" {
                        if case .name(let v) = a.value, v == k { continue }
                        varyingParameters.insert(k)
                    }
                }
            }
            return n
        case .ifExp(let t, let b, let o):
            return countExpr(t, line: line, inLoop: inLoop, allLoop: allLoop)
                + max(countExpr(b, line: line, inLoop: inLoop, allLoop: allLoop), countExpr(o, line: line, inLoop: inLoop, allLoop: allLoop))
        case .comprehension(_, let el, let v, let gens, _):
            var n = 0
            for g in gens { n += countExpr(g.iterable, line: line, inLoop: inLoop, allLoop: allLoop) }
            let loopy = gens.contains { Self.constantCount($0.iterable) == nil }
            n += countExpr(el, line: line, inLoop: inLoop || loopy, allLoop: loopy ? true : allLoop)
            if let v { n += countExpr(v, line: line, inLoop: inLoop || loopy, allLoop: allLoop) }
            return n
        case .lambda:
            return 0
        default:
            var n = 0
            Walker.children(e) { n += countExpr($0, line: line, inLoop: inLoop, allLoop: allLoop) }
            return n
        }
    }

    private func isSelf(_ callee: Expr) -> Bool {
        switch callee {
        case .name(let n): return n == name
        case .attribute(.name("self"), let n): return n == name
        default: return false
        }
    }

    private func classify(_ args: [Argument]) -> Shrink {
        var result = Shrink.unknown
        for a in args {
            let s = classify(a.value)
            if case .divide = s { return s }
            if s == .subtract { result = .subtract }
        }
        return result
    }

    private func classify(_ e: Expr) -> Shrink {
        switch e {
        case .binary(let op, let l, let r):
            switch op {
            case "//", ">>", "/":
                if case .number(let s) = r { return .divide(op == ">>" ? 2 : max(2, Int(s) ?? 2)) }
                return .divide(2)
            case "%":
                return .divide(2)
            case "-", "+":
                if case .name(let v) = l, dividedNames.contains(v) { return .divide(2) }
                if case .name(let v) = r, dividedNames.contains(v) { return .divide(2) }
                return .subtract
            default:
                return .unknown
            }
        case .name(let v):
            if dividedNames.contains(v) { return .divide(2) }
            return .unknown
        case .index(_, let idx):
            for i in idx {
                if case .slice(let lo, let hi, _) = i {
                    for bound in [lo, hi].compactMap({ $0 }) {
                        if case .name(let v) = bound, dividedNames.contains(v) { return .divide(2) }
                        if classify(bound) != .subtract, case .divide = classify(bound) { return .divide(2) }
                    }
                    return .subtract
                }
            }
            return .unknown
        default:
            return .unknown
        }
    }

    /// Memoisation or visited marking (a structure tested and filled, never emptied) versus
    /// backtracking (marks undone after the recursive call).
    private mutating func detectState(_ body: [Stmt]) {
        var tested: Set<String> = []
        var filled: Set<String> = []
        var undone: Set<String> = []
        func scan(_ body: [Stmt]) {
            for stmt in body {
                switch stmt.kind {
                case .ifStmt(let test, _, _), .whileStmt(let test, _, _):
                    Walker.visit(test) { e in
                        if case .compare(_, let rest) = e {
                            for (op, r) in rest where op == "in" || op == "not in" {
                                if case .name(let n) = r { tested.insert(n) }
                            }
                        }
                        if case .index(.name(let n), _) = e { tested.insert(n) }
                        if case .call(.attribute(.name(let n), "get"), _, _) = e { tested.insert(n) }
                    }
                case .assign(let targets, let value):
                    for t in targets {
                        if case .index(.name(let n), _) = t {
                            if Self.isFalsy(value) { undone.insert(n) } else { filled.insert(n) }
                        }
                    }
                case .expr(.call(.attribute(.name(let n), let m), _, _)):
                    if m == "add" { filled.insert(n) }
                    if ["remove", "discard", "pop"].contains(m) { undone.insert(n) }
                default:
                    break
                }
                if case .function = stmt.kind { continue }
                Walker.forEachChildBlock(stmt) { scan($0) }
            }
        }
        scan(body)
        let remembered = tested.intersection(filled).subtracting(undone)
        backtracking = !undone.isEmpty || Self.appendsAndPops(body)
        memoised = !remembered.isEmpty && !backtracking
    }

    private static func appendsAndPops(_ body: [Stmt]) -> Bool {
        var appended: Set<String> = [], popped: Set<String> = []
        func scan(_ body: [Stmt]) {
            for stmt in body {
                if case .expr(.call(.attribute(.name(let n), let m), _, _)) = stmt.kind {
                    if m == "append" { appended.insert(n) }
                    if m == "pop" { popped.insert(n) }
                }
                if case .function = stmt.kind { continue }
                Walker.forEachChildBlock(stmt) { scan($0) }
            }
        }
        scan(body)
        return !appended.intersection(popped).isEmpty
    }

    private static func isFalsy(_ e: Expr) -> Bool {
        switch e {
        case .constant("False"), .constant("None"), .number("0"): return true
        default: return false
        }
    }

    /// The number of iterations of a loop over a literal, or nil when it depends on input.
    static func constantCount(_ e: Expr) -> Int? {
        switch e {
        case .list(let items), .tuple(let items), .set(let items):
            return items.count
        case .call(.name("range"), let args, _):
            let ints = args.map { a -> Int? in if case .number(let s) = a.value { return Int(s) } else { return nil } }
            if ints.contains(where: { $0 == nil }) { return nil }
            let v = ints.compactMap { $0 }
            if v.count == 1 { return max(0, v[0]) }
            if v.count >= 2 { return max(0, v[1] - v[0]) }
            return nil
        case .string(let s):
            return max(0, s.count - 2)
        default:
            return nil
        }
    }

    /// True for `range(i, n)` / `range(i + 1, n)` where i is a parameter: combinations, not permutations.
    static func startsFromParameter(_ e: Expr, params: [String]) -> Bool {
        if case .call(.name("range"), let args, _) = e, args.count >= 2 {
            return !Walker.names(inExpr: args[0].value).isDisjoint(with: Set(params))
        }
        return false
    }
}
