import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The cleartext routing frames a relay reads and writes (docs/PROTOCOL.md "Relay routing").
/// They carry session ids, stream ids, addresses and a public key: nothing that opens, forges or
/// replays a session's traffic, which passes the relay as opaque bytes.
struct RelayFrame: Codable, Equatable {
    var type: String
    var version: Int?
    var session: String?
    var stream: String?
    var from: String?
    var key: String?
    var signature: String?

    init(type: String, version: Int? = nil, session: String? = nil, stream: String? = nil, from: String? = nil,
         key: String? = nil, signature: String? = nil) {
        self.type = type; self.version = version; self.session = session; self.stream = stream
        self.from = from; self.key = key; self.signature = signature
    }

    /// Length-prefixed, keys sorted.
    func framed(allocator: ByteBufferAllocator) -> ByteBuffer {
        let json = (try? JSONEncoder.sorted.encode(self)) ?? Data()
        var buffer = allocator.buffer(capacity: json.count + 4)
        buffer.writeInteger(UInt32(json.count))
        buffer.writeBytes(json)
        return buffer
    }
}

/// A blind relay's state, confined to its event loop: per session, the host's control connection,
/// the joiners waiting for the host to take them, and how many joiner-host pairs it forwards.
final class RelayCore {
    final class Session {
        let key: Curve25519.Signing.PublicKey
        /// Where its host registered from last (counted against `maxSessionsPerAddress`).
        var address: String
        var control: RelayConnection?
        var waiting: [String: RelayConnection] = [:]
        var pairs = 0
        init(key: Curve25519.Signing.PublicKey, address: String) {
            self.key = key
            self.address = address
        }
    }

    /// Joiners of one session waiting for its host to take them (each for at most the handshake timeout).
    static let maxWaitingPerSession = 32

    let limits: SessionLimits
    let logger: Logger
    let eventLoop: any EventLoop
    private(set) var sessions: [String: Session] = [:]

    init(limits: SessionLimits, logger: Logger, eventLoop: any EventLoop) {
        self.limits = limits
        self.logger = logger
        self.eventLoop = eventLoop
    }

    /// Sessions whose host is connected now.
    var registeredCount: Int { sessions.values.filter { $0.control != nil }.count }

    /// Joiner-host pairs forwarded now.
    var pairCount: Int { sessions.values.reduce(0) { $0 + $1.pairs } }

