import CodeSyncProtocol
import CodeSyncTUI
import CodeSyncRunner
import Foundation

/// What shared runs need from the session: this peer's id, the names peers go by, and a way to send
/// run progress to every peer. `CollaborationPeer` is the real one.
public protocol RunSessionLink: AnyObject, Sendable {
    /// This peer's id in the session.
    var id: AgentID { get }
    /// The name a peer goes by in the session (this peer's own name for its id); nil for a peer not
    /// (or no longer) in the session.
    func displayName(of peer: AgentID) -> String?
    /// Sends run progress to every peer (host only), or a guest's cancel to the host.
    func reportRun(_ message: WireMessage)
    /// What the host lets this peer do.
    var access: GuestAccess { get }
    /// Asks the host to run `source` (a guest); in a shared folder, the file at `path`.
    func requestRun(language: String, source: String, path: String?)
}

extension CollaborationPeer: RunSessionLink {
    public func displayName(of peer: AgentID) -> String? {
        if peer == id { return options.name }
        return presences.first { $0.id == peer }?.name
    }
}

/// Where a shared folder's runs get the session's files from: the host's server.
public protocol ProjectRunSource: Sendable {
    /// The checked file, the session's open texts and `.codesync.json` (see `SessionServer`).
    func projectRunSources(file: String?) async throws -> ProjectRunSources
}

extension SessionServer: ProjectRunSource {}

/// The host's side of shared runs: runs the buffer for any peer on the host's own engine, one run
/// per session (a new run cancels the previous one), and reports `run.started/output/exited` to
/// every peer through the session. `onReport` shows the same typed reports on the host itself (the
/// host's peer does not receive its own broadcasts). Without an engine (no sandbox configured) it
/// answers every request with a refusal, so no requester is left waiting.
public final class SharedRunHost: @unchecked Sendable {
    private let link: any RunSessionLink
    private let engine: (any RunEngine)?
    private let language: Language
    private let limits: RunLimits
    /// Why runs are unavailable; nil when there is an engine.
    public let unavailableReason: String?
    private let lock = NSLock()
    private var current: String?
    private var tail: Task<Void, Never>?
    private var cancelledBy: [String: String] = [:]
    private let observer: (@Sendable (RunReport) -> Void)?
    /// A shared folder: runs copy its files from the session and run one of them (or its command).
    private let project: (any ProjectRunSource)?
    private let catalog: LanguageCatalog
    /// Bounds on a folder run's copy of the files.
    public var snapshotLimits = ProjectSnapshot.Limits()
    /// The host's own log (what a guest must not see: the host's paths and errors).
    private let log: (@Sendable (String) -> Void)?

    /// Shared runs on `setup`'s engine; nil `setup` refuses every run for `unavailable`. With
    /// `project`, the session shares a folder and each run runs a file of it (or its command).
    public init(link: any RunSessionLink, setup: RunSetup?, unavailable: String? = nil, project: (any ProjectRunSource)? = nil,
                onReport: (@Sendable (RunReport) -> Void)? = nil, log: (@Sendable (String) -> Void)? = nil) {
        self.link = link
        engine = setup?.engine
        language = setup?.language ?? .python
        limits = setup?.limits ?? .standard
        catalog = setup?.catalog ?? LanguageCatalog()
        unavailableReason = setup == nil ? (unavailable ?? "no sandbox is configured") : nil
        observer = onReport
        self.project = project
        self.log = log
        if project != nil && setup != nil { ProjectSnapshot.removeLeftovers() }
    }

    /// Shared runs for the session's file on the Docker sandbox (language from its extension, Python
    /// when unknown), or for the shared folder `project`; when no runner config loads, a host that
    /// refuses runs and says why.
    public static func forSession(peer: CollaborationPeer, path: String, project: (any ProjectRunSource)? = nil,
                                  onReport: (@Sendable (RunReport) -> Void)? = nil,
                                  log: (@Sendable (String) -> Void)? = nil) -> SharedRunHost {
        do {
            return SharedRunHost(link: peer, setup: try RunSetup.sandbox(forFile: path), project: project, onReport: onReport, log: log)
        } catch {
            return SharedRunHost(link: peer, setup: nil, unavailable: "\(error)", project: project, onReport: onReport, log: log)
        }
    }

