import CodeSyncApp
import CodeSyncBase
import CodeSyncProtocol
import CodeSyncRunner
import Foundation

/// A run engine the test drives by hand, with the real sandbox's contract: `started` at once,
/// output as the test emits it, one `exited` per run; `cancel()` ends every active run as
/// `cancelled`. The real `Sandbox` runs the same paths in SharedRunTests and BufferRunnerEngineTests.
final class FakeEngine: RunEngine, @unchecked Sendable {
    struct Run {
        let id: String
        let request: RunRequest
        let continuation: AsyncThrowingStream<RunEvent, any Error>.Continuation
    }

    private struct State {
        var runs: [Run] = []
        var active: Set<String> = []
        var mostActive = 0
        var cancels = 0
        var shutDown = false
    }

    private let state = Locked(State())

    func run(_ request: RunRequest) -> AsyncThrowingStream<RunEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RunEvent, any Error>.makeStream()
        let id = state.withLock { s -> String in
            let id = "fake\(s.runs.count + 1)"
            s.runs.append(Run(id: id, request: request, continuation: continuation))
            s.active.insert(id)
            s.mostActive = max(s.mostActive, s.active.count)
            return id
        }
        continuation.yield(.started(RunStart(runID: id, language: request.language.name, image: "fake", startedBy: request.startedBy, pooled: false)))
        return stream
    }

    func cancel() {
        let active = state.withLock { s -> [Run] in
            s.cancels += 1
            return s.runs.filter { s.active.contains($0.id) }
        }
        for run in active { exit(run.id, .cancelled) }
    }

    func shutdown() async {
        cancel()
        state.withLock { $0.shutDown = true }
    }

    /// The run engine call `index` (from 0), waiting up to 10 s for it to arrive.
    func waitRun(_ index: Int) async throws -> Run {
        for _ in 0..<1000 {
            if let run = state.withLock({ $0.runs.count > index ? $0.runs[index] : nil }) { return run }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw FakeFailure("run \(index) never reached the engine")
    }

    func emit(_ id: String, _ stream: OutputStreamKind, _ bytes: [UInt8]) {
        find(id)?.continuation.yield(.output(OutputChunk(stream: stream, bytes: bytes)))
    }

    func exit(_ id: String, _ outcome: RunOutcome, ms: Double = 12) {
        guard let run = find(id), state.withLock({ $0.active.remove(id) != nil }) else { return }
        run.continuation.yield(.exited(RunResult(runID: id, outcome: outcome, durationMilliseconds: ms,
                                                 startedBy: run.request.startedBy, language: run.request.language.name)))
        run.continuation.finish()
    }

    /// The engine itself fails mid-run (no `exited`).
    func fail(_ id: String, _ error: any Error) {
        guard let run = find(id), state.withLock({ $0.active.remove(id) != nil }) else { return }
        run.continuation.finish(throwing: error)
    }

    private func find(_ id: String) -> Run? { state.withLock { s in s.runs.first { $0.id == id } } }

    var runCount: Int { state.withLock { $0.runs.count } }
    /// The runs neither exited nor cancelled yet.
    var activeIDs: [String] { state.withLock { Array($0.active) } }
    var mostActiveAtOnce: Int { state.withLock { $0.mostActive } }
    var cancelCount: Int { state.withLock { $0.cancels } }
    var isShutDown: Bool { state.withLock { $0.shutDown } }
}

/// The session as shared runs see it, recording what is sent.
final class FakeLink: RunSessionLink, @unchecked Sendable {
    let id: AgentID
    private let names: [AgentID: String]
    private let state: Locked<(sent: [WireMessage], requests: [RunRequestMessage], access: GuestAccess)>

    init(id: AgentID = "host-1", names: [AgentID: String] = ["host-1": "Hana", "bob-2": "Bob", "ann-3": "Ann"],
         access: GuestAccess = .editRun) {
        self.id = id
        self.names = names
        state = Locked((sent: [], requests: [], access: access))
    }

    func displayName(of peer: AgentID) -> String? { names[peer] }
    func reportRun(_ message: WireMessage) { state.withLock { $0.sent.append(message) } }
    var access: GuestAccess {
        get { state.withLock { $0.access } }
        set { state.withLock { $0.access = newValue } }
    }
    func requestRun(language: String, source: String, path: String?) {
        state.withLock { $0.requests.append(RunRequestMessage(peer: id, language: language, source: source, path: path)) }
    }

    var sent: [WireMessage] { state.withLock { $0.sent } }
    var requests: [RunRequestMessage] { state.withLock { $0.requests } }

    var started: [RunStartedMessage] { sent.compactMap { if case .runStarted(let m) = $0 { m } else { nil } } }
    var exited: [RunExitedMessage] { sent.compactMap { if case .runExited(let m) = $0 { m } else { nil } } }
    func outputs(_ run: String) -> [RunOutputMessage] {
        sent.compactMap { if case .runOutput(let m) = $0, m.run == run { m } else { nil } }
    }
    func output(_ run: String, _ stream: RunStream) -> String {
        outputs(run).filter { $0.stream == stream }.map(\.text).joined()
    }

    /// Waits up to 10 s for `condition`.
    func wait(_ condition: (FakeLink) -> Bool) async -> Bool {
        for _ in 0..<1000 {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }
}

/// Collects what a callback reports, from any thread.
final class Collector<Value: Sendable>: @unchecked Sendable {
    private let values = Locked<[Value]>([])
    func add(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }

    func wait(seconds: Int = 10, _ condition: ([Value]) -> Bool) async -> Bool {
        for _ in 0..<(seconds * 100) {
            if condition(all) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(all)
    }
}

struct FakeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
