@_spi(Wire) import CodeSyncDocument
import CodeSyncBase
import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix

/// A participant in a session: a local replica kept in sync with a host or relay over TCP.
///
/// Threading: the document API (`text`, `insert`, `delete`, `undo`, `redo`, `setPresence`,
/// `poll`, `nextEvents`) belongs to one *owner* thread or task at a time, like `Replica`. Network
/// I/O runs on the peer's own event-loop thread and never changes the text behind the owner's
/// back: remote edits wait in an inbox and are applied only inside `poll()` / `nextEvents()`, so
/// offsets the owner computed from `text` stay valid until it polls. `onActivity` (called on the
/// network thread) says the inbox has something. All methods are safe to call from any thread.
///
/// Local edits apply at once. While disconnected they accumulate locally; after reconnecting
/// (with exponential backoff) the peer sends exactly what the server lacks, from version vectors.
public final class CollaborationPeer: @unchecked Sendable {
    /// How to join.
    public struct Options: Sendable {
        public var name: String
        public var secret: String
        public var role: PeerRole = .guest
        public var limits = SessionLimits()
        /// Retry after the link drops (not after a wrong secret or a version mismatch).
        public var reconnect = true
        /// Longest wait between reconnection attempts, in seconds.
        public var maxBackoff = 2.0
        /// Seconds allowed for the first connection and handshake.
        public var connectTimeout = 10.0
        /// This peer's agent id; default: the name plus random hex.
        public var agent: AgentID?
        /// Measure edit-to-apply latency of remote ops (benchmarks).
        public var recordLatency = false
        /// Host and bridge: the secret only the host's process knows; it proves the role.
        public var hostSecret: String?
        /// Host: the watch-only secret (kept for callers; relays no longer receive any key).
        public var viewSecret: String?
        /// Host: what guests with the edit secret may do (sent with every hello; the server enforces it).
        public var guests: GuestAccess?
        /// Host: the served file's name (no folders), for joiners' status bars and language.
        public var fileName: String?
        public var logger = Logger(label: "codesync.peer")
        /// Connect through a child process's pipes (`codesync join ssh://…`) instead of TCP to the address.
        public var transport: PipeTransport?
        /// Called (on the network thread) when the first connection waits in the lobby of a host
        /// that admits guests itself; `join` then waits past `connectTimeout` for the host's decision.
        public var onWaiting: (@Sendable () -> Void)?

        public init(name: String, secret: String) {
            self.name = name
            self.secret = secret
        }
    }

    enum Inbound {
        /// `resync`: the welcome carries the whole document, to replace a replica the server refused.
        case welcome(Welcome, resync: Bool)
        case message(WireMessage)
        case state(ConnectionState)
        case error(String)
    }

    /// The address joined.
    public let address: SessionAddress
    public let options: Options
    /// This peer's id in the session (its CRDT agent id).
    public let id: AgentID
    /// Called on the network thread whenever `poll()` has something new.
    public var onActivity: (@Sendable () -> Void)? {
        get { condition.lock(); defer { condition.unlock() }; return activity }
        set { condition.lock(); activity = newValue; condition.unlock() }
    }

