/// Rules of the cost model that can be switched off one at a time, to measure what each
/// contributes (`codesync bench accuracy` reports accuracy with each left out). Every rule is on in
/// normal analysis; each is a piece of general reasoning with a textbook example in the tests.
public struct AnalyzerRules: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `for _ in range(t)` over a count read from input and used nowhere else, whose body reads
    /// its own input, costs one test case.
    public static let testCaseCount = AnalyzerRules(rawValue: 1 << 0)
    /// A loop whose body reads a fresh collection and works on it costs max(work per case, cases).
    public static let freshInputPerIteration = AnalyzerRules(rawValue: 1 << 1)
    /// `range(i, n, i)` stepping by an enclosing loop variable is a harmonic sum (log n per step).
    public static let harmonicSteps = AnalyzerRules(rawValue: 1 << 2)
    /// In a worklist loop, an inner loop over `adj[u]` is amortised over the traversal (BFS/DFS).
    public static let amortisedAdjacency = AnalyzerRules(rawValue: 1 << 3)
    /// `while True` is governed by the variables tested before each `break`.
    public static let breakConditions = AnalyzerRules(rawValue: 1 << 4)
    /// A `mid = (lo + hi) // 2` assigned back into a bound makes a binary search (log n).
    public static let binarySearch = AnalyzerRules(rawValue: 1 << 5)
    /// A condition that squares the stepped variable (`i * i <= n`) runs sqrt n times.
    public static let squareRootBound = AnalyzerRules(rawValue: 1 << 6)
    /// Memoised recursion costs its number of states times the work per call.
    public static let memoisedStates = AnalyzerRules(rawValue: 1 << 7)
    /// Backtracking over all choices, undoing marks after the call, is factorial.
    public static let permutationBacktracking = AnalyzerRules(rawValue: 1 << 8)
    /// String methods cost their length only for strings known to be input-sized.
    public static let shortStrings = AnalyzerRules(rawValue: 1 << 9)
    /// Halving or doubling the condition's variable gives log of its bound.
    public static let halvingLoops = AnalyzerRules(rawValue: 1 << 10)
    /// A loop over a collection emptied by `pop`/`popleft`/`heappop` runs n times (a worklist).
    public static let worklistLoops = AnalyzerRules(rawValue: 1 << 11)
    /// A while loop nested in another loop that pops a stack or moves a pointer forward, neither
    /// reset by the enclosing loop, is amortised over it (two pointers, monotonic stack).
    public static let amortisedPointers = AnalyzerRules(rawValue: 1 << 12)
    /// A union-find `find` that compresses the path it walks is O(log n) amortised.
    public static let pathCompression = AnalyzerRules(rawValue: 1 << 13)

    /// Every rule, with a short name for reports.
    public static let named: [(name: String, rule: AnalyzerRules)] = [
        ("test-case-count", .testCaseCount), ("fresh-input-per-iteration", .freshInputPerIteration),
        ("harmonic-steps", .harmonicSteps), ("amortised-adjacency", .amortisedAdjacency),
        ("break-conditions", .breakConditions), ("binary-search", .binarySearch), ("square-root-bound", .squareRootBound),
        ("memoised-states", .memoisedStates), ("permutation-backtracking", .permutationBacktracking),
        ("short-strings", .shortStrings), ("halving-loops", .halvingLoops), ("worklist-loops", .worklistLoops),
        ("amortised-pointers", .amortisedPointers), ("path-compression", .pathCompression),
    ]

    /// All rules on: the analyzer as it normally runs.
    public static let all: AnalyzerRules = named.reduce(into: AnalyzerRules()) { $0.formUnion($1.rule) }
}
