import CodeSyncTestSupport
@_spi(Wire) import CodeSyncDocument
import CodeSyncProtocol
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Who may say what (issue 12): a connection types only in its own name, a peer id belongs to
/// whoever first proved it, and a relay holds nothing that makes it the host.
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct HostileIdentityTests {
    static let hostSecret = "h0st-secret"

    /// Like `fastLimits`, but a silent client is dropped only after a minute: the raw clients here
    /// answer no pings, and on a loaded CI machine a test's steps took longer than the usual 5 s.
    static func rawFriendlyLimits() -> SessionLimits {
        var limits = fastLimits()
        limits.deadAfter = .seconds(60)
        // A fresh CI machine once took over 5 s from a raw client's connect to its hello.
        limits.handshakeTimeout = .seconds(60)
        return limits
    }

    private func server(text: String = "hello\n") async throws -> SessionServer {
        try await SessionServer.host(sessionID: "ident", secret: "s3cret", bind: "127.0.0.1", port: 0, limits: Self.rawFriendlyLimits(),
                                     viewSecret: "w4tch", hostSecret: Self.hostSecret) {
            let replica = Replica(agent: "hub")
            if !text.isEmpty { replica.insert(text, at: 0) }
            return (replica, nil)
        }
    }

    private func peer(_ address: SessionAddress, name: String, secret: String = "s3cret", role: PeerRole = .guest) async throws -> CollaborationPeer {
        var options = CollaborationPeer.Options(name: name, secret: secret)
        options.limits = fastLimits()
        options.connectTimeout = 30
        options.role = role
        options.hostSecret = role == .guest ? nil : Self.hostSecret
        return try await CollaborationPeer.join(address, options: options)
    }

    private func peer(_ server: SessionServer, name: String, secret: String = "s3cret", role: PeerRole = .guest) async throws -> CollaborationPeer {
        try await peer(SessionAddress(host: "127.0.0.1", port: server.port), name: name, secret: secret, role: role)
    }

    /// An insert of `text` at the document's start, authored by `agent` as its operation `seq`.
    static func insert(_ text: String, by agent: String, seq: Int) -> Update {
        Update(ops: [.insert(Update.InsertOp(agent: agent, seq: seq, left: nil, right: nil, text: text))])
    }

    @Test func opsAuthoredByAnotherAgentAreRefusedBeforeTheyTouchTheDocument() async throws {
        let server = try await server()
        let host = try await peer(server, name: "host", role: .host)
        let ann = try await peer(server, name: "ann")
        let raw = try RawClient(port: server.port)
        let welcome = try #require(try await RawHandshake.guest(raw, peer: "mallory-1"))
        // The issue's row: the host's document agent with its next operation number.
        let next = welcome.known["hub"]
        try raw.write(.ops(Ops(peer: "mallory-1", seq: 1, update: Self.insert("EVIL", by: "hub", seq: next))))
        let answer = await RawHandshake.nextNonPing(raw)
        guard case .refused(let refused) = answer else {
            Issue.record("a forged author was not refused: \(String(describing: answer))")
            return
        }
        #expect(refused.what == "ops" && refused.message.contains("hub") && refused.message.contains("only send your own"), "\(refused)")
        // Another member's id, and a mix of own and foreign ops: refused too, and nothing of it applied.
        try raw.write(.ops(Ops(peer: "mallory-1", seq: 2, update: Self.insert("mine", by: "mallory-1", seq: 0)
            .merged(with: Self.insert("ANN", by: ann.id, seq: 100)))))
        guard case .refused = await RawHandshake.nextNonPing(raw) else {
            Issue.record("a mixed update was not refused")
            return
        }
        #expect(await server.text() == "hello\n")
        // The squatted numbers stay the real authors': their edits still arrive everywhere.
        host.insert("H", at: 0)
        ann.insert("A", at: ann.scalarCount)
        #expect(await eventually(peers: [host, ann]) {
            let text = await server.text()
            return text == "Hhello\nA" && host.text == text && ann.text == text
        }, "host \(host.text.debugDescription), ann \(ann.text.debugDescription)")
        // A guest's own ops still go through (the check refuses only other authors).
        let honest = try RawClient(port: server.port)
        let second = try #require(try await RawHandshake.guest(honest, peer: "raw-2"))
        #expect(second.update.operationCount > 0)
        try honest.write(.ops(Ops(peer: "raw-2", seq: 1, update: Self.insert("ok ", by: "raw-2", seq: 0))))
        guard case .ack(let ack) = await RawHandshake.nextNonPing(honest) else {
            Issue.record("a guest's own op was not acknowledged")
            return
        }
        #expect(ack.seq == 1)
        #expect(await eventually(peers: [host, ann]) { ann.text.contains("ok ") && host.text == ann.text })
        // Nor may a guest ask for a run in another's name (the host shows who asked).
        try honest.write(.runRequest(RunRequestMessage(peer: ann.id, language: "python", source: "print(1)\n")))
        guard case .refused(let runRefused) = await RawHandshake.nextNonPing(honest) else {
            Issue.record("a run request in another's name was not refused")
            return
        }
        #expect(runRefused.what == "run.request" && runRefused.message.contains("only ask as yourself"), "\(runRefused)")
        for peer in [host, ann] { await peer.close() }
        await server.shutdown()
    }

    @Test func aHelloReusingTheHostsIdIsRefusedAndTheHostStays() async throws {
        let server = try await server()
        let host = try await peer(server, name: "host", role: .host)
        let ann = try await peer(server, name: "ann")
        for (id, secret) in [(host.id, "s3cret"), (host.id, "w4tch"), ("hub", "s3cret")] {
            let raw = try RawClient(port: server.port)
            let answer = try await RawHandshake.hello(raw) { nonce, clientNonce in
                RawHandshake.guestHello(secret: secret, peer: id, serverNonce: nonce, clientNonce: clientNonce)
            }
            guard case .error(let error) = answer else {
                Issue.record("a hello reusing \(id) (secret \(secret)) was answered \(String(describing: answer))")
                continue
            }
            #expect(error.code == .auth && error.message.contains("belongs to another member"), "\(error)")
        }
        // Nobody was evicted: the host's edits still reach the guest and the other way round.
        host.insert("H", at: 0)
        ann.insert("A", at: 0)
        #expect(await eventually(peers: [host, ann]) { host.text.count == 8 && host.text == ann.text && host.isConnected })
        #expect(await server.text() == host.text)
        for peer in [host, ann] { await peer.close() }
        await server.shutdown()
    }

    @Test func aGuestsIdCannotBeTakenWhileConnectedNorAfterItLeft() async throws {
        let server = try await server()
        let ann = try await peer(server, name: "ann")
        let bob = try await peer(server, name: "bob")
        let (annID, bobID) = (ann.id, bob.id)
        ann.insert("a", at: 0)
        #expect(await eventually(peers: [ann, bob]) { bob.text == "ahello\n" })
        func claim(_ id: String) async throws -> ErrorMessage? {
            let raw = try RawClient(port: server.port)
            let answer = try await RawHandshake.hello(raw) { nonce, clientNonce in
                RawHandshake.guestHello(secret: "s3cret", peer: id, serverNonce: nonce, clientNonce: clientNonce)
            }
            if case .error(let error) = answer { return error }
            return nil
        }
        #expect(try await claim(annID)?.code == .auth, "ann's id was taken while she was connected")
        #expect(ann.isConnected)
        await ann.close()
        await bob.close()
        #expect(await eventually { await server.connectedPeers() == 0 })
        // Ann authored ops; Bob only ever got a token: both ids stay theirs.
        #expect(try await claim(annID)?.code == .auth, "ann's id was taken after she left")
        #expect(try await claim(bobID)?.code == .auth, "bob's id was taken after he left")
        // A fresh id is welcome.
        #expect(try await claim("carol-1") == nil)
        await server.shutdown()
    }

    @Test func aReconnectProvingItsTokenKeepsItsIdAndAWrongTokenDoesNot() async throws {
        let server = try await server()
        let ann = try await peer(server, name: "ann")
        let host = try await peer(server, name: "host", role: .host)
        // The library's own reconnect, with an edit made while the link was down.
        ann.simulateNetworkDrop()
        ann.insert("offline ", at: 0)
        #expect(await eventually(peers: [ann, host]) { ann.isSynced && host.text == "offline hello\n" }, "ann did not come back: \(ann.text)")

        // On the wire: the token comes masked in the welcome; a second connection proves it.
        let first = try RawClient(port: server.port)
        var handshake: (serverNonce: String, clientNonce: String) = ("", "")
        let answer = try await RawHandshake.hello(first) { nonce, clientNonce in
            handshake = (nonce, clientNonce)
            return RawHandshake.guestHello(secret: "s3cret", peer: "raw-t", serverNonce: nonce, clientNonce: clientNonce)
        }
        guard case .welcome(let welcome) = answer, let masked = welcome.token else {
            Issue.record("no token in the welcome: \(String(describing: answer))")
            return
        }
        let key = Auth.sessionKey(secret: "s3cret")
        let token = try #require(Auth.unmaskToken(masked, key: key, serverNonce: handshake.serverNonce, clientNonce: handshake.clientNonce, peer: "raw-t"))
        #expect(!masked.contains(Auth.hex(token)), "the token travelled in clear")
        let wrong = try RawClient(port: server.port)
        let refused = try await RawHandshake.hello(wrong) { nonce, clientNonce in
            var hello = RawHandshake.guestHello(secret: "s3cret", peer: "raw-t", serverNonce: nonce, clientNonce: clientNonce)
            hello.token = Auth.tokenProof(token: Array(repeating: 7, count: 32), serverNonce: nonce, clientNonce: clientNonce, session: "", peer: "raw-t")
            return hello
        }
        guard case .error(let error) = refused, error.code == .auth else {
            Issue.record("a wrong token was accepted: \(String(describing: refused))")
            return
        }
        let again = try RawClient(port: server.port)
        let back = try await RawHandshake.hello(again) { nonce, clientNonce in
            var hello = RawHandshake.guestHello(secret: "s3cret", peer: "raw-t", serverNonce: nonce, clientNonce: clientNonce)
            hello.token = Auth.tokenProof(token: token, serverNonce: nonce, clientNonce: clientNonce, session: "", peer: "raw-t")
            return hello
        }
        guard case .welcome(let rewelcome) = back else {
            Issue.record("the right token was refused: \(String(describing: back))")
            return
        }
        #expect(rewelcome.peer == "raw-t")
        // The proven reconnect replaces the old connection, as an honest reconnect does.
        #expect(await first.isClosedByServer())
        for peer in [ann, host] { await peer.close() }
        await server.shutdown()
    }

    @Test func aHostsBridgeStillCarriesEditsBothWaysBetweenItsPortAndARelay() async throws {
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: Self.rawFriendlyLimits())
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-bridge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("main.py")
        try "print(1)\n".write(to: file, atomically: true, encoding: .utf8)
        var options = HostSession.Options(file: file, name: "host")
        options.port = 0
        options.relay = SessionAddress(host: "127.0.0.1", port: relay.port)
        options.listenToo = true
        options.limits = fastLimits()
        options.stateDirectory = folder.appendingPathComponent("state")
        let session = try await HostSession.start(options)
        let relayed = try #require(session.bridgedRelayAddress)
        let direct = try await peer(session.joinAddress, name: "ann", secret: session.secret)
        let remote = try await peer(relayed, name: "rob", secret: session.secret)
        direct.insert("# ann\n", at: 0)
        remote.insert("# rob\n", at: remote.scalarCount)
        #expect(await eventually(peers: [direct, remote, session.peer]) {
            direct.text == remote.text && remote.text == session.peer.text && direct.text.contains("# ann") && direct.text.contains("# rob")
        }, "direct \(direct.text.debugDescription), relay \(remote.text.debugDescription)")
        for peer in [direct, remote] { await peer.close() }
        try await session.shutdown(save: false)
        await relay.shutdown()
    }

    @Test func theRelayNeverReceivesAKeyOfTheSession() async throws {
        let hostKey = Auth.sessionKey(secret: Self.hostSecret)
        let captured = try await FakeRelay.captureRegistration(hostSecret: Self.hostSecret, secret: "s3cret", viewSecret: "w4tch")
        let text = String(decoding: captured.payload, as: UTF8.self)
        // Every key that opens, forges or replays the session's traffic, or proves the host.
        let relayKey = Auth.relayHostKey(hostKey: hostKey)
        let keys = [Auth.keyHex(hostKey), Auth.keyHex(relayKey), Auth.keyHex(Auth.sessionKey(secret: "s3cret")),
                    Auth.keyHex(Auth.sessionKey(secret: "w4tch")), Auth.hex(SecureChannel.psk(secret: "s3cret")),
                    Auth.hex(SecureChannel.psk(secret: "w4tch"))]
        for key in keys { #expect(!text.contains(key), "the relay received a key of the session: \(text)") }
        #expect(!text.contains(Self.hostSecret) && !text.contains("s3cret") && !text.contains("w4tch"), "a secret reached the relay")
        // All it gets: the session id, a public key whose hash is that id, and a signature over its own nonce.
        #expect(Set(captured.fields.keys) == ["key", "session", "signature", "type", "version"], "\(captured.fields)")
        let session = Auth.sessionID(hostSecret: Self.hostSecret)
        #expect(captured.fields["session"] as? String == session)
        #expect(captured.fields["key"] as? String == Auth.relayRegistrationProof(hostSecret: Self.hostSecret, nonce: captured.serverNonce, session: session).key)
    }

    @Test func aRelayRegistersASessionOnlyAfterAFreshSignature() async throws {
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: Self.rawFriendlyLimits())
        let session = Auth.sessionID(hostSecret: Self.hostSecret)
        func register(replaying: Bool) async throws -> (WireMessage?, RawClient) {
            let raw = try RawClient(port: relay.port, plain: true)
            guard case .challenge(let challenge) = await raw.read() else { return (nil, raw) }
            // A registration someone saw on the wire, signed over another connection's nonce.
            let nonce = replaying ? Auth.generateNonce() : challenge.nonce
            let proof = Auth.relayRegistrationProof(hostSecret: Self.hostSecret, nonce: nonce, session: session)
            let json = "{\"key\":\"\(proof.key)\",\"session\":\"\(session)\",\"signature\":\"\(proof.signature)\",\"type\":\"register\",\"version\":4}"
            raw.write(raw.frame(Array(json.utf8)))
            return (await raw.read(), raw)
        }
        let (replayed, _) = try await register(replaying: true)
        guard case .error(let error) = replayed else {
            Issue.record("a replayed registration was answered \(String(describing: replayed))")
            return
        }
        #expect(error.code == .auth && error.message == "wrong secret")
        #expect(await relay.sessionCount() == 0, "the relay kept a session whose registration it had not verified")
        // Kept open: the relay holds a session while its host's control connection is up.
        let (fresh, control) = try await register(replaying: false)
        guard case .unknown("registered") = fresh else {
            Issue.record("a fresh registration was answered \(String(describing: fresh))")
            return
        }
        #expect(await eventually { await relay.sessionCount() == 1 })
        _ = control
        await relay.shutdown()
    }

    @Test func whatARelayHoldsCannotJoinTheDirectPortAsHost() async throws {
        let server = try await server()
        let host = try await peer(server, name: "host", role: .host)
        // All a relay holds of a session: its id and the public key in the registration.
        let captured = try await FakeRelay.captureRegistration(hostSecret: Self.hostSecret, secret: "s3cret", viewSecret: "w4tch")
        let publicKey = try #require((captured.fields["key"] as? String).flatMap(Auth.key(fromHex:)))
        let relaySession = try #require(captured.fields["session"] as? String)
        for role in [PeerRole.host, .bridge] {
            for session in ["", relaySession] {
                let raw = try RawClient(port: server.port)
                let answer = try await RawHandshake.hello(raw) { nonce, clientNonce in
                    Hello(version: WireProtocol.version, session: session, peer: "relay-host", name: "relay", role: role, nonce: clientNonce,
                          proof: Auth.joinProof(key: publicKey, serverNonce: nonce, clientNonce: clientNonce, session: session, peer: "relay-host"),
                          known: VersionVector())
                }
                guard case .error(let error) = answer else {
                    Issue.record("a relay's key joined the direct port as \(role) (session '\(session)'): \(String(describing: answer))")
                    continue
                }
                #expect(error.code == .auth || error.code == .session, "\(error)")
            }
        }
        // Nor can its key open the secure channel: the handshake needs the secret's PSK.
        let stranger = try RawClient(port: server.port, secret: Auth.keyHex(publicKey))
        #expect(await stranger.readError()?.message == "wrong secret")
        #expect(host.isConnected)
        await host.close()
        await server.shutdown()
    }
}

