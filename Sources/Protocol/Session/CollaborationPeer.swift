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
    /// The replica, presence, seq/ack, roles and resync decisions (socket-free); guarded by the lock.
    let core: PeerCore
    private var activity: (@Sendable () -> Void)?
    /// What the welcome reported before the caller saw the peer, for its first poll.
    private var carried: [PeerEvent] = []
    private var waiters: [Int: Waiter] = [:]
    private var nextWaiter = 0
    /// One timer for every waiter's timeout, set for the earliest deadline (not one task per wait).
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private let executor: LoopTaskExecutor
    var link: ClientConnection?
    private var measuredLatencyMs: Int?
    /// The token the server gave this peer's id in the first welcome; reconnects prove it (kept for
    /// the process's lifetime, so only this process can come back under this id).
    private var peerToken: [UInt8]?
    /// Who waits for the answer to each numbered project request; guarded by the lock.
    var pendingRequests: [Int: CheckedContinuation<WireMessage, any Error>] = [:]
    private var firstResult: EventLoopPromise<Void>?
    /// Fails the first connection after `connectTimeout`, unless the host's lobby took it in.
    private var firstTimer: Scheduled<Void>?

    private init(address: SessionAddress, options: Options, replica: Replica) {
        self.address = address
        self.options = options
        self.id = replica.agent
        self.core = PeerCore(
            config: .init(id: replica.agent, name: options.name, role: options.role, maxPayload: options.limits.maxPayload,
                          recordLatency: options.recordLatency, guests: options.guests),
            replica: replica)
        self.key = Auth.sessionKey(secret: options.secret)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
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
        peer.withLock { peer.carried = peer.core.poll(now: peer.now) }
        return peer
    }

    /// A fresh agent id: the name (letters and digits only) plus 6 random hex digits.
    public static func makeAgent(name: String) -> AgentID {
        let clean = String(name.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }.prefix(16))
        return "\(clean.isEmpty ? "peer" : clean)-\(Auth.randomHex(count: 3))"
    }

    // MARK: Document API (owner thread)

    /// The text as this peer sees it now.
    public var text: String { withLock { core.text } }

    /// Length of the text in Unicode scalars.
    public var scalarCount: Int { withLock { core.scalarCount } }

    /// This peer's colour index, from the welcome.
    public var colourIndex: Int { withLock { core.colour } }

    /// What the host lets this peer do (`edit+run` until welcomed, and with hosts before roles).
    public var access: GuestAccess { withLock { core.access } }

    /// The host's file name (no folders) from the welcome; nil when the host has not said.
    public var sessionFileName: String? { withLock { core.fileName } }

    /// A shared folder's own run command (`.codesync.json` on the host's disk), as the server last
    /// said; nil when runs run the file asked for (or the session shares one file).
    public var projectRunSettings: ProjectRunSettings? { withLock { core.runSettings } }

    /// What guests with the edit secret may do now, as the server last said (nil before roles).
    public var guests: GuestAccess? { withLock { core.guests } }

    /// Host only: changes what guests with the edit secret may do, at once for everyone connected;
    /// remembered across reconnections. The server answers every member with `roles`.
    public func setGuests(_ guests: GuestAccess) {
        withLock { perform(core.setGuests(guests)) }
    }

    /// Inserts `text` at a scalar offset (clamped) and sends it.
    public func insert(_ text: String, at offset: Int) {
        withLock { perform(core.insert(text, at: offset, now: now)) }
    }

    /// Deletes `count` scalars at `offset` (clamped) and sends it.
    public func delete(at offset: Int, count: Int) {
        withLock { perform(core.delete(at: offset, count: count, now: now)) }
    }

    /// Ends the current undo group.
    public func closeUndoGroup() { withLock { core.closeUndoGroup() } }

    /// Undoes this peer's last edit group; returns the local text changes.
    @discardableResult public func undo() -> [TextChange] {
        withLock {
            let (changes, out) = core.undo(now: now)
            perform(out)
            return changes
        }
    }

    /// Redoes the last undone group; returns the local text changes.
    @discardableResult public func redo() -> [TextChange] {
        withLock {
            let (changes, out) = core.redo(now: now)
            perform(out)
            return changes
        }
    }

    /// Shares this peer's caret (and selection); anchors keep them on their characters.
    public func setPresence(cursor: Int, selection: Range<Int>?) {
        withLock { perform(core.setPresence(cursor: cursor, selection: selection)) }
    }

    /// Applies what arrived from the network and returns what happened, in order.
    public func poll() -> [PeerEvent] {
        withLock {
            guard carried.isEmpty else {
                defer { carried = [] }
                return carried + core.poll(now: now)
            }
            return core.poll(now: now)
        }
    }

    /// Waits (without blocking a thread) until something arrives or `timeout` passes, then polls.
    public func nextEvents(timeout: Duration) async -> [PeerEvent] {
        let (token, ready) = withLock {
            nextWaiter += 1
            return (nextWaiter, core.hasInbox || !carried.isEmpty || core.isClosed)
        }
        if !ready {
            let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            let deadline = NIODeadline.now() + .nanoseconds(max(0, nanoseconds))
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.lock()
                if core.hasInbox || core.isClosed {
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
    /// unsynced until its copy is the host's again (`PeerCore.isSynced`).
    public var isSynced: Bool { withLock { link?.isWelcomed == true && core.isSynced } }

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
    public var presences: [PeerPresence] { withLock { core.presences } }

    /// Edit-to-apply latencies (ms) of remote ops applied so far, emptied on read.
    public func takeLatencies() -> [Double] {
        withLock { core.takeLatencies() }
    }

    /// A compact full-state encoding of the local replica.
    public func encodeState() -> [UInt8] { withLock { core.encodeState() } }

    /// Host: who waits in the lobby for a decision now, oldest first.
    public var lobby: [LobbyEntry] { withLock { core.lobby } }

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
            core.close()
            let current = link
            link = nil
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
    var hasBeenConnected: Bool { withLock { core.everConnected } }

    /// The local replica's version vector.
    var version: VersionVector { withLock { core.version } }

    /// What a replica at `version` lacks from this one.
    func updates(since version: VersionVector) -> Update { withLock { core.updates(since: version) } }

    /// Applies an update that came from elsewhere (a bridge) and sends it on as this peer's ops.
    func absorb(_ update: Update) throws {
        try withLock { perform(try core.absorb(update)) }
    }

    /// Drops the link without a goodbye, as a network failure would (tests).
    public func simulateNetworkDrop() {
        let current = withLock { link }
        current?.abort()
    }

    // MARK: Internals (called with the lock held unless noted)

    @discardableResult
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// Does what the core asked (lock held): sends on the welcomed link, wakes the owner. A link to
    /// drop is returned, for the caller to drop outside the lock.
    @discardableResult
    func perform(_ out: PeerCore.Output) -> Int? {
        if !out.send.isEmpty, let link, link.isWelcomed {
            for message in out.send { link.send(message) }
        }
        if out.wake { wake() } else if out.notify { activity?() }
        return out.dropLinkAfterMs
    }

    /// Milliseconds since 1970, the only clock the core sees (latency stamps); read only when measuring.
    private var now: Double { options.recordLatency ? Date().timeIntervalSince1970 * 1000 : 0 }

    /// Wakes the owner: its waits end, and `onActivity` says there is something to poll (lock held).
    func wake() {
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
                core.close()
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
            handler.connect(through: transport, attempt: withLock { core.attempt }, limits: options.limits, secret: options.secret, group: group)
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
                              guests: role == .host ? core.guests : nil, file: role == .host ? options.fileName : nil,
                              token: tokenProof, lobby: lobby)
            let base = (try? MessageCodec.encode(.hello(hello)).count) ?? FrameLimits.helloMaxPayload
            hello.known = core.helloKnown(fitting: FrameLimits.helloMaxPayload - base)
            return hello
        }
    }

    /// As much of `version` as fits `room` bytes of JSON (see `PeerCore.known`).
    static func known(_ version: VersionVector, fitting room: Int) -> VersionVector {
        PeerCore.known(version, fitting: room)
    }

    /// The handshake finished on `handler` (nonces: the handshake's, to unmask the peer token).
    func welcomed(_ welcome: Welcome, on handler: ClientConnection, serverNonce: String, clientNonce: String) {
        let promise: EventLoopPromise<Void>? = withLock {
            guard !core.isClosed else { return nil }
            if peerToken == nil, let masked = welcome.token {
                peerToken = Auth.unmaskToken(masked, key: key, serverNonce: serverNonce, clientNonce: clientNonce, peer: id)
            }
            link = handler
            perform(core.welcomed(welcome))
            defer { firstResult = nil }
            return firstResult
        }
        promise?.succeed(())
    }

    /// The host's server put `handler`'s connection in its lobby: the first join waits past its
    /// timeout (the server bounds the wait); a reconnect shows the wait as the connection state.
    func waitingForHost(on handler: ClientConnection) {
        let notify: (@Sendable () -> Void)? = withLock {
            guard !core.isClosed, link == nil else { return nil }
            if firstResult != nil {
                firstTimer?.cancel()
                firstTimer = nil
                return options.onWaiting
            }
            perform(core.waiting())
            return nil
        }
        notify?()
    }

    func received(_ message: WireMessage, on handler: ClientConnection) {
        let (drop, answered): (Int?, [Resumption]) = withLock {
            guard link === handler else { return (nil, []) }
            let out = core.receive(message)
            return (perform(out), takeWaiting(out.answers))
        }
        // Outside the lock: a waiting request resumes its task; closing may report the link's end synchronously.
        for (continuation, result) in answered { continuation.resume(with: result) }
        if let drop { handler.abort(after: .milliseconds(Int64(drop))) }
    }

    /// The link ended or never came up; `fatal` errors (wrong secret, version) stop reconnecting.
    func linkFailed(_ handler: ClientConnection, error: SessionError, fatal: Bool) {
        let (promise, retry, attemptNumber): (EventLoopPromise<Void>?, Bool, Int) = withLock {
            let wasCurrent = link === handler || link == nil
            guard wasCurrent, !core.isClosed else { return (nil, false, 0) }
            link = nil
            if let first = firstResult {
                firstResult = nil
                core.close()
                return (first, false, 0)
            }
            let decision = core.linkLost(reason: error.description, fatal: fatal, reconnect: options.reconnect)
            wake()
            guard case .reconnect(let attempt) = decision else { return (nil, false, 0) }
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
            guard let self, !self.withLock({ self.core.isClosed }) else { return }
            self.startConnection()
        }
    }
}
