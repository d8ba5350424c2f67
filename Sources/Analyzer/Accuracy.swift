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
    public func predicted() -> String {
        let report = Analyzer.analyze(source: source, language: language)
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
