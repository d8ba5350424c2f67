import Foundation

/// A child process with line-by-line stdout and a stdin to send commands on.
public final class Child: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let lock = NSCondition()
    private var lines: [String] = []
    private var errors = ""
    private var ended = false

    /// Starts `executable` with `arguments`; `environment` is added to this process's own.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errorPipe = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errorPipe
        try process.run()
        Thread { [self] in
            let handle = output.fileHandleForReading
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    lock.lock(); lines.append(line); lock.broadcast(); lock.unlock()
                }
            }
            lock.lock(); ended = true; lock.broadcast(); lock.unlock()
        }.start()
        Thread { [self] in
            let data = errorPipe.fileHandleForReading.readDataToEndOfFile()
            lock.lock(); errors = String(decoding: data.suffix(2000), as: UTF8.self); lock.unlock()
        }.start()
    }

    public var pid: Int32 { process.processIdentifier }

    /// The tail of the child's stderr (for error messages).
    public var errorText: String {
        lock.lock(); defer { lock.unlock() }
        return errors.split(separator: "\n").suffix(3).joined(separator: " | ")
    }

    /// Sends one line to the child's stdin.
    public func send(_ line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// The first unread line starting with `prefix` (earlier lines are dropped), or nil on timeout/exit.
    public func waitLine(prefix: String, timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            while !lines.isEmpty {
                let line = lines.removeFirst()
                if line.hasPrefix(prefix) { return line }
            }
            if ended || !lock.wait(until: deadline) { return nil }
        }
    }

    /// Stops the child (SIGTERM, then SIGKILL after 3 s).
    public func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
