@_spi(Wire) import CodeSyncDocument
import CodeSyncBase
import Foundation
import NIOCore
import NIOPosix

/// The client end of one TCP connection: handshake, pings, and messages to the peer.
final class ClientConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private weak var peer: CollaborationPeer?
    private let channelBox = Locked<(any Channel)?>(nil)
    private var channel: (any Channel)? { channelBox.withLock { $0 } }
    private let clientNonce = Auth.generateNonce()
    private var serverNonce: String?
    private var lastHeard = NIODeadline.now()
    private var pingTask: RepeatedTask?
    private var nextPing = 0
    private var pingSentAt: NIODeadline?
    private var failed = false
    private let state = Locked(false)
    /// A flush is queued on the loop (loop-confined).
    private var flushQueued = false
    /// A welcome whose document comes in several frames, and its operations so far (loop-confined).
    private var partialWelcome: Welcome?
    private var welcomeOps: [Update.Op] = []
    private var partsLeft = 0

    init(peer: CollaborationPeer) { self.peer = peer }

    /// Opens the TCP connection: the secure channel (keyed by `secret`), the frame decoder, then this
    /// handler. A failure to connect reaches the peer as `linkFailed`.
    func connect(to address: SessionAddress, limits: SessionLimits, secret: String, group: any EventLoopGroup) {
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: limits.writeLowWater, high: limits.writeHighWater))
            .connectTimeout(.seconds(5))
            .channelInitializer { [self] channel in initialize(channel, session: address.session, limits: limits, secret: secret) }
            .connect(host: address.host, port: address.port)
            .whenFailure { [weak self] error in
                guard let self else { return }
                let reason: SessionError
                if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
                    reason = .connectionRefused(address.description)
                } else if let connect = error as? NIOConnectionError,
                    connect.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED })
                {
                    reason = .connectionRefused(address.description)
                } else {
                    reason = .cannotConnect(address.description, "\(error)")
                }
                self.peer?.linkFailed(self, error: reason, fatal: false)
            }
    }

    /// Opens the connection through a child process's pipes (`ssh BOX codesync attach`), the same
    /// handlers on top. Starting the process and reading its preamble may wait on the network and on
    /// SSH authentication, so it happens off the event loop.
    func connect(through transport: PipeTransport, attempt: Int, limits: SessionLimits, secret: String, group: any EventLoopGroup) {
        Thread.detachNewThread { [self] in
            let opened: OpenedPipe
            do {
                opened = try transport.open(attempt: attempt)
            } catch let refused as AttachRefused {
                peer?.linkFailed(self, error: .rejected(refused.message), fatal: true)
                return
            } catch {
                peer?.linkFailed(self, error: error as? SessionError ?? .cannotConnect(transport.description, "\(error)"), fatal: false)
                return
            }
            guard opened.preamble.secret == secret else {
                opened.child.terminate()
                opened.child.closeDescriptors()
                peer?.linkFailed(self, error: .rejected("the session at \(transport.description) is a new one (its host restarted): join it again"), fatal: true)
                return
            }
            let child = opened.child
            child.handOver()
            NIOPipeBootstrap(group: group)
                .channelInitializer { [self] channel in initialize(channel, session: "", limits: limits, secret: secret) }
                .takingOwnershipOfDescriptors(input: child.output, output: child.input)
                .whenComplete { [weak self] result in
                    switch result {
                    case .success(let channel):
                        channel.closeFuture.whenComplete { _ in child.terminate() }
                    case .failure(let error):
                        child.terminate()
                        guard let self else { return }
                        self.peer?.linkFailed(self, error: .cannotConnect(transport.description, "\(error)"), fatal: false)
                    }
                }
        }
    }

    /// The secure channel (keyed by `secret`), the frame decoder, then this handler.
    private func initialize(_ channel: any Channel, session: String, limits: SessionLimits, secret: String) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture { [self] in
            let operations = channel.pipeline.syncOperations
            if limits.plaintextForBenchmark {
                try operations.addHandler(PlaintextPrelude(joining: session))
            } else {
                try operations.addHandler(SecureHandler(psk: SecureChannel.psk(secret: secret), session: session))
            }
            try operations.addHandler(ByteToMessageHandler(FrameDecoder(maxPayload: limits.maxPayload)))
            try operations.addHandler(self)
        }
    }

    /// True once the welcome was accepted (read from any thread).
    var isWelcomed: Bool { state.withLock { $0 } }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        channelBox.withLock { $0 = channel }
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let peer else { return }
        let limits = peer.options.limits
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: limits.pingInterval, delay: limits.pingInterval) { [weak self] _ in
            self?.tick(limits: limits)
        }
    }

    private func tick(limits: SessionLimits) {
        if NIODeadline.now() - lastHeard > limits.deadAfter {
            fail(.timedOut("waiting for the server (nothing received for \(limits.deadAfter.nanoseconds / 1_000_000) ms)"), fatal: false)
            return
        }
        // Nothing but a hello may come first: a ping before the challenge arrived (a slow server)
        // would be a protocol fault that ends the connection.
        guard serverNonce != nil else { return }
        nextPing += 1
        pingSentAt = .now()
        send(.ping(Ping(id: nextPing)))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let peer, !failed else { return }
        lastHeard = .now()
        let message: WireMessage
        do {
            message = try MessageCodec.decode(unwrapInboundIn(data))
        } catch {
            send(.error(ErrorMessage(code: .json, message: "\(error)")))
            fail(.rejected("the server sent a bad message: \(error)"), fatal: false)
            return
        }
        if !isWelcomed {
            switch message {
            case .challenge(let challenge):
                guard challenge.versions.contains(WireProtocol.version) else {
                    let theirs = challenge.versions
                    send(.error(ErrorMessage(code: .version, message: "this side speaks protocol versions \(WireProtocol.supportedVersions)")))
                    fail(.versionMismatch(ours: WireProtocol.supportedVersions, theirs: theirs), fatal: true)
                    return
                }
                serverNonce = challenge.nonce
                send(.hello(peer.makeHello(serverNonce: challenge.nonce, clientNonce: clientNonce)))
            case .welcome(let welcome):
                guard let serverNonce,
                    Auth.verifyWelcome(welcome.proof, key: peer.key, serverNonce: serverNonce, clientNonce: clientNonce,
                                       session: peer.address.session, peer: peer.id)
                else {
                    send(.error(ErrorMessage(code: .auth, message: "your proof of the secret is wrong")))
                    fail(.hostNotAuthentic, fatal: true)
                    return
                }
                if let parts = welcome.parts, parts > 1 {
                    // The rest of the document follows in `ops` frames (seq 0); welcomed once all are here.
                    partialWelcome = welcome
                    welcomeOps = welcome.update.ops
                    partsLeft = parts - 1
                    return
                }
                state.withLock { $0 = true }
                peer.welcomed(welcome, on: self, serverNonce: serverNonce, clientNonce: clientNonce)
            case .ops(let part) where partialWelcome != nil:
                guard part.seq == 0 else {
                    fail(.rejected("the server interrupted its welcome with another message"), fatal: false)
                    return
                }
                welcomeOps.append(contentsOf: part.update.ops)
                partsLeft -= 1
                // serverNonce is set: the welcome's proof was checked against it before its parts were awaited.
                guard partsLeft == 0, var welcome = partialWelcome, let serverNonce else { return }
                welcome.update = Update(ops: welcomeOps)
                partialWelcome = nil
                welcomeOps = []
                state.withLock { $0 = true }
                peer.welcomed(welcome, on: self, serverNonce: serverNonce, clientNonce: clientNonce)
            case .lobbyWait where serverNonce != nil && partialWelcome == nil:
                // Authenticated; the host decides. The text shown is ours, not the server's.
                peer.waitingForHost(on: self)
            case .error(let error):
                refused(error, peer: peer)
            case .ping(let ping): send(.pong(ping))
            default: break
            }
            return
        }
        switch message {
        case .ping(let ping): send(.pong(ping))
        case .pong(let pong):
            // Round trip of our latest ping: what the status bar shows as latency.
            if pong.id == nextPing, let sentAt = pingSentAt {
                peer.recordLatency(milliseconds: Int((NIODeadline.now() - sentAt).nanoseconds / 1_000_000))
                pingSentAt = nil
            }
        case .unknown, .challenge, .hello, .welcome: break
        case .error(let error) where error.decision != nil:
            fail(.notAdmitted(error.message), fatal: true)
        case .error(let error):
            fail(.rejected("\(error.code.rawValue): \(error.message)"), fatal: error.code == .auth || error.code == .version)
        case .bye(let bye):
            fail(.rejected(bye.reason ?? "the server said goodbye"), fatal: false)
        default:
            peer.received(message, on: self)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let peer else { return }
        if let prelude = error as? SecurePreludeError {
            switch prelude {
            case .versionMismatch(let theirs): fail(.versionMismatch(ours: WireProtocol.supportedVersions, theirs: theirs), fatal: true)
            // Refused in clear, before the channel was up: unauthenticated, like any cleartext.
            case .refused(let refusal): refused(refusal, peer: peer)
            case .fault(_, let text): fail(.rejected(text), fatal: false)
            }
            return
        }
        if let secure = error as? SecureChannelError {
            if secure == .handshakeFailed {
                // Message 2 did not open: the other side does not hold the secret (or the path altered it).
                fail(.hostNotAuthentic, fatal: false)
            } else {
                // Altered, replayed, reordered, dropped or cut on the way: drop it and reconnect afresh.
                peer.options.logger.warning("connection to \(peer.address) dropped: \(secure)")
                fail(.tampered(secure.description), fatal: false)
            }
            return
        }
        if let frameError = error as? FrameError {
            send(.error(ErrorMessage(code: .frame, message: frameError.description)))
        }
        fail(.cannotConnect(peer.address.description, "\(error)"), fatal: false)
    }

    /// The server refused before the welcome.
    private func refused(_ error: ErrorMessage, peer: CollaborationPeer) {
        if error.decision != nil {
            fail(.notAdmitted(error.message), fatal: true)
            return
        }
        switch error.code {
        case .auth where error.message.hasPrefix("wrong secret"): fail(.wrongSecret, fatal: true)
        // A relay session whose host is away for a moment: a reconnecting peer keeps trying.
        case .session: fail(.noSuchSession(peer.address.session), fatal: !peer.hasBeenConnected)
        case .version: fail(.rejected(error.message), fatal: true)
        default: fail(.rejected(error.message), fatal: error.code == .auth)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTask?.cancel()
        fail(.rejected("the connection closed"), fatal: false)
    }

    /// Writes a message; safe from any thread.
    ///
    /// The flush is queued behind the write on the loop, so messages sent in one go (an edit and
    /// the cursor move after it) leave in one write(2) instead of one each, without waiting for more.
    func send(_ message: WireMessage) {
        guard let channel, let frame = try? MessageCodec.frame(message) else { return }
        let loop = channel.eventLoop
        if loop.inEventLoop {
            write(frame, on: channel)
        } else {
            loop.execute { self.write(frame, on: channel) }
        }
    }

    /// On the loop: writes `frame` and makes sure a flush follows it.
    private func write(_ frame: ByteBuffer, on channel: any Channel) {
        channel.write(frame, promise: nil)
        guard !flushQueued else { return }
        flushQueued = true
        channel.eventLoop.execute {
            self.flushQueued = false
            channel.flush()
        }
    }

    /// Sends bye and closes; safe from any thread.
    func goodbye() {
        guard let channel else { return }
        channel.eventLoop.execute {
            self.failed = true
            self.pingTask?.cancel()
            if let frame = try? MessageCodec.frame(.bye(Bye(reason: "left"))) {
                channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
            } else {
                channel.close(promise: nil)
            }
        }
    }

    /// Closes at once without a goodbye; safe from any thread.
    func abort() {
        channel?.close(promise: nil)
    }

    /// Drops the connection after `delay`, reading what arrives meanwhile.
    func abort(after delay: TimeAmount) {
        guard let channel else { return }
        channel.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }

    private func fail(_ error: SessionError, fatal: Bool) {
        guard !failed else { return }
        failed = true
        pingTask?.cancel()
        channel?.flush()  // an `error` frame just written goes out before the close
        channel?.close(promise: nil)
        peer?.linkFailed(self, error: error, fatal: fatal)
    }
}
