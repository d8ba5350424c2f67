@_spi(Wire) import CodeSyncDocument

/// The socket-free heart of a `CollaborationPeer`: the replica, the others' presence, the
/// sequence/ack bookkeeping, roles, and the decisions to resync after a refusal or to reconnect.
///
/// It is driven only by inputs (a local edit or caret, a received `WireMessage`, "welcomed" and
/// "link lost" signals, the time passed in as milliseconds since 1970) and answers with outputs
/// (messages to send, whether the owner should be woken, a link to drop). No sockets, threads,
/// locks or clocks: the shell (`CollaborationPeer`) serialises calls and does the I/O, so the core
/// is tested by wiring cores through an in-memory queue (PeerCoreTests).
///
/// Like the shell, remote edits wait in an inbox and reach the replica only in `poll`, so offsets
/// the owner computed from `text` stay valid until it polls.
public final class PeerCore {
    /// Who this peer is and what it sends.
    public struct Config: Sendable {
        public var id: AgentID
        public var name: String
        public var role: PeerRole
        /// The receiver's frame limit: larger updates go out in several `ops`.
        public var maxPayload: Int
        /// Stamp sent ops and measure edit-to-apply latency of remote ops (benchmarks).
        public var recordLatency: Bool
        /// Host: what guests with the edit secret should be allowed (sent with each hello).
        public var guests: GuestAccess?

        public init(id: AgentID, name: String, role: PeerRole = .guest, maxPayload: Int = SessionLimits().maxPayload,
                    recordLatency: Bool = false, guests: GuestAccess? = nil) {
            self.id = id; self.name = name; self.role = role; self.maxPayload = maxPayload
            self.recordLatency = recordLatency; self.guests = guests
        }
    }

    /// What the core asks its shell to do after an input.
    public struct Output: Equatable, Sendable {
        /// Messages for the current link, in order (empty while no link is welcomed).
        public var send: [WireMessage] = []
        /// Something waits for `poll`: wake the owner.
        public var wake = false
        /// Something the owner may read changed (an ack: `isSynced`), with nothing to poll: tell it
        /// (`onActivity`) without ending its wait.
        public var notify = false
        /// Drop the link after this many milliseconds and reconnect: the document must be reloaded.
        /// (A moment later, so that answers already on their way are still read and shown.)
        public var dropLinkAfterMs: Int?
        /// Project requests answered or refused, for whoever waits for them.
        public var answers: [RequestAnswer] = []

        public init(send: [WireMessage] = [], wake: Bool = false, notify: Bool = false, dropLinkAfterMs: Int? = nil, answers: [RequestAnswer] = []) {
            self.send = send; self.wake = wake; self.notify = notify; self.dropLinkAfterMs = dropLinkAfterMs; self.answers = answers
        }
    }

    /// What to do after the link ended.
    public enum LinkDecision: Equatable, Sendable {
        /// Connect again; `attempt` counts failures since the last welcome (for the backoff).
        case reconnect(attempt: Int)
        /// Stop: the error and the closed state were queued for `poll`.
        case closed
    }

    /// Items received and not yet applied: the owner applies them in `poll`.
    enum Inbound: Equatable {
        /// `resync`: the welcome carries the whole document, to replace a replica the server refused.
        case welcome(Welcome, resync: Bool)
        case message(WireMessage)
        case state(ConnectionState)
        case error(String)
    }

