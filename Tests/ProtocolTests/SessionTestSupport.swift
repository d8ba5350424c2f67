import CodeSyncTestSupport
import CodeSyncProtocol
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Limits for tests: quick pings and auth delays, but silence and handshake allowances generous
/// enough for a loaded 2-core machine (the whole suite runs at once; at 5 s, well-behaved peers
/// were dropped there). Tests of the timeouts themselves set their own.
func fastLimits() -> SessionLimits {
    var limits = SessionLimits()
    limits.pingInterval = .milliseconds(200)
    limits.deadAfter = .seconds(20)
    limits.handshakeTimeout = .seconds(20)
    limits.authFailureDelay = .milliseconds(10)
    return limits
}

/// A host server on 127.0.0.1 with an ephemeral port and a document of `text`, no journal.
func startHost(text: String = "", secret: String = "s3cret", limits: SessionLimits = fastLimits()) async throws -> SessionServer {
    try await SessionServer.host(sessionID: "test", secret: secret, bind: "127.0.0.1", port: 0, limits: limits) {
        let replica = Replica(agent: "hub")
        if !text.isEmpty { replica.insert(text, at: 0) }
        return (replica, nil)
    }
}

/// A host server on loopback that also takes joiners through `relay` (blind: the relay forwards
/// their encrypted bytes to this server). Its session id is the one `hostSecret` gives.
func startRelayedHost(relay: SessionServer, hostSecret: String, secret: String = "s3cret", text: String = "",
                      viewSecret: String? = nil, guests: GuestAccess = .editRun, limits: SessionLimits = fastLimits(),
                      approve: Bool = false) async throws -> SessionServer {
    let server = try await SessionServer.host(sessionID: Auth.sessionID(hostSecret: hostSecret), secret: secret, bind: "127.0.0.1", port: 0,
                                              limits: limits, viewSecret: viewSecret, guests: guests, hostSecret: hostSecret, approve: approve) {
        let replica = Replica(agent: "hub")
        if !text.isEmpty { replica.insert(text, at: 0) }
        return (replica, nil)
    }
    do {
        try await server.attachRelay(SessionAddress(host: "127.0.0.1", port: relay.port, session: server.sessionID), hostSecret: hostSecret)
    } catch {
        await server.shutdown()
        throw error
    }
    return server
}

/// Joins `server` as `name`.
func join(_ server: SessionServer, name: String, secret: String = "s3cret", limits: SessionLimits = fastLimits(), session: String = "") async throws -> CollaborationPeer {
    var options = CollaborationPeer.Options(name: name, secret: secret)
    options.limits = limits
    options.connectTimeout = 20  // generous: a join on a loaded 2-core machine
    return try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: server.port, session: session), options: options)
}

/// Polls `peers` until `condition` holds or `timeout` seconds pass; returns whether it held.
@discardableResult
func eventually(_ timeout: Double = 15, peers: [CollaborationPeer] = [], _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        for peer in peers { _ = peer.poll() }
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    for peer in peers { _ = peer.poll() }
    return await condition()
}

/// Runs blocking work on a thread of its own so that it never ties up a thread that runs async
/// work (Swift's global pool has one per core).
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await onOwnThread(body)
}

/// Reads exactly `count` bytes from `fd`; nil at end of stream, on error or on the socket's timeout.
func receiveExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: count)
    var got = 0
    while got < count {
        let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return nil }
        got += n
    }
    return out
}

/// Writes all of `bytes` to `fd`, stopping quietly when the peer has gone (no SIGPIPE).
func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return }
        offset += n
    }
}