    /// True when runs can happen here.
    public var canRun: Bool { engine != nil }

    /// The language runs use, e.g. "python".
    public var languageName: String { language.name }

    /// Handles a run event that reached the host: a guest's request or cancel. Progress events
    /// (which the host itself sends) are ignored. This is the one dispatch of guests' run requests.
    public func handle(_ event: SessionRunEvent) {
        switch event {
        case .requested(let request):
            if canRun { start(source: request.source, by: request.peer, path: request.path) } else { refuse(request) }
        case .cancelRequested(let request): cancel(run: request.run, by: request.peer)
        case .started, .output, .exited, .config: break
        }
    }

    /// Starts a run of `source` for `by`, cancelling the run in progress first. In a shared folder,
    /// the run is of the file at `path` (the session's texts of the whole folder), or the folder's
    /// own command; `source` is then unused.
    public func start(source: String, by: String, path: String? = nil) {
        guard let engine else { return }
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let request = RunRequest(source: source, language: language, limits: limits, startedBy: by)
        let project = self.project
        lock.lock()
        if let previous = current { cancelledBy[previous] = by }
        current = id
        let previousTask = tail
        // The previous run is killed now; the new one starts once it has reported its end, so every
        // peer sees runs one after the other and the engine never holds two of this session's containers.
        engine.cancel()
        let task = Task { [self] in
            await previousTask?.value
            if let project {
                await executeInFolder(path: path, by: by, id: id, from: project, on: engine)
            } else {
                await execute(request, id: id, on: engine)
            }
        }
        tail = task
        lock.unlock()
    }

    /// Cancels run `run` (nil: whatever runs) on behalf of `by`; an old run id is ignored.
    public func cancel(run: String?, by: String) {
        lock.lock()
        guard let id = current, run == nil || run == id else {
            lock.unlock()
            return
        }
        cancelledBy[id] = by
        lock.unlock()
        engine?.cancel()
    }

    /// Cancels any run and waits until its container is gone.
    public func shutdown() async {
        guard let engine else { return }
        let task: Task<Void, Never>? = lock.withLock {
            if let id = current { cancelledBy[id] = cancelledBy[id] ?? link.id }
            return tail
        }
        engine.cancel()
        await task?.value
        await engine.shutdown()
    }

    private func isSuperseded(_ id: String) -> Bool {
        lock.withLock { current != id || cancelledBy[id] != nil }
    }

    /// A run in a shared folder: checks the path and copies the session's files (off the server's
    /// loop), runs, then removes the copy once the container is gone.
    private func executeInFolder(path: String?, by: String, id: String, from source: any ProjectRunSource, on engine: any RunEngine) async {
        let plan: ProjectRunPlan
        do {
            plan = try await ProjectRunPlan.make(file: path, from: source, catalog: catalog, limits: snapshotLimits)
        } catch {
            let (forPeers, forHost) = ProjectRunPlan.describe(error)
            log?("run by \(name(of: by)) refused: \(forHost)")
            report(.started(RunStartedMessage(run: id, by: by, language: "", byName: name(of: by), path: path)))
            report(.output(RunOutputMessage(run: id, stream: .stderr, text: "codesync: \(forPeers)\n")))
            finish(id: id, outcome: .failed, code: nil, durationMs: 0)
            return
        }
        defer { plan.snapshot.remove() }
        log?("run by \(name(of: by)): \(plan.command.map { "\($0) (from \(ProjectRunSettings.fileName))" } ?? plan.file ?? "")"
             + " in \(plan.language.name), \(plan.snapshot.files) files (\(plan.snapshot.bytes >> 10) KiB) mounted read-only")
        let request = RunRequest(source: "", language: plan.language, limits: limits, startedBy: by, project: plan.mount)
        await execute(request, id: id, on: engine, path: plan.file, command: plan.command, version: plan.version)
    }

