import CodeSyncProtocol
import Foundation

/// Serves a host session without a terminal UI: keeps the host's replica current, runs guests'
/// code, logs to stderr.
public struct HeadlessHost {
    public let session: HostSession
    public let stop: StopSignal

    public init(session: HostSession, stop: StopSignal) {
        self.session = session
        self.stop = stop
    }

    /// Serves until stopped, then cancels any run, saves the file and leaves.
    public func serve() async throws {
        let peer = session.peer
        stop.whenStopped { peer.interruptWait() }
        let runs = SharedRunHost.forSession(peer: peer, path: session.file.path)
        if let reason = runs.unavailableReason { note("runs unavailable: \(reason)") }
        while !stop.isStopped {
            for event in await peer.nextEvents(timeout: .milliseconds(500)) {
                if case .run(let run) = event { runs.handle(run) }
                if let line = describe(event) { note(line) }
            }
        }
        // The run in progress is killed and its container removed before the host goes away.
        await runs.shutdown()
        try await session.shutdown(save: true)
        note("saved \(session.file.path)")
    }
}