    /// A host's registration, checked: the session id is its key's, and the signature is over this
    /// connection's challenge. Returns why not, or nil once `connection` is the session's control.
    func register(_ frame: RelayFrame, nonce: String, on connection: RelayConnection) -> (WireErrorCode, String)? {
        guard let session = frame.session, let keyHex = frame.key, let keyBytes = Auth.bytes(fromHex: keyHex),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes), session == Auth.sessionID(signingKey: key)
        else {
            return (.auth, "cannot register session '\(frame.session ?? "")': the session id must be the first 16 hex digits of SHA-256 of the registration's public key")
        }
        guard let signature = frame.signature.flatMap(Auth.bytes(fromHex:)),
            key.isValidSignature(signature, for: Auth.relayRegistration(nonce: nonce, session: session))
        else { return (.auth, "wrong secret") }
        if let existing = sessions[session] {
            // The host again (a new connection after a drop): the signature proves it.
            // The new connection first: closing the old one reports it lost, and a session whose
            // control was still the old one would be forgotten under the host's feet.
            let old = existing.control
            existing.control = connection
            existing.address = connection.remote
            if let old, old !== connection { old.close(reason: "replaced by the host's new connection") }
        } else {
            guard sessions.count < limits.maxSessions else { return (.limit, "the relay is full (\(limits.maxSessions) sessions)") }
            let fromHere = sessions.values.reduce(0) { $0 + ($1.address == connection.remote ? 1 : 0) }
            guard fromHere < limits.maxSessionsPerAddress else {
                return (.limit, "this relay already keeps \(fromHere) sessions for hosts at \(connection.remote) (at most \(limits.maxSessionsPerAddress)); end one first")
            }
            let entry = Session(key: key, address: connection.remote)
            entry.control = connection
            sessions[session] = entry
        }
        logger.info("session \(session) registered by \(connection.remote)")
        return nil
    }

    /// A joiner asks for `session`: tells the host (which dials back with the stream id) and
    /// returns the stream id, or why not.
    func route(_ session: String, joiner: RelayConnection) -> Result<String, RelayRefusal> {
        guard let entry = sessions[session], let control = entry.control else {
            return .failure(RelayRefusal(code: .session, message: "no session '\(session)' on this relay (its host is not connected)"))
        }
        guard entry.pairs + entry.waiting.count < limits.maxPeersPerSession else {
            return .failure(RelayRefusal(code: .limit, message: "the session is full (\(limits.maxPeersPerSession) peers)"))
        }
        guard entry.waiting.count < Self.maxWaitingPerSession else {
            return .failure(RelayRefusal(code: .busy, message: "too many joiners are waiting for this session's host; try again shortly"))
        }
        let fromHere = entry.waiting.values.reduce(0) { $0 + ($1.remote == joiner.remote ? 1 : 0) }
        guard fromHere < limits.maxRelayWaitingPerAddress else {
            return .failure(RelayRefusal(code: .busy, message: "\(fromHere) joiners from \(joiner.remote) are already waiting for this session's host; try again shortly"))
        }
        let stream = Auth.randomHex(count: 16)
        entry.waiting[stream] = joiner
        control.sendFrame(RelayFrame(type: "incoming", session: session, stream: stream, from: joiner.remote))
        return .success(stream)
    }

    /// The host dialled back for `stream`: the joiner waiting under it, now paired.
    func take(session: String, stream: String) -> RelayConnection? {
        guard let entry = sessions[session], let joiner = entry.waiting.removeValue(forKey: stream) else { return nil }
        entry.pairs += 1
        return joiner
    }

    func stopWaiting(session: String, stream: String) {
        sessions[session]?.waiting[stream] = nil
    }

    func pairEnded(session: String) {
        guard let entry = sessions[session] else { return }
        entry.pairs -= 1
        forgetIfUnused(session)
    }

    func controlLost(session: String, connection: RelayConnection) {
        guard let entry = sessions[session], entry.control === connection else { return }
        entry.control = nil
        for joiner in entry.waiting.values { joiner.refuse(.session, "the host of session '\(session)' left the relay") }
        entry.waiting = [:]
        forgetIfUnused(session)
    }

    /// Nothing to keep for a session without its host and pairs: its registration proves itself again.
    private func forgetIfUnused(_ session: String) {
        guard let entry = sessions[session], entry.control == nil, entry.pairs <= 0, entry.waiting.isEmpty else { return }
        sessions[session] = nil
        logger.info("session \(session) forgotten (no host, no peers)")
    }

    func housekeeping() {}
}

/// Why a relay refused a joiner.
struct RelayRefusal: Error {
    var code: WireErrorCode
    var message: String
}

