import Foundation
import NIOCore

/// What went wrong before a connection's secure channel was up (docs/PROTOCOL.md "Connection
/// lifecycle"): the only part of a version-4 connection that travels in clear.
enum SecurePreludeError: Error, CustomStringConvertible {
    /// The server speaks other protocol versions (its cleartext `challenge` said so).
    case versionMismatch(theirs: [Int])
    /// The server refused in clear before the handshake finished (wrong secret, no such session, limits).
    case refused(ErrorMessage)
    /// Something that is not the version-4 prelude: the connection is closed with this code and text.
    case fault(WireErrorCode, String)

    var description: String {
        switch self {
        case .versionMismatch(let theirs): "the other side speaks protocol versions \(theirs)"
        case .refused(let error): "\(error.code.rawValue): \(error.message)"
        case .fault(_, let text): text
        }
    }
}

/// The joiner's first frame, in clear: the protocol version it speaks and the session it wants
/// (a relay routes by it; a direct host checks it). Nothing secret.
struct SecureOpen: Codable, Equatable {
    var session: String
    var type = "open"
    var version: Int
}

/// Puts a connection inside CodeSync's secure channel (`SecureChannel`): below the frame
/// decoder, it turns the encrypted records that arrive into the plaintext frame stream and seals
/// what the layers above write. Before the handshake it speaks the short cleartext prelude:
/// the server's `challenge` (protocol versions), the joiner's `open`, then the two Noise messages.
///
/// Bounds for an unauthenticated peer: nothing is buffered beyond one prelude frame (1 KiB on a
/// server) or one record (64 KiB); the handshake's deadline is the server's hello timeout.
final class SecureHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The server's side: the PSKs it accepts (edit, then watch-only) and its session id.
    struct Responder {
        var psks: [[UInt8]]
        var session: String
        /// False on a connection the host took over from a relay: the relay already sent the
        /// challenge and read the joiner's `open`; the Noise handshake comes next.
        var expectsOpen = true
    }

    private enum Step {
        case awaitingChallenge(psk: [UInt8], session: String)
        case awaitingOpen(Responder)
        case awaitingMessage1(Responder, prologueSession: String)
        case awaitingReply(SecureInitiator)
        case open(SecureTransport)
        case failed
    }

    /// Largest cleartext frame before the handshake: a server reads only an `open` (tens of
    /// bytes); a joiner reads a challenge or an error.
    static let serverPreludeLimit = 1024
    static let clientPreludeLimit = FrameLimits.helloMaxPayload

    private var step: Step
    private let isServer: Bool
    private var inbound: ByteBuffer?
    /// Written by the layers above before the channel was up: sealed once it is (a server's
    /// challenge), or sent in clear if the connection closes first (an `error` saying why).
    private var early: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    /// Plaintext written since the last flush: sealed as one record (or several over 64 KiB).
    private var plain: ByteBuffer?
    private var plainPromises: [EventLoopPromise<Void>] = []
    private var closing = false
    private var inboundFailed = false
    private var reported = false
    /// When the handshake finished, for the handshake-time figure; nil before.
    private(set) var establishedAt: NIODeadline?
    private let startedAt = NIODeadline.now()
    /// Index of the PSK the joiner held (0 edit, 1 watch-only); server side, once open.
    private(set) var matchedPSK: Int?

    /// A server side; sends the cleartext challenge itself unless `responder.expectsOpen` is false.
    init(responder: Responder) {
        step = .awaitingOpen(responder)
        isServer = true
        if !responder.expectsOpen { step = .awaitingMessage1(responder, prologueSession: responder.session) }
    }

    /// A joiner's side with the PSK of the secret it holds and the session it asks for ("" direct).
    init(psk: [UInt8], session: String) {
        step = .awaitingChallenge(psk: psk, session: session)
        isServer = false
    }

    /// Microseconds from the handler's creation to the end of the handshake.
    var handshakeMicroseconds: Int64? { establishedAt.map { ($0 - startedAt).nanoseconds / 1000 } }

    func channelActive(context: ChannelHandlerContext) {
        if case .awaitingOpen = step {
            let challenge = Challenge(versions: WireProtocol.supportedVersions, nonce: Auth.generateNonce(),
                                      server: "codesync \(CodeSyncVersion.current)")
            if let frame = try? MessageCodec.frame(.challenge(challenge)) {
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            }
        }
        context.fireChannelActive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !inboundFailed else { return }
        if inbound == nil || inbound!.readableBytes == 0 {
            inbound = bytes
        } else {
            inbound!.writeBuffer(&bytes)
        }
        drain(context: context)
        if let buffer = inbound, buffer.readerIndex > 65536 { inbound!.discardReadBytes() }
    }

    /// Opens and delivers what is buffered, one record at a time, until the layers above stop
    /// reading (a guest over its rate): then the rest waits here, as unread bytes wait in the
    /// kernel, until they ask to read again.
    private func drain(context: ChannelHandlerContext) {
        do {
            while !pausedAbove(context), try next(context: context) {}
        } catch {
            failInbound(context: context, error)
        }
    }

    private func pausedAbove(_ context: ChannelHandlerContext) -> Bool {
        guard case .open = step else { return false }
        return (try? context.channel.syncOptions?.getOption(.autoRead)) == false
    }

    func read(context: ChannelHandlerContext) {
        if !inboundFailed { drain(context: context) }
        context.read()
    }

    /// Handles one whole frame or record from `inbound`; false when more bytes are needed.
    private func next(context: ChannelHandlerContext) throws -> Bool {
        guard var buffer = inbound, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map(Int.init) else { return false }
        switch step {
        case .open:
            try SecureRecordReader.checkLength(length)
        case .awaitingMessage1, .awaitingReply:
            // A handshake message is exactly 48 bytes; a joiner may also get a refusal in clear.
            let limit = isServer ? SecureChannel.handshakeMessageLength : Self.clientPreludeLimit
            guard length >= 1, length <= limit else {
                throw SecureChannelError.handshakeLength(length: length, expected: SecureChannel.handshakeMessageLength)
            }
        case .awaitingOpen, .awaitingChallenge:
            let limit = isServer ? Self.serverPreludeLimit : Self.clientPreludeLimit
            guard length >= 1, length <= limit else {
                throw SecurePreludeError.fault(.frame, "expected a protocol-\(SecureChannel.protocolVersion) \(isServer ? "open" : "challenge") of at most \(limit) bytes, got a frame of \(length) bytes: the other side is not a codesync of this protocol version")
            }
        case .failed:
            return false
        }
        guard buffer.readableBytes >= 4 + length else { return false }
        buffer.moveReaderIndex(forwardBy: 4)
        let payload = Array(buffer.readSlice(length: length)!.readableBytesView)
        inbound = buffer
        try handle(payload, context: context)
        return true
    }

    private func handle(_ payload: [UInt8], context: ChannelHandlerContext) throws {
        switch step {
        case .open(var transport):
            let record = try transport.open(payload)
            step = .open(transport)
            if case .data(let plaintext) = record {
                context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: plaintext)))
            }
        case .awaitingChallenge(let psk, let session):
            let message = try? MessageCodec.decode(payload)
            switch message {
            case .challenge(let challenge):
                guard challenge.versions.contains(SecureChannel.protocolVersion) else {
                    step = .failed
                    throw SecurePreludeError.versionMismatch(theirs: challenge.versions)
                }
                var initiator = try SecureInitiator(psk: psk, session: session)
                let message1 = try initiator.start()
                step = .awaitingReply(initiator)
                let open = try JSONEncoder.sorted.encode(SecureOpen(session: session, version: SecureChannel.protocolVersion))
                var out = context.channel.allocator.buffer(capacity: open.count + 60)
                out.writeInteger(UInt32(open.count))
                out.writeBytes(open)
                out.writeBytes(SecureRecordReader.wire([message1]))
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            case .error(let error):
                throw SecurePreludeError.refused(error)
            default:
                throw SecurePreludeError.fault(.protocol, "expected a challenge from the server, got \(message.map { "a \($0.type)" } ?? "something that is not a codesync message")")
            }
        case .awaitingReply(var initiator):
            if payload.count == SecureChannel.handshakeMessageLength, payload.first != UInt8(ascii: "{") || (try? MessageCodec.decode(payload)) == nil {
                let transport = try initiator.finish(reply: payload)
                established(transport, context: context)
                return
            }
            // Refused in clear (wrong secret, limits): the server could not seal it for us.
            switch try? MessageCodec.decode(payload) {
            case .error(let error): throw SecurePreludeError.refused(error)
            case .challenge: return  // a failing server's own challenge, written before it refused
            default: throw SecureChannelError.handshakeLength(length: payload.count, expected: SecureChannel.handshakeMessageLength)
            }
        case .awaitingOpen(let responder):
            let open: SecureOpen
            switch try? MessageCodec.decode(payload) {
            case .error(let error):
                // An older joiner that read our challenge and said which version it speaks.
                throw SecurePreludeError.fault(.version, "the joiner runs an older codesync (\(error.message)); it must be upgraded to speak protocol version \(SecureChannel.protocolVersion)")
            case .hello(let hello):
                throw SecurePreludeError.fault(.version, "this side speaks protocol version \(SecureChannel.protocolVersion) (encrypted); you speak version \(hello.version): upgrade codesync")
            default:
                guard let decoded = try? JSONDecoder().decode(SecureOpen.self, from: Data(payload)), decoded.type == "open" else {
                    throw SecurePreludeError.fault(.protocol, "expected the joiner's open (protocol version \(SecureChannel.protocolVersion)), got something else")
                }
                open = decoded
            }
            guard open.version == SecureChannel.protocolVersion else {
                throw SecurePreludeError.fault(.version, "this side speaks protocol version \(SecureChannel.protocolVersion); you speak version \(open.version): install matching versions")
            }
            guard open.session.isEmpty || open.session == responder.session else {
                throw SecurePreludeError.fault(.session, "this host serves session \(responder.session), not \(open.session)")
            }
            step = .awaitingMessage1(responder, prologueSession: open.session)
        case .awaitingMessage1(let responder, let session):
            let outcome: SecureResponder.Outcome
            do {
                outcome = try SecureResponder.respond(to: payload, psks: responder.psks, session: session)
            } catch {
                step = .failed
                throw error
            }
            matchedPSK = outcome.matched
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: SecureRecordReader.wire([outcome.reply]))), promise: nil)
            established(outcome.transport, context: context)
        case .failed:
            break
        }
    }

    /// The handshake is done: what the layers above wrote meanwhile is sealed and sent.
    private func established(_ transport: SecureTransport, context: ChannelHandlerContext) {
        step = .open(transport)
        establishedAt = .now()
        let queued = early
        early = []
        for (buffer, promise) in queued { appendPlain(buffer, promise: promise) }
        flushPlain(context: context)
        context.flush()
    }

    private func failInbound(context: ChannelHandlerContext, _ error: any Error) {
        // The sending side of an open channel still works: the layers above may seal a last `error`.
        inboundFailed = true
        if case .open = step {} else { step = .failed }
        inbound = nil
        guard !reported else { return }
        reported = true
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { checkEnd(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        checkEnd(context: context)
        context.fireChannelInactive()
    }

    /// The stream ended: fine after the other side's close (or ours); a cut otherwise.
    private func checkEnd(context: ChannelHandlerContext) {
        guard !closing, !reported, case .open(let transport) = step else { return }
        if let buffer = inbound, buffer.readableBytes > 0 {
            let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map { 4 + Int($0) } ?? 4
            failInbound(context: context, SecureChannelError.truncated(have: buffer.readableBytes, need: length))
            return
        }
        do { try transport.checkEnd() } catch { failInbound(context: context, error) }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        if case .open = step {
            appendPlain(buffer, promise: promise)
        } else {
            early.append((buffer, promise))
        }
    }

    func flush(context: ChannelHandlerContext) {
        if case .open = step { flushPlain(context: context) }
        context.flush()
    }

    private func appendPlain(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        var buffer = buffer
        if plain == nil { plain = buffer } else { plain!.writeBuffer(&buffer) }
        if let promise { plainPromises.append(promise) }
    }

    /// Seals what was written since the last flush into records and writes them (not flushed).
    private func flushPlain(context: ChannelHandlerContext) {
        guard case .open(var transport) = step, let pending = plain, pending.readableBytes > 0 else { return }
        plain = nil
        let promises = plainPromises
        plainPromises = []
        do {
            let records = try transport.seal(Array(pending.readableBytesView))
            step = .open(transport)
            let promise = promises.isEmpty ? nil : context.eventLoop.makePromise(of: Void.self)
            if let promise { for other in promises { promise.futureResult.cascade(to: other) } }
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: SecureRecordReader.wire(records))), promise: promise)
        } catch {
            for promise in promises { promise.fail(error) }
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard !closing else {
            context.close(mode: mode, promise: promise)
            return
        }
        closing = true
        switch step {
        case .open(var transport):
            flushPlain(context: context)
            if case .open(let current) = step { transport = current }
            if let record = try? transport.sealClose() {
                step = .open(transport)
                context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: SecureRecordReader.wire([record]))), promise: nil)
            }
        default:
            // Not encrypted yet: a refusal the layers above wrote goes out in clear (it is all
            // the joiner can read), never anything else of theirs.
            for (buffer, promise) in early where isServer && Self.isError(buffer) {
                context.write(wrapOutboundOut(buffer), promise: promise)
            }
            early = []
        }
        context.flush()
        context.close(mode: mode, promise: promise)
    }

    private static func isError(_ frame: ByteBuffer) -> Bool {
        var copy = frame
        copy.moveReaderIndex(forwardBy: 4)
        if case .error = try? MessageCodec.decode(copy) { return true }
        return false
    }
}

