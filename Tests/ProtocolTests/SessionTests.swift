import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

@Suite(.ownThreads, .timeLimit(.minutes(1))) struct SessionTests {
    @Test func joinersGetTheDocumentAndConcurrentEditsConverge() async throws {
        let server = try await startHost(text: "hello\n")
        let alice = try await join(server, name: "alice")
        let bob = try await join(server, name: "bob")
        _ = alice.poll(); _ = bob.poll()
        #expect(alice.text == "hello\n")
        #expect(bob.text == "hello\n")
        for round in 0..<20 {
            alice.insert("a\(round)", at: round % max(1, alice.scalarCount))
            bob.insert("b\(round)", at: 0)
            if round % 5 == 0 { bob.delete(at: 1, count: 1) }
        }
        let converged = await eventually(peers: [alice, bob]) {
            alice.text == bob.text && alice.isSynced && bob.isSynced
        }
        #expect(converged)
        #expect(await server.text() == alice.text)
        #expect(alice.text.contains("a19") && alice.text.contains("b19"))
        await alice.close(); await bob.close(); await server.shutdown()
    }

    @Test func presenceSticksToCharactersAndColoursAreDistinct() async throws {
        let server = try await startHost(text: "0123456789")
        let alice = try await join(server, name: "alice")
        let bob = try await join(server, name: "bob")
        let carol = try await join(server, name: "carol")
        _ = alice.poll(); _ = bob.poll(); _ = carol.poll()
        bob.setPresence(cursor: 5, selection: 5..<8)
        #expect(await eventually(peers: [alice]) { alice.presences.first { $0.name == "bob" }?.cursor == 5 })
        #expect(alice.presences.first { $0.name == "bob" }?.selection == 5..<8)
        // Text inserted before Bob's cursor by someone else moves it along with its character.
        carol.insert("abc", at: 0)
        #expect(await eventually(peers: [alice]) { alice.text.hasPrefix("abc") })
        #expect(alice.presences.first { $0.name == "bob" }?.cursor == 8)
        #expect(alice.presences.first { $0.name == "bob" }?.selection == 8..<11)
        let colours = [alice.colourIndex, bob.colourIndex, carol.colourIndex]
        #expect(Set(colours).count == 3)
        #expect(colours.allSatisfy { (0...7).contains($0) })
        await alice.close(); await bob.close(); await carol.close(); await server.shutdown()
    }

    @Test func aPeerThatLeavesDisappearsFromTheOthers() async throws {
        let server = try await startHost()
        let alice = try await join(server, name: "alice")
        let bob = try await join(server, name: "bob")
        #expect(await eventually(peers: [alice]) { alice.presences.contains { $0.name == "bob" } })
        await bob.close()
        #expect(await eventually(10, peers: [alice]) { !alice.presences.contains { $0.name == "bob" } })
        await alice.close(); await server.shutdown()
    }

    @Test func aSilentHalfOpenPeerIsDroppedWithinSeconds() async throws {
        var limits = fastLimits()
        limits.deadAfter = .seconds(6)  // long enough for alice to see it join on a loaded CI machine (2 s was not)
        let server = try await startHost(limits: limits)
        let alice = try await join(server, name: "alice")
        let raw = try RawClient(port: server.port)
        #expect(try await raw.authenticate() != nil)
        #expect(await eventually(peers: [alice]) { alice.presences.contains { $0.id == "raw-1" } })
        // The raw client never answers pings: the server must notice and tell the others.
        #expect(await eventually(15, peers: [alice]) { !alice.presences.contains { $0.id == "raw-1" } })
        await alice.close(); await server.shutdown()
    }

    @Test func offlineEditsMergeAfterReconnecting() async throws {
        let server = try await startHost(text: "base")
        let alice = try await join(server, name: "alice")
        let bob = try await join(server, name: "bob")
        _ = alice.poll(); _ = bob.poll()
        alice.simulateNetworkDrop()
        alice.insert("[alice offline]", at: 0)
        bob.insert("[bob online]", at: 4)
        alice.insert("!", at: alice.scalarCount)
        let converged = await eventually(10, peers: [alice, bob]) {
            alice.isConnected && alice.isSynced && bob.isSynced && alice.text == bob.text
        }
        #expect(converged)
        #expect(alice.text.contains("[alice offline]") && alice.text.contains("[bob online]") && alice.text.contains("!"))
        #expect(await server.text() == alice.text)
        await alice.close(); await bob.close(); await server.shutdown()
    }

    @Test func wrongSecretIsRefusedClearlyAndOthersGoOn() async throws {
        let server = try await startHost(text: "x")
        let alice = try await join(server, name: "alice")
        await #expect(throws: SessionError.wrongSecret) {
            _ = try await join(server, name: "mallory", secret: "guess")
        }
        alice.insert("y", at: 1)
        #expect(await eventually(peers: [alice]) { alice.isSynced })
        #expect(await server.text() == "xy")
        await alice.close(); await server.shutdown()
    }

    @Test func repeatedWrongSecretsFromOneAddressAreLockedOut() async throws {
        var limits = fastLimits()
        limits.authFailuresBeforeLockout = 3
        let server = try await startHost(limits: limits)
        for _ in 0..<3 {
            await #expect(throws: SessionError.wrongSecret) { _ = try await join(server, name: "m", secret: "guess", limits: limits) }
        }
        // Even the right secret is refused while the address is locked out.
        await #expect(throws: SessionError.self) { _ = try await join(server, name: "m", limits: limits) }
        let raw = try RawClient(port: server.port)
        let error = await raw.readError()
        #expect(error?.code == .auth)
        #expect(error?.message.contains("too many wrong secrets") == true)
        await server.shutdown()
    }

    @Test func connectionRefusedSaysSo() async throws {
        // A port bound but not listening refuses connections, and stays ours while the test runs:
        // a port freed by a stopped server was once taken by another test's server in between.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) == 0 && getsockname(holder, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        var options = CollaborationPeer.Options(name: "alice", secret: "s3cret")
        options.connectTimeout = 5
        await #expect(throws: SessionError.connectionRefused("127.0.0.1:\(port)")) {
            _ = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: port), options: options)
        }
    }

    @Test func portInUseSaysSo() async throws {
        let server = try await startHost()
        await #expect(throws: SessionError.portInUse(host: "127.0.0.1", port: server.port)) {
            _ = try await SessionServer.relay(bind: "127.0.0.1", port: server.port)
        }
        await server.shutdown()
    }

    @Test func versionMismatchNamesBothSides() async throws {
        let server = try await startHost()
        let raw = try RawClient(port: server.port)
        #expect(try await raw.authenticate(version: 99) == nil)
        let raw2 = try RawClient(port: server.port)
        guard case .challenge(let challenge) = await raw2.read() else { Issue.record("no challenge"); return }
        #expect(challenge.versions == WireProtocol.supportedVersions)
        try raw2.write(.hello(Hello(version: 99, session: "", peer: "p", name: "n", role: .guest, nonce: "00", proof: "00",
                                    known: Replica(agent: "p").version)))
        let error = await raw2.readError()
        #expect(error?.code == .version)
        #expect(error?.message.contains("[\(WireProtocol.version)]") == true && error?.message.contains("99") == true)
        #expect(SessionError.versionMismatch(ours: [1], theirs: [2]).description.contains("version 2"))
        await server.shutdown()
    }

    @Test func relayKeepsSessionsIsolatedAndTheHostServesItsJoiners() async throws {
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: fastLimits())
        // A relay session's id is derived from its host key.
        let hostA = try await startRelayedHost(relay: relay, hostSecret: "host-a", secret: "secret-a", text: "doc A")
        let hostB = try await startRelayedHost(relay: relay, hostSecret: "host-b", secret: "secret-b", text: "doc B")
        let aaa = hostA.sessionID, bbb = hostB.sessionID
        #expect(aaa == Auth.sessionID(hostSecret: "host-a"))
        let joinA = try await join(relay, name: "ja", secret: "secret-a", session: aaa)
        let joinB = try await join(relay, name: "jb", secret: "secret-b", session: bbb)
        #expect(await eventually(peers: [joinA, joinB]) { joinA.text == "doc A" && joinB.text == "doc B" })
        // A's secret does not open B, and an unknown session is named.
        await #expect(throws: SessionError.wrongSecret) { _ = try await join(relay, name: "x", secret: "secret-a", session: bbb) }
        await #expect(throws: SessionError.noSuchSession("zzz")) { _ = try await join(relay, name: "x", secret: "secret-a", session: "zzz") }
        joinA.insert("!", at: 5)
        // The host's own hub applied it: the relay holds no document.
        #expect(await eventually(peers: [joinA]) { await hostA.text() == "doc A!" })
        #expect(await hostB.text() == "doc B")
        let pairs = await eventually { await relay.connectedPeers() == 2 }
        let counted = await relay.connectedPeers()
        #expect(pairs, "the relay forwards one pair per joiner, not \(counted)")
        // The host goes away: the relay, blind, cannot serve its document; a late joiner is told.
        await hostA.shutdown()
        await #expect(throws: SessionError.noSuchSession(aaa)) { _ = try await join(relay, name: "late", secret: "secret-a", session: aaa) }
        #expect(await eventually { await relay.sessionCount() == 1 })
        for peer in [joinA, joinB] { await peer.close() }
        await hostB.shutdown()
        await relay.shutdown()
    }

    @Test func aRelayRegistersASessionOnlyUnderTheIDItsHostKeyGives() async throws {
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: fastLimits())
        // Someone who read a join line tries to take its session id with a host key of their own.
        let victim = Auth.sessionID(hostSecret: "the real host's")
        func register(session: String, keyOf owner: String, signedBy signer: String) async throws -> ErrorMessage? {
            let raw = try RawClient(port: relay.port, plain: true)
            guard case .challenge(let challenge) = await raw.read() else { return nil }
            let key = Auth.relayRegistrationProof(hostSecret: owner, nonce: challenge.nonce, session: session).key
            let signature = Auth.relayRegistrationProof(hostSecret: signer, nonce: challenge.nonce, session: session).signature
            let json = "{\"key\":\"\(key)\",\"session\":\"\(session)\",\"signature\":\"\(signature)\",\"type\":\"register\",\"version\":4}"
            raw.write(raw.frame(Array(json.utf8)))
            return await raw.readError()
        }
        let wrongID = try await register(session: victim, keyOf: "mallory's", signedBy: "mallory's")
        #expect(wrongID?.message.contains("must be the first 16 hex digits of SHA-256 of the registration's public key") == true, "\(String(describing: wrongID))")
        // The victim's public key (it is public) without its private key: the signature does not verify.
        let forged = try await register(session: victim, keyOf: "the real host's", signedBy: "mallory's")
        #expect(forged?.code == .auth && forged?.message == "wrong secret", "\(String(describing: forged))")
        #expect(await relay.sessionCount() == 0)
        await relay.shutdown()
    }

    @Test func relayForgetsSessionsNobodyUses() async throws {
        var limits = fastLimits()
        limits.relaySessionIdleTimeout = .milliseconds(200)
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: limits)
        let host = try await startRelayedHost(relay: relay, hostSecret: "idle-host", limits: limits)
        #expect(await relay.sessionCount() == 1)
        await host.shutdown()
        #expect(await eventually { await relay.sessionCount() == 0 })
        await relay.shutdown()
    }
}
