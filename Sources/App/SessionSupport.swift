import CodeSyncProtocol
import CodeSyncRunner
import EditorCore
import Foundation

/// Turns SIGINT/SIGTERM into a flag the serving loops poll, so they can save and say goodbye.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sources: [any DispatchSourceSignal] = []
    private var onStop: [@Sendable () -> Void] = []

    public init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.stop() }
            source.resume()
            sources.append(source)
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    public var isStopped: Bool { locked { stopped } }

    public func stop() {
        let actions: [@Sendable () -> Void] = locked {
            stopped = true
            defer { onStop = [] }
            return onStop
        }
        for action in actions { action() }
    }

    /// Runs `action` when stopped (at once if already stopped).
    public func whenStopped(_ action: @escaping @Sendable () -> Void) {
        let now: Bool = locked {
            if stopped { return true }
            onStop.append(action)
            return false
        }
        if now { action() }
    }
}

/// Writes one line to standard error, sanitised: log lines quote names, reasons and errors that a
/// peer or a program chose, which must not reach the reader's terminal as escape sequences.
public func note(_ text: String) {
    FileHandle.standardError.write(Data((TerminalSanitizer.sanitize(text) + "\n").utf8))
}

/// Prints one line to standard output and flushes (scripts read it while we keep running).
public func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// The default display name, for every use case (sessions, `codesync edit`'s runs, `codesync run`):
/// $CODESYNC_NAME, $USER, $LOGNAME, else the account name.
public func defaultName() -> String {
    let env = ProcessInfo.processInfo.environment
    if let name = env["CODESYNC_NAME"] ?? env["USER"] ?? env["LOGNAME"], !name.isEmpty { return name }
    // No environment to go by (a bare shell, a service): the account's name, as `whoami` says.
    if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return "user"
}

/// A string as a JSON literal (one line).
public func jsonString(_ text: String) -> String {
    guard let data = try? JSONEncoder().encode(text) else { return "\"\"" }
    return String(decoding: data, as: UTF8.self)
}

/// Describes a peer event for a log line.
public func describe(_ event: PeerEvent) -> String? {
    switch event {
    case .textChanged: return nil
    case .peersChanged(let peers):
        return "peers: " + (peers.isEmpty ? "(none)" : peers.map { "\(TerminalSanitizer.line($0.name))@\($0.cursor)" }.joined(separator: ", "))
    case .connection(.connected): return "connected"
    case .connection(.reconnecting(let attempt, let reason)): return "reconnecting (attempt \(attempt)): \(TerminalSanitizer.line(reason))"
    case .connection(.closed(let reason)): return "closed: \(TerminalSanitizer.line(reason))"
    case .connection(.waiting): return "waiting for the host to admit you"
    case .lobby(let entries):
        return "lobby: " + (entries.isEmpty ? "(nobody waiting)" : entries.map { "\(TerminalSanitizer.line($0.name)) (\($0.peer), \(TerminalSanitizer.line($0.from)), \($0.access.rawValue))" }.joined(separator: ", "))
    case .membership(let change): return SessionEvents.notice(change)
    case .run(let run): return "run: \(TerminalSanitizer.line("\(run)"))"
    case .access(let access, let guests): return "access: you \(access.rawValue), guests \(guests.rawValue)"
    case .error(let text): return "error: \(TerminalSanitizer.line(text))"
    }
}
