import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Each fault hits a live session with two well-behaved peers; the offender gets an `error`
/// frame and is disconnected, the others carry on.
@Suite(.ownThreads, .timeLimit(.minutes(1))) struct FaultTests {
    /// Runs `fault` against a session with two bystanders, then checks they are undisturbed.
    /// The raw client sends no pings: give it a long silence allowance, so that on a loaded machine
    /// the server reports the fault under test rather than a timeout.
    private static func faultLimits() -> SessionLimits {
        var limits = fastLimits()
        limits.deadAfter = .seconds(60)
        limits.handshakeTimeout = .seconds(60)
        return limits
    }

    private func withBystanders(limits: SessionLimits = faultLimits(), _ fault: (SessionServer, CollaborationPeer) async throws -> Void) async throws {
        let server = try await startHost(text: "start", limits: limits)
        let alice = try await join(server, name: "alice", limits: limits)
        let bob = try await join(server, name: "bob", limits: limits)
        try await fault(server, alice)
        alice.insert(" alice", at: alice.scalarCount)
        bob.insert("bob ", at: 0)
        let fine = await eventually(peers: [alice, bob]) {
            alice.isConnected && bob.isConnected && alice.isSynced && bob.isSynced && alice.text == bob.text && alice.text.contains("alice")
                && alice.text.contains("bob")
        }
        #expect(fine, "bystanders disturbed: \(alice.text) / \(bob.text)")
        #expect(await eventually { await server.connectedPeers() == 2 })
        await alice.close(); await bob.close(); await server.shutdown()
    }

    @Test func oversizedFrame() async throws {
        var limits = Self.faultLimits()
        limits.maxPayload = 64 * 1024
        try await withBystanders(limits: limits) { server, _ in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate() != nil)
            raw.write([0x00, 0x01, 0x00, 0x01])  // 65537 bytes announced
            let error = await raw.readError()
            #expect(error?.code == .frame)
            #expect(error?.message.contains("over the limit") == true)
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func malformedJSON() async throws {
        try await withBystanders { server, _ in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate() != nil)
            raw.write(raw.frame(Array("{\"type\":\"ops\", nope".utf8)))
            #expect(await raw.readError()?.code == .json)
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func hostileNumbersInAnUpdateAreRefusedNotACrash() async throws {
        try await withBystanders { server, _ in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate() != nil)
            // A delete span whose start minus count overflows Int: once, this killed the host.
            raw.write(raw.frame(Array(#"{"type":"ops","peer":"raw-1","seq":1,"update":{"a":["raw-1"],"o":[[1,0,0,0,-9223372036854775807,-5]]}}"#.utf8)))
            let error = await raw.readError()
            #expect(error?.code == .json || error?.code == .document, "\(String(describing: error))")
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func unknownTypeBeforeTheHandshake() async throws {
        try await withBystanders { server, _ in
            let raw = try RawClient(port: server.port)
            raw.write(raw.frame(Array(#"{"type":"teleport","to":"mars"}"#.utf8)))
            let error = await raw.readError()
            #expect(error?.code == .protocol)
            #expect(error?.message.contains("teleport") == true)
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func unknownTypeAfterTheHandshakeIsIgnored() async throws {
        try await withBystanders { server, _ in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate() != nil)
            raw.write(raw.frame(Array(#"{"type":"cursor.v9","peer":"raw-1"}"#.utf8)))
            try raw.write(.ping(Ping(id: 77)))
            var answered = false
            while let message = await raw.read() {
                if case .pong(let pong) = message, pong.id == 77 { answered = true; break }
                if case .error = message { break }
            }
            #expect(answered, "a newer peer's message type must not be fatal")
            try raw.write(.bye(Bye()))
        }
    }

    @Test func frameCutInHalf() async throws {
        try await withBystanders { server, _ in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate() != nil)
            let whole = raw.frame(try MessageCodec.encode(.ping(Ping(id: 1))))
            raw.write(Array(whole[0..<(whole.count / 2)]))
            raw.shutdownWrite()
            let error = await raw.readError()
            #expect(error?.code == .frame)
            #expect(error?.message.contains("mid-frame") == true)
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func frameCutInHalfThenSilence() async throws {
        // Here the silence is the fault: the server must give up on it (within its limit of 8 s;
        // the bystanders answer pings every 200 ms, so only the raw client is silent that long).
        var limits = fastLimits()
        limits.deadAfter = .seconds(8)
        limits.handshakeTimeout = .seconds(8)
        try await withBystanders(limits: limits) { server, _ in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate() != nil)
            let whole = raw.frame(try MessageCodec.encode(.ping(Ping(id: 1))))
            raw.write(Array(whole[0..<(whole.count / 2)]))
            #expect(await raw.readError()?.code == .timeout)
            #expect(await raw.isClosedByServer())
        }
    }

    @Test(arguments: [1, 2, 3])
    func randomBytes(seed: UInt64) async throws {
        try await withBystanders { server, _ in
            var generator = SeededGenerator(seed: seed)
            let raw = try RawClient(port: server.port)
            raw.write((0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let error = await raw.readError()
            #expect(error != nil)
            #expect([.frame, .json, .protocol].contains(error?.code))
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func wrongSecret() async throws {
        try await withBystanders { server, _ in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate(secret: "wrong") == nil)
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func opsForgedInAnotherPeersName() async throws {
        try await withBystanders { server, alice in
            let raw = try RawClient(port: server.port)
            #expect(try await raw.authenticate() != nil)
            let forger = Replica(agent: alice.id)
            try raw.write(.ops(Ops(peer: alice.id, seq: 1, update: forger.insert("forged", at: 0))))
            #expect(await raw.readError()?.code == .protocol)
            #expect(await raw.isClosedByServer())
        }
    }

    @Test func slowReaderThatNeverReadsIsCutOff() async throws {
        var limits = fastLimits()
        limits.writeHighWater = 16 * 1024
        limits.writeLowWater = 4 * 1024
        limits.maxBacklog = 64 * 1024
        limits.socketSendBuffer = 16 * 1024
        limits.deadAfter = .seconds(30)  // the slow reader sends nothing; only the backlog may cut it off
        try await withBystanders(limits: limits) { server, alice in
            let raw = try RawClient(port: server.port, receiveBuffer: 4096)
            #expect(try await raw.authenticate() != nil)
            #expect(await server.connectedPeers() == 3)
            // Alice types a lot; the raw client never reads a byte of it.
            let chunk = String(repeating: "z", count: 4 * 1024)
            var cut = false
            for _ in 0..<200 where !cut {
                alice.insert(chunk, at: 0)
                _ = alice.poll()
                try await Task.sleep(for: .milliseconds(2))
                cut = await server.connectedPeers() == 2
            }
            if !cut { cut = await eventually { await server.connectedPeers() == 2 } }
            #expect(cut, "the slow reader was never cut off")
            alice.delete(at: 0, count: alice.scalarCount - 5)
        }
    }

    @Test func aJoinerRefusesAnImpostorThatDoesNotKnowTheSecret() async throws {
        let impostor = try ImpostorServer()
        var options = CollaborationPeer.Options(name: "alice", secret: "real-secret")
        options.connectTimeout = 5
        await #expect(throws: SessionError.hostNotAuthentic) {
            _ = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: impostor.port), options: options)
        }
        impostor.stop()
    }
}

/// A fake host that accepts one connection and welcomes it without knowing the secret.
final class ImpostorServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw RawError("cannot listen") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        Thread {
            // This thread closes the listener (see `stop`).
            defer { close(listener) }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            func write(_ message: WireMessage) {
                guard let payload = try? MessageCodec.encode(message) else { return }
                let n = UInt32(payload.count)
                let bytes = [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
                _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            write(.challenge(Challenge(versions: WireProtocol.supportedVersions, nonce: Auth.generateNonce(), server: "impostor")))
            var buffer = [UInt8](repeating: 0, count: 65536)
            _ = recv(client, &buffer, buffer.count, 0)  // the open and Noise message 1, useless without the PSK
            // The best it can do: a handshake answer of the right size, made up (it cannot mix in the PSK).
            let reply = [0, 0, 0, 48] + (0..<48).map { _ in UInt8.random(in: 0...255) }
            _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            _ = recv(client, &buffer, buffer.count, 0)
        }.start()
    }

    /// Shut down only: the accepting thread closes it, so its number is never reused under that thread.
    func stop() { shutdown(fd, Int32(SHUT_RDWR)) }
}
