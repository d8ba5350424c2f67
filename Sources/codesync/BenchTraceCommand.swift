import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `codesync bench trace FILE...`: replays editing traces through the replicated document.
struct BenchTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Replay gzipped editing traces through the replicated document; print one JSON object per trace.",
        discussion: """
            Fields: trace, ops, localMs, remoteMs, mergeMs (concurrent traces), encodedBytes, peakRSSBytes, \
            baselineRSSBytes, ok, runs. Times are medians over --runs. Each trace runs in a fresh child \
            process of this binary so that peakRSSBytes (getrusage ru_maxrss of that process) covers one \
            trace only; baselineRSSBytes is that process's resident size after loading the trace, before \
            any replica exists.
            """
    )

    @Argument(help: "Gzipped traces in the josephg/editing-traces format (sequential or concurrent).")
    var files: [String]

    @Option(help: "Runs per trace; the reported times are medians.")
    var runs: Int = 5

    @Flag(name: .customLong("in-process"), help: .hidden)
    var inProcess = false

    func validate() throws {
        guard runs >= 1 && runs <= 1000 else { throw ValidationError("--runs must be between 1 and 1000 (got \(runs))") }
        for file in files where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read trace file \(file) — check the path")
        }
    }

    func run() throws {
        if inProcess {
            for file in files { try measure(file) }
            return
        }
        var failed = false
        for file in files {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            child.arguments = ["bench", "trace", "--in-process", "--runs", String(runs), file]
            let output = Pipe()
            child.standardOutput = output
            try child.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            FileHandle.standardOutput.write(data)
            if child.terminationStatus != 0 { failed = true }
        }
        if failed { throw ExitCode.failure }
    }

    private func measure(_ file: String) throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw ValidationError("cannot read trace file \(file): \(error.localizedDescription)")
        }
        let trace: EditingTrace
        do {
            trace = try EditingTrace(gzipped: bytes)
        } catch let error as TraceError {
            throw ValidationError("\(file): \(error.message)")
        }
        let baseline = Self.residentBytes()
        let result = try TraceBenchmark.run(trace, runs: runs)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let fields: [(String, String)] = [
            ("trace", Self.quoted(file)),
            ("ops", String(result.ops)),
            ("localMs", Self.number(result.localMs)),
            ("remoteMs", Self.number(result.remoteMs)),
            ("mergeMs", result.mergeMs.map(Self.number) ?? "null"),
            ("encodedBytes", String(result.encodedBytes)),
            ("peakRSSBytes", String(Int(usage.ru_maxrss) * 1024)),
            ("baselineRSSBytes", baseline.map(String.init) ?? "null"),
            ("ok", String(result.ok)),
            ("runs", String(result.runs)),
        ]
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
        if !result.ok { throw ExitCode.failure }
    }

    /// Current resident set size from /proc/self/statm (Linux), nil elsewhere.
    static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func number(_ value: Double) -> String { String(format: "%.3f", value) }

    static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