    let key: SymmetricKey
    let group: MultiThreadedEventLoopGroup
    let condition = NSCondition()
    /// Replaced (same agent) only when the server refused this peer's ops, by the whole server document.
    private var replica: Replica
    private var activity: (@Sendable () -> Void)?
    private var inbox: [Inbound] = []
    private var carried: [PeerEvent] = []
    private var waiters: [Int: Waiter] = [:]
    private var nextWaiter = 0
    /// One timer for every waiter's timeout, set for the earliest deadline (not one task per wait).
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// The list last reported by `peersChanged`, to report cursor moves only when they happened.
    private var reportedPeers: [PeerPresence]?
    private let executor: LoopTaskExecutor
    var link: ClientConnection?
    private var measuredLatencyMs: Int?
    private var everConnected = false
    private var closed = false
    private var attempt = 0
    var seq = 0
    /// The shared folder's side of this peer (files opened, requests waiting); guarded by the lock.
    var project = ProjectClientState()
    var acked = 0
    private var unsent = false
    private var colour = 0
    /// What the host lets this peer do (from the welcome, then `roles` messages).
    private var granted = GuestAccess.editRun
    /// What guests may do in the session, as the server last said; nil from servers before live roles.
    private var reportedGuests: GuestAccess?
    /// Host: what guests should be allowed; sent with each hello and by `setGuests`.
    private var wantedGuests: GuestAccess?
    private var welcomedFile: String?
    /// A shared folder's run command as the server last said (welcome, then `run.config`).
    private var runSettings: ProjectRunSettings?
    /// The token the server gave this peer's id in the first welcome; reconnects prove it (kept for
    /// the process's lifetime, so only this process can come back under this id).
    private var peerToken: [UInt8]?
    /// The server refused ops of ours: nothing is sent until the replica is replaced by the server's.
    private var resyncing = false
    /// The reconnection that reloads the document is owed even where reconnecting is off (once).
    private var reloadOwed = false
    private var peers: [String: PresenceInfo] = [:]
    private var order: [String] = []
    private var myCursor: Anchor?
    private var myMark: Anchor?
    /// A shared folder: the file `myCursor` and `myMark` are in (`setPresence(cursor:selection:inFile:)`).
    var myFile: String?
    private var latencies: [Double] = []
    private var journal: Journal?
    private var saveURL: URL?
    private var firstResult: EventLoopPromise<Void>?
    /// Fails the first connection after `connectTimeout`, unless the host's lobby took it in.
    private var firstTimer: Scheduled<Void>?
    /// Host: who waits in the lobby, as the server last said.
    private var waitingGuests: [LobbyEntry] = []

    private init(address: SessionAddress, options: Options, replica: Replica) {
        self.address = address
        self.options = options
        self.replica = replica
        self.id = replica.agent
        self.key = Auth.sessionKey(secret: options.secret)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.wantedGuests = options.guests
        self.executor = LoopTaskExecutor(loop: group.next())
    }

    private struct Waiter {
        var deadline: NIODeadline
        var continuation: CheckedContinuation<Void, Never>
    }

    /// Joins the session at `address`; returns once welcomed, or throws a `SessionError` that says why not.
    /// `state` starts the replica from a full-state encoding (a host with a document, or a journal).
    public static func join(_ address: SessionAddress, options: Options, state: [UInt8]? = nil) async throws -> CollaborationPeer {
        // Checked here as the server checks them: a refused name would otherwise be retried forever.
        if let problem = NameRules.nameProblem(options.name) { throw SessionError.rejected(problem) }
        let agent = options.agent ?? Self.makeAgent(name: options.name)
        if let problem = NameRules.peerIDProblem(agent) { throw SessionError.rejected(problem) }
        let replica = try state.map { try Replica(agent: agent, state: $0) } ?? Replica(agent: agent)
        let peer = CollaborationPeer(address: address, options: options, replica: replica)
        do {
            try await peer.connectFirst()
        } catch {
            await peer.shutdownGroup()
            throw error
        }
        // The welcome is applied before the caller sees the peer, so `text` is the document at once;
        // what it reported waits for the first poll.
        peer.withLock { peer.carried = peer.drainInbox() }
        return peer
    }