    private func execute(_ request: RunRequest, id: String, on engine: any RunEngine,
                         path: String? = nil, command: String? = nil, version: String? = nil) async {
        let started = RunStartedMessage(run: id, by: request.startedBy, language: request.language.name, byName: name(of: request.startedBy),
                                        version: request.project == nil ? RunVersion.of(request.source) : version,
                                        path: path, command: command)
        if isSuperseded(id) {
            // Cancelled before it started: say so, so that its requester is not left waiting.
            report(.started(started))
            finish(id: id, outcome: .cancelled, code: nil, durationMs: 0)
            return
        }
        var decoder = RunOutputDecoder()
        var ended: RunResult?
        report(.started(started))
        let events = engine.run(request)
        // A cancel that came between the check above and the engine taking the run found nothing to kill.
        if isSuperseded(id) { engine.cancel() }
        do {
            for try await event in events {
                switch event {
                case .started:
                    break
                case .output(let chunk):
                    let (stream, text) = decoder.decode(chunk)
                    if !text.isEmpty { report(.output(RunOutputMessage(run: id, stream: stream, text: text))) }
                case .exited(let result):
                    for (stream, rest) in decoder.flush() { report(.output(RunOutputMessage(run: id, stream: stream, text: rest))) }
                    ended = result
                }
            }
            // Reported once the stream has ended, i.e. once the container is removed: a peer that
            // sees `run.exited` knows nothing of the run is left on the host's engine.
            if let ended {
                finish(id: id, outcome: RunEnding(ended.outcome), code: ended.outcome.wireCode,
                       durationMs: Int(ended.durationMilliseconds))
            } else {
                finish(id: id, outcome: .failed, code: nil, durationMs: 0)
            }
        } catch {
            report(.output(RunOutputMessage(run: id, stream: .stderr, text: "codesync: \(error)\n")))
            finish(id: id, outcome: ended.map { RunEnding($0.outcome) } ?? .failed, code: ended?.outcome.wireCode,
                   durationMs: ended.map { Int($0.durationMilliseconds) } ?? 0)
        }
    }

    private func finish(id: String, outcome: RunEnding, code: Int?, durationMs: Int) {
        let by: String? = lock.withLock {
            defer { cancelledBy[id] = nil; if current == id { current = nil } }
            return outcome == .cancelled ? cancelledBy[id] : nil
        }
        report(.exited(RunExitedMessage(run: id, outcome: outcome, code: code, durationMs: durationMs, by: by, byName: by.map(name(of:)))))
    }

    /// The name a peer id goes by in the session (the id itself for a peer that has left).
    private func name(of id: String) -> String {
        link.displayName(of: id) ?? id
    }

    private func report(_ report: RunReport) {
        if let message = report.message { link.reportRun(message) }
        observer?(report)
    }

    /// Answers a request on a host that cannot run, so the requester is not left waiting. Only the
    /// session hears it: the host's own pane is not the requester's.
    private func refuse(_ request: RunRequestMessage) {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        link.reportRun(.runStarted(RunStartedMessage(run: id, by: request.peer, language: request.language, byName: link.displayName(of: request.peer))))
        link.reportRun(.runOutput(RunOutputMessage(run: id, stream: .stderr, text: "codesync: the host cannot run code: its Docker sandbox is not configured\n")))
        link.reportRun(.runExited(RunExitedMessage(run: id, outcome: .failed, code: nil, durationMs: 0)))
    }
}

/// A guest's side of shared runs: asks the host to run the buffer or cancel the session's latest
/// run, and refuses at once (without asking) when the host does not let this guest run code.
public final class GuestRuns: @unchecked Sendable {
    private let link: any RunSessionLink
    private let lock = NSLock()
    private var latest: String?

    public init(link: any RunSessionLink) {
        self.link = link
    }

    /// Why this guest may not run code; nil when it may.
    public var refusal: String? {
        link.access.canRun ? nil : "the host does not let you run code in this session"
    }

    /// Asks the host to run `source` (the language is the host's choice, from its file), or in a
    /// shared folder the file at `path`; returns the refusal instead when this guest may not run.
    public func run(_ source: String, path: String? = nil) -> String? {
        if let refusal { return refusal }
        link.requestRun(language: "", source: source, path: path)
        return nil
    }

    /// Asks the host to cancel the session's latest run (none seen yet: nothing to cancel).
    public func cancel() {
        guard let id = latestRun else { return }
        link.reportRun(.runCancel(RunCancelMessage(peer: link.id, run: id)))
    }

    /// The run most recently started in the session.
    public var latestRun: String? { lock.withLock { latest } }

    /// Follows the session's runs (call with every run event the guest receives).
    public func observe(_ event: SessionRunEvent) {
        if case .started(let started) = event { lock.withLock { latest = started.run } }
    }
}