/// A listening TCP socket on 127.0.0.1 with an ephemeral port: (descriptor, port).
func loopbackListener(backlog: Int32 = 16) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard fd >= 0, bound else {
        if fd >= 0 { close(fd) }
        throw RawError("cannot listen on 127.0.0.1")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A TCP client that speaks raw bytes, for sending what a well-behaved peer never would.
/// Reads block a thread of their own (see `offPool`), never an async test's thread.
///
/// By default it first completes the secure channel's handshake with `secret` (protocol 4), so
/// what it writes and reads are the frames inside the channel; `plain: true` skips that, to send
/// a server bytes before or instead of the handshake.
final class RawClient: @unchecked Sendable {
    let fd: Int32
    private var transport: SecureTransport?
    private var plaintext: [UInt8] = []
    private var plainStart = 0
    /// Messages the server sent in clear before the channel was up (a refusal), read first.
    private var early: [WireMessage] = []
    private var ended = false
    /// Sealing and opening each change the channel's state: a writer and a reader on two threads
    /// take turns (the socket I/O itself stays outside the lock).
    private let channelLock = NSLock()

    /// `source`: the loopback address to connect from (127.0.0.2 is another client to the server).
    convenience init(port: Int, receiveBuffer: Int? = nil, secret: String = "s3cret", session: String = "", plain: Bool = false,
                     source: String? = nil) throws {
        try self.init(port: port, receiveBuffer: receiveBuffer, source: source)
        if !plain { handshake(secret: secret, session: session) }
    }

    /// The joiner's cleartext `open` (docs/PROTOCOL.md "Connection lifecycle").
    static func open(session: String, version: Int = SecureChannel.protocolVersion) -> [UInt8] {
        Array("{\"session\":\"\(session)\",\"type\":\"open\",\"version\":\(version)}".utf8)
    }

    /// The cleartext prelude and the Noise handshake; a refusal in clear is kept for `read`.
    private func handshake(secret: String, session: String) {
        guard let challenge = readRawFrame(), case .challenge = try? MessageCodec.decode(challenge) else {
            ended = true
            return
        }
        guard var initiator = try? SecureInitiator(psk: SecureChannel.psk(secret: secret), session: session),
            let message1 = try? initiator.start()
        else { return }
        write(frame(Self.open(session: session)) + SecureRecordReader.wire([message1]))
        while let reply = readRawFrame() {
            if reply.count == SecureChannel.handshakeMessageLength, let done = try? initiator.finish(reply: reply) {
                transport = done
                return
            }
            if let message = try? MessageCodec.decode(reply) { early.append(message) }
        }
        ended = true
    }

    private init(port: Int, receiveBuffer: Int? = nil, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawError("socket failed") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { close(fd); throw RawError("cannot bind \(source): \(errno)") }
        }
        if let receiveBuffer {
            var size = Int32(receiveBuffer)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw RawError("connect failed: \(errno)") }
    }

    deinit { close(fd) }

    /// Writes `bytes` into the channel (sealed), or raw on a plain client.
    func write(_ bytes: [UInt8]) {
        let sealed: [[UInt8]]? = channelLock.withLock {
            guard var current = transport, let records = try? current.seal(bytes) else { return nil }
            transport = current
            return records
        }
        guard let sealed else { return channelLock.withLock { transport } == nil ? writeRaw(bytes) : () }
        writeRaw(SecureRecordReader.wire(sealed))
    }

    /// Writes bytes on the socket as they are (after the channel: a forged record).
    func writeRaw(_ bytes: [UInt8]) { sendAll(fd, bytes) }

    func write(_ message: WireMessage) throws {
        write(frame(try MessageCodec.encode(message)))
    }

    func frame(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
    }

    /// Ends the writing side: with the channel's authenticated close first, so the server sees a
    /// finished channel and judges only the frames inside it.
    func shutdownWrite() {
        let close: [UInt8]? = channelLock.withLock {
            guard var current = transport, let close = try? current.sealClose() else { return nil }
            transport = current
            return close
        }
        if let close { writeRaw(SecureRecordReader.wire([close])) }
        shutdown(fd, Int32(SHUT_WR))
    }

    private func readRawFrame() -> [UInt8]? {
        guard let prefix = readSocket(4) else { return nil }
        let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
        return readSocket(length)
    }

    /// `count` bytes of the frame stream: inside the channel, opened from records.
    private func readExactly(_ count: Int) -> [UInt8]? {
        guard channelLock.withLock({ transport }) != nil else { return readSocket(count) }
        while plaintext.count - plainStart < count {
            guard let record = readRawFrame() else { return nil }
            let opened: SecureTransport.Record? = channelLock.withLock {
                guard var current = transport, let opened = try? current.open(record) else { return nil }
                transport = current
                return opened
            }
            guard case .data(let bytes)? = opened else { return nil }
            if plainStart > 0 {
                plaintext.removeFirst(plainStart)
                plainStart = 0
            }
            plaintext += bytes
        }
        defer { plainStart += count }
        return Array(plaintext[plainStart..<plainStart + count])
    }

    private func readSocket(_ count: Int) -> [UInt8]? { receiveExactly(fd, count) }

    /// The next frame's payload as it is (a relay's routing frames are not wire messages).
    func readPayload() async -> [UInt8]? { (try? await offPool { self.readRawFrame() }) ?? nil }

    /// The next message, nil at end of stream (or after 20 s of silence).
    func read() async -> WireMessage? { (try? await offPool { self.readBlocking() }) ?? nil }

    /// Reads until an `error` frame; returns it (nil if the stream ended first).
    func readError() async -> ErrorMessage? { (try? await offPool { self.readErrorBlocking() }) ?? nil }

    /// True when the server has closed the connection (reads drain to end of stream).
    func isClosedByServer() async -> Bool { (try? await offPool { self.isClosedBlocking() }) ?? false }

    /// Completes the handshake as a guest that knows `secret`; returns the welcome.
    func authenticate(secret: String = "s3cret", peer: String = "raw-1", version: Int = WireProtocol.version) async throws -> Welcome? {
        try await offPool { try self.authenticateBlocking(secret: secret, peer: peer, version: version) }
    }

    private func readBlocking() -> WireMessage? {
        if !early.isEmpty { return early.removeFirst() }
        if ended && transport == nil { return nil }
        guard let prefix = readExactly(4) else { return nil }
        let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
        guard let payload = readExactly(length) else { return nil }
        return try? MessageCodec.decode(payload)
    }

    private func readErrorBlocking() -> ErrorMessage? {
        while let message = readBlocking() {
            if case .error(let error) = message { return error }
        }
        return nil
    }

    private func isClosedBlocking() -> Bool {
        while readBlocking() != nil {}
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    private func authenticateBlocking(secret: String, peer: String, version: Int) throws -> Welcome? {
        guard case .challenge(let challenge) = readBlocking() else { return nil }
        let nonce = Auth.generateNonce()
        let key = Auth.sessionKey(secret: secret)
        let proof = Auth.joinProof(key: key, serverNonce: challenge.nonce, clientNonce: nonce, session: "", peer: peer)
        try write(.hello(Hello(version: version, session: "", peer: peer, name: "raw", role: .guest, nonce: nonce, proof: proof,
                               known: Replica(agent: "x").version)))
        while let message = readBlocking() {
            if case .welcome(let welcome) = message { return welcome }
            if case .error = message { return nil }
        }
        return nil
    }
}

struct RawError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
