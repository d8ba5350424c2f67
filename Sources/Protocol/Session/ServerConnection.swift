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

    private enum State { case greeting, active, closing }

    private let server: ServerCore
    private var context: ChannelHandlerContext?
    private var state = State.greeting
    private let nonce = Auth.generateNonce()
    private var lastHeard = NIODeadline.now()
    private var pingTask: RepeatedTask?
    private var handshakeTimer: Scheduled<Void>?
    private var nextPing = 0
    private var backlog = 0
    private var unwritableSince: NIODeadline?
    private var ackedSeq = -1
    /// Written to since the last flush; `ServerCore` flushes it once the current batch of reads is done.
    private var awaitingFlush = false

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
    private(set) weak var hub: Hub?
    let remote: String

    init(server: ServerCore, remote: String) {
        self.server = server
        self.remote = remote
    }

    private var logger: Logger { server.logger }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if let wait = server.throttle.lockedOut(remote) {
            logger.warning("refused \(remote): too many wrong secrets")
            fail(.auth, "too many wrong secrets from \(remote); try again in \(wait) s")
            return
        }
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
        if now - lastHeard > limits.deadAfter {
            fail(.timeout, "nothing received for \(limits.deadAfter.nanoseconds / 1_000_000) ms")
            return
        }
        if let since = unwritableSince, now - since > limits.maxBacklogTime {
            cutOffSlowReader()
            return
        }
        if state == .active {
            nextPing += 1
            send(.ping(Ping(id: nextPing)))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .closing else { return }
        lastHeard = .now()
        let frame = unwrapInboundIn(data)
        let message: WireMessage
        let updateRange: Range<Int>?
        do {
            (message, updateRange) = try MessageCodec.decodeKeepingUpdate(frame.readableBytesView)
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
            server.accept(hello, on: self, serverNonce: nonce)
        case .active:
            handleActive(message, frame: frame, updateRange: updateRange)
        case .closing:
            break
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
        case .presence(let presence): hub.receivePresence(presence, from: self)
        case .ping(let ping): send(.pong(ping))
        case .pong: break
        case .bye: close(reason: "bye")
        case .runRequest, .runCancel, .runStarted, .runOutput, .runExited:
            hub.route(message, payload: frame, from: self)
        case .rolesSet(let roles):
            hub.setGuests(roles.guests, from: self)
        case .unknown(let type):
            logger.info("\(describe): ignored message of unknown type '\(type)'")
        case .refused, .roles:
            logger.info("\(describe): ignored a \(message.type) message (only a server sends those)")
        case .error(let error):
            logger.info("\(describe): peer reported \(error.code.rawValue): \(error.message)")
            close(reason: "peer error")
        case .challenge, .hello, .welcome, .ack, .left:
            fail(.protocol, "unexpected \(message.type) after the handshake")
        }
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
    }

    /// The host changed what this peer may do.
    func grant(_ access: GuestAccess) { self.access = access }

    var describe: String { peer.isEmpty ? remote : "\(peer) (\(remote))" }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard state != .closing else { return }
        if let frameError = error as? FrameError {
            logger.warning("\(describe): \(frameError)")
            fail(.frame, frameError.description)
        } else {
            logger.info("\(describe): connection error: \(error)")
            close(reason: "connection error")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        state = .closing
        hub?.leave(self, reason: "disconnected")
        context.fireChannelInactive()
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

    /// Sends an `error` frame, then closes.
    func fail(_ code: WireErrorCode, _ text: String) {
        guard state != .closing, let context else { return }
        if let frame = try? MessageCodec.frame(.error(ErrorMessage(code: code, message: text))) {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        close(reason: text)
    }

    /// Closes without an error frame (after sending what was written, e.g. a `bye`).
    func close(reason: String) {
        guard state != .closing, let context else { return }
        flushNow()
        state = .closing
        stopTimers()
        hub?.leave(self, reason: reason)
        context.close(promise: nil)
    }

    private func stopTimers() {
        pingTask?.cancel()
        pingTask = nil
        handshakeTimer?.cancel()
        handshakeTimer = nil
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