/// One connection accepted by a blind relay: its first frame says what it is (a joiner's `open`,
/// a host's `register`, or a host taking a joiner with `accept`); after that, a joiner and the
/// host's connection for it are spliced and their bytes forwarded untouched.
final class RelayConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case prelude, waiting(session: String, stream: String), control(session: String), spliced, closed }

    /// Largest routing frame (a registration is some 300 bytes).
    static let maxFrame = 1024

    private let core: RelayCore
    private let server: ServerCore
    let remote: String
    private var context: ChannelHandlerContext?
    private var state = State.prelude
    private var buffered: ByteBuffer?
    private let nonce = Auth.generateNonce()
    private var pending = false
    private var deadline: Scheduled<Void>?
    private var pingTask: RepeatedTask?
    private var lastHeard = NIODeadline.now()
    /// The other end of a splice, and the session it counts in.
    private var partner: RelayConnection?
    private var pairSession: String?
    private var partnerNeedsFlush = false

    init(core: RelayCore, server: ServerCore, remote: String) {
        self.core = core
        self.server = server
        self.remote = remote
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        if let full = server.admitPending(remote) {
            core.logger.warning("refused \(remote): \(full)")
            refuse(.limit, full)
            return
        }
        pending = true
        // The same challenge a host sends: an older joiner reads the versions and says what to upgrade.
        let challenge = Challenge(versions: WireProtocol.supportedVersions, nonce: nonce, server: "codesync relay \(CodeSyncVersion.current)")
        if let frame = try? MessageCodec.frame(.challenge(challenge)) { context.writeAndFlush(NIOAny(frame), promise: nil) }
        let timeout = core.limits.handshakeTimeout
        deadline = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self else { return }
            switch self.state {
            case .prelude, .waiting: self.refuse(.timeout, "not connected to the session's host within \(timeout.nanoseconds / 1_000_000_000) s")
            default: break
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .spliced:
            guard let partner, let other = partner.context else { return }
            other.write(NIOAny(bytes), promise: nil)
            partner.partnerNeedsFlush = true
            // Back-pressure: stop reading while the other side cannot take more.
            if !other.channel.isWritable { context.channel.setOption(.autoRead, value: false).whenFailure { _ in } }
            return
        case .closed:
            return
        case .waiting:
            // Only what arrived with the `open` is kept (reading is paused); it goes to the host first.
            buffered?.writeBuffer(&bytes)
            if (buffered?.readableBytes ?? 0) > 128 * 1024 { refuse(.limit, "too much data before the host took the connection") }
            return
        case .prelude, .control:
            if buffered == nil || buffered!.readableBytes == 0 { buffered = bytes } else { buffered!.writeBuffer(&bytes) }
        }
        lastHeard = .now()
        while case let frame?? = nextFrame() {
            handle(frame, context: context)
            if case .prelude = state {} else if case .control = state {} else { break }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let partner, partner.partnerNeedsFlush {
            partner.partnerNeedsFlush = false
            partner.context?.flush()
        }
    }

    /// The next routing frame: nil when more bytes are needed, .some(nil) after refusing the connection.
    private func nextFrame() -> RelayFrame?? {
        guard var buffer = buffered, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map(Int.init) else { return nil }
        guard length >= 1, length <= Self.maxFrame else {
            refuse(.frame, "expected a protocol-\(SecureChannel.protocolVersion) open of at most \(Self.maxFrame) bytes, got a frame of \(length) bytes: the other side is not a codesync of this protocol version")
            return .some(nil)
        }
        guard buffer.readableBytes >= 4 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let payload = buffer.readSlice(length: length)!
        buffered = buffer
        if case .error(let error) = try? MessageCodec.decode(payload) {
            core.logger.info("\(remote): \(error.code.rawValue): \(error.message)")
            close(reason: "peer error")
            return .some(nil)
        }
        guard let frame = try? JSONDecoder().decode(RelayFrame.self, from: Data(payload.readableBytesView)) else {
            let hello = (try? MessageCodec.decode(payload)).flatMap { if case .hello(let h) = $0 { h } else { nil } }
            if let hello {
                refuse(.version, "this relay speaks protocol version \(SecureChannel.protocolVersion) (encrypted); you speak version \(hello.version): upgrade codesync")
            } else {
                refuse(.protocol, "expected a relay routing frame")
            }
            return .some(nil)
        }
        return .some(frame)
    }

    private func handle(_ frame: RelayFrame, context: ChannelHandlerContext) {
        switch (state, frame.type) {
        case (.prelude, "open"):
            guard frame.version == SecureChannel.protocolVersion else {
                refuse(.version, "this relay speaks protocol version \(SecureChannel.protocolVersion); you speak version \(frame.version ?? 0): install matching versions")
                return
            }
            let session = frame.session ?? ""
            switch core.route(session, joiner: self) {
            case .failure(let refusal): refuse(refusal.code, refusal.message)
            case .success(let stream):
                state = .waiting(session: session, stream: stream)
                context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
            }
        case (.prelude, "register"):
            if let refusal = core.register(frame, nonce: nonce, on: self) {
                if refusal.0 == .auth { _ = server.throttle.failed(remote) }
                refuse(refusal.0, refusal.1)
                return
            }
            let session = frame.session ?? ""
            state = .control(session: session)
            releasePending()
            deadline?.cancel()
            sendFrame(RelayFrame(type: "registered", session: session))
            let limits = core.limits
            pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: limits.pingInterval, delay: limits.pingInterval) { [weak self] _ in
                guard let self else { return }
                if NIODeadline.now() - self.lastHeard > limits.deadAfter {
                    self.close(reason: "the host's control connection went silent")
                    return
                }
                self.sendFrame(RelayFrame(type: "ping"))
            }
        case (.prelude, "accept"):
            guard let session = frame.session, let stream = frame.stream, let joiner = core.take(session: session, stream: stream) else {
                refuse(.session, "no joiner is waiting under that stream")
                return
            }
            splice(joiner, session: session)
        case (.control, "pong"), (.control, "ping"):
            break
        case (.control, let other):
            core.logger.info("\(remote): ignored a relay frame of type '\(other)'")
        default:
            refuse(.protocol, "unexpected relay frame '\(frame.type)'")
        }
    }

    /// Joins this connection (the host's, for one joiner) to `joiner`: from now on every byte
    /// either sends goes to the other, untouched.
    private func splice(_ joiner: RelayConnection, session: String) {
        guard let context, let other = joiner.context else { return }
        for side in [self, joiner] {
            side.state = .spliced
            side.deadline?.cancel()
            side.releasePending()
        }
        partner = joiner
        joiner.partner = self
        // Either side may end first; whichever does counts the pair as ended, once.
        pairSession = session
        joiner.pairSession = session
        // What the host sent with its accept, and what the joiner sent with its open, cross first.
        if let rest = buffered, rest.readableBytes > 0 { other.writeAndFlush(NIOAny(rest), promise: nil) }
        if let rest = joiner.buffered, rest.readableBytes > 0 { context.writeAndFlush(NIOAny(rest), promise: nil) }
        buffered = nil
        joiner.buffered = nil
        other.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        other.channel.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // We can take more again: the side that feeds us may read again.
        if context.channel.isWritable, let partner, let other = partner.context {
            other.channel.setOption(.autoRead, value: true).whenFailure { _ in }
            other.channel.read()
        }
    }

    /// Writes a routing frame (control connection).
    func sendFrame(_ frame: RelayFrame) {
        guard let context else { return }
        context.writeAndFlush(NIOAny(frame.framed(allocator: context.channel.allocator)), promise: nil)
    }

    /// Sends an `error` the joiner's codesync shows, then closes.
    func refuse(_ code: WireErrorCode, _ message: String) {
        guard let context else { return }
        if case .closed = state { return }
        if let frame = try? MessageCodec.frame(.error(ErrorMessage(code: code, message: message))) {
            context.writeAndFlush(NIOAny(frame), promise: nil)
        }
        close(reason: message)
    }

    func close(reason: String) {
        guard let context else { return }
        if case .closed = state { return }
        let previous = state
        state = .closed
        end(previous)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        end(previous)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(reason: "connection error: \(error)")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // One side finished sending: CodeSync's channel closes explicitly (an authenticated close
        // record), so a half-open pair has nothing more to carry; both go, after what was sent.
        if case .inputClosed? = event as? ChannelEvent {
            close(reason: "closed by the other side")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Releases what `previous` held: the pending count, the waiting slot, the control slot, the pair.
    private func end(_ previous: State) {
        releasePending()
        deadline?.cancel()
        pingTask?.cancel()
        switch previous {
        case .waiting(let session, let stream): core.stopWaiting(session: session, stream: stream)
        case .control(let session): core.controlLost(session: session, connection: self)
        case .spliced:
            if let session = pairSession { core.pairEnded(session: session) }
            pairSession = nil
            partner?.pairSession = nil
            // One side went: the other goes too, after what it was sent.
            if let partner {
                self.partner = nil
                partner.partner = nil
                partner.context?.flush()
                partner.close(reason: "the other side closed")
            }
        default: break
        }
    }

    private func releasePending() {
        guard pending else { return }
        pending = false
        server.releasePending(remote)
    }
}

/// The host's side of a relay: a control connection that registers the session (signed with the
/// relay signing key) and hears of joiners, and one connection per joiner, dialled back to the
/// relay and put behind the host's own secure channel and hub, exactly like a direct joiner's.
final class RelayLink: @unchecked Sendable {
    let relay: SessionAddress
    let session: String
    private let signingKey: Curve25519.Signing.PrivateKey
    private unowned let core: ServerCore
    private var control: (any Channel)?
    private var attempt = 0
    private var stopped = false
    private var firstRegistration: EventLoopPromise<Void>?
    /// Dial-backs the host may start now (a token bucket that may go into debt): a relay, or a
    /// flood of joiners through it, cannot make the host open connections faster than the rate.
    /// Over the burst a joiner is taken late rather than dropped, up to `maxDelayedDials`.
    private var dialTokens = RelayLink.dialBurst
    private var dialRefilled = NIODeadline.now()
    static let dialBurst = 32.0
    static let dialsPerSecond = 16.0
    static let maxDelayedDials = 64.0

    init(relay: SessionAddress, session: String, signingKey: Curve25519.Signing.PrivateKey, core: ServerCore) {
        self.relay = relay
        self.session = session
        self.signingKey = signingKey
        self.core = core
    }

    /// Connects and registers; the future fails with why the relay refused (on the server's loop).
    func start() -> EventLoopFuture<Void> {
        let promise = core.eventLoop.makePromise(of: Void.self)
        firstRegistration = promise
        connect()
        return promise.futureResult
    }

    func stop() {
        stopped = true
        control?.close(promise: nil)
    }

    private func connect() {
        let handler = RelayControlHandler(link: self)
        ClientBootstrap(group: core.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxPayload: FrameLimits.helloMaxPayload)))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: relay.host, port: relay.port)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel): control = channel
                case .failure(let error): lost(SessionError.cannotConnect(relay.description, "\(error)"), fatal: false)
                }
            }
    }

    /// The relay challenged this control connection: sign the registration.
    func registration(nonce: String) -> RelayFrame {
        let signature = (try? signingKey.signature(for: Auth.relayRegistration(nonce: nonce, session: session))).map { Auth.hex(Array($0)) }
        return RelayFrame(type: "register", version: SecureChannel.protocolVersion, session: session,
                          key: Auth.hex(Array(signingKey.publicKey.rawRepresentation)), signature: signature)
    }

    func registered() {
        attempt = 0
        core.logger.info("registered session \(session) on relay \(relay)")
        firstRegistration?.succeed(())
        firstRegistration = nil
    }

    /// The control connection ended or never came up: the first time that fails the start; later
    /// the host reconnects with backoff (joiners already paired are not affected).
    func lost(_ error: SessionError, fatal: Bool) {
        control = nil
        if let first = firstRegistration {
            firstRegistration = nil
            first.fail(error)
            stopped = true
            return
        }
        guard !stopped else { return }
        attempt += 1
        let delay = min(0.05 * pow(2, Double(min(attempt - 1, 10))), 2.0) * Double.random(in: 0.5...1.0)
        core.logger.warning("lost the relay \(relay) (\(error)); reconnecting in \(Int(delay * 1000)) ms")
        core.eventLoop.scheduleTask(in: .milliseconds(Int64(delay * 1000))) { [weak self] in
            guard let self, !self.stopped else { return }
            self.connect()
        }
    }

    /// A joiner waits on the relay under `stream`: dial back and serve it like a direct joiner.
    func dial(stream: String, from: String) {
        let now = NIODeadline.now()
        dialTokens = min(Self.dialBurst, dialTokens + Double((now - dialRefilled).nanoseconds) / 1e9 * Self.dialsPerSecond)
        dialRefilled = now
        guard dialTokens - 1 >= -Self.maxDelayedDials else {
            // Not taken: the joiner's wait on the relay times out, and it is told so.
            core.logger.warning("the relay announced joiners faster than \(Int(Self.dialsPerSecond)) a second; not taking \(from)")
            return
        }
        dialTokens -= 1
        guard dialTokens >= 0 else {
            let delay = TimeAmount.milliseconds(Int64(-dialTokens / Self.dialsPerSecond * 1000))
            core.eventLoop.scheduleTask(in: delay) { [weak self] in
                guard let self, !self.stopped else { return }
                self.connectBack(stream: stream, from: from)
            }
            return
        }
        connectBack(stream: stream, from: from)
    }

    private func connectBack(stream: String, from: String) {
        let core = self.core
        let session = self.session
        let accept = RelayFrame(type: "accept", version: SecureChannel.protocolVersion, session: session, stream: stream)
        let limits = core.limits
        ClientBootstrap(group: core.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.writeBufferWaterMark, value: .init(low: limits.writeLowWater, high: limits.writeHighWater))
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RelayAcceptHandler(accept: accept))
                    // The address is the relay's word for it: used only to slow down and lock out guessing.
                    try core.addServerHandlers(to: channel, remote: "\(from) via relay", session: session, relayed: true)
                }
            }
            .connect(host: relay.host, port: relay.port)
            .whenFailure { error in core.logger.warning("could not take joiner \(from) from the relay: \(error)") }
    }
}

