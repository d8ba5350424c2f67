import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Wraps a value that is only touched on one event loop, to carry it there.
struct LoopConfined<Value>: @unchecked Sendable {
    var value: Value
}

/// The state a server shares between its connections; confined to the server's one event loop.
final class ServerCore: @unchecked Sendable {
    enum Mode { case host(Hub), relay(RelayCore) }

    let limits: SessionLimits
    let logger: Logger
    let throttle: AuthThrottle
    let eventLoop: any EventLoop
    private(set) var mode: Mode
    /// What a joiner's first handshake message may be keyed with: the edit secret's PSK, then the
    /// watch-only one's (host mode; a relay holds none).
    let psks: [[UInt8]]
    /// The host's relay link, when it also takes joiners through a relay.
    var relayLink: RelayLink?
    /// The host's unix socket for `codesync attach` (`codesync join ssh://…`), and its path.
    var localListener: (channel: any Channel, path: String)?
    private var unflushed: [ServerConnection] = []
    private var flushScheduled = false
    /// Connections that have not completed a hello, per address and in total.
    private var pendingByAddress: [String: Int] = [:]
    private var pendingTotal = 0
    /// How joiners through the local socket are named (in logs, and as their "address").
    static let localRemote = "ssh (local socket)"

    init(mode: Mode, limits: SessionLimits, logger: Logger, eventLoop: any EventLoop, psks: [[UInt8]] = []) {
        self.mode = mode
        self.psks = psks
        self.limits = limits
        self.logger = logger
        self.eventLoop = eventLoop
        self.throttle = AuthThrottle(limits: limits)
    }

    /// Puts a joiner's connection behind the secure channel: the handler pair, then the frame
    /// decoder (small until the hello is accepted: an unauthenticated client cannot make the server
    /// buffer or parse more than that), then the connection. `relayed`: taken over from a relay.
    func addServerHandlers(to channel: any Channel, remote: String, session: String, relayed: Bool) throws {
        let frameLimit = FrameSizeLimit(maxPayload: min(limits.maxPayloadBeforeHello, limits.maxPayload))
        let operations = channel.pipeline.syncOperations
        if limits.plaintextForBenchmark {
            // Benchmarks only (`bench latency --plaintext`): the cost of encryption, measured.
            try operations.addHandler(PlaintextPrelude(session: session, sendsChallenge: !relayed))
        } else {
            try operations.addHandler(SecureHandler(responder: .init(psks: psks, session: session, expectsOpen: !relayed)))
        }
        try operations.addHandler(ByteToMessageHandler(FrameDecoder(limit: frameLimit)))
        try operations.addHandler(ServerConnection(server: self, remote: remote, frameLimit: frameLimit))
    }

    /// Flushes `connection` once the loop has handled every event of this tick (see `ServerConnection.send(frame:)`).
    func flushLater(_ connection: ServerConnection) {
        unflushed.append(connection)
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { [self] in
            flushScheduled = false
            let connections = unflushed
            unflushed = []
            for connection in connections { connection.flushNow() }
        }
    }

    /// Counts a new unauthenticated connection from `address`; returns why it is refused when over a limit.
    func admitPending(_ address: String) -> String? {
        // The local socket has its own budget (its per-address one): the host's own account's
        // joiners must not wait behind a flood from the network.
        let counted = address != Self.localRemote
        if counted && pendingTotal >= limits.maxPending {
            return "too many connections are waiting to authenticate (\(limits.maxPending)); try again shortly"
        }
        let mine = pendingByAddress[address, default: 0]
        if mine >= limits.maxPendingPerAddress {
            return "too many connections from \(address) are waiting to authenticate (\(limits.maxPendingPerAddress)); try again shortly"
        }
        pendingByAddress[address] = mine + 1
        if counted { pendingTotal += 1 }
        return nil
    }

    /// A connection counted by `admitPending` authenticated or closed.
    func releasePending(_ address: String) {
        if address != Self.localRemote { pendingTotal -= 1 }
        let left = pendingByAddress[address, default: 1] - 1
        pendingByAddress[address] = left > 0 ? left : nil
    }

    var hubs: [Hub] {
        switch mode {
        case .host(let hub): [hub]
        case .relay: []
        }
    }