/// Handshakes of a raw client with a hello of the test's choosing.
enum RawHandshake {
    /// A guest's hello proving `secret` for `peer`.
    static func guestHello(secret: String, peer: String, serverNonce: String, clientNonce: String, session: String = "") -> Hello {
        Hello(version: WireProtocol.version, session: session, peer: peer, name: "raw", role: .guest, nonce: clientNonce,
              proof: Auth.joinProof(key: Auth.sessionKey(secret: secret), serverNonce: serverNonce, clientNonce: clientNonce, session: session, peer: peer),
              known: VersionVector())
    }

    /// Reads the challenge, sends `make(serverNonce, clientNonce)`, returns the welcome or error (nil: closed).
    static func hello(_ raw: RawClient, _ make: (String, String) -> Hello) async throws -> WireMessage? {
        guard case .challenge(let challenge) = await raw.read() else { return nil }
        try raw.write(.hello(make(challenge.nonce, Auth.generateNonce())))
        while let message = await raw.read() {
            switch message {
            case .welcome, .error: return message
            default: continue
            }
        }
        return nil
    }

    /// Authenticates as a guest with the edit secret; the welcome, nil when refused.
    static func guest(_ raw: RawClient, peer: String, secret: String = "s3cret") async throws -> Welcome? {
        let answer = try await hello(raw) { guestHello(secret: secret, peer: peer, serverNonce: $0, clientNonce: $1) }
        if case .welcome(let welcome) = answer { return welcome }
        return nil
    }

