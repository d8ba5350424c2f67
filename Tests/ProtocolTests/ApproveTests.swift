import CodeSyncTestSupport
import CodeSyncProtocol
import Foundation
import Testing

/// A host that admits guests itself (issue 13, `codesync host --approve`): guests wait in a lobby
/// seeing nothing, only the host decides, a removed peer's token stops working. Real servers on
/// loopback; raw clients for what an honest peer never sends.
@Suite(.ownThreads, .timeLimit(.minutes(3))) struct ApproveTests {
    static let hostSecret = "h0st-secret"

    private func server(text: String = "hello\n", approve: Bool = true, limits: SessionLimits = HostileIdentityTests.rawFriendlyLimits()) async throws -> SessionServer {
        try await SessionServer.host(sessionID: "lobby", secret: "s3cret", bind: "127.0.0.1", port: 0, limits: limits,
                                     viewSecret: "w4tch", hostSecret: Self.hostSecret, approve: approve) {
            let replica = Replica(agent: "hub")
            if !text.isEmpty { replica.insert(text, at: 0) }
            return (replica, nil)
        }
    }

    private func host(_ server: SessionServer) async throws -> CollaborationPeer {
        var options = CollaborationPeer.Options(name: "host", secret: "s3cret")
        options.limits = fastLimits()
        options.connectTimeout = 30
        options.role = .host
        options.hostSecret = Self.hostSecret
        return try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: server.port), options: options)
    }

    private static func guestOptions(_ name: String, secret: String = "s3cret", connectTimeout: Double = 30) -> CollaborationPeer.Options {
        var options = CollaborationPeer.Options(name: name, secret: secret)
        options.limits = fastLimits()
        options.connectTimeout = connectTimeout
        return options
    }

    /// A raw guest's knock: the first answer to a lobby-capable hello (lobby.wait, welcome or error),
    /// with the nonces, so that a test can unmask its token.
    struct Knock {
        var answer: WireMessage?
        var serverNonce: String
        var clientNonce: String
    }

    private static func knock(_ raw: RawClient, peer: String, secret: String = "s3cret", token: [UInt8]? = nil, lobby: Bool = true) async throws -> Knock {
        guard case .challenge(let challenge) = await raw.read() else { return Knock(answer: nil, serverNonce: "", clientNonce: "") }
        let clientNonce = Auth.generateNonce()
        var hello = RawHandshake.guestHello(secret: secret, peer: peer, serverNonce: challenge.nonce, clientNonce: clientNonce)
        hello.lobby = lobby ? true : nil
        hello.token = token.map { Auth.tokenProof(token: $0, serverNonce: challenge.nonce, clientNonce: clientNonce, session: "", peer: peer) }
        try raw.write(.hello(hello))
        return Knock(answer: await nextAnswer(raw), serverNonce: challenge.nonce, clientNonce: clientNonce)
    }

    /// The next message that is not liveness (nil: closed).
    private static func nextAnswer(_ raw: RawClient) async -> WireMessage? {
        while let message = await raw.read() {
            switch message {
            case .ping, .pong: continue
            default: return message
            }
        }
        return nil
    }

    /// The peer token a welcome gave `peer` on the knock's handshake (what a reconnect proves).
    private static func token(_ masked: String, from knock: Knock, peer: String) -> [UInt8]? {
        Auth.unmaskToken(masked, key: Auth.sessionKey(secret: "s3cret"), serverNonce: knock.serverNonce, clientNonce: knock.clientNonce, peer: peer)
    }

    private static func isWait(_ message: WireMessage?) -> Bool {
        if case .lobbyWait = message { return true }
        return false
    }

    @Test func aGuestWaitsSeeingNothingUntilTheHostAdmitsIt() async throws {
        let server = try await server()
        let host = try await host(server)
        let raw = try RawClient(port: server.port)
        let knock = try await Self.knock(raw, peer: "wanda-1")
        guard case .lobbyWait(let wait) = knock.answer else {
            Issue.record("a guest of an --approve host was answered \(String(describing: knock.answer))")
            return
        }
        #expect(wait.message.contains("waiting for the host"))
        // The host sees who waits, how it came and what it asks for.
        #expect(await eventually(30, peers: [host]) { host.lobby.map(\.peer) == ["wanda-1"] })
        let entry = try #require(host.lobby.first)
        #expect(entry.name == "raw" && entry.from == "127.0.0.1" && entry.access == .editRun, "\(entry)")
        // The session goes on meanwhile: an edit, a cursor. None of it may reach the waiting guest.
        host.insert("SECRET ", at: 0)
        host.setPresence(cursor: 3, selection: nil)
        #expect(await eventually(30, peers: [host]) { await server.text() == "SECRET hello\n" })
        host.admit("wanda-1")
        // Frames leave in order: had it been sent anything before its admission, it would come first.
        let first = await Self.nextAnswer(raw)
        guard case .welcome(let welcome) = first else {
            Issue.record("the first thing the admitted guest got was \(String(describing: first))")
            return
        }
        let replica = Replica(agent: "wanda-1")
        _ = try replica.apply(welcome.update)
        #expect(replica.text == "SECRET hello\n")
        #expect(welcome.peers.map(\.peer) == [host.id])
        // Now it is a member like any other: everyone hears it joined, its edits count.
        var joined = false
        #expect(await eventually(30) {
            for event in host.poll() { if case .membership(.joined(id: "wanda-1", _)) = event { joined = true } }
            return joined && host.lobby.isEmpty
        })
        try raw.write(.ops(Ops(peer: "wanda-1", seq: 1, update: HostileIdentityTests.insert("W", by: "wanda-1", seq: 0))))
        guard case .ack(let ack) = await RawHandshake.nextNonPing(raw) else {
            Issue.record("an admitted guest's edit was not acknowledged")
            return
        }
        #expect(ack.seq == 1)
        #expect(await eventually(30, peers: [host]) { host.text.contains("W") && host.text.count == "WSECRET hello\n".count }, "\(host.text)")
        await host.close()
        await server.shutdown()
    }

    @Test func aRefusedGuestHearsItAndIsGone() async throws {
        let server = try await server()
        let host = try await host(server)
        let raw = try RawClient(port: server.port)
        #expect(Self.isWait(try await Self.knock(raw, peer: "rex-1").answer))
        #expect(await eventually(30, peers: [host]) { host.lobby.count == 1 })
        host.refuse("rex-1")
        let answer = await Self.nextAnswer(raw)
        guard case .error(let error) = answer else {
            Issue.record("a refused guest got \(String(describing: answer))")
            return
        }
        #expect(error.code == .auth && error.decision == .refused && error.message.contains("did not admit you"), "\(error)")
        #expect(await raw.isClosedByServer())
        #expect(await eventually(30, peers: [host]) { host.lobby.isEmpty })
        #expect(await server.connectedPeers() == 1)
        await host.close()
        await server.shutdown()
    }

    @Test func aPeerWaitsPastItsConnectTimeoutAndJoinsOrHearsTheRefusal() async throws {
        let server = try await server()
        let host = try await host(server)
        let address = SessionAddress(host: "127.0.0.1", port: server.port)
        let told = Flag()
        var options = Self.guestOptions("ann", connectTimeout: 1)
        options.onWaiting = { told.set() }
        let joining = Task { try await CollaborationPeer.join(address, options: options) }
        #expect(await eventually(30, peers: [host]) { host.lobby.first?.name == "ann" })
        // The host hears of ann and ann hears she waits at about the same time, in either order.
        #expect(await eventually(30) { told.isSet })
        // Longer than the peer's connect timeout: the lobby is the host's time, not the network's.
        try await Task.sleep(for: .milliseconds(1500))
        host.admit(try #require(host.lobby.first).peer)
        let ann = try await joining.value
        #expect(ann.text == "hello\n")
        ann.insert("A", at: 0)
        #expect(await eventually(30, peers: [host, ann]) { host.text == "Ahello\n" })
        // A second one is refused: join throws the host's decision, worded for the user.
        let refused = Task { try await CollaborationPeer.join(address, options: Self.guestOptions("bob")) }
        #expect(await eventually(30, peers: [host]) { host.lobby.first?.name == "bob" })
        host.refuse(try #require(host.lobby.first).peer)
        do {
            _ = try await refused.value
            Issue.record("a refused peer joined")
        } catch let error as SessionError {
            #expect(error == .notAdmitted("the host did not admit you to this session"), "\(error)")
        }
        for peer in [ann, host] { await peer.close() }
        await server.shutdown()
    }

    @Test func aWaitingGuestMaySendOnlyLiveness() async throws {
        let server = try await server()
        let host = try await host(server)
        let forbidden: [WireMessage] = [
            .ops(Ops(peer: "eve-1", seq: 1, update: HostileIdentityTests.insert("EVIL", by: "eve-1", seq: 0))),
            .presence(PresenceInfo(peer: "eve-1", name: "eve", colour: 1)),
            .lobbyAdmit(PeerChoice(peer: "eve-1")),
            .runRequest(RunRequestMessage(peer: "eve-1", language: "python", source: "print(1)")),
            .unknown(type: "x-new"),
        ]
        for message in forbidden {
            let raw = try RawClient(port: server.port)
            #expect(Self.isWait(try await Self.knock(raw, peer: "eve-1").answer))
            try raw.write(.ping(Ping(id: 7)))
            guard case .pong(let pong) = await Self.nextAnswerIncludingPong(raw), pong.id == 7 else {
                Issue.record("a waiting guest's ping was not answered")
                continue
            }
            try raw.write(message)
            let error = await raw.readError()
            #expect(error?.code == .protocol && error?.message.contains("waiting for the host to admit you") == true,
                    "\(message.type): \(String(describing: error))")
            #expect(await raw.isClosedByServer())
            #expect(await eventually(30, peers: [host]) { host.lobby.isEmpty }, "\(message.type) left the guest waiting")
        }
        #expect(await server.text() == "hello\n")
        #expect(host.text == "hello\n")
        await host.close()
        await server.shutdown()
    }

    private static func nextAnswerIncludingPong(_ raw: RawClient) async -> WireMessage? {
        while let message = await raw.read() {
            if case .ping = message { continue }
            return message
        }
        return nil
    }

    @Test func onlyTheHostAdmitsRefusesOrRemoves() async throws {
        let server = try await server()
        let host = try await host(server)
        let ann = Task { try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: server.port), options: Self.guestOptions("ann")) }
        #expect(await eventually(30, peers: [host]) { host.lobby.count == 1 })
        host.admit(try #require(host.lobby.first).peer)
        let annPeer = try await ann.value
        // A member with the edit secret tries the host's messages, for someone waiting and for ann.
        let mallory = try RawClient(port: server.port)
        #expect(Self.isWait(try await Self.knock(mallory, peer: "mallory-1").answer))
        #expect(await eventually(30, peers: [host]) { host.lobby.count == 1 })
        host.admit("mallory-1")
        guard case .welcome = await Self.nextAnswer(mallory) else {
            Issue.record("mallory was not admitted")
            return
        }
        let waiting = try RawClient(port: server.port)
        #expect(Self.isWait(try await Self.knock(waiting, peer: "wait-1").answer))
        #expect(await eventually(30, peers: [host]) { host.lobby.map(\.peer) == ["wait-1"] })
        for message: WireMessage in [.lobbyAdmit(PeerChoice(peer: "wait-1")), .lobbyRefuse(PeerChoice(peer: "wait-1")),
                                     .peerRemove(PeerChoice(peer: annPeer.id)), .peerRemove(PeerChoice(peer: host.id))] {
            try mallory.write(message)
            let answer = await RawHandshake.nextNonPing(mallory)
            guard case .refused(let refused) = answer else {
                Issue.record("a guest's \(message.type) was answered \(String(describing: answer))")
                continue
            }
            #expect(refused.what == message.type && refused.message.contains("only the host"), "\(refused)")
        }
        // Nothing changed: wait-1 still waits, ann and the host are still in and still edit together.
        #expect(host.lobby.map(\.peer) == ["wait-1"])
        annPeer.insert("a", at: 0)
        #expect(await eventually(30, peers: [host, annPeer]) { host.text == "ahello\n" && annPeer.isConnected })
        // The host cannot be removed, even by itself.
        host.remove(host.id)
        #expect(await eventually(30, peers: [host]) { host.isConnected })
        for peer in [annPeer, host] { await peer.close() }
        await server.shutdown()
    }

    @Test func theLobbyIsBoundedInAllAndPerAddress() async throws {
        for (total, perAddress) in [(3, 100), (100, 2)] {
            var limits = HostileIdentityTests.rawFriendlyLimits()
            limits.maxWaiting = total
            limits.maxWaitingPerAddress = perAddress
            let server = try await server(limits: limits)
            let host = try await host(server)
            let cap = min(total, perAddress)
            var clients: [RawClient] = []
            for index in 0..<cap {
                let raw = try RawClient(port: server.port)
                #expect(Self.isWait(try await Self.knock(raw, peer: "flood-\(index)").answer))
                clients.append(raw)
            }
            let extra = try RawClient(port: server.port)
            let answer = try await Self.knock(extra, peer: "flood-x").answer
            guard case .error(let error) = answer else {
                Issue.record("joiner \(cap + 1) was answered \(String(describing: answer))")
                continue
            }
            #expect(error.code == .busy, "\(error)")
            #expect(error.message.contains(total < perAddress ? "lobby is full" : "too many joiners from 127.0.0.1"), "\(error)")
            #expect(await eventually(30, peers: [host]) { host.lobby.count == cap })
            // The same id twice is one waiting joiner, not two.
            let twin = try RawClient(port: server.port)
            if case .error(let busy) = try await Self.knock(twin, peer: "flood-0").answer { #expect(busy.code == .busy) } else {
                Issue.record("a second knock with a waiting id was not refused")
            }
            // A place frees up when one of them gives up.
            clients[0].shutdownWrite()  // it gives up: its authenticated close, then the end of its stream
            #expect(await eventually(30, peers: [host]) { host.lobby.count == cap - 1 })
            let next = try RawClient(port: server.port)
            #expect(Self.isWait(try await Self.knock(next, peer: "flood-y").answer))
            await host.close()
            await server.shutdown()
        }
    }

    @Test func aRemovedPeersTokenStopsWorking() async throws {
        // Without --approve: its reconnect is refused outright.
        let server = try await server(approve: false)
        let host = try await host(server)
        let ann = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: server.port), options: Self.guestOptions("ann"))
        let raw = try RawClient(port: server.port)
        let knock = try await Self.knock(raw, peer: "rob-1")
        guard case .welcome(let welcome) = knock.answer, let masked = welcome.token else {
            Issue.record("a guest of a host without --approve was answered \(String(describing: knock.answer))")
            return
        }
        let token = try #require(Self.token(masked, from: knock, peer: "rob-1"))
        // The token works before the removal: a reconnect replaces the old connection.
        let again = try RawClient(port: server.port)
        guard case .welcome = try await Self.knock(again, peer: "rob-1", token: token).answer else {
            Issue.record("the token did not work before the removal")
            return
        }
        #expect(await eventually(30, peers: [host, ann]) { ann.presences.contains { $0.id == "rob-1" } })
        host.remove("rob-1")
        let removal = await again.readError()
        #expect(removal?.decision == .removed && removal?.code == .auth && removal?.message.contains("removed") == true, "\(String(describing: removal))")
        // Everyone sees who left and why.
        var notice: Membership?
        #expect(await eventually(30) {
            for event in ann.poll() { if case .membership(let change) = event, case .left(id: "rob-1", _, _) = change { notice = change } }
            return notice != nil
        })
        #expect(notice == .left(id: "rob-1", name: "raw", reason: "removed by the host"))
        let back = try RawClient(port: server.port)
        let answer = try await Self.knock(back, peer: "rob-1", token: token).answer
        guard case .error(let refusal) = answer else {
            Issue.record("a removed peer's token reconnect was answered \(String(describing: answer))")
            return
        }
        #expect(refusal.decision == .removed && refusal.message.contains("removed from this session by the host"), "\(refusal)")
        // Nor without the token (the id stays bound), and ann was never disturbed.
        if case .error(let bound) = try await Self.knock(try RawClient(port: server.port), peer: "rob-1").answer {
            #expect(bound.message.contains("belongs to another member"), "\(bound)")
        } else {
            Issue.record("the removed id was taken without its token")
        }
        ann.insert("a", at: 0)
        #expect(await eventually(30, peers: [host, ann]) { host.text == "ahello\n" })
        // A removed CollaborationPeer stops for good and says why.
        host.remove(ann.id)
        var closed: String?
        #expect(await eventually(30) {
            for event in ann.poll() { if case .connection(.closed(let reason)) = event { closed = reason } }
            return closed != nil
        })
        #expect(closed == "you were removed from this session by the host")
        for peer in [ann, host] { await peer.close() }
        await server.shutdown()
    }

    @Test func withApproveARemovedPeerWaitsAgainAndAnAdmittedOneComesBackDirectly() async throws {
        let server = try await server()
        let host = try await host(server)
        let raw = try RawClient(port: server.port)
        let knock = try await Self.knock(raw, peer: "rob-1")
        #expect(Self.isWait(knock.answer))
        #expect(await eventually(30, peers: [host]) { host.lobby.count == 1 })
        host.admit("rob-1")
        guard case .welcome(let welcome) = await Self.nextAnswer(raw), let masked = welcome.token else {
            Issue.record("not admitted")
            return
        }
        let token = try #require(Self.token(masked, from: knock, peer: "rob-1"))
        // Admitted: a reconnect proving the token skips the lobby.
        let reconnect = try RawClient(port: server.port)
        guard case .welcome = try await Self.knock(reconnect, peer: "rob-1", token: token).answer else {
            Issue.record("an admitted peer's reconnect did not go straight in")
            return
        }
        host.remove("rob-1")
        #expect(await reconnect.readError()?.decision == .removed)
        // Removed: the same token now only gets it back into the lobby, marked for the host.
        let back = try RawClient(port: server.port)
        #expect(Self.isWait(try await Self.knock(back, peer: "rob-1", token: token).answer))
        #expect(await eventually(30, peers: [host]) { host.lobby.first?.removed == true })
        host.admit("rob-1")
        guard case .welcome = await Self.nextAnswer(back) else {
            Issue.record("the host could not admit a removed peer again")
            return
        }
        await host.close()
        await server.shutdown()
    }

    @Test func aGuestWaitsAtMostTheLobbyTimeout() async throws {
        var limits = HostileIdentityTests.rawFriendlyLimits()
        limits.lobbyTimeout = .seconds(1)
        let server = try await server(limits: limits)
        let host = try await host(server)
        let raw = try RawClient(port: server.port)
        #expect(Self.isWait(try await Self.knock(raw, peer: "slow-1").answer))
        let error = await raw.readError()
        #expect(error?.code == .timeout && error?.message == "the host did not answer within 1 s; join again to ask once more", "\(String(describing: error))")
        #expect(await eventually(30, peers: [host]) { host.lobby.isEmpty })
        // Too late: the host's admit finds nobody, and says so.
        host.admit("slow-1")
        var refused: String?
        #expect(await eventually(30) {
            for event in host.poll() { if case .error(let text) = event { refused = text } }
            return refused != nil
        })
        #expect(refused?.contains("nobody with the id slow-1 is waiting") == true, "\(String(describing: refused))")
        await host.close()
        await server.shutdown()
    }

    @Test func aGuestThatCannotWaitIsToldToUpgrade() async throws {
        let server = try await server()
        let host = try await host(server)
        let raw = try RawClient(port: server.port)
        let answer = try await Self.knock(raw, peer: "old-1", lobby: false).answer
        guard case .error(let error) = answer else {
            Issue.record("a guest without lobby support got \(String(describing: answer))")
            return
        }
        #expect(error.code == .version && error.message.contains("--approve") && error.message.contains("upgrade codesync"), "\(error)")
        #expect(host.lobby.isEmpty)
        await host.close()
        await server.shutdown()
    }

    @Test func watchersAndRelayedGuestsWaitTooAndTheHostSeesHowTheyCame() async throws {
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: HostileIdentityTests.rawFriendlyLimits())
        let server = try await startRelayedHost(relay: relay, hostSecret: Self.hostSecret, text: "hello\n", viewSecret: "w4tch",
                                                limits: HostileIdentityTests.rawFriendlyLimits(), approve: true)
        let host = try await host(server)
        let viaRelay = SessionAddress(host: "127.0.0.1", port: relay.port, session: server.sessionID)
        let ann = Task { try await CollaborationPeer.join(viaRelay, options: Self.guestOptions("ann")) }
        let vic = Task { try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: server.port), options: Self.guestOptions("vic", secret: "w4tch")) }
        #expect(await eventually(30, peers: [host]) { host.lobby.count == 2 })
        let entries = Dictionary(uniqueKeysWithValues: host.lobby.map { ($0.name, $0) })
        #expect(entries["ann"]?.from == "127.0.0.1 via relay" && entries["ann"]?.access == .editRun, "\(entries)")
        #expect(entries["vic"]?.from == "127.0.0.1" && entries["vic"]?.access == .view, "\(entries)")
        for entry in host.lobby { host.admit(entry.peer) }
        let (annPeer, vicPeer) = (try await ann.value, try await vic.value)
        #expect(vicPeer.access == .view)
        annPeer.insert("R", at: 0)
        #expect(await eventually(30, peers: [host, annPeer, vicPeer]) { host.text == "Rhello\n" && vicPeer.text == host.text })
        for peer in [annPeer, vicPeer, host] { await peer.close() }
        await server.shutdown()
        await relay.shutdown()
    }
}

/// A flag set from another thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
