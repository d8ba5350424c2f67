import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// A blind relay's per-address limits: one address can neither fill the relay with sessions nor
/// take every waiting slot of someone else's session.
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct RelayLimitsTests {
    /// Registers `hostSecret`'s session from `source` the way a host's control connection does.
    private func register(_ relay: SessionServer, hostSecret: String, from source: String) async throws -> RawClient {
        let raw = try RawClient(port: relay.port, plain: true, source: source)
        guard case .challenge(let challenge) = await raw.read() else { throw RawError("no challenge") }
        let session = Auth.sessionID(hostSecret: hostSecret)
        let proof = Auth.relayRegistrationProof(hostSecret: hostSecret, nonce: challenge.nonce, session: session)
        let json = "{\"key\":\"\(proof.key)\",\"session\":\"\(session)\",\"signature\":\"\(proof.signature)\",\"type\":\"register\",\"version\":4}"
        raw.write(raw.frame(Array(json.utf8)))
        return raw
    }

    /// The first routing frame's type and fields, or an error's message.
    private func nextFrame(_ raw: RawClient) async -> [String: String]? {
        guard let payload = await raw.readPayload(),
            let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
        else { return nil }
        return object.compactMapValues { $0 as? String }
    }

    @Test func oneAddressCannotFillTheRelayWithSessions() async throws {
        var limits = fastLimits()
        limits.maxSessionsPerAddress = 2
        let relay = try await SessionServer.relay(bind: "0.0.0.0", port: 0, limits: limits)
        var hosts: [RawClient] = []
        for index in 0..<2 {
            let raw = try await register(relay, hostSecret: "flood-\(index)", from: "127.0.0.1")
            #expect(await nextFrame(raw)?["type"] == "registered")
            hosts.append(raw)
        }
        let third = try await register(relay, hostSecret: "flood-2", from: "127.0.0.1")
        let refusal = await third.readError()
        #expect(refusal?.code == .limit && refusal?.message.contains("at most 2") == true, "\(String(describing: refusal))")
        // Another address still registers; the same host again (a reconnect) is not a new session.
        let other = try await register(relay, hostSecret: "someone-else", from: "127.0.0.2")
        #expect(await nextFrame(other)?["type"] == "registered")
        let again = try await register(relay, hostSecret: "flood-0", from: "127.0.0.1")
        #expect(await nextFrame(again)?["type"] == "registered")
        #expect(await relay.sessionCount() == 3)
        _ = hosts
        await relay.shutdown()
    }

    @Test func oneAddressCannotTakeEveryWaitingSlotOfASession() async throws {
        var limits = fastLimits()
        limits.maxRelayWaitingPerAddress = 2
        let relay = try await SessionServer.relay(bind: "0.0.0.0", port: 0, limits: limits)
        // A host that never takes its joiners, so they stay waiting.
        let host = try await register(relay, hostSecret: "slow-host", from: "127.0.0.1")
        #expect(await nextFrame(host)?["type"] == "registered")
        let session = Auth.sessionID(hostSecret: "slow-host")
        func open(from source: String) throws -> RawClient {
            let raw = try RawClient(port: relay.port, plain: true, source: source)
            raw.write(raw.frame(RawClient.open(session: session)))
            return raw
        }
        let first = try open(from: "127.0.0.5"), second = try open(from: "127.0.0.5")
        let third = try open(from: "127.0.0.5")
        let refusal = await third.readError()
        #expect(refusal?.code == .busy && refusal?.message.contains("already waiting") == true, "\(String(describing: refusal))")
        // A guest from elsewhere still reaches the host: it hears of three joiners, not four.
        let guest = try open(from: "127.0.0.6")
        var incoming: [String] = []
        while incoming.count < 3, let frame = await nextFrame(host) {
            if frame["type"] == "incoming" { incoming.append(frame["from"] ?? "") }
        }
        #expect(incoming.sorted() == ["127.0.0.5", "127.0.0.5", "127.0.0.6"], "\(incoming)")
        _ = (first, second, guest)
        await relay.shutdown()
    }
}

