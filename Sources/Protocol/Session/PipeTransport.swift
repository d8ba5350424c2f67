import CodeSyncBase
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process whose standard input and output carry one connection's bytes (`ssh BOX
/// codesync attach PATH`), opened anew for each connection attempt.
public struct PipeTransport: Sendable {
    /// What the user typed (for messages).
    public let description: String
    let argumentsForAttempt: @Sendable (_ attempt: Int) -> [String]

    /// The command line one attempt runs (attempts after the first add BatchMode).
    public func arguments(attempt: Int) -> [String] { argumentsForAttempt(attempt) }
    let preambleTimeout: Double
    private let first = FirstPipe()

    /// Opens the first connection now, before the peer exists: the box tells the secret (inside
    /// SSH), which the peer needs from the start. The peer's first attempt then uses this pipe.
    public func start() throws -> (secret: String, fileName: String) {
        let opened = try open(attempt: 0)
        first.store(opened)
        return (opened.preamble.secret, opened.preamble.file)
    }

    /// Opens one connection: starts the process and reads its preamble. Bytes after the preamble's
    /// newline belong to the session and stay in the pipe.
    func open(attempt: Int) throws -> OpenedPipe {
        if let opened = first.take() { return opened }
        let arguments = argumentsForAttempt(attempt)
        let child = try ChildProcess(arguments)
        do {
            let line = try child.readLine(max: LocalSessions.Preamble.maxBytes, timeout: attempt == 0 ? preambleTimeout : 20)
            guard let line else {
                let said = child.stderrTail()
                // The box's codesync answered (no such session, a runtime directory not ours): trying
                // again every few seconds would only log in over SSH again and again.
                if let refusal = said.range(of: "codesync attach: ") {
                    throw AttachRefused(message: "\(description): " + said[refusal.upperBound...])
                }
                throw SessionError.cannotConnect(description, said.isEmpty ? "`\(arguments.joined(separator: " "))` ended before the session started" : said)
            }
            return OpenedPipe(preamble: try LocalSessions.Preamble.parse(line), child: child)
        } catch {
            child.terminate()
            child.closeDescriptors()
            throw error
        }
    }
}

/// The pipe `start()` opened, until the peer's first attempt takes it.
private final class FirstPipe: @unchecked Sendable {
    private let lock = NSLock()
    private var opened: OpenedPipe?
    func store(_ pipe: OpenedPipe) { lock.lock(); opened = pipe; lock.unlock() }
    func take() -> OpenedPipe? {
        lock.lock()
        defer { opened = nil; lock.unlock() }
        return opened
    }
}

/// `codesync attach` on the box refused with a reason of its own (it found no such session).
struct AttachRefused: Error {
    let message: String
}

/// One opened pipe connection.
struct OpenedPipe: @unchecked Sendable {
    let preamble: LocalSessions.Preamble
    let child: ChildProcess
}

/// `ssh://[user@]box[:port][/PATH]`, and the `ssh` command that reaches `codesync attach` there.
public struct SSHTarget: Equatable, Sendable {
    public var user: String?
    public var host: String
    public var port: Int?
    /// The hosted file on the box (git's convention: `/abs/path`, or `~/relative`), nil for the only session.
    public var path: String?

