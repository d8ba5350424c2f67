import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import Foundation

/// The host's side of shared runs: runs the buffer for any peer on the host's own sandbox, one run
/// per session (a new run cancels the previous one), and reports `run.started/output/exited` to
/// every peer through the session. `onEvent` shows the same events on the host itself (the host's
/// peer does not receive its own broadcasts).
final class SharedRunHost: @unchecked Sendable {
    private let peer: CollaborationPeer
    private let sandbox: Sandbox
    private let language: Language
    private let limits: RunLimits
    private let lock = NSLock()
    private var current: String?
    private var tail: Task<Void, Never>?
    private var cancelledBy: [String: String] = [:]
    private let observer: (@Sendable (SessionRunEvent) -> Void)?

    /// A runner for the session's file (language from its extension, Python when unknown).
    init(peer: CollaborationPeer, path: String, onEvent: (@Sendable (SessionRunEvent) -> Void)? = nil) throws {
        var config = try SandboxConfig.load()
        config.poolSize = 0
        self.peer = peer
        sandbox = Sandbox(config: config)
        language = config.catalog.forFile(path) ?? .python
        limits = config.limits
        observer = onEvent
        // Containers a crashed codesync left go now, not at the first run.
        sandbox.removeLeftoversInBackground()
    }

    /// The language runs use, e.g. "python".
    var languageName: String { language.name }

    /// Handles a request or cancel that reached the host; other run events are ignored.
    func handle(_ event: SessionRunEvent) {
        switch event {
        case .requested(let request): start(source: request.source, by: request.peer)
        case .cancelRequested(let request): cancel(run: request.run, by: request.peer)
        case .started, .output, .exited: break
        }
    }

    /// Starts a run of `source` for `by`, cancelling the run in progress first.
    func start(source: String, by: String) {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let request = RunRequest(source: source, language: language, limits: limits, startedBy: by)
        lock.lock()
        if let previous = current { cancelledBy[previous] = by }
        current = id
        let previousTask = tail
        // The previous run is killed now; the new one starts once it has reported its end, so every
        // peer sees runs one after the other and the engine never holds two of this session's containers.
        sandbox.cancel()
        let task = Task { [self] in
            await previousTask?.value
            await execute(request, id: id)
        }
        tail = task
        lock.unlock()
    }

    /// Cancels run `run` (nil: whatever runs) on behalf of `by`; an old run id is ignored.
    func cancel(run: String?, by: String) {
        lock.lock()
        guard let id = current, run == nil || run == id else {
            lock.unlock()
            return
        }
        cancelledBy[id] = by
        lock.unlock()
        sandbox.cancel()
    }

    /// Cancels any run and waits until its container is gone.
    func shutdown() async {
        let task: Task<Void, Never>? = lock.withLock {
            if let id = current { cancelledBy[id] = cancelledBy[id] ?? peer.id }
            return tail
        }
        sandbox.cancel()
        await task?.value
        await sandbox.shutdown()
    }

