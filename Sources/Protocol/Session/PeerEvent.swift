/// Another peer as this peer sees it: offsets are resolved from anchors against the local text.
public struct PeerPresence: Equatable, Sendable {
    public var id: String
    public var name: String
    /// Colour index 0-7, distinct among the peers connected at once (up to 8).
    public var colour: Int
    /// Caret offset in Unicode scalars (0 until the peer places it).
    public var cursor: Int
    /// Selected range in Unicode scalars, nil when nothing is selected.
    public var selection: Range<Int>?
    /// A shared folder: the file the peer is in; its cursor and selection are offsets in that file
    /// when this peer has it open (else 0 and nil). Nil when the peer is in no file.
    public var file: String?

    public init(id: String, name: String, colour: Int, cursor: Int, selection: Range<Int>?, file: String? = nil) {
        self.id = id; self.name = name; self.colour = colour; self.cursor = cursor; self.selection = selection; self.file = file
    }
}

/// The state of a peer's link to its host or relay.
public enum ConnectionState: Equatable, Sendable {
    /// Connected and welcomed: edits flow both ways.
    case connected
    /// The link dropped; edits go on locally and are sent after reconnecting.
    case reconnecting(attempt: Int, reason: String)
    /// Authenticated, waiting in the lobby of a host that admits guests itself (`--approve`);
    /// nothing of the session arrives until it does.
    case waiting
    /// Closed for good (by `close()`, or after an error that retrying cannot fix).
    case closed(reason: String)
}

/// Run progress carried by a session (issue: shared runs).
public enum SessionRunEvent: Equatable, Sendable {
    /// A peer asked the host to run (delivered to the host only).
    case requested(RunRequestMessage)
    /// A peer asked the host to cancel (delivered to the host only).
    case cancelRequested(RunCancelMessage)
    case started(RunStartedMessage)
    case output(RunOutputMessage)
    case exited(RunExitedMessage)
    /// A shared folder's run command changed (`.codesync.json` on the host's disk; empty: none).
    case config(ProjectRunSettings)
}

/// Something that happened to a `CollaborationPeer`, returned by `poll()`.
public enum PeerEvent: Equatable, Sendable {
    /// Remote edits changed the text (offsets relative to the text before each change, in order).
    case textChanged([TextChange])
    /// The other peers or their cursors changed; the full current list.
    case peersChanged([PeerPresence])
    case connection(ConnectionState)
    case run(SessionRunEvent)
    /// The host changed what this peer may do (`guests`: what edit-secret guests may do now).
    case access(GuestAccess, guests: GuestAccess)
    /// Host: who waits in the lobby for its decision now, oldest first (names and addresses as the
    /// server sent them: sanitize before showing).
    case lobby([LobbyEntry])
    /// Another peer joined or left (names as peers chose them: sanitize before showing).
    case membership(Membership)
    /// A problem worth showing the user (one line).
    case error(String)
}

/// Someone arrived in the session or went away.
public enum Membership: Equatable, Sendable {
    case joined(id: String, name: String)
    /// `reason` as the server said it: "bye", "disconnected", "removed by the host", ...
    case left(id: String, name: String, reason: String?)
}