    public let config: Config
    /// This peer's CRDT agent id.
    public var id: AgentID { config.id }
    /// Replaced (same agent) only when the server refused this peer's ops, by the whole server document.
    private(set) var replica: Replica
    private var inbox: [Inbound] = []
    /// A link is welcomed: messages in `Output.send` reach the server.
    public private(set) var isLinked = false
    /// Welcomed at least once (a later refusal of the session is then a host away for a moment).
    public private(set) var everConnected = false
    /// Closed for good: no more reconnects.
    public private(set) var isClosed = false
    /// Failed connection attempts since the last welcome.
    public private(set) var attempt = 0
    /// The last `ops`/`doc.ops` sequence number sent on this link (both share the numbering).
    var seq = 0
    /// Every seq up to this one is stored by the server.
    var acked = 0
    /// Local edits made while no link was welcomed (sent after the next welcome).
    private var unsent = false
    public private(set) var colour = 0
    /// What the host lets this peer do (from the welcome, then `roles` messages).
    public private(set) var access = GuestAccess.editRun
    /// What guests may do in the session, as the server last said; nil from servers before live roles.
    private var reportedGuests: GuestAccess?
    /// Host: what guests should be allowed; sent with each hello and by `setGuests`.
    private var wantedGuests: GuestAccess?
    /// The host's file name (no folders) from the welcome.
    public private(set) var fileName: String?
    /// A shared folder's run command as the server last said (welcome, then `run.config`); nil when
    /// runs run the file asked for (or the session shares one file).
    public private(set) var runSettings: ProjectRunSettings?
    /// The server refused ops of ours: nothing is sent until the replica is replaced by the server's.
    public private(set) var resyncing = false
    /// The reconnection that reloads the document is owed even where reconnecting is off (once).
    private var reloadOwed = false
    private var peers: [String: PresenceInfo] = [:]
    private var order: [String] = []
    /// The list last reported by `peersChanged`, to report cursor moves only when they happened.
    private var reportedPeers: [PeerPresence]?
    private var myCursor: Anchor?
    private var myMark: Anchor?
    /// A shared folder: the file `myCursor` and `myMark` are in (`setPresence(cursor:selection:inFile:)`);
    /// nil when they are in the session's own document.
    private(set) var myFile: String?
    private var latencies: [Double] = []
    /// Host: who waits in the lobby, as the server last said.
    public private(set) var lobby: [LobbyEntry] = []
    /// The shared folder's files and requests (PeerCoreProject.swift).
    var project = ProjectCoreState()

    /// Colours are indexes into a palette of 8; anything else from a broken server is folded into it.
    static let colourCount = 8
    /// At most this many others are kept: a hostile server cannot grow the list without bound.
    static let maxPeers = 4096

    /// A core whose replica is `replica` (its agent is the peer's id).
    public init(config: Config, replica: Replica) {
        precondition(replica.agent == config.id, "the replica's agent is the peer's id")
        self.config = config
        self.replica = replica
        self.wantedGuests = config.guests
    }

    // MARK: Reading

    /// The text as this peer sees it now.
    public var text: String { replica.text }
    /// Length of the text in Unicode scalars.
    public var scalarCount: Int { replica.scalarCount }
    /// The local replica's version vector.
    public var version: VersionVector { replica.version }
    /// What a replica at `version` lacks from this one.
    public func updates(since version: VersionVector) -> Update { replica.updates(since: version) }
    /// A compact full-state encoding of the local replica.
    public func encodeState() -> [UInt8] { replica.encodeState() }
    /// Something waits for `poll`.
    public var hasInbox: Bool { !inbox.isEmpty }
    /// What guests with the edit secret may do now (nil before roles).
    public var guests: GuestAccess? { wantedGuests ?? reportedGuests }
    /// Linked and every local edit stored by the server. An ack covers every seq up to it, a refused
    /// one too: so a file whose edit was refused counts as unsynced until its copy is the host's again.
    public var isSynced: Bool { isLinked && !unsent && !resyncing && acked >= seq && project.reloading.isEmpty }
    /// The other peers, cursors resolved against the current text.
    public var presences: [PeerPresence] { resolvedPeers() }

    /// Edit-to-apply latencies (ms) of remote ops applied so far, emptied on read.
    public func takeLatencies() -> [Double] {
        defer { latencies = [] }
        return latencies
    }

    // MARK: Local input (owner)

    /// Inserts `text` at a scalar offset (clamped); `now`: ms since 1970, stamped when measuring latency.
    public func insert(_ text: String, at offset: Int, now: Double = 0) -> Output {
        guard editable() else { return Output(wake: true) }
        return local(replica.insert(text, at: offset), now: now)
    }

    /// Deletes `count` scalars at `offset` (clamped).
    public func delete(at offset: Int, count: Int, now: Double = 0) -> Output {
        guard editable() else { return Output(wake: true) }
        return local(replica.delete(at: offset, count: count), now: now)
    }

    /// Ends the current undo group.
    public func closeUndoGroup() { replica.closeUndoGroup() }

    /// Undoes this peer's last edit group; the local text changes and what to send.
    public func undo(now: Double = 0) -> ([TextChange], Output) {
        guard editable() else { return ([], Output(wake: true)) }
        guard let (update, changes) = replica.undo() else { return ([], Output()) }
        return (changes, local(update, now: now))
    }

    /// Redoes the last undone group; the local text changes and what to send.
    public func redo(now: Double = 0) -> ([TextChange], Output) {
        guard editable() else { return ([], Output(wake: true)) }
        guard let (update, changes) = replica.redo() else { return ([], Output()) }
        return (changes, local(update, now: now))
    }

    /// Applies an update that came from elsewhere (a bridge) and sends it on as this peer's ops.
    public func absorb(_ update: Update) throws -> Output {
        _ = try replica.apply(update)
        return local(update, now: 0)
    }