/// Reads the host's control connection to its relay.
final class RelayControlHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let link: RelayLink
    private var context: ChannelHandlerContext?
    private var lastHeard = NIODeadline.now()
    private var watchdog: RepeatedTask?
    private var failure: SessionError?

    init(link: RelayLink) { self.link = link }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            guard let self, NIODeadline.now() - self.lastHeard > .seconds(4) else { return }
            self.failure = .timedOut("waiting for the relay (nothing received for 4 s)")
            self.context?.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastHeard = .now()
        let payload = unwrapInboundIn(data)
        if let message = try? MessageCodec.decode(payload) {
            switch message {
            case .challenge(let challenge):
                guard challenge.versions.contains(SecureChannel.protocolVersion) else {
                    failure = .versionMismatch(ours: WireProtocol.supportedVersions, theirs: challenge.versions)
                    context.close(promise: nil)
                    return
                }
                context.writeAndFlush(wrapOutboundOut(link.registration(nonce: challenge.nonce).framed(allocator: context.channel.allocator)), promise: nil)
                return
            case .error(let error):
                failure = error.message == "wrong secret" ? .rejected("the relay refused the session's registration") : .rejected("\(error.code.rawValue): \(error.message)")
                context.close(promise: nil)
                return
            default: break
            }
        }
        guard let frame = try? JSONDecoder().decode(RelayFrame.self, from: Data(payload.readableBytesView)) else { return }
        switch frame.type {
        case "registered": link.registered()
        case "incoming":
            if let stream = frame.stream { link.dial(stream: stream, from: frame.from ?? "unknown") }
        case "ping":
            context.writeAndFlush(wrapOutboundOut(RelayFrame(type: "pong").framed(allocator: context.channel.allocator)), promise: nil)
        default: break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure = failure ?? .cannotConnect("the relay", "\(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watchdog?.cancel()
        link.lost(failure ?? .rejected("the relay closed the connection"), fatal: false)
        context.fireChannelInactive()
    }
}

/// First on a connection the host dialled back to its relay for one joiner: sends `accept`, drops
/// the relay's own challenge, then passes every byte through to the secure channel.
final class RelayAcceptHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let accept: RelayFrame
    private var buffered: ByteBuffer?
    private var passing = false

    init(accept: RelayFrame) { self.accept = accept }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(accept.framed(allocator: context.channel.allocator)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !passing else {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        if buffered == nil { buffered = bytes } else { buffered!.writeBuffer(&bytes) }
        guard var buffer = buffered, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map(Int.init) else { return }
        guard length <= RelayConnection.maxFrame else {
            context.close(promise: nil)
            return
        }
        guard buffer.readableBytes >= 4 + length else { return }
        buffer.moveReaderIndex(forwardBy: 4 + length)
        passing = true
        buffered = nil
        if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
    }
}
