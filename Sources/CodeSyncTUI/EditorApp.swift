import CodeSyncBase
import Foundation
import Glibc

/// What the editor shell calls out to; each capability (disk, runner, session, analyzer) fills its part.
public struct EditorHooks {
    /// Writes the text; returns the status message, or throws an error whose description is one line.
    public var save: ((String) throws -> String)?
    /// Starts a run of the given text; progress comes back through the app's `post(.run(...))`.
    public var run: ((String, EditorApp) -> Void)?
    /// Cancels the current run.
    public var cancelRun: (() -> Void)?
    /// Host: gives guests the next role; the new role comes back as `post(.guestRoles(...))`.
    public var cycleGuestRoles: (() -> Void)?
    /// Host: admits, refuses or removes a peer by id; the lobby and peers come back as events.
    public var decide: ((String, PeopleDecision) -> Void)?
    /// The local cursor or selection moved (scalar offsets).
    public var presence: ((Int, Range<Int>?) -> Void)?
    /// A shared folder: open, create, rename or delete a file; outcomes come back through `pollEvents`.
    public var file: ((FileCommand) -> Void)?
    /// Wakes the loop this often (ms) to call `pollEvents` even when nothing else woke it (a shared
    /// folder's files take remote edits on the network thread, which does not wake the editor); nil: never.
    public var pollIntervalMs: Int?
    /// Analyzes a text off the input thread.
    public var analyze: (@Sendable (String) -> ComplexityView)?
    /// Called on the editor thread each time the loop wakes, to collect events that must be applied
    /// there (a session peer applies remote edits only when polled, so offsets stay consistent).
    public var pollEvents: (() -> [EditorEvent])?
    /// How long typing must pause before the complexity pane is refreshed.
    public var analysisDelayMs = 60
    /// Called on the editor thread once the loop has ended and the terminal is restored.
    public var onQuit: (() -> Void)?

    public init() {}
}

/// Signal number caught (SIGTERM, SIGINT, SIGHUP) and the pipe that wakes the loop for it.
nonisolated(unsafe) private var caughtSignal: Int32 = 0
nonisolated(unsafe) private var signalWakeDescriptor: Int32 = -1
/// Set by SIGWINCH. The editor handles it itself, through the wake pipe: ncurses' own handler only
/// sets a flag that nobody reads while the loop sleeps in poll.
nonisolated(unsafe) private var caughtResize: Int32 = 0

/// The imperative shell: owns the terminal and runs the event loop on the calling thread; events go
/// to the core's `EditorDriver` (the model and the document). Other threads hand it events with `post(_:)`.
public final class EditorApp: @unchecked Sendable {
    private let driver: EditorDriver
    private var hooks: EditorHooks
    private let lock = NSLock()
    private var inbox: [Inbound] = []
    private var wakePipe: [Int32] = [-1, -1]
    private var analysisRunning = false
    private var analyzedGeneration = -1
    private var analysisDue: Double?
    /// The model as it is now (after `run()` returns: as the user left it).
    public var state: EditorModel { driver.model }
    /// The signal that ended the last `run()`, or 0 when the user quit.
    public private(set) var endedBySignal: Int32 = 0

    private enum Inbound {
        case event(EditorEvent)
        case analysis(ComplexityView)
    }

    public init(model: EditorModel, document: EditorDocument, hooks: EditorHooks) {
        self.hooks = hooks
        var model = model
        if hooks.analyze == nil {
            _ = model.handle(.complexity(ComplexityView(note: "no analyzer in this build")))
        }
        driver = EditorDriver(model: model, document: document)
        // Weak: the driver lives in this app, so a strong capture would keep both alive forever.
        driver.actions = EditorActions(
            save: hooks.save,
            run: hooks.run.map { run in { [weak self] text in if let self { run(text, self) } } },
            cancelRun: hooks.cancelRun, cycleGuestRoles: hooks.cycleGuestRoles, presence: hooks.presence, decide: hooks.decide,
            file: hooks.file)
    }

    /// Queues an event from any thread and wakes the loop.
    public func post(_ event: EditorEvent) {
        enqueue(.event(event))
    }

    /// Wakes the loop from any thread so it calls `hooks.pollEvents`.
    public func wake() {
        lock.lock()
        let fd = wakePipe[1]
        lock.unlock()
        if fd >= 0 {
            var byte: UInt8 = 1
            _ = write(fd, &byte, 1)
        }
    }

    private func enqueue(_ item: Inbound) {
        lock.lock()
        inbox.append(item)
        let fd = wakePipe[1]
        lock.unlock()
        if fd >= 0 {
            var byte: UInt8 = 1
            _ = write(fd, &byte, 1)
        }
    }

