import CodeSyncProtocol
import Foundation
import Testing
import CodeSyncTestSupport

/// The secure channel on real connections (issue 13): every byte on every loopback connection is
/// recorded by a proxy, and a proxy that tampers with one record is caught.
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct SecureTransportTests {
    /// Events of `peer` gathered until `condition` holds (or 15 s pass).
    private func gather(_ peer: CollaborationPeer, into events: inout [PeerEvent], until condition: ([PeerEvent]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            events += await peer.nextEvents(timeout: .milliseconds(100))
            if condition(events) { return true }
        }
        return false
    }

    private func host(_ address: SessionAddress) async throws -> CollaborationPeer {
        var options = CollaborationPeer.Options(name: "host", secret: "s3cret")
        options.role = .host
        options.hostSecret = "h0st-capture"
        options.limits = fastLimits()
        return try await CollaborationPeer.join(address, options: options)
    }

    @Test func noTypedTextOrProgramOutputCrossesAnyConnectionInClear() async throws {
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: fastLimits())
        let hostToRelay = try RecordingProxy(target: relay.port)
        // A host secret of its own: tests run in parallel, and a session id is the host key's.
        let server = try await SessionServer.host(sessionID: Auth.sessionID(hostSecret: "h0st-capture"), secret: "s3cret", bind: "127.0.0.1", port: 0,
                                                  limits: fastLimits(), hostSecret: "h0st-capture") { (Replica(agent: "hub"), nil) }
        try await server.attachRelay(SessionAddress(host: "127.0.0.1", port: hostToRelay.port, session: server.sessionID), hostSecret: "h0st-capture")
        let relayToGuest = try RecordingProxy(target: relay.port)
        let direct = try RecordingProxy(target: server.port)
        let hostPeer = try await host(SessionAddress(host: "127.0.0.1", port: server.port))

        let typed = "TYPED-MARKER-6c1f9e", printed = "PRINTED-MARKER-83d2b7"
        let relayed = try await join(relay, name: "rob", session: server.sessionID)
        let relayedViaProxy = try await CollaborationPeer.join(
            SessionAddress(host: "127.0.0.1", port: relayToGuest.port, session: server.sessionID),
            options: { var o = CollaborationPeer.Options(name: "gus", secret: "s3cret"); o.limits = fastLimits(); return o }())
        let directGuest = try await CollaborationPeer.join(
            SessionAddress(host: "127.0.0.1", port: direct.port),
            options: { var o = CollaborationPeer.Options(name: "dan", secret: "s3cret"); o.limits = fastLimits(); return o }())
        _ = relayed

        // A guest through the relay types a marker and asks for a run whose program prints another.
        relayedViaProxy.insert("# \(typed)\n", at: 0)
        relayedViaProxy.requestRun(language: "python", source: "print('\(printed)')\n")
        var hostEvents: [PeerEvent] = []
        #expect(await gather(hostPeer, into: &hostEvents) { events in
            events.contains { if case .run(.requested) = $0 { true } else { false } }
        }, "\(hostEvents)")
        // The host reports the run's output, as its sandbox would.
        hostPeer.reportRun(.runStarted(RunStartedMessage(run: "r1", by: relayedViaProxy.id, language: "python")))
        hostPeer.reportRun(.runOutput(RunOutputMessage(run: "r1", stream: .stdout, text: "\(printed)\n")))
        hostPeer.reportRun(.runExited(RunExitedMessage(run: "r1", outcome: .exited, code: 0, durationMs: 5)))
        for guest in [relayedViaProxy, directGuest] {
            var events: [PeerEvent] = []
            #expect(await gather(guest, into: &events) { events in
                guest.text.contains(typed) && events.contains { if case .run(.output(let m)) = $0 { m.text.contains(printed) } else { false } }
            }, "\(guest.id) never saw the marker or the output: \(guest.text.debugDescription) \(events)")
        }
        // The markers went every way: host-relay (both), relay-guest (typed up, output down), direct (both down).
        for (name, proxy) in [("host-relay", hostToRelay), ("relay-guest", relayToGuest), ("direct", direct)] {
            let bytes = proxy.bytes
            #expect(bytes.count > 1000, "\(name) carried almost nothing (\(bytes.count) bytes): the capture saw no session")
            for marker in [typed, printed] {
                #expect(!contains(bytes, Array(marker.utf8)), "\(marker) crossed the \(name) connection in clear")
            }
            // Nor any message type or field name of the frames inside.
            #expect(!contains(bytes, Array("\"ops\"".utf8)) && !contains(bytes, Array("run.output".utf8)), "frames crossed \(name) in clear")
        }
        for peer in [hostPeer, relayed, relayedViaProxy, directGuest] { await peer.close() }
        await server.shutdown()
        await relay.shutdown()
        for proxy in [hostToRelay, relayToGuest, direct] { proxy.stop() }
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return haystack.withUnsafeBufferPointer { hay in
            (0...(hay.count - needle.count)).contains { start in
                hay[start] == needle[0] && needle.indices.allSatisfy { hay[start + $0] == needle[$0] }
            }
        }
    }

    @Test(arguments: RecordingProxy.Tamper.allCases)
    func aTamperedRecordIsCaughtAndTheSessionRecovers(_ tamper: RecordingProxy.Tamper) async throws {
        let server = try await startHost(text: "start\n")
        let proxy = try RecordingProxy(target: server.port)
        let hostPeer = try await join(server, name: "ann")
        var options = CollaborationPeer.Options(name: "gus", secret: "s3cret")
        options.limits = fastLimits()
        let guest = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: proxy.port), options: options)
        _ = guest.poll()
        // The next record from the server to the guest is tampered with; the host's edit rides in it.
        proxy.arm(tamper)
        hostPeer.insert("host typed\n", at: 0)
        var events: [PeerEvent] = []
        let expected = tamper == .truncate ? "it was cut" : "tampered with or is out of order"
        #expect(await gather(guest, into: &events) { events in
            events.contains { if case .connection(.reconnecting(_, let reason)) = $0 { reason.contains(expected) } else { false } }
        }, "the guest did not report '\(expected)': \(events)")
        #expect(proxy.tampered == [tamper])
        // It reconnects (through the same proxy, no longer tampering); edits from both sides arrive once.
        guest.insert("guest typed\n", at: guest.scalarCount)
        #expect(await eventually(peers: [guest, hostPeer]) {
            let serverText = await server.text()
            return guest.isConnected && guest.text == hostPeer.text && hostPeer.text == serverText
                && serverText == "host typed\nstart\nguest typed\n"
        }, "guest \(guest.text.debugDescription), host \(hostPeer.text.debugDescription)")
        await guest.close()
        await hostPeer.close()
        await server.shutdown()
        proxy.stop()
    }

    @Test(arguments: RecordingProxy.Tamper.allCases)
    func aRelayThatTampersIsCaughtAndTheSessionRecovers(_ tamper: RecordingProxy.Tamper) async throws {
        // The proxy stands where a dishonest relay's output would: between the relay and the guest.
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: fastLimits())
        // A host secret per case: the cases run in parallel, and a session id is the host key's.
        let server = try await startRelayedHost(relay: relay, hostSecret: "h0st-tamper-\(tamper)", text: "start\n")
        let proxy = try RecordingProxy(target: relay.port)
        let hostPeer = try await join(server, name: "ann")
        var options = CollaborationPeer.Options(name: "gus", secret: "s3cret")
        options.limits = fastLimits()
        let guest = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: proxy.port, session: server.sessionID), options: options)
        _ = guest.poll()
        proxy.arm(tamper)
        hostPeer.insert("host typed\n", at: 0)
        var events: [PeerEvent] = []
        let expected = tamper == .truncate ? "it was cut" : "tampered with or is out of order"
        #expect(await gather(guest, into: &events) { events in
            events.contains { if case .connection(.reconnecting(_, let reason)) = $0 { reason.contains(expected) } else { false } }
        }, "the guest did not report '\(expected)': \(events)")
        guest.insert("guest typed\n", at: guest.scalarCount)
        #expect(await eventually(peers: [guest, hostPeer]) {
            let serverText = await server.text()
            return guest.isConnected && guest.text == hostPeer.text && hostPeer.text == serverText
                && serverText == "host typed\nstart\nguest typed\n"
        }, "guest \(guest.text.debugDescription), host \(hostPeer.text.debugDescription)")
        await guest.close()
        await hostPeer.close()
        await server.shutdown()
        await relay.shutdown()
        proxy.stop()
    }

    @Test func aTamperedRecordFromTheGuestIsCaughtByTheHost() async throws {
        let server = try await startHost(text: "start\n")
        let proxy = try RecordingProxy(target: server.port)
        var options = CollaborationPeer.Options(name: "gus", secret: "s3cret")
        options.limits = fastLimits()
        let guest = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: proxy.port), options: options)
        _ = guest.poll()
        proxy.arm(.flipBit, toClient: false)
        guest.insert("guest typed\n", at: 0)
        var events: [PeerEvent] = []
        // The host drops the connection and says why (sealed: its sending side is intact); the guest reconnects and resends.
        #expect(await gather(guest, into: &events) { events in
            events.contains { if case .connection(.reconnecting(_, let reason)) = $0 { reason.contains("tampered with") } else { false } }
        }, "\(events)")
        #expect(await eventually(peers: [guest]) {
            let serverText = await server.text()
            return guest.isSynced && serverText == "guest typed\nstart\n"
        })
        await guest.close()
        await server.shutdown()
        proxy.stop()
    }

    @Test func anOlderPeerIsToldWhatToUpgrade() async throws {
        let server = try await startHost()
        // A version-3 joiner reads the cleartext challenge: it names version 4 only.
        let raw = try RawClient(port: server.port, plain: true)
        guard case .challenge(let challenge) = await raw.read() else {
            Issue.record("no cleartext challenge")
            return
        }
        #expect(challenge.versions == [4])
        // A version-3 joiner that sends its hello anyway is told what to upgrade.
        try raw.write(.hello(Hello(version: 3, session: "", peer: "old-1", name: "old", role: .guest, nonce: "00", proof: "00", known: VersionVector())))
        let error = await raw.readError()
        #expect(error?.code == .version && error?.message.contains("upgrade codesync") == true, "\(String(describing: error))")
        // A version-4 joiner meeting a version-3 server names the side to upgrade.
        let message = SessionError.versionMismatch(ours: [4], theirs: [3]).description
        #expect(message.contains("upgrade it") && message.contains("version 3"), "\(message)")
        await server.shutdown()
    }
}
