import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `codesync bench trace FILE...`: replays editing traces through the replicated document.
struct BenchTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Replay gzipped editing traces through the replicated document; print one JSON object per trace.",
        discussion: """
            Fields: trace, ops, localMs, remoteMs, mergeMs (concurrent traces), encodedBytes, ok, runs, and \
            memory of the fresh child process (of this binary) that measures each trace: peakRSSBytes, its \
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

    @Flag(name: .customLong("in-process"), help: .hidden)
    var inProcess = false

    func validate() throws {
        guard runs >= 1 && runs <= 1000 else { throw ValidationError("--runs must be between 1 and 1000 (got \(runs))") }
        for file in files where access(file, R_OK) != 0 {
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

    /// The child's measurement. It stays lean on purpose (plain read(2), no Foundation formatting or file
    /// APIs) so that its memory figures show the binary, the trace and the document, not helpers.
    private func measure(_ file: String) throws {
        let start = MemoryProbe.current()
        let trace: EditingTrace
        do {
            trace = try EditingTrace(gzipped: try Self.readFile(file))
        } catch let error as TraceError {
            throw ValidationError("\(file): \(error.message)")
        }
        // Return the parser's freed pages to the system, so the document cannot hide in them, then start
        // a fresh peak count at this baseline.
        MemoryProbe.trimHeap()
        let loaded = MemoryProbe.current()
        let peakReset = MemoryProbe.resetPeak()
        let result = try TraceBenchmark.run(trace, runs: runs)
        let end = MemoryProbe.current()
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let wholePeak = max(Int(usage.ru_maxrss) * 1024, loaded?.peak ?? 0, end?.peak ?? 0)
        var documentPeak: Int?
        if peakReset, let loaded, let end { documentPeak = end.peak - loaded.resident }
        let fields: [(String, String)] = [
            ("trace", Self.quoted(file)),
            ("ops", String(result.ops)),
            ("localMs", Self.number(result.localMs)),
            ("remoteMs", Self.number(result.remoteMs)),
            ("mergeMs", result.mergeMs.map(Self.number) ?? "null"),
            ("encodedBytes", String(result.encodedBytes)),
            ("peakRSSBytes", String(wholePeak)),
            ("startRSSBytes", start.map { String($0.resident) } ?? "null"),
            ("baselineRSSBytes", loaded.map { String($0.resident) } ?? "null"),
            ("documentPeakRSSBytes", documentPeak.map(String.init) ?? "null"),
            ("ok", String(result.ok)),
            ("runs", String(result.runs)),
        ]
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
        if !result.ok { throw ExitCode.failure }
    }

    /// The whole file, read with read(2).
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ValidationError("cannot read trace file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ValidationError("cannot read trace file \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Fixed three decimals, without Foundation's formatter (which loads locale data into the child).
    static func number(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Resident-size readings of this process from /proc/self/status (Linux).
enum MemoryProbe {
    /// VmRSS (resident now) and VmHWM (peak since start or since the last `resetPeak`), in bytes.
    static func current() -> (resident: Int, peak: Int)? {
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        var resident: Int?, peak: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kilobytes = Int(parts[1]) else { continue }
            if parts[0] == "VmRSS:" { resident = kilobytes * 1024 }
            if parts[0] == "VmHWM:" { peak = kilobytes * 1024 }
        }
        guard let resident, let peak else { return nil }
        return (resident, peak)
    }

    /// Returns free heap pages to the system with glibc's malloc_trim (looked up at run time: the Glibc
    /// module does not export malloc.h); does nothing where it is missing.
    static func trimHeap() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }

    /// Resets the peak (VmHWM, and with it ru_maxrss) to the current resident size: writing 5 to
    /// /proc/self/clear_refs (Linux 4.0+). False when not possible.
    static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let five: [UInt8] = [0x35]
        return five.withUnsafeBytes { write(fd, $0.baseAddress, 1) } == 1
    }
}
