/// One labelled sample of the complexity data sets (`codecomplex_dev.jsonl`, `canonical.jsonl`).
public struct AccuracySample: Codable, Sendable {
    public var id: String
    public var language: String
    public var label: String
    public var source: String
    /// For canonical samples: a call such as `fib(10)`; its function is the one scored.
    public var example_call: String?
    /// For CodeComplex samples: the program's index in the published test split.
    public var cc_test_index: Int?

    /// Creates a sample.
    public init(id: String, language: String, label: String, source: String, example_call: String? = nil) {
        self.id = id
        self.language = language
        self.label = label
        self.source = source
        self.example_call = example_call
    }

    /// The class the analyzer gives this sample: the named function's for canonical samples
    /// (functions scored one by one), the whole file's otherwise (CodeComplex labels whole programs).
    public func predicted(rules: AnalyzerRules = .all) -> String {
        let report = Analyzer.analyze(source: source, language: language, rules: rules)
        if let call = example_call, let paren = call.firstIndex(of: "(") {
            let name = String(call[..<paren])
            if let f = report.functions.last(where: { $0.name == name }) { return f.class.rawValue }
        }
        return report.overall?.class.rawValue ?? "not analysed"
    }
}

/// Accuracy per label and overall, as exact class matches.
public struct AccuracyTable: Sendable {
    /// One row: a gold label, how many samples carry it, how many the analyzer matched.
    public struct Row: Sendable {
        public var label: String
        public var total: Int
        public var correct: Int
        public var percent: Double { total == 0 ? 0 : Double(correct) * 100 / Double(total) }
    }

    public private(set) var rows: [Row] = []
    public private(set) var misses: [(id: String, expected: String, got: String)] = []
    public var total: Int { rows.reduce(0) { $0 + $1.total } }
    public var correct: Int { rows.reduce(0) { $0 + $1.correct } }
    public var percent: Double { total == 0 ? 0 : Double(correct) * 100 / Double(total) }

    /// Runs the analyzer over `samples`. CodeComplex's exponential class covers every
    /// super-polynomial bound, so `O(n!)` scores as `O(2^n)` when that is the gold label.
    public init(_ samples: [AccuracySample]) {
        var byLabel: [String: Row] = [:]
        for s in samples {
            var got = s.predicted()
            if got == ComplexityClass.factorial.rawValue, s.label == ComplexityClass.exponential.rawValue { got = s.label }
            var row = byLabel[s.label] ?? Row(label: s.label, total: 0, correct: 0)
            row.total += 1
            if got == s.label { row.correct += 1 } else { misses.append((s.id, s.label, got)) }
            byLabel[s.label] = row
        }
        rows = byLabel.values.sorted {
            (ComplexityClass(rawValue: $0.label) ?? .factorial, $0.label) < (ComplexityClass(rawValue: $1.label) ?? .factorial, $1.label)
        }
    }

    /// The row for `label`, if any sample carries it.
    public func row(_ label: String) -> Row? { rows.first { $0.label == label } }

    /// A fixed-width text table: label, correct/total, percent.
    public func text(title: String) -> String {
        var out = "\(title)\n"
        for r in rows {
            out += "  " + Self.pad(r.label, 14) + Self.pad("\(r.correct)/\(r.total)", 9) + Self.format(r.percent) + "%\n"
        }
        out += "  " + Self.pad("overall", 14) + Self.pad("\(correct)/\(total)", 9) + Self.format(percent) + "%\n"
        return out
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    /// `percent` with one decimal, without Foundation.
    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// What each cost-model rule contributes, and an estimate of accuracy on unseen programs that does
/// not score a sample with choices made by looking at it.
public struct RuleAblation: Sendable {
    /// Accuracy with one rule switched off.
    public struct LeftOut: Sendable {
        public var rule: String
        public var correct: Int
        /// Samples this rule gets right that the analyzer without it gets wrong, and the reverse.
        public var gained: Int, lost: Int
    }

    /// One fold of the cross-validation: rules kept after selection on the other folds, and the
    /// score on this fold.
    public struct Fold: Sendable {
        public var dropped: [String]
        public var correct: Int
        public var total: Int
    }

    public let total: Int
    /// Exact matches with every rule on (the dev figure).
    public let correct: Int
    public let leftOut: [LeftOut]
    public let folds: [Fold]
    public var crossValidatedCorrect: Int { folds.reduce(0) { $0 + $1.correct } }

    /// Scores `samples` with every rule, then with each rule left out, then `folds`-fold
    /// cross-validation of rule selection: the samples are shuffled with `seed` (SplitMix64) and cut
    /// into folds; for each fold, rules are dropped greedily from the full set while that raises
    /// exact matches on the other folds, and the rules left are scored on the fold. The figure is an
    /// estimate for choosing rules by their dev score; the rules themselves were written with the
    /// dev samples in view, so it is still optimistic for code never seen.
    public init(_ samples: [AccuracySample], folds k: Int = 5, seed: UInt64 = 20_261_207) {
        total = samples.count
        var cache: [UInt32: [Bool]] = [:]
        func hits(_ rules: AnalyzerRules) -> [Bool] {
            if let known = cache[rules.rawValue] { return known }
            let h = samples.map { s -> Bool in
                var got = s.predicted(rules: rules)
                if got == ComplexityClass.factorial.rawValue, s.label == ComplexityClass.exponential.rawValue { got = s.label }
                return got == s.label
            }
            cache[rules.rawValue] = h
            return h
        }
        let full = hits(.all)
        correct = full.filter { $0 }.count
        leftOut = AnalyzerRules.named.map { name, rule in
            let without = hits(AnalyzerRules.all.subtracting(rule))
            let gained = zip(full, without).filter { $0 && !$1 }.count
            let lost = zip(full, without).filter { !$0 && $1 }.count
            return LeftOut(rule: name, correct: without.filter { $0 }.count, gained: gained, lost: lost)
        }
        // Fixed, seeded shuffle into folds.
        var order = Array(samples.indices)
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(next() % UInt64(i + 1))) }
        }
        var folds: [Fold] = []
        let parts = max(1, min(k, samples.count))
        for f in 0..<parts {
            let test = Set(order.indices.filter { $0 % parts == f }.map { order[$0] })
            let inTest = samples.indices.map { test.contains($0) }
            func score(_ rules: AnalyzerRules, onTest: Bool) -> Int {
                let h = hits(rules)
                return samples.indices.filter { inTest[$0] == onTest && h[$0] }.count
            }
            var rules = AnalyzerRules.all
            var best = score(rules, onTest: false)
            while true {
                var choice: (AnalyzerRules, Int)?
                for (_, rule) in AnalyzerRules.named where rules.contains(rule) {
                    let candidate = rules.subtracting(rule)
                    let s = score(candidate, onTest: false)
                    if s > best, s > (choice?.1 ?? Int.min) { choice = (candidate, s) }
                }
                guard let (next, s) = choice else { break }
                rules = next
                best = s
            }
            let dropped = AnalyzerRules.named.filter { !rules.contains($0.rule) }.map(\.name)
            folds.append(Fold(dropped: dropped, correct: score(rules, onTest: true), total: test.count))
        }
        self.folds = folds
    }
}