/// The host's side of a relay: a relay (or a flood of joiners through it) cannot make the host
/// open connections as fast as it announces joiners.
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct RelayDialBackTests {
    @Test func aRelayAnnouncingTwoHundredJoinersGetsOnlyTheDialBackRate() async throws {
        let hostSecret = "dial-back-host"
        let session = Auth.sessionID(hostSecret: hostSecret)
        let relay = try FloodingRelay(session: session, announcements: 200)
        let server = try await SessionServer.host(sessionID: session, secret: "s3cret", bind: "127.0.0.1", port: 0, limits: fastLimits(),
                                                  hostSecret: hostSecret) { (Replica(agent: "hub"), nil) }
        try await server.attachRelay(SessionAddress(host: "127.0.0.1", port: relay.port, session: session), hostSecret: hostSecret)
        // When each dial-back came, from the first on, until two seconds after the first and at
        // least 33 came (a loaded machine dials slower: the count waits for it, up to 30 s).
        let times = try await offPool { relay.dialBackTimes(window: 2.0, atLeast: 33, giveUpAfter: 30) }
        await server.shutdown()
        relay.stop()
        // More than the burst came (the delayed ones are taken late, not dropped) ...
        #expect(times.count > 32, "the host dialled back only \(times.count) times in 30 s")
        // ... but within two seconds of the first, at most the burst (32) and the rate (16 a second)
        // for those two seconds, with a second of slack; never the 200 announced.
        let early = times.filter { $0 <= 2.0 }.count
        #expect(early <= 32 + 16 * 3, "the host dialled back \(early) times within 2 s")
    }
}

/// A relay that registers the host, announces `announcements` joiners at once, then counts the
/// connections the host opens back to it.
final class FloodingRelay: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let session: String
    private let announcements: Int
    private var control: Int32 = -1

    init(session: String, announcements: Int) throws {
        self.session = session
        self.announcements = announcements
        (fd, port) = try loopbackListener(backlog: 512)
        Thread { [self] in serveControl() }.start()
    }

    private func send(_ client: Int32, _ payload: [UInt8]) {
        let n = UInt32(payload.count)
        let bytes = [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
        _ = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The control connection: challenge, the host's registration (taken on trust), `registered`,
    /// then every announcement at once.
    private func serveControl() {
        let client = accept(fd, nil, nil)
        guard client >= 0 else { return }
        control = client
        guard let challenge = try? MessageCodec.encode(.challenge(Challenge(versions: WireProtocol.supportedVersions, nonce: Auth.generateNonce(), server: "flooding relay"))) else { return }
        send(client, challenge)
        var buffer = [UInt8](repeating: 0, count: 4096)
        guard recv(client, &buffer, buffer.count, 0) > 0 else { return }
        send(client, Array("{\"session\":\"\(session)\",\"type\":\"registered\"}".utf8))
        for index in 0..<announcements {
            send(client, Array("{\"from\":\"10.0.0.\(index % 250)\",\"session\":\"\(session)\",\"stream\":\"s\(index)\",\"type\":\"incoming\"}".utf8))
        }
    }

    /// Accepts (and keeps) the host's dial-backs; returns when each came, in seconds after the first.
    /// Stops `window` seconds after the first once `atLeast` came, or after `giveUpAfter` seconds.
    func dialBackTimes(window: Double, atLeast: Int, giveUpAfter: Double) -> [Double] {
        var accepted: [Int32] = []
        var times: [Double] = []
        var first: Date?
        let giveUp = Date().addingTimeInterval(giveUpAfter)
        while Date() < giveUp {
            if let first, times.count >= atLeast, Date().timeIntervalSince(first) > window { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            accepted.append(client)
            let now = Date()
            if first == nil { first = now }
            times.append(now.timeIntervalSince(first ?? now))
        }
        for client in accepted { close(client) }
        return times
    }

    func stop() {
        if control >= 0 { shutdown(control, Int32(SHUT_RDWR)) }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