    /// A fresh agent id: the name (letters and digits only) plus 6 random hex digits.
    public static func makeAgent(name: String) -> AgentID {
        let clean = String(name.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }.prefix(16))
        return "\(clean.isEmpty ? "peer" : clean)-\(Auth.randomHex(count: 3))"
    }

    // MARK: Document API (owner thread)

    /// The text as this peer sees it now.
    public var text: String { withLock { replica.text } }

    /// Length of the text in Unicode scalars.
    public var scalarCount: Int { withLock { replica.scalarCount } }

    /// This peer's colour index, from the welcome.
    public var colourIndex: Int { withLock { colour } }

    /// What the host lets this peer do (`edit+run` until welcomed, and with hosts before roles).
    public var access: GuestAccess { withLock { granted } }

    /// The host's file name (no folders) from the welcome; nil when the host has not said.
    public var sessionFileName: String? { withLock { welcomedFile } }

    /// A shared folder's own run command (`.codesync.json` on the host's disk), as the server last
    /// said; nil when runs run the file asked for (or the session shares one file).
    public var projectRunSettings: ProjectRunSettings? { withLock { runSettings } }

    /// What guests with the edit secret may do now, as the server last said (nil before roles).
    public var guests: GuestAccess? { withLock { wantedGuests ?? reportedGuests } }

    /// Host only: changes what guests with the edit secret may do, at once for everyone connected;
    /// remembered across reconnections. The server answers every member with `roles`.
    public func setGuests(_ guests: GuestAccess) {
        withLock {
            wantedGuests = guests
            if let link, link.isWelcomed { link.send(.rolesSet(RolesSet(guests: guests))) }
        }
    }

    /// Inserts `text` at a scalar offset (clamped) and sends it.
    public func insert(_ text: String, at offset: Int) {
        withLock { send(replica.insert(text, at: offset)) }
    }

    /// Deletes `count` scalars at `offset` (clamped) and sends it.
    public func delete(at offset: Int, count: Int) {
        withLock { send(replica.delete(at: offset, count: count)) }
    }

    /// Ends the current undo group.
    public func closeUndoGroup() { withLock { replica.closeUndoGroup() } }

    /// Undoes this peer's last edit group; returns the local text changes.
    @discardableResult public func undo() -> [TextChange] {
        withLock {
            guard let (update, changes) = replica.undo() else { return [] }
            send(update)
            return changes
        }
    }

    /// Redoes the last undone group; returns the local text changes.
    @discardableResult public func redo() -> [TextChange] {
        withLock {
            guard let (update, changes) = replica.redo() else { return [] }
            send(update)
            return changes
        }
    }

    /// Shares this peer's caret (and selection); anchors keep them on their characters.
    public func setPresence(cursor: Int, selection: Range<Int>?) {
        withLock {
            myFile = nil
            myCursor = replica.anchor(at: cursor, bias: .left)
            if let selection {
                let other = cursor == selection.lowerBound ? selection.upperBound : selection.lowerBound
                myMark = replica.anchor(at: other, bias: .left)
            } else {
                myMark = nil
            }
            sendPresence()
        }
    }

    /// Applies what arrived from the network and returns what happened, in order.
    public func poll() -> [PeerEvent] {
        withLock {
            guard carried.isEmpty else {
                defer { carried = [] }
                return carried + drainInbox()
            }
            return drainInbox()
        }
    }

    /// Waits (without blocking a thread) until something arrives or `timeout` passes, then polls.
    public func nextEvents(timeout: Duration) async -> [PeerEvent] {
        let (token, ready) = withLock {
            nextWaiter += 1
            return (nextWaiter, !inbox.isEmpty || !carried.isEmpty || closed)
        }
        if !ready {
            let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            let deadline = NIODeadline.now() + .nanoseconds(max(0, nanoseconds))
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.lock()
                if !inbox.isEmpty || closed {
                    condition.unlock()
                    continuation.resume()
                    return
                }
                waiters[token] = Waiter(deadline: deadline, continuation: continuation)
                // An owner waiting again and again for the same moment (the next keystroke) reuses the timer.
                if timerDeadline.map({ deadline < $0 }) ?? true { armTimer(deadline) }
                condition.unlock()
            }
        }
        return poll()
    }

    /// An executor that runs Swift tasks on this peer's network thread. An owner loop run with
    /// `withTaskExecutorPreference(peer.taskExecutor)` receives remote edits and writes its own
    /// without a thread hand-off; after `close()` its jobs run on the global executor.
    public var taskExecutor: any TaskExecutor { executor }

    /// True when connected and every local edit has been acknowledged (stored) by the server. An ack
    /// covers every seq up to it, a refused one too: so a file whose edit was refused counts as
    /// unsynced until its copy is the host's again (`ProjectClientState.reloading`).
    public var isSynced: Bool { withLock { link?.isWelcomed == true && !unsent && !resyncing && acked >= seq && project.reloading.isEmpty } }

    /// The current connection state.
    public var isConnected: Bool { withLock { link?.isWelcomed == true } }

    /// Round-trip time of the latest ping to the host or relay, in milliseconds; nil until measured.
    public var latencyMs: Int? { withLock { link?.isWelcomed == true ? measuredLatencyMs : nil } }

    /// Called on the network thread when a pong arrives; wakes the owner only when the figure changed.
    func recordLatency(milliseconds: Int) {
        withLock {
            guard measuredLatencyMs != milliseconds else { return }
            measuredLatencyMs = milliseconds
            activity?()
        }
    }

    /// The other peers, cursors resolved against the current text.
    public var presences: [PeerPresence] { withLock { resolvedPeers() } }

    /// Edit-to-apply latencies (ms) of remote ops applied so far, emptied on read.
    public func takeLatencies() -> [Double] {
        withLock {
            defer { latencies = [] }
            return latencies
        }
    }

    /// A compact full-state encoding of the local replica.
    public func encodeState() -> [UInt8] { withLock { replica.encodeState() } }

    /// Host only: where `save()` writes, and the journal kept of every edit this peer applies.
    public func attachHostFile(_ url: URL, journal: Journal?) {
        withLock {
            saveURL = url
            self.journal = journal
        }
    }

    /// Host only: writes the text atomically to the served file.
    public func save() throws {
        let (url, text) = withLock { (saveURL, replica.text) }
        guard let url else { throw SessionError.file("only the host can save: this peer serves no file") }
        try AtomicFile.write(text, to: url)
        try withLock { try journal?.recordSaved(text) }
    }

    /// Host: who waits in the lobby for a decision now, oldest first.
    public var lobby: [LobbyEntry] { withLock { waitingGuests } }

    /// Host only: lets a guest waiting in the lobby in (its id's earlier removal is taken back).
    public func admit(_ peer: String) { withLock { link?.send(.lobbyAdmit(PeerChoice(peer: peer))) } }

    /// Host only: sends a guest waiting in the lobby away ("the host did not admit you").
    public func refuse(_ peer: String) { withLock { link?.send(.lobbyRefuse(PeerChoice(peer: peer))) } }

    /// Host only: takes a peer off the session; its reconnects are refused (or wait in the lobby
    /// again, when the host admits guests itself) until the host admits it again.
    public func remove(_ peer: String) { withLock { link?.send(.peerRemove(PeerChoice(peer: peer))) } }

    /// Asks the host to run `source` (shared runs); in a shared folder, the file at `path` instead.
    public func requestRun(language: String, source: String, path: String? = nil) {
        withLock { link?.send(.runRequest(RunRequestMessage(peer: id, language: language, source: source, path: path))) }
    }

    /// Host only: reports run progress to every peer.
    public func reportRun(_ message: WireMessage) {
        withLock { link?.send(message) }
    }

    /// Leaves the session: sends bye, closes the link and stops the network thread.
    public func close() async {
        let current: ClientConnection? = withLock {
            closed = true
            let current = link
            link = nil
            journal?.close()
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return current
        }
        current?.goodbye()
        wakeAll()
        failProjectRequests(SessionError.rejected("the peer was closed"))
        await shutdownGroup()
    }

    /// Ends a pending `nextEvents` early (when the owner has other input to handle).
    public func interruptWait() { wakeAll() }

    /// Welcomed at least once (a later refusal of the session is then a host away for a moment).
    var hasBeenConnected: Bool { withLock { everConnected } }

    /// The local replica's version vector.
    var version: VersionVector { withLock { replica.version } }

    /// What a replica at `version` lacks from this one.
    func updates(since version: VersionVector) -> Update { withLock { replica.updates(since: version) } }

    /// Applies an update that came from elsewhere (a bridge) and sends it on as this peer's ops.
    func absorb(_ update: Update) throws {
        try withLock {
            _ = try replica.apply(update)
            send(update)
        }
    }

    /// Drops the link without a goodbye, as a network failure would (tests).
    public func simulateNetworkDrop() {
        let current = withLock { link }
        current?.abort()
    }

    // MARK: Internals (called with the lock held unless noted)

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    private func send(_ update: Update) {
        if let journal { try? journal.append(update) }
        // The replica is about to be replaced by the server's document: this edit cannot be sent.
        guard !update.isEmpty, !resyncing else { return }
        guard let link, link.isWelcomed else {
            unsent = true
            return
        }
        let sentAt = options.recordLatency ? Date().timeIntervalSince1970 * 1000 : nil
        sendOps(update, on: link, sentAt: sentAt)
    }

    /// Sends `update` as one `ops`, or as several when its JSON is over `Update.partBudget` (a big
    /// paste, a long offline session): no frame goes over the receiver's limit or parse caps.
    private func sendOps(_ update: Update, on link: ClientConnection, sentAt: Double? = nil) {
        let budget = min(options.limits.maxPayload, Update.partBudget) - Update.partEnvelope
        // Cheap bound first: a typical edit is far below the budget and is not measured.
        let parts = update.ops.count < 64 && update.operationCount * 6 + update.ops.count * 200 < budget
            ? [update] : update.split(maxBytes: budget)
        for part in parts {
            seq += 1
            link.send(.ops(Ops(peer: id, seq: seq, update: part, sentAt: sentAt)))
        }
    }

    private func sendPresence() {
        guard let link, link.isWelcomed else { return }
        link.send(.presence(PresenceInfo(peer: id, name: options.name, colour: colour, cursor: myCursor, mark: myMark, file: myFile)))
    }

    private func drainInbox() -> [PeerEvent] {
        guard !inbox.isEmpty else { return [] }
        let items = inbox
        inbox = []
        var events: [PeerEvent] = []
        var peersDirty = false
        var textDirty = false
        func apply(_ update: Update, sentAt: Double?) {
            do {
                let changes = try replica.apply(update)
                if let journal { try? journal.append(update) }
                if let sentAt, options.recordLatency {
                    latencies.append(Date().timeIntervalSince1970 * 1000 - sentAt)
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
                colour = welcome.colour
                peers = [:]
                order = []
                for var info in welcome.peers {
                    info.name = NameRules.displayable(info.name)
                    peers[info.peer] = info
                    order.append(info.peer)
                }
                peersDirty = true
                if resync {
                    // The server refused some of our ops: its document, not ours, is the truth.
                    let before = replica.scalarCount
                    replica = Replica(agent: id)
                    myCursor = nil
                    myMark = nil
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
                info.name = NameRules.displayable(info.name)
                if peers[info.peer] == nil {
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
            case .message(.lobby(let lobby)):
                // At most the server's lobby cap; more from a broken server are not shown.
                waitingGuests = Array(lobby.waiting.prefix(64)).map { entry in
                    var entry = entry
                    entry.name = NameRules.displayable(entry.name)
                    entry.from = String(entry.from.prefix(128))
                    return entry
                }
                events.append(.lobby(waitingGuests))
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

    /// Shares this peer's caret in an opened file of a shared folder (anchors in that file's document).
    func setFilePresence(cursor: Int, selection: Range<Int>?, file path: String, in document: Replica) {
        myFile = path
        myCursor = document.anchor(at: cursor, bias: .left)
        if let selection {
            let other = cursor == selection.lowerBound ? selection.upperBound : selection.lowerBound
            myMark = document.anchor(at: other, bias: .left)
        } else {
            myMark = nil
        }
        sendPresence()
    }

    func push(_ item: Inbound) {
        inbox.append(item)
        let resumed = waiters.values
        waiters = [:]
        for waiter in resumed { waiter.continuation.resume() }
        activity?()
    }

    /// Sets the one timeout timer to `deadline` (lock held).
    private func armTimer(_ deadline: NIODeadline) {
        timer?.cancel()
        timerDeadline = deadline
        timer = group.next().scheduleTask(deadline: deadline) { [weak self] in self?.timerFired() }
    }

    /// Wakes the waiters whose timeout has passed and re-arms the timer for the next one.
    private func timerFired() {
        let now = NIODeadline.now()
        let due: [Waiter] = withLock {
            timer = nil
            timerDeadline = nil
            let due = waiters.filter { $0.value.deadline <= now }
            for token in due.keys { waiters[token] = nil }
            if let next = waiters.values.map(\.deadline).min() { armTimer(next) }
            return Array(due.values)
        }
        for waiter in due { waiter.continuation.resume() }
    }

    private func wakeAll() {
        let resumed: [Waiter] = withLock {
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in resumed { waiter.continuation.resume() }
    }

    private func shutdownGroup() async {
        executor.retire()
        try? await group.shutdownGracefully()
    }

    // MARK: Connection management (network thread)

    private func connectFirst() async throws {
        let loop = group.next()
        let promise = loop.makePromise(of: Void.self)
        withLock { firstResult = promise }
        let timeout = options.connectTimeout
        let address = self.address
        let timer = loop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            promise.fail(SessionError.timedOut("after \(Int(timeout)) s connecting to \(address)"))
        }
        withLock { firstTimer = timer }
        startConnection()
        defer { timer.cancel() }
        do {
            try await promise.futureResult.get()
        } catch {
            let current: ClientConnection? = withLock {
                closed = true
                defer { link = nil }
                return link
            }
            current?.abort()
            throw error
        }
    }

    private func startConnection() {
        let handler = ClientConnection(peer: self)
        if let transport = options.transport {
            handler.connect(through: transport, attempt: withLock { attempt }, limits: options.limits, secret: options.secret, group: group)
        } else {
            handler.connect(to: address, limits: options.limits, secret: options.secret, group: group)
        }
    }

    func makeHello(serverNonce: String, clientNonce: String) -> Hello {
        withLock {
            let role = options.role
            // A relay (an address with a session) gets only the relay host key, derived one way from
            // the host key: what a relay holds never lets it act as the host on the direct port.
            let throughRelay = !address.session.isEmpty
            let hostKey = role == .guest ? nil : options.hostSecret.map { secret -> SymmetricKey in
                let direct = Auth.sessionKey(secret: secret)
                return throughRelay ? Auth.relayHostKey(hostKey: direct) : direct
            }
            let proof = Auth.joinProof(key: hostKey ?? key, serverNonce: serverNonce, clientNonce: clientNonce, session: address.session, peer: id)
            let registering = role == .host && throughRelay
            let tokenProof = peerToken.map {
                Auth.tokenProof(token: $0, serverNonce: serverNonce, clientNonce: clientNonce, session: address.session, peer: id)
            }
            // Only guests ever wait for a host's decision.
            let lobby: Bool? = role == .guest ? true : nil
            var hello = Hello(version: WireProtocol.version, session: address.session, peer: id, name: options.name, role: role,
                              nonce: clientNonce, proof: proof, known: VersionVector(),
                              key: registering ? Auth.keyHex(key) : nil,
                              relayKey: registering ? hostKey.map(Auth.keyHex) : nil,
                              viewKey: registering ? options.viewSecret.map { Auth.keyHex(Auth.sessionKey(secret: $0)) } : nil,
                              guests: role == .host ? wantedGuests : nil, file: role == .host ? options.fileName : nil,
                              token: tokenProof, lobby: lobby)
            // After a refusal: ask for the whole document, which replaces ours.
            if !resyncing {
                let base = (try? MessageCodec.encode(.hello(hello)).count) ?? FrameLimits.helloMaxPayload
                hello.known = Self.known(replica.version, fitting: FrameLimits.helloMaxPayload - base)
            }
            return hello
        }
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

    /// The handshake finished on `handler` (nonces: the handshake's, to unmask the peer token).
    func welcomed(_ welcome: Welcome, on handler: ClientConnection, serverNonce: String, clientNonce: String) {
        let promise: EventLoopPromise<Void>? = withLock {
            guard !closed else { return nil }
            if peerToken == nil, let masked = welcome.token {
                peerToken = Auth.unmaskToken(masked, key: key, serverNonce: serverNonce, clientNonce: clientNonce, peer: id)
            }
            link = handler
            attempt = 0
            seq = 0
            acked = 0
            let everConnectedBefore = everConnected
            everConnected = true
            colour = welcome.colour
            let previousAccess = granted, previousGuests = reportedGuests
            granted = welcome.access ?? .editRun
            reportedGuests = welcome.guests
            welcomedFile = welcome.file ?? welcomedFile
            runSettings = welcome.run
            project.isProject = welcome.project == true
            push(.welcome(welcome, resync: resyncing))
            if everConnectedBefore && (previousAccess != granted || previousGuests != reportedGuests) {
                // Roles changed while we were away (or after a refusal): the editor must hear it.
                push(.message(.roles(Roles(guests: reportedGuests ?? granted, access: granted))))
            }
            push(.state(.connected))
            // Whatever the server lacks: offline edits, or the host's document on first registration
            // (nothing while resyncing: what the server lacks is what it refused).
            let missing = resyncing ? Update() : replica.updates(since: welcome.known)
            unsent = false
            if !missing.isEmpty { sendOps(missing, on: handler) }
            if myCursor != nil { sendPresence() }
            reopenFiles(on: handler)
            defer { firstResult = nil }
            return firstResult
        }
        promise?.succeed(())
    }

    /// The host's server put `handler`'s connection in its lobby: the first join waits past its
    /// timeout (the server bounds the wait); a reconnect shows the wait as the connection state.
    func waitingForHost(on handler: ClientConnection) {
        let notify: (@Sendable () -> Void)? = withLock {
            guard !closed, link == nil else { return nil }
            if firstResult != nil {
                firstTimer?.cancel()
                firstTimer = nil
                return options.onWaiting
            }
            push(.state(.waiting))
            return nil
        }
        notify?()
    }

    func received(_ message: WireMessage, on handler: ClientConnection) {
        if receivedProject(message, on: handler) { return }
        let reload: Bool = withLock {
            guard link === handler else { return false }
            switch message {
            case .ack(let ack):
                acked = max(acked, ack.seq)
                activity?()
                return false
            case .roles(let roles):
                granted = roles.access
                reportedGuests = roles.guests
            case .runConfig(let settings):
                runSettings = settings.isEmpty ? nil : settings
            case .refused(let refused) where refused.what == "ops" && !resyncing && options.role == .guest:
                // Our replica holds edits the document never will: reconnect asking for the whole
                // document and replace ours with it (same agent: the server refuses every later op of
                // the refused connection, so it never holds our seqs past the first refused one).
                resyncing = true
                reloadOwed = true
                push(.message(message))
                if granted.canEdit {
                    // Lock the editor until the welcome says what we may do.
                    granted = .view
                    push(.message(.roles(Roles(guests: reportedGuests ?? .view, access: .view))))
                }
                return true
            default:
                break
            }
            push(.message(message))
            return false
        }
        // Outside the lock: closing may report the link's end synchronously. A moment later, so
        // that answers already on their way (another refusal, say) are still read and shown.
        if reload { handler.abort(after: .milliseconds(200)) }
    }

    /// The link ended or never came up; `fatal` errors (wrong secret, version) stop reconnecting.
    func linkFailed(_ handler: ClientConnection, error: SessionError, fatal: Bool) {
        let (promise, retry, attemptNumber): (EventLoopPromise<Void>?, Bool, Int) = withLock {
            let wasCurrent = link === handler || link == nil
            guard wasCurrent, !closed else { return (nil, false, 0) }
            link = nil
            if let first = firstResult {
                firstResult = nil
                closed = true
                return (first, false, 0)
            }
            // A refusal's reload reconnects (once) even where reconnecting is off: it is not a lost link.
            let reload = reloadOwed
            reloadOwed = false
            if fatal || (!options.reconnect && !reload) {
                closed = true
                push(.error(error.description))
                push(.state(.closed(reason: error.description)))
                return (nil, false, 0)
            }
            attempt += 1
            push(.state(.reconnecting(attempt: attempt, reason: resyncing ? "reloading the document after a refused edit" : error.description)))
            return (nil, true, attempt)
        }
        promise?.fail(error)
        failProjectRequests(error)
        guard retry else { return }
        // Each attempt over SSH is a full login on the box: back off to half a minute, not two seconds.
        let ceiling = options.transport == nil ? options.maxBackoff : max(options.maxBackoff, 30)
        let base = min(0.05 * pow(2, Double(min(attemptNumber - 1, 10))), ceiling)
        let delay = base * Double.random(in: 0.5...1.0)
        group.next().scheduleTask(in: .milliseconds(Int64(delay * 1000))) { [weak self] in
            guard let self, !self.withLock({ self.closed }) else { return }
            self.startConnection()
        }
    }
}