    /// Shares this peer's caret (and selection); anchors keep them on their characters.
    public func setPresence(cursor: Int, selection: Range<Int>?) -> Output {
        setPresence(cursor: cursor, selection: selection, file: nil, in: replica)
    }

    /// The caret (and selection) as anchors in `document`, the session's own (`file` nil) or a
    /// shared folder's file; other peers resolve them in their replica of that document.
    func setPresence(cursor: Int, selection: Range<Int>?, file: String?, in document: Replica) -> Output {
        myFile = file
        myCursor = document.anchor(at: cursor, bias: .left)
        if let selection {
            let other = cursor == selection.lowerBound ? selection.upperBound : selection.lowerBound
            myMark = document.anchor(at: other, bias: .left)
        } else {
            myMark = nil
        }
        return Output(send: presenceMessage().map { [$0] } ?? [])
    }

    /// Host: changes what guests with the edit secret may do; remembered across reconnections.
    public func setGuests(_ guests: GuestAccess) -> Output {
        wantedGuests = guests
        return Output(send: isLinked ? [.rolesSet(RolesSet(guests: guests))] : [])
    }

    /// While the document is being reloaded after a refusal, an edit would be thrown away with the
    /// replica: it is not made, and the owner hears why (never a silently lost edit).
    private func editable() -> Bool {
        guard resyncing else { return true }
        inbox.append(.error("the document is being reloaded after a refused edit: your edit was not made"))
        return false
    }

    private func local(_ update: Update, now: Double) -> Output {
        // The replica is about to be replaced by the server's document: this edit cannot be sent.
        guard !update.isEmpty, !resyncing else { return Output() }
        guard isLinked else {
            unsent = true
            return Output()
        }
        return Output(send: opsMessages(update, sentAt: config.recordLatency ? now : nil))
    }

    /// `update` as one `ops`, or as several when its JSON is over `Update.partBudget` (a big paste,
    /// a long offline session): no frame goes over the receiver's limit or parse caps.
    private func opsMessages(_ update: Update, sentAt: Double?) -> [WireMessage] {
        guard !update.isEmpty else { return [] }
        let budget = min(config.maxPayload, Update.partBudget) - Update.partEnvelope
        // Cheap bound first: a typical edit is far below the budget and is not measured.
        let parts = update.ops.count < 64 && update.operationCount * 6 + update.ops.count * 200 < budget
            ? [update] : update.split(maxBytes: budget)
        return parts.map { part in
            seq += 1
            return .ops(Ops(peer: id, seq: seq, update: part, sentAt: sentAt))
        }
    }

    private func presenceMessage() -> WireMessage? {
        guard isLinked else { return nil }
        return .presence(PresenceInfo(peer: id, name: config.name, colour: colour, cursor: myCursor, mark: myMark, file: myFile))
    }

    /// Queues something for `poll` from outside the protocol (a project refusal, say).
    func enqueueError(_ text: String) { inbox.append(.error(text)) }

    /// Numbers a project `doc.ops` like an `ops` (one numbering per link, acked alike).
    func nextSeq() -> Int {
        seq += 1
        return seq
    }

    /// A refused `doc.ops` numbered `refusedSeq` is answered: when every earlier seq is stored, the
    /// bookkeeping moves past it (the copy holding it is dropped), so an idle peer is synced again.
    func refusedDocOps(seq refusedSeq: Int) {
        if acked == refusedSeq - 1 && refusedSeq <= seq { acked = refusedSeq }
    }

    // MARK: Link input (network)

    /// The version vector for the next hello, fitting `room` bytes of JSON; empty while resyncing
    /// (the server then sends the whole document, which replaces ours).
    public func helloKnown(fitting room: Int) -> VersionVector {
        resyncing ? VersionVector() : Self.known(replica.version, fitting: room)
    }

    /// As much of `version` as fits `room` bytes of JSON, the agents with most operations first, so
    /// that a hello always fits a server's limit before authentication. An agent left out costs
    /// only a longer welcome: the server then sends all of that agent's operations, which apply idempotently.
    static func known(_ version: VersionVector, fitting room: Int) -> VersionVector {
        var kept: [AgentID: Int] = [:]
        var used = 0
        for (agent, count) in version.counts.sorted(by: { $0.value > $1.value }) {
            var writer = JSONWriter()
            writer.string(agent)
            let cost = writer.bytes.count + String(count).utf8.count + 2
            if used + cost > room { continue }
            used += cost
            kept[agent] = count
        }
        return VersionVector(kept)
    }