    /// Runs until the user quits or a terminating signal arrives; the terminal is restored either way.
    public func run() throws {
        // Close-on-exec: the runs' children must not inherit the editor's wake-up pipe.
        guard let fds = closeOnExecPipe(flags: O_NONBLOCK) else { throw TerminalError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        lock.lock()
        wakePipe = fds
        lock.unlock()
        defer {
            lock.lock()
            wakePipe = [-1, -1]
            lock.unlock()
            close(fds[0])
            close(fds[1])
        }
        let terminal = Terminal()
        try terminal.start()
        signalWakeDescriptor = fds[1]
        let previous = installSignalHandlers()
        defer {
            terminal.stop()
            endedBySignal = caughtSignal
            restoreSignalHandlers(previous)
            signalWakeDescriptor = -1
            hooks.onQuit?()
        }
        process(.resize(terminal.refreshSize()))
        var grid = ScreenGrid(columns: 0, rows: 0)
        Renderer.render(driver.model, into: &grid)
        terminal.flush(grid)
        scheduleAnalysis(now: 0)

        while !driver.quitRequested && caughtSignal == 0 {
            var timeout: Int32 = hooks.pollIntervalMs.map { Int32($0) } ?? -1
            if let due = analysisDue {
                let untilDue = Int32(max(0, (due - Self.now()) * 1000).rounded(.up))
                timeout = timeout < 0 ? untilDue : min(timeout, untilDue)
            }
            var pollFDs = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)]
            _ = poll(&pollFDs, 2, timeout)
            if caughtSignal != 0 { break }
            var drain = [UInt8](repeating: 0, count: 64)
            while read(fds[0], &drain, drain.count) > 0 {}
            if pollFDs[0].revents & Int16(POLLHUP | POLLERR) != 0 { break }

            var resized = false
            if caughtResize != 0 {
                caughtResize = 0
                resized = true
                process(.resize(terminal.refreshSize()))
            }
            // A wake by the poll interval alone (nothing read, nothing polled) leaves the screen as it is.
            var handled = pollFDs.contains { $0.revents != 0 } || resized
            for event in terminal.readEvents() {
                if case .resize = event { resized = true }
                process(event)
                handled = true
            }
            if let poll = hooks.pollEvents {
                for event in poll() {
                    process(event)
                    handled = true
                }
            }
            lock.lock()
            let pending = inbox
            inbox.removeAll()
            lock.unlock()
            if !pending.isEmpty { handled = true }
            for item in pending {
                switch item {
                case .event(let event): process(event)
                case .analysis(let view):
                    analysisRunning = false
                    process(.complexity(view))
                }
            }
            if driver.model.textGeneration != analyzedGeneration && analysisDue == nil && !analysisRunning {
                scheduleAnalysis(now: Self.now())
            }
            if let due = analysisDue, Self.now() >= due, !analysisRunning { startAnalysis() }
            if resized { terminal.invalidate() }
            guard handled else { continue }
            Renderer.render(driver.model, into: &grid)
            terminal.flush(grid)
        }
    }

    /// Applies one event and carries out its effects (through the core's driver, as the tests do).
    private func process(_ event: EditorEvent) {
        let generation = driver.model.textGeneration
        driver.handle(event)
        if driver.model.textGeneration != generation { scheduleAnalysis(now: Self.now()) }
    }

    private func scheduleAnalysis(now: Double) {
        guard hooks.analyze != nil else { return }
        analysisDue = now + Double(hooks.analysisDelayMs) / 1000
    }

    private func startAnalysis() {
        guard let analyze = hooks.analyze else { return }
        analysisDue = nil
        analysisRunning = true
        analyzedGeneration = driver.model.textGeneration
        let text = driver.document.text
        // A thread of its own with a large stack: the parsers recurse up to their nesting caps
        // (200 levels), and a debug build's frames are several KiB each.
        let thread = Thread { [self] in
            let view = analyze(text)
            enqueue(.analysis(view))
        }
        thread.stackSize = 64 << 20
        thread.start()
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func installSignalHandlers() -> [Int32: sighandler_t?] {
        caughtSignal = 0
        var previous: [Int32: sighandler_t?] = [:]
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            previous[sig] = signal(sig) { number in
                caughtSignal = number
                var byte: UInt8 = 1
                _ = write(signalWakeDescriptor, &byte, 1)
            }
        }
        previous[SIGWINCH] = signal(SIGWINCH) { _ in
            caughtResize = 1
            var byte: UInt8 = 1
            _ = write(signalWakeDescriptor, &byte, 1)
        }
        _ = signal(SIGPIPE, SIG_IGN)
        return previous
    }

    private func restoreSignalHandlers(_ previous: [Int32: sighandler_t?]) {
        for (sig, handler) in previous { _ = signal(sig, handler) }
        caughtSignal = 0
        caughtResize = 0
    }
}
