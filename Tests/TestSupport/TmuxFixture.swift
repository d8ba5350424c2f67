import Foundation

/// A program running in a detached tmux session of a fixed size, driven with send-keys and read
/// with capture-pane. Each fixture uses its own tmux server socket, so tests never share state.
public final class TmuxFixture: @unchecked Sendable {
    public let socketName: String
    public let sessionName = "codesync"
    public let columns: Int
    public let rows: Int

    /// tmux itself, or nil with a notice outside CI; under CI a missing tmux throws.
    public static func ensureTmux() throws -> Bool {
        if Command.exists("tmux") { return true }
        return try TestEnvironment.missing("tmux", fix: "run scripts/test, which installs it") ?? false
    }

    /// Starts `command` (a shell command line) in a new detached session of `columns`×`rows`.
    /// Returns nil outside CI when tmux is missing.
    public static func start(
        _ command: String, columns: Int = 100, rows: Int = 30, environment: [String: String] = [:]
    ) throws -> TmuxFixture? {
        guard try ensureTmux() else { return nil }
        return try TmuxFixture(command: command, columns: columns, rows: rows, environment: environment)
    }

    private init(command: String, columns: Int, rows: Int, environment: [String: String]) throws {
        self.columns = columns
        self.rows = rows
        socketName = "codesync-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var env = ["TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"]
        env.merge(environment) { $1 }
        let exports = env.map { "export \($0.key)=\(Self.shellQuote($0.value));" }.joined(separator: " ")
        let result = try Command.run(
            ["tmux", "-L", socketName, "-f", "/dev/null", "new-session", "-d", "-s", sessionName,
             "-x", "\(columns)", "-y", "\(rows)", "\(exports) \(command)"],
            timeout: 20)
        guard result.status == 0 else {
            throw TmuxError(message: "tmux new-session failed: \(result.stderr)")
        }
        // Keep the pane after the program exits so its last screen can still be read.
        try tmux(["set-option", "-t", sessionName, "remain-on-exit", "on"])
    }

    deinit {
        _ = try? Command.run(["tmux", "-L", socketName, "kill-server"], timeout: 10)
    }

    /// Sends keys as tmux names them (`"C-q"`, `"Enter"`, `"Up"`) or, with `literal`, as text.
    public func send(_ keys: String..., literal: Bool = false) throws {
        var arguments = ["send-keys", "-t", sessionName]
        if literal { arguments.append("-l") }
        try tmux(arguments + keys)
    }

    /// Types `text` literally.
    public func type(_ text: String) throws { try send(text, literal: true) }

    /// The pane's current text, one line per row.
    public func capture() throws -> String {
        try tmux(["capture-pane", "-p", "-t", sessionName])
    }

    /// The pane's text with colour and attribute escapes kept (for style checks).
    public func captureWithEscapes() throws -> String {
        try tmux(["capture-pane", "-p", "-e", "-t", sessionName])
    }

    /// Resizes the window.
    public func resize(columns: Int, rows: Int) throws {
        try tmux(["resize-window", "-t", sessionName, "-x", "\(columns)", "-y", "\(rows)"])
    }

    /// True when the program in the pane has exited.
    public func paneIsDead() throws -> Bool {
        try tmux(["display-message", "-p", "-t", sessionName, "#{pane_dead}"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// Waits until `predicate` holds for the captured pane, or throws with the pane's content.
    @discardableResult
    public func waitUntil(
        _ description: String, timeout: Double = 10, _ predicate: (String) -> Bool
    ) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = try capture()
            if predicate(screen) { return screen }
            usleep(50_000)
        }
        throw TmuxError(message: "timed out after \(timeout)s waiting for \(description); the pane shows:\n\(screen)")
    }

    /// Waits until `text` appears on the screen.
    @discardableResult
    public func waitFor(_ text: String, timeout: Double = 10) throws -> String {
        try waitUntil("\"\(text)\"", timeout: timeout) { $0.contains(text) }
    }

    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        let result = try Command.run(["tmux", "-L", socketName] + arguments, timeout: 20)
        guard result.status == 0 else {
            throw TmuxError(message: "tmux \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }

    /// Quotes `value` for a POSIX shell.
    public static func shellQuote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A tmux command failed or a wait timed out; the message includes the pane's content.
public struct TmuxError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
