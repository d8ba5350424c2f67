import CodeSyncProtocol
import Foundation
import Testing
import CodeSyncTestSupport

/// Roles enforced by the host: what edit-secret guests may do (`--guests`), and a watch-only secret.
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct RolesTests {
    private func server(text: String, guests: GuestAccess = .editRun, hostSecret: String? = nil,
                        limits: SessionLimits = fastLimits()) async throws -> SessionServer {
        try await SessionServer.host(sessionID: "roles", secret: "s3cret", bind: "127.0.0.1", port: 0, limits: limits,
                                     viewSecret: "w4tch", guests: guests, hostSecret: hostSecret) {
            let replica = Replica(agent: "hub")
            if !text.isEmpty { replica.insert(text, at: 0) }
            return (replica, nil)
        }
    }

    private func peer(_ server: SessionServer, name: String, secret: String, role: PeerRole = .guest, hostSecret: String? = nil) async throws -> CollaborationPeer {
        try await peer(SessionAddress(host: "127.0.0.1", port: server.port), name: name, secret: secret, role: role, hostSecret: hostSecret)
    }

    private func peer(
        _ address: SessionAddress, name: String, secret: String, role: PeerRole = .guest, hostSecret: String? = nil,
        viewSecret: String? = nil, guests: GuestAccess? = nil, state: [UInt8]? = nil
    ) async throws -> CollaborationPeer {
        var options = CollaborationPeer.Options(name: name, secret: secret)
        options.limits = fastLimits()
        options.connectTimeout = 30
        options.role = role
        options.fileName = role == .host ? "main.go" : nil
        options.reconnect = false
        options.hostSecret = hostSecret
        options.viewSecret = viewSecret
        options.guests = guests
        return try await CollaborationPeer.join(address, options: options, state: state)
    }

    private static func accessEvents(_ events: [PeerEvent]) -> [GuestAccess] {
        events.compactMap { if case .access(let access, _) = $0 { access } else { nil } }
    }

    /// Polls `peer` until `condition` holds on the events gathered so far (60 s at most).
    private func gather(_ peer: CollaborationPeer, into events: inout [PeerEvent], until condition: ([PeerEvent]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            events += peer.poll()
            if condition(events) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    private static func errors(_ events: [PeerEvent]) -> [String] {
        events.compactMap { if case .error(let text) = $0 { text } else { nil } }
    }

    private static func requests(_ events: [PeerEvent]) -> [RunRequestMessage] {
        events.compactMap { if case .run(.requested(let m)) = $0 { m } else { nil } }
    }

    @Test func aWatchOnlyGuestsEditsAndRunsAreRefusedAndNeverReachTheDocument() async throws {
        let server = try await server(text: "hello\n")
        let host = try await peer(server, name: "host", secret: "s3cret", role: .host)
        let ann = try await peer(server, name: "ann", secret: "s3cret")
        let vic = try await peer(server, name: "vic", secret: "w4tch")
        #expect(ann.access == .editRun)
        #expect(vic.access == .view)
        #expect(vic.text == "hello\n", "a watcher sees the document")
        vic.insert("HACKED ", at: 0)
        vic.requestRun(language: "python", source: "print('from vic')\n")
        var vicEvents: [PeerEvent] = []
        #expect(await gather(vic, into: &vicEvents) { Self.errors($0).count >= 2 }, "no refusal reached the watcher: \(vicEvents)")
        let refusals = Self.errors(vicEvents)
        #expect(refusals.contains { $0.contains("refused your ops") && $0.contains("watch") }, "\(refusals)")
        #expect(refusals.contains { $0.contains("refused your run.request") }, "\(refusals)")
        // The refused edit stays out of the watcher's own replica too: it reloads the document.
        #expect(await gather(vic, into: &vicEvents) { _ in vic.text == "hello\n" && vic.isConnected },
                "the watcher kept its refused edit: \(vic.text.debugDescription)")
        // Ann's run and edit go through; the host sees her request only.
        ann.requestRun(language: "python", source: "print('from ann')\n")
        ann.insert("# ann\n", at: 0)
        var hostEvents: [PeerEvent] = []
        #expect(await gather(host, into: &hostEvents) { !Self.requests($0).isEmpty && host.text == "# ann\nhello\n" },
                "host text \(host.text.debugDescription), events \(hostEvents)")
        #expect(Self.requests(hostEvents).map(\.source) == ["print('from ann')\n"])
        var annEvents: [PeerEvent] = []
        #expect(await gather(ann, into: &annEvents) { _ in ann.isSynced })
        #expect(ann.text == "# ann\nhello\n", "the refused edit reached another peer")
        // A newcomer gets the document without the refused edit.
        let late = try await peer(server, name: "late", secret: "s3cret")
        #expect(late.text == "# ann\nhello\n")
        #expect(await server.text() == "# ann\nhello\n")
        for peer in [host, ann, vic, late] { await peer.close() }
        await server.shutdown()
    }

    @Test func guestsEditButDoNotRunWithGuestsEdit() async throws {
        let server = try await server(text: "x", guests: .edit)
        let host = try await peer(server, name: "host", secret: "s3cret", role: .host)
        let ann = try await peer(server, name: "ann", secret: "s3cret")
        #expect(ann.access == .edit)
        #expect(host.access == .editRun)
        ann.requestRun(language: "python", source: "print(1)\n")
        ann.insert("y", at: 1)
        var annEvents: [PeerEvent] = []
        #expect(await gather(ann, into: &annEvents) { Self.errors($0).contains { $0.contains("refused your run.request") } })
        var hostEvents: [PeerEvent] = []
        #expect(await gather(host, into: &hostEvents) { _ in host.text == "xy" })
        #expect(Self.requests(hostEvents).isEmpty, "a refused run request reached the host")
        for peer in [host, ann] { await peer.close() }
        await server.shutdown()
    }

    @Test func guestsOnlyWatchWithGuestsView() async throws {
        let server = try await server(text: "x", guests: .view)
        let ann = try await peer(server, name: "ann", secret: "s3cret")
        #expect(ann.access == .view)
        ann.insert("y", at: 1)
        var events: [PeerEvent] = []
        #expect(await gather(ann, into: &events) { Self.errors($0).contains { $0.contains("refused your ops") } })
        #expect(await server.text() == "x")
        await ann.close()
        await server.shutdown()
    }

    @Test func theWatchOnlySecretCannotHostAndAWrongSecretIsStillRefused() async throws {
        let server = try await server(text: "")
        await #expect(throws: SessionError.self) { _ = try await peer(server, name: "fake", secret: "w4tch", role: .host) }
        await #expect(throws: SessionError.self) { _ = try await peer(server, name: "eve", secret: "nope") }
        await server.shutdown()
    }

    @Test func theHostChangesWhatGuestsMayDoLiveAndARefusedEditLeavesNoTrace() async throws {
        let server = try await server(text: "hello\n", hostSecret: "h0st")
        let host = try await peer(server, name: "host", secret: "s3cret", role: .host, hostSecret: "h0st")
        let ann = try await peer(server, name: "ann", secret: "s3cret")
        let vic = try await peer(server, name: "vic", secret: "w4tch")
        #expect(ann.access == .editRun)
        #expect(host.guests == .editRun)

        host.setGuests(.view)
        var annEvents: [PeerEvent] = [], vicEvents: [PeerEvent] = [], hostEvents: [PeerEvent] = []
        #expect(await gather(ann, into: &annEvents) { Self.accessEvents($0) == [.view] }, "\(annEvents)")
        #expect(ann.access == .view && ann.guests == .view)
        #expect(await gather(vic, into: &vicEvents) { Self.accessEvents($0) == [.view] }, "the watcher heard nothing: \(vicEvents)")
        #expect(await gather(host, into: &hostEvents) { $0.contains(.access(.editRun, guests: .view)) }, "\(hostEvents)")

        // Ann's edit while she may only watch: refused, and her replica goes back to the document.
        ann.insert("LOST ", at: 0)
        #expect(await gather(ann, into: &annEvents) { events in
            Self.errors(events).contains { $0.contains("refused your ops") } && ann.text == "hello\n" && ann.isConnected
        }, "ann's text \(ann.text.debugDescription), events \(annEvents)")
        #expect(await server.text() == "hello\n")

        // Back to edit: her next edit lands everywhere, but runs stay refused; the watcher stays a watcher.
        host.setGuests(.edit)
        #expect(await gather(ann, into: &annEvents) { _ in ann.access == .edit }, "\(annEvents)")
        ann.insert("# ann\n", at: 0)
        ann.requestRun(language: "python", source: "print(1)\n")
        #expect(await gather(host, into: &hostEvents) { _ in host.text == "# ann\nhello\n" }, "host text \(host.text.debugDescription)")
        #expect(await gather(ann, into: &annEvents) { Self.errors($0).contains { $0.contains("refused your run.request") } })
        #expect(Self.requests(hostEvents).isEmpty, "a run request of an edit-only guest reached the host")
        #expect(await gather(vic, into: &vicEvents) { _ in vic.text == "# ann\nhello\n" })
        #expect(vic.access == .view, "the watch-only secret must stay watch-only whatever guests may do")

        // A newcomer with the edit secret gets the current setting, and the host's file name.
        let late = try await peer(server, name: "late", secret: "s3cret")
        #expect(late.access == .edit && late.guests == .edit)
        #expect(late.sessionFileName == "main.go")
        for peer in [host, ann, vic, late] { await peer.close() }
        await server.shutdown()
    }

    @Test func afterARefusalEveryLaterEditOnThatConnectionIsRefusedEvenIfAllowedAgain() async throws {
        // Ops sent after a refused one may build on it (the next sequence numbers of the same agent):
        // applying them would park them for ever, or let them in once the gap is filled by other edits.
        // The raw client answers pings only while it reads: a long silence allowance keeps a busy
        // machine from cutting it off between steps.
        var limits = fastLimits()
        limits.deadAfter = .seconds(120)
        let server = try await server(text: "x", hostSecret: "h0st", limits: limits)
        let host = try await peer(server, name: "host", secret: "s3cret", role: .host, hostSecret: "h0st")
        let raw = try RawClient(port: server.port)
        let welcome = try await raw.authenticate(peer: "raw-1")
        #expect(welcome?.access == .editRun)
        let local = Replica(agent: "raw-1")
        _ = try local.apply(try #require(welcome).update)
        let first = local.insert("A", at: 0), second = local.insert("B", at: 1)
        /// The next message that is not liveness or presence traffic; pings are answered, so that a
        /// busy test machine cannot make the server think this client dead between steps.
        func next() async -> WireMessage? {
            while let message = await raw.read() {
                switch message {
                case .ping(let ping): try? raw.write(.pong(ping))
                case .pong, .presence: continue
                default: return message
                }
            }
            return nil
        }
        host.setGuests(.view)
        #expect(await next() == .roles(Roles(guests: .view, access: .view)))
        try raw.write(.ops(Ops(peer: "raw-1", seq: 1, update: first)))
        #expect(await next() == .refused(Refused(what: "ops", message: "you may only watch this session: your edit was not applied")))
        host.setGuests(.editRun)
        #expect(await next() == .roles(Roles(guests: .editRun, access: .editRun)))
        try raw.write(.ops(Ops(peer: "raw-1", seq: 2, update: second)))
        guard case .refused(let refused) = await next() else { Issue.record("the op after a refused one was not refused"); return }
        #expect(refused.message.contains("an earlier edit of yours was refused"), "\(refused.message)")
        #expect(await server.text() == "x")
        await host.close()
        await server.shutdown()
    }

    @Test func aGuestWithTheEditSecretCannotClaimTheHostRoleNorSetRoles() async throws {
        let server = try await server(text: "x", guests: .edit, hostSecret: "h0st")
        do {
            _ = try await peer(server, name: "mallory", secret: "s3cret", role: .host)
            Issue.record("a guest joined as host without the host key")
        } catch {
            #expect("\(error)".contains("only the host's own codesync"), "\(error)")
        }
        await #expect(throws: SessionError.self) { _ = try await peer(server, name: "mallory", secret: "s3cret", role: .bridge) }
        let ann = try await peer(server, name: "ann", secret: "s3cret")
        ann.setGuests(.editRun)
        var events: [PeerEvent] = []
        #expect(await gather(ann, into: &events) { Self.errors($0).contains { $0.contains("refused your roles.set") } }, "\(events)")
        #expect(ann.access == .edit, "a guest granted itself more than the host allows")
        await ann.close()
        await server.shutdown()
    }

    @Test func aRelayEnforcesTheHostsRolesAndItsLiveChanges() async throws {
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: fastLimits())
        // The host's own server is the authority for the joiners the relay forwards (blind).
        let server = try await startRelayedHost(relay: relay, hostSecret: "h0st-relayed", text: "x", viewSecret: "w4tch", guests: .view)
        let address = SessionAddress(host: "127.0.0.1", port: relay.port, session: Auth.sessionID(hostSecret: "h0st-relayed"))
        let host = try await peer(SessionAddress(host: "127.0.0.1", port: server.port), name: "host", secret: "s3cret", role: .host,
                                  hostSecret: "h0st-relayed", viewSecret: "w4tch", guests: .view)
        let ann = try await peer(address, name: "ann", secret: "s3cret")
        let vic = try await peer(address, name: "vic", secret: "w4tch")
        #expect(ann.access == .view, "the host did not apply its --guests to a relayed guest")
        #expect(vic.access == .view)
        #expect(ann.text == "x")
        await #expect(throws: SessionError.self) { _ = try await peer(address, name: "mallory", secret: "s3cret", role: .host) }

        ann.insert("NO", at: 0)
        var annEvents: [PeerEvent] = [], hostEvents: [PeerEvent] = []
        #expect(await gather(ann, into: &annEvents) { Self.errors($0).contains { $0.contains("refused your ops") } && ann.text == "x" })

        host.setGuests(.editRun)
        #expect(await gather(ann, into: &annEvents) { _ in ann.access == .editRun }, "\(annEvents)")
        ann.insert("y", at: 1)
        ann.requestRun(language: "python", source: "print(2)\n")
        #expect(await gather(host, into: &hostEvents) { host.text == "xy" && !Self.requests($0).isEmpty }, "\(hostEvents)")
        #expect(vic.access == .view)
        for peer in [host, ann, vic] { await peer.close() }
        await server.shutdown()
        await relay.shutdown()
    }

    @Test func theWatchSecretIsDerivedDistinctAndStable() {
        let secret = Auth.generateSecret()
        let view = Auth.viewSecret(for: secret)
        #expect(view.count == 32)
        #expect(view != secret)
        #expect(view == Auth.viewSecret(for: secret))
        #expect(view != Auth.viewSecret(for: Auth.generateSecret()))
    }
}

/// The spec's examples for roles decode as documented.
@Suite(.ownThreads) struct RolesSpecTests {
    @Test func theWatchOnlyWelcomeInTheSpecDecodes() throws {
        let spec = try String(contentsOf: TestSpec.protocolURL, encoding: .utf8)
        let block = try #require(spec.components(separatedBy: "```json access\n").dropFirst().first?.components(separatedBy: "\n```").first)
        guard case .welcome(let welcome) = try MessageCodec.decode(Array(block.utf8)) else {
            Issue.record("not a welcome: \(block)")
            return
        }
        #expect(welcome.access == .view)
        #expect(try MessageCodec.decode(MessageCodec.encode(.welcome(welcome))) == .welcome(welcome))
        // Without the field (a host before roles), a joiner may do everything.
        var old = welcome
        old.access = nil
        let encoded = String(decoding: try MessageCodec.encode(.welcome(old)), as: UTF8.self)
        #expect(!encoded.contains("access"))
    }
}

enum TestSpec {
    static var protocolURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/PROTOCOL.md")
    }
}
