import CodeSyncProtocol
import Foundation

/// Serves a host session without a terminal UI: keeps the host's replica current, runs guests'
/// code, logs to stderr. Reads commands on stdin: `admit ID`, `refuse ID`, `remove ID`, `lobby`,
/// `peers`; prints `waiting ID ACCESS "FROM" "NAME"` on stdout for each guest that starts waiting.
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
        let runs = SharedRunHost.forSession(peer: peer, path: session.file.path, project: session.isProject ? session.server : nil,
                                            log: { note($0) })
        if let reason = runs.unavailableReason { note("runs unavailable: \(reason)") }
        if session.isProject, runs.canRun {
            // What guests see in their welcome: the host sees it too, before anyone runs anything.
            note("runs: \(ProjectRunSettings.read(root: session.file.path).summary)")
        }
        // End of input only stops reading commands: a host started from a script keeps serving. A
        // terminal is read only when the host admits guests: a headless host put in the background
        // of an interactive shell would otherwise be stopped (SIGTTIN) by its first read.
        let reader: LineReader? = session.approves || isatty(STDIN_FILENO) == 0 ? LineReader { peer.interruptWait() } : nil
        var announced: Set<String> = []
        while !stop.isStopped {
            for event in await peer.nextEvents(timeout: .milliseconds(500)) {
                if case .run(let run) = event { runs.handle(run) }
                if case .lobby(let entries) = event {
                    for entry in entries where !announced.contains(entry.peer) { say(Self.waitingLine(entry)) }
                    announced = Set(entries.map(\.peer))
                }
                if let line = describe(event) { note(line) }
            }
            for line in reader?.take().lines ?? [] { handle(line) }
        }
        // The run in progress is killed and its container removed before the host goes away.
        await runs.shutdown()
        try await session.shutdown(save: true)
        note("saved \(session.file.path)")
    }

    /// `waiting ID ACCESS "FROM" "NAME"` (strings as JSON literals: one line whatever they hold).
    static func waitingLine(_ entry: LobbyEntry) -> String {
        "waiting \(entry.peer) \(entry.access.rawValue) \(jsonString(entry.from)) \(jsonString(entry.name))"
            + (entry.removed == true ? " removed-before" : "")
    }

    private func handle(_ line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let command = words.first else { return }
        let peer = session.peer
        switch (command, words.count) {
        case ("admit", 2): peer.admit(words[1])
        case ("refuse", 2): peer.refuse(words[1])
        case ("remove", 2): peer.remove(words[1])
        case ("lobby", 1):
            _ = peer.poll()
            say("lobby [" + peer.lobby.map { "{\"id\":\(jsonString($0.peer)),\"name\":\(jsonString($0.name)),\"from\":\(jsonString($0.from)),\"access\":\"\($0.access.rawValue)\"}" }.joined(separator: ",") + "]")
        case ("peers", 1):
            _ = peer.poll()
            say("peers [" + peer.presences.map { "{\"id\":\(jsonString($0.id)),\"name\":\(jsonString($0.name))}" }.joined(separator: ",") + "]")
        default:
            say("error: unknown command '\(line.prefix(64))' (admit ID, refuse ID, remove ID, lobby, peers)")
        }
    }
}
