import CodeSyncProtocol
import CodeSyncRunner
import EditorCore
import CodeSyncTUI

/// The editor's document on a session peer. Remote edits enter the peer only when it is polled on
/// the editor thread, so the offsets the model computes always match the peer's text.
public final class PeerDocument: EditorDocument {
    public let peer: CollaborationPeer

    public init(peer: CollaborationPeer) {
        self.peer = peer
    }

    public var text: String { peer.text }
    public func insert(_ text: String, at offset: Int) { peer.insert(text, at: offset) }
    public func delete(at offset: Int, count: Int) { peer.delete(at: offset, count: count) }
    public func closeUndoGroup() { peer.closeUndoGroup() }

    public func undo() -> [EditorChange]? {
        let changes = peer.undo()
        return changes.isEmpty ? nil : changes
    }

    public func redo() -> [EditorChange]? {
        let changes = peer.redo()
        return changes.isEmpty ? nil : changes
    }
}

/// Turns session events into editor events.
public enum SessionEvents {
    /// "bob joined", "bob left", "bob left (removed by the host)": one line, sanitized.
    public static func notice(_ change: Membership) -> String {
        switch change {
        case .joined(_, let name):
            return "\(TerminalSanitizer.line(name)) joined"
        case .left(_, let name, let reason):
            // A goodbye is just leaving; anything else (a drop, the host's decision) is said.
            let why = reason.flatMap { ["bye", "left", "disconnected"].contains($0) ? nil : TerminalSanitizer.line($0) }
            return "\(TerminalSanitizer.line(name)) left" + (why.map { " (\($0))" } ?? "")
        }
    }

    /// The editor events for one peer event; `isHost` shows the connection as hosting.
    public static func editorEvents(for event: PeerEvent, isHost: Bool) -> [EditorEvent] {
        switch event {
        case .textChanged(let changes):
            return [.remoteChanges(changes)]
        case .peersChanged(let list):
            let peers = list.map {
                RemotePeer(id: $0.id, name: TerminalSanitizer.line($0.name), colour: UInt8(clamping: max(0, $0.colour)), cursor: $0.cursor,
                           selection: $0.selection, file: $0.file.map { TerminalSanitizer.line($0) })
            }
            var events: [EditorEvent] = [.peers(peers)]
            if isHost { events.append(.connection(.hosting(peers: peers.count))) }
            return events
        case .connection(let state):
            switch state {
            case .connected: return [.connection(isHost ? .hosting(peers: 0) : .connected(latencyMs: nil))]
            case .reconnecting(let attempt, let reason): return [.connection(.reconnecting("attempt \(attempt): \(TerminalSanitizer.line(reason))"))]
            case .waiting: return [.connection(.reconnecting("waiting for the host to admit you"))]
            case .closed(let reason): return [.connection(.disconnected(TerminalSanitizer.line(reason)))]
            }
        case .run(.config(let settings)):
            return [.message("runs in this folder: " + TerminalSanitizer.line(settings.summary), isError: settings.problem != nil)]
        case .run(let run):
            guard let report = RunReport(run) else { return [] }
            return report.paneUpdates.map { .run($0) }
        case .access(let access, let guests):
            if isHost { return [.guestRoles(guests.rawValue)] }
            let text = switch access {
            case .editRun: "the host lets you edit and run code"
            case .edit: "the host lets you edit; runs are now the host's alone"
            case .view: "the host made this session watch-only for you"
            }
            return [.readOnly(!access.canEdit), .message(text, isError: false)]
        case .lobby(let entries):
            return [.lobby(entries.map {
                WaitingGuest(id: $0.peer, name: TerminalSanitizer.line($0.name), from: TerminalSanitizer.line($0.from),
                             access: $0.access.rawValue, removedBefore: $0.removed == true)
            })]
        case .membership(let change):
            return [.notice(Self.notice(change))]
        case .error(let message):
            return [.message(TerminalSanitizer.line(message), isError: true)]
        }
    }
}
