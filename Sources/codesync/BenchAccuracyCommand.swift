import ArgumentParser
import CodeSyncAnalyzer
import Foundation

/// `codesync bench accuracy`: runs the analyzer over the labelled complexity samples and prints the table as JSON.
struct BenchAccuracy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy", abstract: "Measure analyzer accuracy on the labelled complexity samples (JSON).")

    @Option(help: "Folder holding codecomplex_dev.jsonl and canonical.jsonl.")
    var dir = "../shared/complexity"

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
                var json = table.json(name: name)
                json["language"] = language
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