    private func execute(_ request: RunRequest, id: String) async {
        let superseded = lock.withLock { current != id || cancelledBy[id] != nil }
        if superseded {
            // Cancelled before it started: say so, so that its requester is not left waiting.
            report(.runStarted(RunStartedMessage(run: id, by: request.startedBy, language: language.name, byName: name(of: request.startedBy))))
            finish(id: id, outcome: "cancelled", code: nil, durationMs: 0)
            return
        }
        var decoders = [OutputStreamKind.stdout: UTF8Carry(), .stderr: UTF8Carry()]
        var ended: RunResult?
        report(.runStarted(RunStartedMessage(run: id, by: request.startedBy, language: language.name, byName: name(of: request.startedBy),
                                             version: RunVersion.of(request.source))))
        let events = sandbox.run(request)
        // A cancel that came between the check above and the sandbox taking the run found nothing to kill.
        if lock.withLock({ current != id || cancelledBy[id] != nil }) { sandbox.cancel() }
        do {
            for try await event in events {
                switch event {
                case .started:
                    break
                case .output(let chunk):
                    let text = decoders[chunk.stream, default: UTF8Carry()].feed(chunk.bytes)
                    if !text.isEmpty { report(.runOutput(RunOutputMessage(run: id, stream: chunk.stream.rawValue, text: text))) }
                case .exited(let result):
                    for stream in [OutputStreamKind.stdout, .stderr] {
                        let rest = decoders[stream, default: UTF8Carry()].flush()
                        if !rest.isEmpty { report(.runOutput(RunOutputMessage(run: id, stream: stream.rawValue, text: rest))) }
                    }
                    ended = result
                }
            }
            // Reported once the stream has ended, i.e. once the container is removed: a peer that
            // sees `run.exited` knows nothing of the run is left on the host's engine.
            if let ended {
                finish(id: id, outcome: ended.outcome.wireName, code: ended.outcome.wireCode,
                       durationMs: Int(ended.durationMilliseconds))
            } else {
                finish(id: id, outcome: "failed", code: nil, durationMs: 0)
            }
        } catch {
            report(.runOutput(RunOutputMessage(run: id, stream: "stderr", text: "codesync: \(error)\n")))
            finish(id: id, outcome: ended?.outcome.wireName ?? "failed", code: ended?.outcome.wireCode,
                   durationMs: ended.map { Int($0.durationMilliseconds) } ?? 0)
        }
    }

    private func finish(id: String, outcome: String, code: Int?, durationMs: Int) {
        let by: String? = lock.withLock {
            defer { cancelledBy[id] = nil; if current == id { current = nil } }
            return outcome == "cancelled" ? cancelledBy[id] : nil
        }
        report(.runExited(RunExitedMessage(run: id, outcome: outcome, code: code, durationMs: durationMs, by: by, byName: by.map(name(of:)))))
    }

    /// The name a peer id goes by in the session (the id itself for a peer that has left).
    private func name(of id: String) -> String {
        if id == peer.id { return peer.options.name }
        return peer.presences.first { $0.id == id }?.name ?? id
    }

    private func report(_ message: WireMessage) {
        peer.reportRun(message)
        guard let observer else { return }
        switch message {
        case .runStarted(let m): observer(.started(m))
        case .runOutput(let m): observer(.output(m))
        case .runExited(let m): observer(.exited(m))
        default: break
        }
    }

    /// Answers a run request on a host without a sandbox, so the requester is not left waiting.
    static func refuse(_ event: SessionRunEvent, peer: CollaborationPeer) {
        guard case .requested(let request) = event else { return }
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let name = peer.presences.first { $0.id == request.peer }?.name
        peer.reportRun(.runStarted(RunStartedMessage(run: id, by: request.peer, language: request.language, byName: name)))
        peer.reportRun(.runOutput(RunOutputMessage(run: id, stream: "stderr", text: "codesync: the host cannot run code: its Docker sandbox is not configured\n")))
        peer.reportRun(.runExited(RunExitedMessage(run: id, outcome: "failed", code: nil, durationMs: 0)))
    }

    /// The exit status of `codesync run` for a shared run's end (same rules as a local run).
    static func exitStatus(outcome: String, code: Int?) -> Int32 {
        RunOutcome(wireName: outcome, code: code)?.exitStatus ?? 125
    }
}

/// Decodes a byte stream as UTF-8 chunk by chunk, holding back a sequence split across chunks.
struct UTF8Carry {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) -> String {
        pending += bytes
        var cut = pending.count
        // Find the start of a trailing sequence that is not complete yet (at most 3 bytes back).
        var back = 0
        while back < min(3, pending.count) {
            let byte = pending[pending.count - 1 - back]
            if byte & 0xC0 != 0x80 {
                let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                if needed > back + 1 { cut = pending.count - 1 - back }
                break
            }
            back += 1
        }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    mutating func flush() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}
