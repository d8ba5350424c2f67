import ArgumentParser
import CodeSyncAnalyzer
import Foundation

/// `codesync bench accuracy`: runs the analyzer over the labelled complexity samples and prints the table as JSON.
struct BenchAccuracy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy", abstract: "Measure analyzer accuracy on the labelled complexity samples (JSON).")

    @Option(help: "Folder holding codecomplex_dev.jsonl and canonical.jsonl.")
    var dir = "../shared/complexity"

    @Flag(help: "Skip the leave-one-rule-out and cross-validated estimates (each analyses the samples again per rule).")
    var noAblation = false

    @Option(help: "Folds of the cross-validation over the dev samples.")
    var folds = 5

    @Option(name: .customLong("blind"), help: ArgumentHelp(
        "A further labelled set, scored per language with its own rule ablation (repeatable).",
        discussion: "Default: the blind Python sets in Tests/AnalyzerTests/Data, when run from the repository."))
    var blindSets: [String] = []

    func validate() throws {
        guard (2...50).contains(folds) else { throw ValidationError("--folds must be between 2 and 50, not \(folds)") }
    }

    func run() throws {
        var sets: [[String: Any]] = []
        for name in ["codecomplex_dev.jsonl", "canonical.jsonl"] {
            let path = (dir as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no \(name) in \(dir) — pass --dir with the complexity data folder")
            }
            let samples = try AccuracySample.load(path: path)
            // One table per language, in a stable order (CodeComplex holds Python and Java).
            for language in Set(samples.map(\.language)).sorted() {
                let table = AccuracyTable(samples.filter { $0.language == language })
                let subset = samples.filter { $0.language == language }
                var json = table.json(name: name)
                json["language"] = language
                if name == "codecomplex_dev.jsonl", !noAblation {
                    json["ablation"] = RuleAblation(subset, folds: folds).json()
                }
                if name == "codecomplex_dev.jsonl", language == "java" {
                    // The Java rules were written reading only the even cc_test_index half; the odd
                    // half was only ever scored (a fixed split, documented in docs/ANALYZER.md).
                    json["readHalf"] = AccuracyTable(subset.filter { ($0.cc_test_index ?? 0) % 2 == 0 }).json(name: "even cc_test_index (read)")
                    json["heldOutHalf"] = AccuracyTable(subset.filter { ($0.cc_test_index ?? 0) % 2 == 1 }).json(name: "odd cc_test_index (never read)")
                }
                sets.append(json)
            }
        }
        // Sets written for this project by someone who saw neither the analyzer nor CodeComplex.
        let defaults = ["python_fresh.jsonl", "python_fresh2.jsonl"].map { "Tests/AnalyzerTests/Data/\($0)" }
        let blind = blindSets.isEmpty ? defaults.filter { FileManager.default.fileExists(atPath: $0) } : blindSets
        for path in blind {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no such file: \(path)") }
            let samples = try AccuracySample.load(path: path)
            for language in Set(samples.map(\.language)).sorted() {
                let subset = samples.filter { $0.language == language }
                var json = AccuracyTable(subset).json(name: (path as NSString).lastPathComponent)
                json["language"] = language
                if !noAblation { json["ablation"] = RuleAblation(subset, folds: folds).json() }
                sets.append(json)
            }
        }
        let data = try JSONSerialization.data(withJSONObject: ["sets": sets], options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

extension AccuracySample {
    /// Reads a JSON-lines file of samples.
    static func load(path: String) throws -> [AccuracySample] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path) — check the path and permissions")
        }
        let decoder = JSONDecoder()
        var samples: [AccuracySample] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            do {
                samples.append(try decoder.decode(AccuracySample.self, from: Data(line.utf8)))
            } catch {
                throw ValidationError("\(path) line \(number + 1) is not a sample: \(error.localizedDescription)")
            }
        }
        return samples
    }
}

extension AccuracyTable {
    /// The table as a JSON-ready dictionary.
    func json(name: String) -> [String: Any] {
        [
            "set": name, "total": total, "correct": correct, "percent": (percent * 10).rounded() / 10,
            "classes": rows.map { ["label": $0.label, "total": $0.total, "correct": $0.correct, "percent": ($0.percent * 10).rounded() / 10] },
        ]
    }
}

extension RuleAblation {
    /// Leave-one-rule-out and cross-validated figures as a JSON-ready dictionary.
    func json() -> [String: Any] {
        func percent(_ c: Int) -> Double { total == 0 ? 0 : (Double(c) * 1000 / Double(total)).rounded() / 10 }
        return [
            "allRules": ["correct": correct, "total": total, "percent": percent(correct)],
            "leaveOneRuleOut": leftOut.map {
                ["rule": $0.rule, "correct": $0.correct, "percent": percent($0.correct), "ruleWins": $0.gained, "ruleLoses": $0.lost]
            },
            "crossValidated": [
                "correct": crossValidatedCorrect, "total": total, "percent": percent(crossValidatedCorrect),
                "method": "seeded shuffle into \(folds.count) folds; per fold, rules dropped greedily while that raises exact matches on the other folds, then the fold is scored",
                "folds": folds.map { ["correct": $0.correct, "total": $0.total, "dropped": $0.dropped] },
            ] as [String: Any],
        ]
    }
}
