#if canImport(Glibc)
import Glibc
#endif
import CodeSyncDocument

/// The measuring child of `codesync bench trace`: one trace, replayed `--runs` times, one JSON line.
///
/// A separate executable on purpose: it links the document and the C library only (no Foundation, no
/// networking), so its resident size is the document's cost plus a small floor (about 8 MB), not
/// the editor's libraries. Usage: codesync-trace-bench [--runs N] FILE
enum TraceBenchChild {
    static func main() -> Int32 {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var runs = 5
        if let at = arguments.firstIndex(of: "--runs"), at + 1 < arguments.count, let value = Int(arguments[at + 1]), (1...1000).contains(value) {
            runs = value
            arguments.removeSubrange(at...(at + 1))
        }
        guard arguments.count == 1, !arguments[0].hasPrefix("-") else {
            fail("usage: codesync-trace-bench [--runs N] FILE (run by codesync bench trace)")
            return 64
        }
        do {
            return try measure(arguments[0], runs: runs) ? 0 : 1
        } catch let error as ChildError {
            fail(error.message)
        } catch let error as TraceError {
            fail("\(arguments[0]): \(error.message)")
        } catch {
            fail("\(arguments[0]): \(error)")
        }
        return 1
    }

    /// Prints the trace's figures; false when the replay did not end in the trace's text.
    static func measure(_ file: String, runs: Int) throws -> Bool {
        let start = MemoryProbe.current()
        let trace = try EditingTrace(gzipped: try readFile(file))
        // Return the parser's freed pages to the system, so the document cannot hide in them, then start
        // a fresh peak count at this baseline.
        MemoryProbe.trimHeap()
        let loaded = MemoryProbe.current()
        let peakReset = MemoryProbe.resetPeak()
        let result = try TraceBenchmark.run(trace, runs: runs)
        let end = MemoryProbe.current()
        // VmHWM before the reset (start and trace loading) and after it (the document). Not ru_maxrss:
        // Linux carries it across exec, so it would count the parent this child was forked from.
        let wholePeak = max(loaded?.peak ?? 0, end?.peak ?? 0)
        var documentPeak: Int?
        if peakReset, let loaded, let end { documentPeak = end.peak - loaded.resident }
        let fields: [(String, String)] = [
            ("trace", quoted(file)),
            ("ops", String(result.ops)),
            ("localMs", number(result.localMs)),
            ("localWithUpdatesMs", result.localWithUpdatesMs.map(number) ?? "null"),
            ("remoteMs", number(result.remoteMs)),
            ("mergeMs", result.mergeMs.map(number) ?? "null"),
            ("encodedBytes", String(result.encodedBytes)),
            ("peakRSSBytes", String(wholePeak)),
            ("startRSSBytes", start.map { String($0.resident) } ?? "null"),
            ("baselineRSSBytes", loaded.map { String($0.resident) } ?? "null"),
            ("documentPeakRSSBytes", documentPeak.map(String.init) ?? "null"),
            ("ok", String(result.ok)),
            ("runs", String(result.runs)),
        ]
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
        return result.ok
    }

    static func fail(_ message: String) {
        var line = Array("codesync-trace-bench: \(message)\n".utf8)
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// The whole file, read with read(2).
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ChildError("cannot read trace file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ChildError("cannot read trace file \(path): \(String(cString: strerror(errno)))") }
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

/// A failure the child reports in one line.
struct ChildError: Error {
    let message: String
    init(_ message: String) { self.message = message }
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

exit(TraceBenchChild.main())