    /// The server welcomed this peer on a new link: send what it lacks (offline edits, or a host's
    /// document on first registration), and the caret.
    public func welcomed(_ welcome: Welcome) -> Output {
        guard !isClosed else { return Output() }
        isLinked = true
        attempt = 0
        seq = 0
        acked = 0
        let everConnectedBefore = everConnected
        everConnected = true
        colour = Self.foldColour(welcome.colour)
        let previousAccess = access, previousGuests = reportedGuests
        access = welcome.access ?? .editRun
        reportedGuests = welcome.guests
        fileName = welcome.file ?? fileName
        runSettings = welcome.run
        project.isProject = welcome.project == true
        inbox.append(.welcome(welcome, resync: resyncing))
        if everConnectedBefore && (previousAccess != access || previousGuests != reportedGuests) {
            // Roles changed while we were away (or after a refusal): the editor must hear it.
            inbox.append(.message(.roles(Roles(guests: reportedGuests ?? access, access: access))))
        }
        inbox.append(.state(.connected))
        // Nothing while resyncing: what the server lacks is what it refused.
        let missing = resyncing ? Update() : replica.updates(since: welcome.known)
        unsent = false
        var out = Output(send: opsMessages(missing, sentAt: nil), wake: true)
        if myCursor != nil, let presence = presenceMessage() { out.send.append(presence) }
        out.send += reopenMessages()
        return out
    }

    /// The connection waits in the lobby of a host that admits guests itself (a reconnect: the first
    /// join's wait is the shell's).
    public func waiting() -> Output {
        inbox.append(.state(.waiting))
        return Output(wake: true)
    }

    /// A message from the server on the welcomed link (project messages are the shell's).
    public func receive(_ message: WireMessage) -> Output {
        guard isLinked, !isClosed else { return Output() }
        if let handled = receiveProject(message) {
            var out = handled.output
            if let answer = handled.answer { out.answers.append(answer) }
            return out
        }
        switch message {
        case .ack(let ack):
            // Acks only move forward, and only over what was sent: a stale, repeated or invented one
            // (a seq never sent) cannot make unsent edits look stored.
            guard ack.seq > acked, ack.seq <= seq else { return Output() }
            acked = ack.seq
            return Output(notify: true)
        case .roles(let roles):
            access = roles.access
            reportedGuests = roles.guests
        case .runConfig(let settings):
            runSettings = settings.isEmpty ? nil : settings
        case .refused(let refused) where refused.what == "ops" && !resyncing && config.role == .guest:
            // Our replica holds edits the document never will: reconnect asking for the whole
            // document and replace ours with it (same agent: the server refuses every later op of
            // the refused connection, so it never holds our seqs past the first refused one).
            resyncing = true
            reloadOwed = true
            inbox.append(.message(message))
            if access.canEdit {
                // Lock the editor until the welcome says what we may do.
                access = .view
                inbox.append(.message(.roles(Roles(guests: reportedGuests ?? .view, access: .view))))
            }
            return Output(wake: true, dropLinkAfterMs: 200)
        default:
            break
        }
        inbox.append(.message(message))
        return Output(wake: true)
    }

    /// The link ended; `fatal` errors (wrong secret, version) and `reconnect: false` stop for good,
    /// except that a refusal's reload reconnects once (it is not a lost link).
    public func linkLost(reason: String, fatal: Bool, reconnect: Bool) -> LinkDecision {
        guard !isClosed else { return .closed }
        isLinked = false
        // Whoever waits for an answer hears of the lost link from the shell; a late answer is not one.
        project.outstanding = []
        let reload = reloadOwed
        reloadOwed = false
        if fatal || (!reconnect && !reload) {
            isClosed = true
            inbox.append(.error(reason))
            inbox.append(.state(.closed(reason: reason)))
            return .closed
        }
        attempt += 1
        inbox.append(.state(.reconnecting(attempt: attempt, reason: resyncing ? "reloading the document after a refused edit" : reason)))
        return .reconnect(attempt: attempt)
    }

    /// Leaves for good (the shell says goodbye and closes the link).
    public func close() {
        isClosed = true
        isLinked = false
        project.outstanding = []
    }

    // MARK: Applying (owner)

