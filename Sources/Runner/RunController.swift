import CodeSyncBase
import Foundation

/// The live state of one run: turns attach frames into events, enforces the output cap and the
/// deadlines, and remembers why we killed the container (if we did).
final class RunController: Sendable {
    enum Phase: Sendable { case building, running }

    private struct State {
        var containerID: String?
        var killReason: RunOutcome?
        var phase: Phase
        var deadline: ContinuousClock.Instant
        var outputBytes = 0
        var splitter = MarkerSplitter(marker: Loader.buildMarker)
        var finished = false
        var streamEnded = false
        var endWaiter: CheckedContinuation<Void, Never>?
    }

    let runID: String
    let limits: RunLimits
    private let client: DockerClient
    private let continuation: AsyncThrowingStream<RunEvent, any Error>.Continuation
    private let state: Locked<State>

    init(runID: String, hasBuild: Bool, limits: RunLimits, client: DockerClient,
         continuation: AsyncThrowingStream<RunEvent, any Error>.Continuation) {
        self.runID = runID
        self.limits = limits
        self.client = client
        self.continuation = continuation
        let phase: Phase = hasBuild ? .building : .running
        let seconds = phase == .building ? limits.buildTimeoutSeconds : limits.timeoutSeconds
        state = Locked(State(phase: phase, deadline: .now + .milliseconds(Int64(seconds * 1000))))
    }

    /// Why we killed the container, if we did.
    var killReason: RunOutcome? { state.withLock { $0.killReason } }
    /// Whether the build step (if any) has finished.
    var phase: Phase { state.withLock { $0.phase } }
    var deadline: ContinuousClock.Instant { state.withLock { $0.deadline } }

    /// Restarts the clock (the run's time starts when its code is handed over, not at container start).
    func resetDeadline() {
        state.withLock { s in
            let seconds = s.phase == .building ? limits.buildTimeoutSeconds : limits.timeoutSeconds
            s.deadline = .now + .milliseconds(Int64(seconds * 1000))
        }
    }

    /// Binds the container; if a kill was requested before it existed, kills it now.
    func bind(containerID: String) {
        let killNow = state.withLock { s -> Bool in
            s.containerID = containerID
            return s.killReason != nil
        }
        if killNow { sendKill(containerID) }
    }

    /// Kills the container for `reason` (the first reason wins); safe to call at any time.
    func kill(_ reason: RunOutcome) {
        let id = state.withLock { s -> String? in
            guard s.killReason == nil, !s.finished else { return nil }
            s.killReason = reason
            return s.containerID
        }
        if let id { sendKill(id) }
    }

    private func sendKill(_ id: String) {
        let client = client
        // Retried: a kill lost to a busy engine would otherwise leave the program running until
        // its in-container deadline.
        Task { _ = await Retry.until(seconds: Sandbox.engineRetrySeconds) { try await client.kill(id) } }
    }

    /// Handles one frame from the attach stream (called in order, from the connection's event loop).
    func receive(_ frame: AttachStreamDecoder.Frame) {
        var overLimit: String?
        state.withLock { s in
            // After a kill we keep draining, but nothing more is shown.
            guard s.killReason == nil else { return }
            var pieces: [(OutputStreamKind, [UInt8])] = []
            if s.phase == .building && frame.stream == .stderr {
                let (before, after) = s.splitter.feed(frame.payload)
                pieces.append((.stderr, before))
                if let after {
                    s.phase = .running
                    s.deadline = .now + .milliseconds(Int64(limits.timeoutSeconds * 1000))
                    pieces.append((.stderr, after))
                }
            } else {
                pieces.append((frame.stream, frame.payload))
            }
            for (stream, bytes) in pieces where !bytes.isEmpty {
                let room = limits.outputLimitBytes - s.outputBytes
                if bytes.count > room {
                    if room > 0 { continuation.yield(.output(OutputChunk(stream: stream, bytes: Array(bytes.prefix(room))))) }
                    s.outputBytes = limits.outputLimitBytes
                    s.killReason = .outputLimit
                    overLimit = s.containerID
                    return
                }
                s.outputBytes += bytes.count
                continuation.yield(.output(OutputChunk(stream: stream, bytes: bytes)))
            }
        }
        if let overLimit { sendKill(overLimit) }
    }

    /// The attach stream ended; emits bytes still held back while looking for the build marker.
    func streamEnded() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.killReason == nil {
                let rest = s.splitter.flush()
                if !rest.isEmpty {
                    let room = max(0, limits.outputLimitBytes - s.outputBytes)
                    continuation.yield(.output(OutputChunk(stream: .stderr, bytes: Array(rest.prefix(room)))))
                }
            }
            s.streamEnded = true
            defer { s.endWaiter = nil }
            return s.endWaiter
        }
        waiter?.resume()
    }

    /// Waits until the attach stream has ended.
    func waitForStreamEnd() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.streamEnded { return true }
                s.endWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Marks the run over: later kills are ignored.
    func markFinished() {
        state.withLock { $0.finished = true }
    }

    /// Watches the deadline (which moves when a build finishes) and kills when it passes.
    func watchDeadline() async {
        while !Task.isCancelled {
            let target = deadline
            do { try await Task.sleep(until: target, clock: .continuous) } catch { return }
            let (expired, building) = state.withLock { s in (ContinuousClock.now >= s.deadline && !s.finished, s.phase == .building) }
            if expired {
                kill(building ? .buildTimedOut : .timedOut)
                return
            }
        }
    }

    /// The outcome from what we did and what the engine reports.
    func outcome(exitCode: Int32, oomKilled: Bool) -> RunOutcome {
        let (reason, phase) = state.withLock { ($0.killReason, $0.phase) }
        if let reason { return reason }
        if oomKilled { return .outOfMemory }
        if phase == .building { return .buildFailed(code: exitCode) }
        if exitCode > 128 && exitCode <= 128 + 64 { return .killed(signal: exitCode - 128) }
        return .exited(code: exitCode)
    }
}
