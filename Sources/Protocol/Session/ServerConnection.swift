import Crypto
import Foundation
import Logging
import NIOCore

/// One accepted connection on a host or relay: handshake, then messages to and from its hub.
///
/// Lives on the server's single event loop, like every hub, so hubs call it directly.
final class ServerConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// `judging`: a hello arrived and is being answered (a wrong secret's answer is delayed);
    /// nothing else is read from the connection meanwhile. `waiting`: authenticated, in the host's
    /// lobby until the host admits or refuses it: it receives nothing of the session and may send
    /// only `ping`, `pong` and `bye`.
    private enum State { case greeting, judging, waiting, active, closing }

    private let server: ServerCore
    private var context: ChannelHandlerContext?
    private var state = State.greeting
    private let nonce = Auth.generateNonce()
    private var lastHeard = NIODeadline.now()
    private var pingTask: RepeatedTask?
    private var handshakeTimer: Scheduled<Void>?
    private var lobbyTimer: Scheduled<Void>?
    private var nextPing = 0
    private var backlog = 0
    private var unwritableSince: NIODeadline?
    private var ackedSeq = -1
    /// Written to since the last flush; `ServerCore` flushes it once the current batch of reads is done.
    private var awaitingFlush = false
    /// The frame decoder's limit: `maxPayloadBeforeHello` until the hello is accepted, then `maxPayload`.
    private let frameLimit: FrameSizeLimit
    /// Counted among the server's pending (not yet authenticated) connections.
    private var pending = false
    /// Rate limits for what a guest sends (see `SessionLimits.framesPerSecond`).
    private var frameBucket: TokenBucket
    private var byteBucket: TokenBucket
    /// Reading is paused until the buckets refill.
    private var throttled = false
    /// Bytes of a welcome sent in several frames: a joiner gets time to read them before the
    /// slow-reader rule applies.
    private var welcomeAllowance: TimeAmount = .zero

    /// Set once the hello is accepted.
    private(set) var peer = ""
    private(set) var name = ""
    private(set) var role = PeerRole.guest
    /// What the host lets this peer do.
    private(set) var access = GuestAccess.editRun
    /// Joined with the watch-only secret: stays `view` whatever the host sets for guests.
    private(set) var watchOnly = false
    /// Ops of this connection were refused: later ones are refused too (they may build on the
    /// refused ones), until the peer reconnects with the document.
    var opsRefused = false
    /// Documents of a shared folder this connection opened (`file.open`): the only ones it may edit or hear.
    var openedDocs: Set<Int> = []
    /// Documents whose `doc.ops` from this connection were refused: later ones for the same document
    /// are too (they may build on it) until the peer opens it again; other files stay editable.
    var docOpsRefused: Set<Int> = []
    private(set) weak var hub: Hub?
    let remote: String

    init(server: ServerCore, remote: String, frameLimit: FrameSizeLimit) {
        self.server = server
        self.remote = remote
        self.frameLimit = frameLimit
        let limits = server.limits
        frameBucket = TokenBucket(rate: limits.framesPerSecond, capacity: limits.frameBurst)
        byteBucket = TokenBucket(rate: limits.bytesPerSecond,
                                 capacity: limits.byteBurst ?? Double(limits.maxPayload + FrameLimits.prefixLength))
    }

    private var logger: Logger { server.logger }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if refuseIfLockedOut() { return }
        if let full = server.admitPending(remote) {
            logger.warning("refused \(remote): \(full)")
            fail(.limit, full)
            return
        }
        pending = true
        send(.challenge(Challenge(versions: WireProtocol.supportedVersions, nonce: nonce, server: "codesync \(CodeSyncVersion.current)")))
        let limits = server.limits
        handshakeTimer = context.eventLoop.scheduleTask(in: limits.handshakeTimeout) { [weak self] in
            guard let self, self.state == .greeting else { return }
            self.fail(.timeout, "no hello within \(limits.handshakeTimeout.nanoseconds / 1_000_000_000) s")
        }
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: limits.pingInterval, delay: limits.pingInterval) { [weak self] _ in
            self?.tick()
        }
    }

    private func tick() {
        let limits = server.limits
        let now = NIODeadline.now()
        // While reading is paused (rate limit) silence is ours, not the peer's.
        if throttled { lastHeard = now }
        if now - lastHeard > limits.deadAfter {
            fail(.timeout, "nothing received for \(limits.deadAfter.nanoseconds / 1_000_000) ms")
            return
        }
        if let since = unwritableSince, now - since > limits.maxBacklogTime + welcomeAllowance {
            cutOffSlowReader()
            return
        }
        if state == .active || state == .waiting {
            nextPing += 1
            send(.ping(Ping(id: nextPing)))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // One hello per connection: what follows it before the answer is dropped unread, so a
        // wrong secret cannot be retried on the same connection while its answer is delayed.
        guard state == .greeting || state == .active || state == .waiting else { return }
        lastHeard = .now()
        let frame = unwrapInboundIn(data)
        if (state == .active || state == .waiting) && role == .guest { charge(frame, context: context) }
        let message: WireMessage
        let updateRange: Range<Int>?
        do {
            (message, updateRange) = try MessageCodec.decodeKeepingUpdate(frame.readableBytesView)
        } catch let error as MessageError {
            logger.warning("\(describe): bad message: \(error)")
            fail(error.code, "\(error)")
            return
        } catch {
            logger.warning("\(describe): bad message: \(error)")
            fail(.json, "\(error)")
            return
        }
        switch state {
        case .greeting:
            guard case .hello(let hello) = message else {
                fail(.protocol, "expected hello, got \(message.type)")
                return
            }
            handshakeTimer?.cancel()
            state = .judging
            if refuseIfLockedOut() { return }
            if let problem = NameRules.peerIDProblem(hello.peer) ?? NameRules.nameProblem(hello.name) {
                logger.warning("\(remote): hello refused: \(problem)")
                fail(.limit, problem)
                return
            }
            server.accept(hello, on: self, serverNonce: nonce)
        case .active:
            handleActive(message, frame: frame, updateRange: updateRange)
        case .waiting:
            handleWaiting(message)
        case .judging, .closing:
            break
        }
    }

    /// Refuses the connection when its address is locked out for wrong secrets (checked at connect
    /// and again at the hello: the lockout may have begun while this connection was open).
    private func refuseIfLockedOut() -> Bool {
        guard let wait = server.throttle.lockedOut(remote) else { return false }
        logger.warning("refused \(remote): too many wrong secrets")
        fail(.auth, "too many wrong secrets from \(remote); try again in \(wait) s")
        return true
    }

    /// Takes a guest's frame from its rate buckets; past them, stops reading until they refill.
    /// The frame itself is still handled (it is read already): TCP holds back the rest.
    private func charge(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        let waits = [frameBucket.take(1, now: now), byteBucket.take(Double(frame.readableBytes + FrameLimits.prefixLength), now: now)]
        guard !throttled, let wait = waits.compactMap({ $0 }).max() else { return }
        throttled = true
        logger.info("\(describe): over its rate limit; reading again in \(wait.nanoseconds / 1_000_000) ms or more")
        context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
        resumeReading(after: wait, channel: context.channel)
    }

    /// Reads again once the buckets are out of debt (frames read in the same batch may have added to it).
    private func resumeReading(after wait: TimeAmount, channel: any Channel) {
        channel.eventLoop.scheduleTask(in: wait) { [weak self] in
            guard let self, self.state != .closing else { return }
            let now = NIODeadline.now()
            if let more = [self.frameBucket.take(0, now: now), self.byteBucket.take(0, now: now)].compactMap({ $0 }).max() {
                self.resumeReading(after: more, channel: channel)
                return
            }
            self.throttled = false
            self.lastHeard = now
            channel.setOption(.autoRead, value: true).whenFailure { _ in }
            channel.read()
        }
    }

    /// In the lobby: liveness and goodbye only. Anything else (an edit, a presence, a run request,
    /// a host's decision) would be acting in a session it has not been admitted to.
    private func handleWaiting(_ message: WireMessage) {
        switch message {
        case .ping(let ping): send(.pong(ping))
        case .pong: break
        case .bye: close(reason: "bye")
        case .error: close(reason: "peer error")
        default:
            logger.warning("\(describe): sent \(message.type) while waiting in the lobby")
            fail(.protocol, "you are waiting for the host to admit you: only ping, pong and bye may be sent until then, not \(WireName.quoted(message.type))")
        }
    }

    private func handleActive(_ message: WireMessage, frame: ByteBuffer, updateRange: Range<Int>?) {
        guard let hub else { return }
        switch message {
        case .ops(let ops):
            guard ops.peer == peer else {
                fail(.protocol, "ops claim to come from \(ops.peer), but this connection is \(peer)")
                return
            }
            let updateJSON = updateRange.flatMap { frame.getSlice(at: frame.readerIndex + $0.lowerBound, length: $0.count) }
            hub.receive(ops, payload: frame, updateJSON: updateJSON, from: self)
        case .presence(let presence):
            // The server shows the name from the hello, but a presence that carries another is still refused.
            if let problem = NameRules.nameProblem(presence.name) {
                fail(.limit, problem)
                return
            }
            hub.receivePresence(presence, from: self)
        case .ping(let ping): send(.pong(ping))
        case .pong: break
        case .bye: close(reason: "bye")
        case .runRequest, .runCancel, .runStarted, .runOutput, .runExited:
            hub.route(message, payload: frame, from: self)
        case .rolesSet(let roles):
            hub.setGuests(roles.guests, from: self)
        case .lobbyAdmit(let choice):
            hub.admit(choice.peer, from: self)
        case .lobbyRefuse(let choice):
            hub.refuse(choice.peer, from: self)
        case .peerRemove(let choice):
            hub.remove(choice.peer, from: self)
        case .docOps(let ops):
            guard ops.peer == peer else {
                fail(.protocol, "doc.ops claim to come from \(ops.peer), but this connection is \(peer)")
                return
            }
            hub.receiveProject(message, payload: frame, from: self)
        case .filesList, .fileOpen, .fileCreate, .fileRename, .fileDelete:
            hub.receiveProject(message, payload: frame, from: self)
        case .files, .fileState, .fileChanged:
            logger.info("\(describe): ignored a \(message.type) message (only a server sends those)")
        case .unknown(let type):
            logger.info("\(describe): ignored message of unknown type '\(type)'")
        case .refused, .roles, .lobby, .lobbyWait, .runConfig:
            logger.info("\(describe): ignored a \(message.type) message (only a server sends those)")
        case .error(let error):
            logger.info("\(describe): peer reported \(error.code.rawValue): \(error.message)")
            close(reason: "peer error")
        case .challenge, .hello, .welcome, .ack, .left:
            fail(.protocol, "unexpected \(message.type) after the handshake")
        }
    }

    /// Authenticated, but the host admits guests itself: the connection waits in `hub`'s lobby as
    /// `peer`. It leaves the pending count (it proved the secret; the lobby has caps of its own) and
    /// is told to try again after `lobbyTimeout`.
    func enterLobby(hub: Hub, peer: String, name: String) {
        self.hub = hub
        self.peer = peer
        self.name = name
        state = .waiting
        releasePending()
        let timeout = server.limits.lobbyTimeout
        let seconds = timeout.nanoseconds / 1_000_000_000
        let words = seconds % 60 == 0 ? "\(seconds / 60) minutes" : "\(seconds) s"
        lobbyTimer = context?.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, self.state == .waiting else { return }
            self.fail(.timeout, "the host did not answer within \(words); join again to ask once more")
        }
        send(.lobbyWait(LobbyWait(message: "waiting for the host to admit you")))
    }

    /// The handshake succeeded: this connection now belongs to `hub` as `peer`.
    func activate(hub: Hub, peer: String, name: String, role: PeerRole, access: GuestAccess = .editRun, watchOnly: Bool = false) {
        self.watchOnly = watchOnly
        self.hub = hub
        self.peer = peer
        self.name = name
        self.role = role
        self.access = access
        state = .active
        lobbyTimer?.cancel()
        lobbyTimer = nil
        releasePending()
        frameLimit.maxPayload = server.limits.maxPayload
    }

    private func releasePending() {
        guard pending else { return }
        pending = false
        server.releasePending(remote)
    }

    /// Sends `welcome`; a document too large for one frame follows it in `ops` frames (seq 0),
    /// which the welcome announces in `parts`, so any document that can be edited can be joined.
    func sendWelcome(_ welcome: Welcome) {
        let limits = server.limits
        let frameBudget = min(limits.maxPayload, Update.partBudget)
        var head = welcome
        head.update = Update()
        let headBytes = (try? MessageCodec.encode(.welcome(head)))?.count ?? 0
        // Cut by size estimates (no encoding of the whole document just to measure it).
        var parts = welcome.update.split(maxBytes: max(frameBudget - Update.partEnvelope, Update.minimumPartBudget))
        // The first part travels in the welcome itself when it fits beside the other fields.
        if headBytes + Update.encodedSize(parts[0]) <= frameBudget - 16 {
            head.update = parts.removeFirst()
        }
        guard !parts.isEmpty else {
            send(.welcome(head))
            return
        }
        head.parts = parts.count + 1
        var bytes = 0
        send(.welcome(head))
        for part in parts {
            guard let frame = try? MessageCodec.frame(.ops(Ops(peer: welcome.peer, seq: 0, update: part)), maxPayload: limits.maxPayload) else {
                fail(.limit, "the document cannot be cut into frames of \(limits.maxPayload) bytes")
                return
            }
            bytes += frame.readableBytes
            sendUncounted(frame)
        }
        // At 1 MiB/s at least, plus the usual allowance.
        welcomeAllowance = .milliseconds(Int64(bytes / 1024))
        logger.info("\(describe): welcome sent in \(parts.count + 1) frames (\(bytes) bytes after the first)")
    }

    /// The host changed what this peer may do.
    func grant(_ access: GuestAccess) { self.access = access }

    var describe: String { peer.isEmpty ? remote : "\(peer) (\(remote))" }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard state != .closing else { return }
        if let prelude = error as? SecurePreludeError {
            logger.warning("\(describe): \(prelude)")
            if case .fault(let code, let text) = prelude { fail(code, text) } else { close(reason: prelude.description) }
            return
        }
        if let secure = error as? SecureChannelError {
            if secure == .handshakeFailed, state == .greeting {
                // No PSK opened the joiner's first handshake message: a wrong secret, slowed down
                // and counted towards the address's lockout like a wrong proof.
                handshakeTimer?.cancel()
                state = .judging
                server.wrongSecret(name: nil, on: self)
                return
            }
            // Altered, replayed, reordered, dropped or cut: the sending side still works, so the
            // peer hears why (sealed) before the connection goes.
            logger.warning("\(describe): \(secure)")
            fail(.frame, secure.description)
            return
        }
        if let frameError = error as? FrameError {
            logger.warning("\(describe): \(frameError)")
            if state != .active, case .oversized = frameError {
                fail(.frame, "\(frameError.description) (before a hello is accepted, frames are limited to \(frameLimit.maxPayload) bytes)")
                return
            }
            fail(.frame, frameError.description)
        } else {
            logger.info("\(describe): connection error: \(error)")
            close(reason: "connection error")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        releasePending()
        stopTimers()
        state = .closing
        hub?.leave(self, reason: "disconnected")
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A joiner that stops sending while it waits has given up: its place in the lobby goes now,
        // not after the liveness timeout.
        if case .inputClosed? = event as? ChannelEvent, state == .waiting {
            close(reason: "gave up waiting")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unwritableSince = nil
            backlog = 0
        } else if unwritableSince == nil {
            unwritableSince = .now()
        }
    }

    /// Writes one message.
    func send(_ message: WireMessage) {
        do {
            send(frame: try MessageCodec.frame(message, maxPayload: server.limits.maxPayload))
        } catch {
            logger.error("\(describe): cannot encode \(message.type): \(error)")
        }
    }

    /// Writes a frame that the slow-reader rule does not count (the parts of a welcome).
    private func sendUncounted(_ frame: ByteBuffer) {
        guard state != .closing, let context else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        if !awaitingFlush {
            awaitingFlush = true
            server.flushLater(self)
        }
    }

    /// Writes one encoded frame, cutting the peer off if it has stopped reading.
    ///
    /// The flush is deferred to the end of the event-loop tick: everything the hub sends this peer
    /// while handling one batch of reads (an edit and a cursor move, several peers' edits that
    /// arrived together, an ack) leaves in one write(2) and wakes the peer once.
    func send(frame: ByteBuffer) {
        guard state != .closing, let context else { return }
        if !context.channel.isWritable {
            backlog += frame.readableBytes
            if backlog > server.limits.maxBacklog {
                cutOffSlowReader()
                return
            }
        }
        context.write(wrapOutboundOut(frame), promise: nil)
        if !awaitingFlush {
            awaitingFlush = true
            server.flushLater(self)
        }
    }

    /// Flushes what `send(frame:)` wrote (called by `ServerCore` at the end of the tick).
    func flushNow() {
        guard awaitingFlush else { return }
        awaitingFlush = false
        guard state != .closing, let context else { return }
        context.flush()
    }

    /// Acknowledges stored ops.
    func acknowledge(_ seq: Int) {
        guard seq > ackedSeq else { return }
        ackedSeq = seq
        send(.ack(Ack(seq: seq)))
    }

    private func cutOffSlowReader() {
        logger.warning("\(describe): cut off, it stopped reading (backlog over the limit)")
        // The error frame may never be read; it is sent for a reader that wakes up.
        fail(.slow, "you stopped reading; the send backlog went over the limit")
    }

    /// Sends an `error` frame, then closes. `decision`: the host decided it (refused, removed).
    func fail(_ code: WireErrorCode, _ text: String, decision: HostDecision? = nil) {
        guard state != .closing, let context else { return }
        if let frame = try? MessageCodec.frame(.error(ErrorMessage(code: code, message: text, decision: decision))) {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        close(reason: text)
    }

    /// Closes without an error frame (after sending what was written, e.g. a `bye`).
    func close(reason: String) {
        guard state != .closing, let context else { return }
        flushNow()
        state = .closing
        releasePending()
        stopTimers()
        hub?.leave(self, reason: reason)
        context.close(promise: nil)
    }

    private func stopTimers() {
        pingTask?.cancel()
        pingTask = nil
        handshakeTimer?.cancel()
        handshakeTimer = nil
        lobbyTimer?.cancel()
        lobbyTimer = nil
    }
}