    /// Applies what arrived and returns what happened, in order. `now`: ms since 1970, for latency.
    public func poll(now: Double = 0) -> [PeerEvent] {
        guard !inbox.isEmpty else { return [] }
        let items = inbox
        inbox = []
        var events: [PeerEvent] = []
        var peersDirty = false
        var textDirty = false
        func apply(_ update: Update, sentAt: Double?) {
            do {
                let changes = try replica.apply(update)
                if let sentAt, config.recordLatency, latencies.count < 1_000_000 {
                    latencies.append(now - sentAt)
                }
                if !changes.isEmpty {
                    events.append(.textChanged(changes))
                    textDirty = true
                }
            } catch {
                events.append(.error("could not apply an update from the session: \(error)"))
            }
        }
        for item in items {
            switch item {
            case .welcome(let welcome, let resync):
                peers = [:]
                order = []
                for var info in welcome.peers.prefix(Self.maxPeers) where info.peer != id {
                    info.name = NameRules.displayable(info.name)
                    info.colour = Self.foldColour(info.colour)
                    if peers[info.peer] == nil { order.append(info.peer) }
                    peers[info.peer] = info
                }
                peersDirty = true
                if resync {
                    // The server refused some of our ops: its document, not ours, is the truth.
                    let before = replica.scalarCount
                    replica = Replica(agent: id)
                    if myFile == nil {
                        // Anchors in the dropped replica; a caret in a shared folder's file is not in it.
                        myCursor = nil
                        myMark = nil
                    }
                    resyncing = false
                    do {
                        _ = try replica.apply(welcome.update)
                    } catch {
                        events.append(.error("could not load the session's document: \(error)"))
                    }
                    events.append(.textChanged([TextChange(offset: 0, deleted: before, inserted: replica.text)]))
                    textDirty = true
                } else {
                    apply(welcome.update, sentAt: nil)
                }
            case .message(.ops(let ops)):
                apply(ops.update, sentAt: ops.sentAt)
            case .message(.presence(var info)):
                // Servers refuse bad names; one from an older server is made displayable, not trusted.
                guard info.peer != id else { break }
                info.name = NameRules.displayable(info.name)
                info.colour = Self.foldColour(info.colour)
                if peers[info.peer] == nil {
                    guard peers.count < Self.maxPeers else { break }
                    order.append(info.peer)
                    events.append(.membership(.joined(id: info.peer, name: info.name)))
                }
                peers[info.peer] = info
                peersDirty = true
            case .message(.left(let left)):
                if let gone = peers[left.peer] {
                    events.append(.membership(.left(id: left.peer, name: gone.name, reason: left.reason.map { String($0.prefix(200)) })))
                }
                peers[left.peer] = nil
                order.removeAll { $0 == left.peer }
                peersDirty = true
            case .message(.runRequest(let m)): events.append(.run(.requested(m)))
            case .message(.runCancel(let m)): events.append(.run(.cancelRequested(m)))
            case .message(.runStarted(let m)): events.append(.run(.started(m)))
            case .message(.runOutput(let m)): events.append(.run(.output(m)))
            case .message(.runExited(let m)): events.append(.run(.exited(m)))
            case .message(.runConfig(let m)): events.append(.run(.config(m)))
            case .message(.refused(let refused)): events.append(.error("the host refused your \(refused.what): \(refused.message)"))
            case .message(.roles(let roles)): events.append(.access(roles.access, guests: roles.guests))
            case .message(.lobby(let list)):
                // At most the server's lobby cap; more from a broken server are not shown.
                lobby = Array(list.waiting.prefix(64)).map { entry in
                    var entry = entry
                    entry.name = NameRules.displayable(entry.name)
                    entry.from = String(entry.from.prefix(128))
                    return entry
                }
                events.append(.lobby(lobby))
            case .message: break
            case .state(let state): events.append(.connection(state))
            case .error(let text): events.append(.error(text))
            }
        }
        // Text changes move the others' cursors: report the list again when an offset really moved.
        if peersDirty || (textDirty && !peers.isEmpty) {
            let list = resolvedPeers()
            if peersDirty || list != reportedPeers {
                reportedPeers = list
                events.append(.peersChanged(list))
            }
        }
        return events
    }

    private func resolvedPeers() -> [PeerPresence] {
        order.compactMap { peers[$0] }.map { info in
            // In a shared folder the anchors are in the peer's file: resolved there when it is open here.
            let document: Replica? = info.file.map { project.files[$0]?.replica } ?? replica
            let cursor = document.flatMap { document in info.cursor.map { document.offset(of: $0) } } ?? 0
            let selection = document.flatMap { document in info.mark.map { mark -> Range<Int> in
                let other = document.offset(of: mark)
                return min(cursor, other)..<max(cursor, other)
            } }
            return PeerPresence(id: info.peer, name: info.name, colour: info.colour, cursor: cursor, selection: selection, file: info.file)
        }
    }

    private static func foldColour(_ colour: Int) -> Int {
        ((colour % colourCount) + colourCount) % colourCount
    }
}