    /// Parses the address; refuses anything `ssh` could read as an option.
    public init(parsing text: String) throws {
        guard text.hasPrefix("ssh://") else { throw SessionError.badAddress(text) }
        var rest = Substring(text.dropFirst("ssh://".count))
        var path: String?
        if let slash = rest.firstIndex(of: "/") {
            var raw = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
            // ssh://box/~/x is relative to the home directory; ssh://box/x is /x (as git reads it).
            if !raw.hasPrefix("~") { raw = "/" + raw }
            path = raw == "/" ? nil : raw
        }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var host = rest, port: Int?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { throw Self.bad(text) }
                port = value
            }
        } else if rest.filter({ $0 == ":" }).count > 1 {
            throw Self.bad(text)  // an IPv6 address goes in brackets: ssh://[::1]:22/PATH
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let value = Int(rest[rest.index(after: colon)...]) else { throw Self.bad(text) }
            port = value
        }
        // Names of hosts and accounts only: nothing a shell, an ssh option or a ProxyCommand's %h/%r
        // could read as more (as git allows), and never a leading `-`.
        let nameCharacters: (Unicode.Scalar) -> Bool = { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        let safeName: (Substring) -> Bool = { !$0.isEmpty && !$0.hasPrefix("-") && $0.unicodeScalars.allSatisfy(nameCharacters) }
        let safeIPv6: (Substring) -> Bool = { !$0.isEmpty && $0.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." } }
        let bracketed = rest.hasPrefix("[")
        guard bracketed ? safeIPv6(host) : safeName(host), user.map({ safeName(Substring($0)) }) ?? true,
              port.map({ (1...65535).contains($0) }) ?? true
        else { throw Self.bad(text) }
        if let path, path.utf8.count > 4096 || path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw Self.bad(text)
        }
        self.user = user; self.host = String(host); self.port = port; self.path = path
    }

    private static func bad(_ text: String) -> SessionError {
        .file("'\(text)' is not an SSH address: use ssh://[USER@]BOX[:PORT][/PATH] (PATH: the hosted file on the box, e.g. ssh://me@box/~/src/app.py)")
    }

    /// The address as typed back.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "ssh://" + (user.map { "\($0)@" } ?? "") + hostPart + (port.map { ":\($0)" } ?? "") + (path.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "")
    }

    /// The transport that runs `ssh` (or `$CODESYNC_SSH`, split on spaces, like GIT_SSH_COMMAND) with
    /// `REMOTE attach [PATH]` as the remote command (REMOTE: `$CODESYNC_REMOTE_COMMAND`, default
    /// `codesync`). Reconnections run with BatchMode so that no prompt draws over the editor.
    public func transport(environment: [String: String] = ProcessInfo.processInfo.environment) -> PipeTransport {
        let ssh = (environment["CODESYNC_SSH"].map { $0.split(separator: " ").map(String.init) }).flatMap { $0.isEmpty ? nil : $0 } ?? ["ssh"]
        let remote = environment["CODESYNC_REMOTE_COMMAND"].flatMap { $0.isEmpty ? nil : $0 } ?? "codesync"
        let command = "\(remote) attach" + (path.map { " " + Self.shellQuoted($0) } ?? "")
        let destination = (user.map { "\($0)@" } ?? "") + host
        let port = self.port
        return PipeTransport(description: description, argumentsForAttempt: { attempt in
            var arguments = ssh
            if attempt > 0 { arguments += ["-o", "BatchMode=yes"] }
            if let port { arguments += ["-p", String(port)] }
            // `--` ends ssh's options: the destination can never be read as one.
            return arguments + ["--", destination, command]
        }, preambleTimeout: 120)
    }

    /// `text` in single quotes for the remote shell (a `'` becomes `'\''`).
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A spawned process with piped stdin/stdout and a bounded record of its stderr.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    /// Read end of the child's stdout; write end of its stdin (both owned until handed to NIO).
    let output: Int32
    let input: Int32
    private let errorBox = NSLock()
    private var errorText: [UInt8] = []
    private var reaped = false
    private var handedOver = false

    init(_ arguments: [String]) throws {
        // Close-on-exec from birth: no other child the process spawns may inherit this session's pipes.
        guard let inPipe = closeOnExecPipe(), let outPipe = closeOnExecPipe(), let errPipe = closeOnExecPipe() else {
            throw SessionError.file("cannot make pipes: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard status == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw SessionError.file("cannot run `\(arguments[0])`: \(String(cString: strerror(status))) (set CODESYNC_SSH to the ssh command to use)")
        }
        self.pid = pid
        self.output = outPipe[0]
        self.input = inPipe[1]
        let errorRead = errPipe[0]
        // ssh's messages (host key prompts go to the terminal, not here) are kept for error reports.
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(errorRead, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                errorBox.lock()
                errorText.append(contentsOf: buffer[0..<count])
                if errorText.count > 8192 { errorText.removeFirst(errorText.count - 8192) }
                errorBox.unlock()
            }
            close(errorRead)
        }
    }

    /// Reads up to a newline (not past it), at most `max` bytes; nil at end of output.
    func readLine(max: Int, timeout: Double) throws -> [UInt8]? {
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let left = Int32(Swift.max(0, deadline.timeIntervalSinceNow) * 1000)
            let ready = poll(&descriptor, 1, left)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw SessionError.timedOut("waiting for the box to start `codesync attach`") }
            var byte: UInt8 = 0
            let count = read(output, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return nil }
            if byte == 0x0A { return line }
            line.append(byte)
            if line.count > max { throw SessionError.rejected("the remote end's first line is over \(max) bytes: it is not `codesync attach`") }
        }
    }

    /// The last lines the process wrote on stderr, trimmed.
    func stderrTail() -> String {
        // Let the reader thread catch up with a process that just ended.
        usleep(50_000)
        errorBox.lock()
        defer { errorBox.unlock() }
        let text = String(decoding: errorText, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\n" || $0.properties.generalCategory != .control ? $0 : "?" }))
    }

    /// NIO owns the two pipe ends from now on (it closes them with the channel).
    func handOver() {
        errorBox.lock()
        handedOver = true
        errorBox.unlock()
    }

    /// Closes the pipe ends when they were never handed to NIO.
    func closeDescriptors() {
        errorBox.lock()
        let owned = !handedOver
        handedOver = true
        errorBox.unlock()
        if owned { close(output); close(input) }
    }

    /// Ends the process (SIGTERM, then SIGKILL after a second) and reaps it off the caller's thread.
    func terminate() {
        errorBox.lock()
        if reaped { errorBox.unlock(); return }
        reaped = true
        errorBox.unlock()
        let pid = self.pid
        kill(pid, SIGTERM)
        Thread.detachNewThread {
            for _ in 0..<100 {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { return }
                usleep(10_000)
            }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
}
