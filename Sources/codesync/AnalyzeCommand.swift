import ArgumentParser
import CodeSyncAnalyzer
import Foundation

/// `codesync analyze FILE`: static Big-O report per function and for the whole file.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Estimate the time complexity of each function in a source file.",
        discussion: "Python, Java, JavaScript, Go, C and C++ are analysed (language from the extension or --lang); other languages get a 'not analysed' report. Exit status 0 even when the file has syntax errors (they are listed).")

    @Argument(help: "The source file to analyse.")
    var file: String

    @Flag(help: "Print the report as JSON (overall.class and functions[].class hold the Big-O strings).")
    var json = false

    @Option(help: "Language of the file (default: from the extension; python).")
    var lang: String?

    func run() throws {
        let source = try readSource(file)
        let language = lang ?? Analyzer.language(forPath: file) ?? "python"
        let report = Analyzer.analyze(source: source, language: language)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(AnalyzeText.render(report, file: file), terminator: "")
        }
    }
}

/// A file the analyzer commands cannot read; the message names the fix.
struct SourceFileError: Error, CustomStringConvertible {
    var description: String
}

/// Reads a UTF-8 source file, turning every failure into a one-line, actionable error.
func readSource(_ path: String) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw SourceFileError(description: "no such file: \(path) — check the path")
    }
    if isDirectory.boolValue { throw SourceFileError(description: "\(path) is a directory — give a source file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw SourceFileError(description: "cannot read \(path) — check its permissions")
    }
    return String(decoding: data, as: UTF8.self)
}

/// The human-readable form of a complexity report.
enum AnalyzeText {
    /// Renders `report` as aligned text lines.
    static func render(_ report: ComplexityReport, file: String) -> String {
        var out = ""
        guard report.analysed, let overall = report.overall else {
            return "\(file): \(report.message ?? "not analysed")\n"
        }
        out += "\(file): overall \(overall.class.rawValue) (dominated by line \(overall.dominatingLine))\n"
        for note in overall.notes { out += "  note: \(note)\n" }
        if !report.functions.isEmpty {
            let width = min(40, report.functions.map { $0.name.count }.max() ?? 0)
            for f in report.functions {
                let name = f.name.padding(toLength: max(width, f.name.count), withPad: " ", startingAt: 0)
                let span = "lines \(f.startLine)-\(f.endLine)"
                out += "  \(name)  \(f.class.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(span), line \(f.dominatingLine) dominates, loop depth \(f.loopDepth)\n"
                for note in f.notes.prefix(3) { out += "      \(note)\n" }
            }
        }
        for e in report.errors { out += "  syntax error at line \(e.line): \(e.message)\n" }
        // C/C++ constructs a macro could explain: not errors, but their cost is not counted.
        for s in report.skipped { out += "  skipped at line \(s.line) (a macro could explain it): \(s.message)\n" }
        return out
    }
}