    /// Checks a hello: version, session, proof; then hands the connection to its hub (which checks
    /// that the peer id is the joiner's to use).
    func accept(_ hello: Hello, on connection: ServerConnection, serverNonce: String) {
        guard WireProtocol.supportedVersions.contains(hello.version) else {
            let ours = WireProtocol.supportedVersions.map(String.init).joined(separator: ", ")
            connection.fail(.version, "this side speaks protocol versions [\(ours)]; you speak version \(hello.version)")
            return
        }
        guard !hello.peer.isEmpty, hello.peer.count <= 64, hello.name.count <= 64 else {
            connection.fail(.protocol, "peer id and name must be 1 to 64 characters")
            return
        }
        func proves(_ key: SymmetricKey) -> Bool {
            Auth.verifyJoin(hello.proof, key: key, serverNonce: serverNonce, clientNonce: hello.nonce, session: hello.session, peer: hello.peer)
        }
        guard case .host(let hub) = mode else { return }
        guard hello.session.isEmpty || hello.session == hub.id else {
            connection.fail(.session, "this host serves session \(hub.id), not \(hello.session)")
            return
        }
        // The host and its bridge prove the host key, which only the host's process holds (a relay
        // holds only a key derived from it), so a guest who knows the edit secret cannot claim the
        // host's rights (running code, reporting runs, passing on others' edits).
        let claimsHost = hello.role != .guest
        let full = proves(claimsHost ? hub.hostKey ?? hub.key : hub.key)
        if claimsHost && !full && hub.hostKey != nil && proves(hub.key) {
            logger.warning("\(connection.remote) (\(hello.name)) claimed the \(hello.role.rawValue) role without the host key")
            connection.fail(.auth, "only the host's own codesync may join as \(hello.role.rawValue); join as a guest")
            return
        }
        // Not the edit secret: maybe the watch-only one (which can never make a host).
        let viewOnly = !full && !claimsHost && hub.viewKey.map(proves) == true
        guard full || viewOnly else {
            wrongSecret(hello, on: connection)
            return
        }
        throttle.succeeded(connection.remote)
        hub.join(connection, hello: hello, serverNonce: serverNonce, viewOnly: viewOnly)
    }

    /// Answers a wrong proof after a delay that grows with each failure from that address.
    private func wrongSecret(_ hello: Hello, on connection: ServerConnection) {
        wrongSecret(name: hello.name, on: connection)
    }

    /// Answers a wrong secret (a wrong proof, or a handshake no PSK opens) after a delay that grows
    /// with each failure from that address.
    func wrongSecret(name: String?, on connection: ServerConnection) {
        let delay = throttle.failed(connection.remote)
        logger.warning("wrong secret from \(connection.remote)\(name.map { " (\($0))" } ?? ""); answering in \(delay.nanoseconds / 1_000_000) ms")
        eventLoop.scheduleTask(in: delay) {
            connection.fail(.auth, "wrong secret")
        }
    }

    /// Runs every second: starts flushing journals to disk; a relay forgets sessions nobody uses.
    func housekeeping() {
        for hub in hubs {
            hub.journal?.syncInBackground()
            hub.project?.syncJournals()
        }
        if case .relay(let relay) = mode { relay.housekeeping() }
    }
}

/// A listening host or relay. Every connection and hub runs on one event loop thread.
public final class SessionServer: Sendable {
    /// The address actually bound (the port is real even when 0 was asked for).
    public let host: String
    public let port: Int
    /// The session id (host mode), empty for a relay.
    public let sessionID: String
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let core: ServerCore
    private let journalTimer: LoopConfined<RepeatedTask>