    /// The next message that is not a ping, presence or other peers' traffic (nil: closed).
    static func nextNonPing(_ raw: RawClient) async -> WireMessage? {
        while let message = await raw.read() {
            switch message {
            case .ping, .pong, .presence, .ops, .left, .roles: continue
            default: return message
            }
        }
        return nil
    }
}

/// A listener that plays a relay for one connection: sends a challenge, keeps the hello, refuses it.
enum FakeRelay {
    struct Capture: @unchecked Sendable {
        var payload: [UInt8]
        var fields: [String: Any]
        var serverNonce: String
    }

    /// What a host's relay link sends a relay when registering its session.
    static func captureRegistration(hostSecret: String, secret: String, viewSecret: String) async throws -> Capture {
        let listener = try Listener()
        let port = listener.port
        let nonce = Auth.generateNonce()
        let capture = Task { try await offPool { try listener.serveOnce(nonce: nonce) } }
        let session = Auth.sessionID(hostSecret: hostSecret)
        let server = try await SessionServer.host(sessionID: session, secret: secret, bind: "127.0.0.1", port: 0, limits: fastLimits(),
                                                  viewSecret: viewSecret, guests: .edit, hostSecret: hostSecret) { (Replica(agent: "hub"), nil) }
        await #expect(throws: SessionError.self) {
            try await server.attachRelay(SessionAddress(host: "127.0.0.1", port: port, session: session), hostSecret: hostSecret)
        }
        await server.shutdown()
        let payload = try await capture.value
        guard let fields = try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any], fields["type"] as? String == "register" else {
            throw RawError("the host did not send a registration: \(String(decoding: payload, as: UTF8.self))")
        }
        return Capture(payload: payload, fields: fields, serverNonce: nonce)
    }

    final class Listener: @unchecked Sendable {
        let fd: Int32
        let port: Int

        init() throws {
            (fd, port) = try loopbackListener(backlog: 4)
        }

        deinit { close(fd) }

        /// Accepts one connection, sends a challenge, returns the first frame's payload, then refuses it.
        func serveOnce(nonce: String) throws -> [UInt8] {
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let client = accept(fd, nil, nil)
            guard client >= 0 else { throw RawError("nobody connected to the fake relay") }
            defer { close(client) }
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            func send(_ message: WireMessage) throws {
                let frame = try MessageCodec.frame(message)
                _ = frame.readableBytesView.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            func read(_ count: Int) throws -> [UInt8] {
                guard let bytes = receiveExactly(client, count) else { throw RawError("the hello never came") }
                return bytes
            }
            try send(.challenge(Challenge(versions: WireProtocol.supportedVersions, nonce: nonce, server: "fake relay")))
            let prefix = try read(4)
            let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
            let payload = try read(length)
            try send(.error(ErrorMessage(code: .auth, message: "wrong secret")))
            return payload
        }
    }
}
