import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `codesync bench trace FILE...`: replays editing traces through the replicated document.
struct BenchTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Replay gzipped editing traces through the replicated document; print one JSON object per trace.",
        discussion: """
            Fields: trace, ops, localMs (every edit as a local edit), localWithUpdatesMs (the same, also \
            building each transaction's update as a sending peer does; sequential traces), remoteMs, mergeMs (concurrent traces), encodedBytes, ok, runs, and \
            memory of the fresh child process (codesync-trace-bench, installed beside codesync: it links the \
            document and the C library only) that measures each trace: peakRSSBytes, its \
            whole peak resident size (binary, libraries, trace and replicas); startRSSBytes, its size before \
            reading the trace (the binary's own floor); baselineRSSBytes, after loading the trace and \
            returning freed heap pages, before any replica; documentPeakRSSBytes, how far the replays, \
            encodings and decodings raised the resident size above that baseline at their peak (the peak \
            counter is reset at the baseline). Times are medians over --runs.
            """
    )

    @Argument(help: "Gzipped traces in the josephg/editing-traces format (sequential or concurrent).")
    var files: [String]

    @Option(help: "Runs per trace; the reported times are medians.")
    var runs: Int = 5

    func validate() throws {
        guard runs >= 1 && runs <= 1000 else { throw ValidationError("--runs must be between 1 and 1000 (got \(runs))") }
        for file in files where access(file, R_OK) != 0 {
            throw ValidationError("cannot read trace file \(file) — check the path")
        }
    }

    func run() throws {
        let child = try Self.childExecutable()
        var failed = false
        for file in files {
            let process = Process()
            process.executableURL = child
            process.arguments = ["--runs", String(runs), file]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            FileHandle.standardOutput.write(data)
            if process.terminationStatus != 0 { failed = true }
        }
        if failed { throw ExitCode.failure }
    }

    /// The measuring child, built and installed beside this binary.
    static func childExecutable() throws -> URL {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let child = me.deletingLastPathComponent().appendingPathComponent("codesync-trace-bench")
        guard FileManager.default.isExecutableFile(atPath: child.path) else {
            throw ValidationError("""
                \(child.path) is missing: it measures each trace in a lean process. Build it with \
                `swift build -c release` (all products) or install it with `make install`.
                """)
        }
        return child
    }
}