    private init(host: String, port: Int, sessionID: String, group: MultiThreadedEventLoopGroup, channel: any Channel, core: ServerCore) {
        self.host = host
        self.port = port
        self.sessionID = sessionID
        self.group = group
        self.channel = channel
        self.core = core
        journalTimer = LoopConfined(value: core.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            core.housekeeping()
        })
    }

    /// Serves one document as a host. `makeState` runs on the server's loop and returns the
    /// document (and its journal, which the server then owns). Guests proving `secret` get
    /// `guests` access; those proving `viewSecret` may only watch. With `hostSecret`, only a peer
    /// proving it may join as the host (or its bridge); without, the edit secret suffices.
    /// `approve`: every guest waits in a lobby until the host admits it (needs `hostSecret`: the
    /// decisions are the host's alone, and only the host key tells the host from a guest).
    public static func host(
        sessionID: String, secret: String, bind: String, port: Int, limits: SessionLimits = SessionLimits(),
        logger: Logger = Logger(label: "codesync.host"), viewSecret: String? = nil, guests: GuestAccess = .editRun,
        hostSecret: String? = nil, approve: Bool = false, project: ProjectOptions? = nil,
        makeState: @escaping @Sendable () throws -> (Replica, Journal?)
    ) async throws -> SessionServer {
        if approve && hostSecret == nil {
            throw SessionError.file("a host that admits guests itself needs a host key: without one any guest could claim the host's role")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let hub: LoopConfined<Hub>
        do {
            hub = try await loop.submit {
                let (replica, journal) = try makeState()
                var projectHost: ProjectHost?
                if let project {
                    // Indexed on the server's loop, which owns it from now on; what a dead host left is recovered first.
                    let tree = try ProjectTree(root: project.root, limits: project.limits)
                    let identity = ProjectJournalIdentity(session: sessionID, secret: secret, hostSecret: hostSecret, port: project.journalPort,
                                                          stateDirectory: project.stateDirectory)
                    projectHost = ProjectHost(tree: tree, identity: identity, limits: limits, logger: logger)
                    projectHost?.recovered = ProjectRecovery.recover(tree, directory: project.stateDirectory, logger: logger)
                }
                let made = LoopConfined(value: Hub(id: sessionID, key: Auth.sessionKey(secret: secret), replica: replica, journal: journal, limits: limits,
                                                   logger: logger, viewKey: viewSecret.map { Auth.sessionKey(secret: $0) },
                                                   hostKey: hostSecret.map { Auth.sessionKey(secret: $0) }, guestAccess: guests, approve: approve,
                                                   project: projectHost))
                if let projectHost, project?.watch == true,
                   let watcher = ProjectWatcher(root: projectHost.tree.root, folders: projectHost.tree.folders, logger: logger) {
                    projectHost.watcher = watcher
                    watcher.start { paths in loop.execute { made.value.diskChanged(paths) } }
                }
                return made
            }.get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let psks = [secret] + (viewSecret.map { [$0] } ?? [])
        let core = ServerCore(mode: .host(hub.value), limits: limits, logger: logger, eventLoop: loop,
                              psks: psks.map(SecureChannel.psk(secret:)))
        return try await start(core: core, group: group, bind: bind, port: port, sessionID: sessionID)
    }

    /// Runs a relay that keeps any number of isolated sessions.
    public static func relay(
        bind: String, port: Int, limits: SessionLimits = SessionLimits(), logger: Logger = Logger(label: "codesync.relay")
    ) async throws -> SessionServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let core = ServerCore(mode: .relay(RelayCore(limits: limits, logger: logger, eventLoop: loop)), limits: limits, logger: logger, eventLoop: loop)
        return try await start(core: core, group: group, bind: bind, port: port, sessionID: "")
    }

    private static func start(core: ServerCore, group: MultiThreadedEventLoopGroup, bind: String, port: Int, sessionID: String) async throws -> SessionServer {
        let limits = core.limits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: limits.writeLowWater, high: limits.writeHighWater))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let remote = channel.remoteAddress?.ipAddress ?? "unknown"
                    if let size = limits.socketSendBuffer {
                        try channel.syncOptions?.setOption(.socketOption(.so_sndbuf), value: SocketOptionValue(size))
                    }
                    switch core.mode {
                    case .relay(let relay):
                        // Blind: the relay reads only its cleartext routing frames, then forwards bytes.
                        try channel.pipeline.syncOperations.addHandler(RelayConnection(core: relay, server: core, remote: remote))
                    case .host(let hub):
                        try core.addServerHandlers(to: channel, remote: remote, session: hub.id, relayed: false)
                    }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: bind, port: port).get()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            try? await group.shutdownGracefully()
            throw SessionError.portInUse(host: bind, port: port)
        } catch {
            try? await group.shutdownGracefully()
            throw SessionError.cannotBind(host: bind, port: port, reason: "\(error)")
        }
        let boundPort = channel.localAddress?.port ?? port
        return SessionServer(host: bind, port: boundPort, sessionID: sessionID, group: group, channel: channel, core: core)
    }

    /// The host's document text as the server holds it (host mode; empty for a relay).
    public func text() async -> String {
        let core = self.core
        return (try? await core.eventLoop.submit { () -> String in
            if case .host(let hub) = core.mode { return hub.replica.text }
            return ""
        }.get()) ?? ""
    }

    /// Peers connected now, over all sessions (a relay: joiner-host pairs it forwards).
    public func connectedPeers() async -> Int {
        let core = self.core
        return (try? await core.eventLoop.submit {
            if case .relay(let relay) = core.mode { return relay.pairCount }
            return core.hubs.reduce(0) { $0 + $1.memberCount }
        }.get()) ?? 0
    }

    /// Sessions held now (a relay: sessions whose host is connected).
    public func sessionCount() async -> Int {
        let core = self.core
        return (try? await core.eventLoop.submit {
            if case .relay(let relay) = core.mode { return relay.registeredCount }
            return core.hubs.count
        }.get()) ?? 0
    }

    /// Host mode: also takes joiners through the relay at `relay` (host and port), registering this
    /// session there with a signature by the relay signing key derived from `hostSecret`. Returns
    /// once registered; the link re-registers by itself after a drop. The relay forwards the
    /// joiners' encrypted bytes to this server, whose hub is their authority as for direct joiners.
    public func attachRelay(_ relay: SessionAddress, hostSecret: String) async throws {
        let core = self.core
        let session = sessionID
        let future = try await core.eventLoop.submit { () -> EventLoopFuture<Void> in
            let link = RelayLink(relay: relay, session: session, signingKey: Auth.relaySigningKey(hostSecret: hostSecret), core: core)
            core.relayLink = link
            return link.start()
        }.get()
        try await future.get()
    }

    /// Host mode: also takes joiners on the unix socket at `path` (in a 0700 directory: only this
    /// account reaches it), the way `codesync attach` brings SSH users in. Their bytes go through
    /// the same secure channel, limits and hub as direct joiners'. The socket goes at shutdown.
    public func listenLocal(at path: String) async throws {
        let core = self.core
        guard case .host(let hub) = core.mode else { throw SessionError.file("a relay takes no local joiners") }
        let session = hub.id
        unlink(path)  // a socket left by a host that was killed
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: core.limits.writeLowWater, high: core.limits.writeHighWater))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try core.addServerHandlers(to: channel, remote: ServerCore.localRemote, session: session, relayed: false)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        } catch {
            throw SessionError.file("cannot listen on the local socket \(path): \(error)")
        }
        chmod(path, 0o600)
        try await core.eventLoop.submit { core.localListener = (channel, path) }.get()
    }

    /// Writes the host's document atomically to `url` (host mode), with the journal synced first.
    public func save(to url: URL) async throws {
        let core = self.core
        let text = try await core.eventLoop.submit { () -> String in
            guard case .host(let hub) = core.mode else { throw SessionError.file("a relay has no document to save") }
            hub.journal?.sync()
            return hub.replica.text
        }.get()
        try AtomicFile.write(text, to: url)
        // The journal learns what the file now holds: a later start tells this save from an outside change.
        try await core.eventLoop.submit {
            if case .host(let hub) = core.mode { try hub.journal?.recordSaved(text) }
        }.get()
    }

    /// Host mode, a shared folder: how many files it indexed, whether it stopped at its limit, and
    /// what recovering a dead host's journals did; nil when the session shares one file.
    public func projectSummary() async -> (files: Int, truncated: Bool, recovered: [String])? {
        let core = self.core
        return try? await core.eventLoop.submit { () -> (Int, Bool, [String])? in
            guard case .host(let hub) = core.mode, let project = hub.project else { return nil }
            return (project.tree.entries.count, project.tree.truncated, project.recovered)
        }.get()
    }

    /// Host mode, a shared folder: what a run of `file` (nil: the project's command) needs — the
    /// file checked as a peer's path, the session's text of every open file, and the run settings
    /// read again from disk (peers are told first if they changed). Throws when the session shares
    /// one file, or the path is refused (the refusal says why, in the peer's own words).
    public func projectRunSources(file: String?) async throws -> ProjectRunSources {
        let core = self.core
        return try await core.eventLoop.submit { () throws -> ProjectRunSources in
            guard case .host(let hub) = core.mode, let project = hub.project else {
                throw ProjectError.refused("this session shares one file, not a folder")
            }
            hub.announceRunSettings()
            return try project.runSources(file: file)
        }.get()
    }

    /// Host mode, a shared folder: saves every edited file (atomically), or only `path` (as listed);
    /// returns the failures.
    public func saveProject(only path: String? = nil) async -> [String] {
        let core = self.core
        return (try? await core.eventLoop.submit { () -> [String] in
            guard case .host(let hub) = core.mode, let project = hub.project else { return [] }
            return project.saveAll(only: path)
        }.get()) ?? []
    }

    /// Says bye to everyone, stops listening and ends the loop; `discardJournal` after a clean save.
    public func shutdown(discardJournal: Bool = false) async {
        let core = self.core
        let timer = journalTimer
        try? await core.eventLoop.submit {
            timer.value.cancel()
            core.relayLink?.stop()
            if let local = core.localListener {
                local.channel.close(promise: nil)
                unlink(local.path)
                core.localListener = nil
            }
            for hub in core.hubs {
                hub.closeAll(reason: "the server is shutting down")
                if discardJournal { hub.journal?.discard() } else { hub.journal?.close() }
                hub.project?.close(discardJournals: discardJournal)
            }
        }.get()
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}