/// A token bucket: `rate` tokens a second up to `capacity`; taking more than there are leaves a debt.
struct TokenBucket {
    let rate: Double
    let capacity: Double
    private var level: Double
    private var updated = NIODeadline.now()

    init(rate: Double, capacity: Double) {
        self.rate = rate
        self.capacity = capacity
        level = capacity
    }

    /// Takes `amount`; returns how long until the bucket is out of debt, nil when it is not in debt.
    mutating func take(_ amount: Double, now: NIODeadline) -> TimeAmount? {
        let elapsed = Double((now - updated).nanoseconds) / 1e9
        updated = now
        level = min(capacity, level + elapsed * rate) - amount
        guard level < 0 else { return nil }
        return .nanoseconds(Int64(-level / rate * 1e9) + 1_000_000)
    }
}

/// Counts wrong secrets per address and slows repeated guessing down.
final class AuthThrottle {
    private struct Entry { var failures: Int; var last: NIODeadline }
    private var entries: [String: Entry] = [:]
    private let limits: SessionLimits

    init(limits: SessionLimits) { self.limits = limits }

    /// Seconds left while `address` is refused, nil when it may try.
    func lockedOut(_ address: String) -> Int? {
        guard let entry = entries[address] else { return nil }
        let now = NIODeadline.now()
        if now - entry.last > limits.authLockout {
            entries[address] = nil
            return nil
        }
        guard entry.failures >= limits.authFailuresBeforeLockout else { return nil }
        let left = (entry.last + limits.authLockout - now).nanoseconds / 1_000_000_000
        return Int(max(1, left))
    }

    /// Records a wrong secret; returns how long to wait before answering.
    func failed(_ address: String) -> TimeAmount {
        var entry = entries[address] ?? Entry(failures: 0, last: .now())
        entry.failures += 1
        entry.last = .now()
        entries[address] = entry
        let factor = Int64(1) << Int64(min(entry.failures - 1, 5))
        return .nanoseconds(min(limits.authFailureDelay.nanoseconds * factor, 5_000_000_000))
    }

    /// A correct secret clears the count.
    func succeeded(_ address: String) { entries[address] = nil }
}