extension JSONEncoder {
    /// Keys sorted, as every CodeSync frame.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// Benchmarks only (`SessionLimits.plaintextForBenchmark`): the same cleartext prelude as
/// `SecureHandler` (so a relay routes it alike), then the frame stream unencrypted. A peer with
/// encryption on refuses it: its handshake message is not a frame, and a frame is no handshake.
final class PlaintextPrelude: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let isServer: Bool
    private let session: String
    private let sendsChallenge: Bool
    private var buffered: ByteBuffer?
    private var passing = false
    private var early: [(ByteBuffer, EventLoopPromise<Void>?)] = []

    init(session: String, sendsChallenge: Bool) {
        isServer = true
        self.session = session
        self.sendsChallenge = sendsChallenge
        passing = !sendsChallenge
    }

    init(joining session: String) {
        isServer = false
        self.session = session
        sendsChallenge = false
    }

    func channelActive(context: ChannelHandlerContext) {
        if isServer, sendsChallenge,
            let frame = try? MessageCodec.frame(.challenge(Challenge(versions: WireProtocol.supportedVersions, nonce: Auth.generateNonce(), server: "codesync")))
        {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !passing else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        if buffered == nil { buffered = bytes } else { buffered!.writeBuffer(&bytes) }
        guard var buffer = buffered, let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map(Int.init) else { return }
        guard length <= SecureHandler.clientPreludeLimit else { return context.fireErrorCaught(SecurePreludeError.fault(.frame, "prelude frame too long")) }
        guard buffer.readableBytes >= 4 + length else { return }
        buffer.moveReaderIndex(forwardBy: 4)
        let payload = buffer.readSlice(length: length)!
        passing = true
        buffered = nil
        if !isServer {
            guard case .challenge = try? MessageCodec.decode(payload),
                let open = try? JSONEncoder.sorted.encode(SecureOpen(session: session, version: SecureChannel.protocolVersion))
            else { return context.fireErrorCaught(SecurePreludeError.fault(.protocol, "expected a challenge")) }
            var out = context.channel.allocator.buffer(capacity: open.count + 4)
            out.writeInteger(UInt32(open.count))
            out.writeBytes(open)
            context.write(wrapOutboundOut(out), promise: nil)
            for (frame, promise) in early { context.write(wrapOutboundOut(frame), promise: promise) }
            early = []
            context.flush()
        }
        if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if passing || isServer { context.write(data, promise: promise) } else { early.append((unwrapOutboundIn(data), promise)) }
    }
}
