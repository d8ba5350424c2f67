import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The result of running an external command to completion.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
}

/// Runs external programs for tests, with a timeout so that no test can hang.
///
/// Uses posix_spawn and waitpid rather than Foundation's Process: Process waits for every
/// descendant that inherited its pipes, so a command that starts a daemon (tmux new-session)
/// would block until the daemon exits.
public enum Command {
    /// Runs `arguments` (resolved through PATH), feeding `input` on stdin, and waits at most `timeout` seconds.
    @discardableResult
    public static func run(
        _ arguments: [String], input: String? = nil, timeout: Double = 60,
        environment: [String: String]? = nil
    ) throws -> CommandResult {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw CommandError(message: "pipe() failed: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }

        var env = ProcessInfo.processInfo.environment
        if let environment { env.merge(environment) { $1 } }
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The child (and any daemon it starts, like tmux's server) must not inherit the test
        // thread's blocked signals, or it would ignore SIGTERM and SIGCHLD forever.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawnStatus = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard spawnStatus == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw CommandError(message: "could not start \(arguments.first ?? "?"): \(String(cString: strerror(spawnStatus)))")
        }

        // Read both pipes concurrently so a chatty child never blocks on a full pipe. Dedicated
        // threads, not Dispatch's pool: on a loaded machine a queued reader could start too late.
        let collected = OutputCollector()
        let group = DispatchGroup()
        for (fd, isOut) in [(outPipe[0], true), (errPipe[0], false)] {
            group.enter()
            Thread {
                collected.store(FileHandle(fileDescriptor: fd, closeOnDealloc: true).readDataToEndOfFile(), isOut: isOut)
                group.leave()
            }.start()
        }
        let writer = FileHandle(fileDescriptor: inPipe[1], closeOnDealloc: true)
        if let input { writer.write(Data(input.utf8)) }
        try? writer.close()

        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || result < 0 { break }
            if Date() > deadline {
                timedOut = true
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(2_000)
        }
        // The pipes close when the command exits, unless a daemon it started kept them open:
        // then stop waiting at the deadline (at least a few seconds after the exit).
        let grace = max(5, deadline.timeIntervalSinceNow)
        _ = group.wait(timeout: .now() + grace)
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CommandResult(status: exitCode, stdout: collected.stdout, stderr: collected.stderr, timedOut: timedOut)
    }

    /// True when `name` is found on PATH.
    public static func exists(_ name: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(name)"], timeout: 10).status) == 0
    }
}

/// An external command could not be started.
public struct CommandError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()

    func store(_ data: Data, isOut: Bool) {
        lock.lock(); defer { lock.unlock() }
        if isOut { out = data } else { err = data }
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}
