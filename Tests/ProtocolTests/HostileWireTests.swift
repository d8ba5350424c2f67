@testable import CodeSyncProtocol
@_spi(Wire) import CodeSyncDocument
import CodeSyncTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, wire side: what an unauthenticated or hostile client sends is bounded in size, parsed
/// in linear time and answered with a clear error, while the session's honest peers go on editing.
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct HostileWireTests {
    /// Generous silences: the raw clients send no pings, and the machine may be loaded.
    static func limits() -> SessionLimits {
        var limits = fastLimits()
        limits.deadAfter = .seconds(60)
        limits.handshakeTimeout = .seconds(60)
        return limits
    }

    /// Longest an honest edit may take to reach the other peer during an attack. Normal is a few
    /// ms; before the fixes one hostile frame held the event loop for 85 s. A debug build on a
    /// loaded 2-core machine (load average 13 seen, single round trips of 3.8 s) needs the slack,
    /// so the typical edit is held to `honestMedian` and the worst to this.
    static let honestBound = 10.0
    /// Median an honest edit may take during an attack (0.8 s seen with the whole suite running
    /// beside it on 2 cores; the failure this guards against held edits for 85 s).
    static let honestMedian = 2.0

    /// Every round trip arrived, none took longer than `honestBound`, and the median is normal.
    static func honest(_ times: [Double], count: Int) -> Bool {
        guard times.count == count, times.allSatisfy({ $0 < honestBound }) else { return false }
        return times.sorted()[count / 2] < honestMedian
    }

    /// A session with two honest peers.
    struct Session {
        let server: SessionServer
        let alice: CollaborationPeer
        let bob: CollaborationPeer

        static func start(limits: SessionLimits = HostileWireTests.limits(), text: String = "start") async throws -> Session {
            let server = try await startHost(text: text, limits: limits)
            return Session(server: server, alice: try await join(server, name: "alice", limits: limits),
                           bob: try await join(server, name: "bob", limits: limits))
        }

        /// Alice types one character at a time; returns how long each took to reach Bob (seconds).
        func roundTrips(_ count: Int) async -> [Double] {
            var times: [Double] = []
            for _ in 0..<count {
                let started = Date()
                alice.insert("x", at: 0)
                let target = alice.scalarCount
                guard await eventually(20, peers: [alice, bob], { bob.scalarCount == target }) else {
                    times.append(.infinity)
                    break
                }
                times.append(Date().timeIntervalSince(started))
                try? await Task.sleep(for: .milliseconds(20))
            }
            return times
        }

        func stop() async {
            await alice.close(); await bob.close(); await server.shutdown()
        }

        /// Checks that the honest peers still edit at their usual pace, then stops the session.
        func expectUndisturbedAndStop(_ count: Int = 3, sourceLocation: SourceLocation = #_sourceLocation) async {
            let times = await roundTrips(count)
            #expect(HostileWireTests.honest(times, count: count), "honest round trips: \(times)", sourceLocation: sourceLocation)
            await stop()
        }
    }

    /// `{"type":"hello","k0":0,...}` with `keys` distinct keys (the issue's 160,000 keys are 1.8 MB).
    static func wideObject(keys: Int, type: String = "hello", duplicateType: Bool = false) -> [UInt8] {
        var text = duplicateType ? "{\"type\":\"\(type)\",\"type\":\"\(type)\"" : "{\"type\":\"\(type)\""
        text.reserveCapacity(keys * 12)
        for key in 0..<keys { text += ",\"k\(key)\":0" }
        return Array((text + "}").utf8)
    }

    /// Reads until the server ends the connection (end of stream or reset); returns the `error`
    /// frame seen, if any, and the seconds it took.
    static func readToEnd(_ raw: RawClient) async -> (error: ErrorMessage?, seconds: Double) {
        let started = Date()
        var error: ErrorMessage?
        while let message = await raw.read() {
            if case .error(let sent) = message { error = sent }
        }
        return (error, Date().timeIntervalSince(started))
    }

    // MARK: Table row 2: a huge frame before any hello

    @Test func aHugeFrameBeforeTheHelloIsRefusedAtItsLengthWhileEditsGoOn() async throws {
        let session = try await Session.start()
        let payload = Self.wideObject(keys: 160_000)
        #expect(payload.count > 1_700_000)
        let port = session.server.port
        // Four attackers, each sending the whole 1.8 MB frame before any hello, again and again.
        let attack = Task.detached { () -> [ErrorMessage?] in
            var errors: [ErrorMessage?] = []
            for _ in 0..<4 {
                guard let raw = try? RawClient(port: port) else { continue }
                _ = await raw.read()  // the challenge
                raw.write(raw.frame(payload))
                errors.append(await Self.readToEnd(raw).error)
            }
            return errors
        }
        let times = await session.roundTrips(30)
        let errors = await attack.value
        #expect(HostileWireTests.honest(times, count: 30), "honest round trips during the attack: \(times)")
        // The error frame may be lost to a reset (the server closes with the attacker's bytes unread);
        // every one that arrived names the pre-hello limit.
        #expect(errors.count == 4)
        for error in errors.compactMap({ $0 }) {
            #expect(error.code == .frame && error.message.contains("before a hello"), "\(error)")
        }
        // Deterministic: a client that announces the size first is refused at the prefix.
        let raw = try RawClient(port: port)
        _ = await raw.read()
        let started = Date()
        raw.write([0x00, 0x1B, 0x00, 0x00])
        let error = await raw.readError()
        #expect(error?.code == .frame, "\(String(describing: error))")
        #expect(error?.message.contains("limited to \(FrameLimits.helloMaxPayload) bytes") == true)
        #expect(Date().timeIntervalSince(started) < 1)
        #expect(await eventually { await session.server.connectedPeers() == 2 })
        await session.stop()
    }

    // MARK: Linear parsing, any frame at any stage

    @Test func hostileJSONAfterTheHelloIsRefusedInLinearTimeWhileEditsGoOn() async throws {
        let session = try await Session.start()
        let port = session.server.port
        // Each: the frame, the error code it must get.
        let frames: [(name: String, bytes: [UInt8], code: WireErrorCode)] = [
            ("160,000 keys in an ops", Self.wideObject(keys: 160_000, type: "ops"), .limit),
            ("160,000 keys after a duplicate (scanner path)", Self.wideObject(keys: 160_000, duplicateType: true), .limit),
            ("60,000 keys after a duplicate (Foundation's decoder)", Self.wideObject(keys: 60_000, type: "ping", duplicateType: true), .json),
            ("more numbers than the cap", Array(("{\"type\":\"ops\",\"x\":[" + String(repeating: "0,", count: ParseLimits.maxTokens) + "0]}").utf8), .limit),
            ("100,000 nested arrays", Array(("{\"type\":\"ops\",\"x\":" + String(repeating: "[", count: 100_000)).utf8), .limit),
            ("a 1 MB string of escapes", Array(("{\"type\":\"ops\",\"x\":\"" + String(repeating: "\\u00e9", count: 170_000) + "\"}").utf8), .json),
        ]
        let attack = Task.detached { () -> [(String, ErrorMessage?, Double)] in
            var results: [(String, ErrorMessage?, Double)] = []
            for frame in frames {
                guard let raw = try? RawClient(port: port), (try? await raw.authenticate(peer: "raw-\(results.count)")) != nil else {
                    results.append((frame.name, nil, .infinity))
                    continue
                }
                let started = Date()
                raw.write(raw.frame(frame.bytes))
                let error = await raw.readError()
                results.append((frame.name, error, Date().timeIntervalSince(started)))
            }
            return results
        }
        let times = await session.roundTrips(30)
        let results = await attack.value
        #expect(HostileWireTests.honest(times, count: 30), "honest round trips during the attack: \(times)")
        for ((name, error, seconds), frame) in zip(results, frames) {
            #expect(error?.code == frame.code, "\(name): \(String(describing: error))")
            // Well under a second in a release build; a debug build on a loaded machine gets slack
            // (3.9 s seen on a fresh CI machine; before the fix one such frame took 85 s).
            #expect(seconds < 10, "\(name) took \(seconds) s")
        }
        #expect(await eventually { await session.server.connectedPeers() == 2 })
        await session.stop()
    }

    /// The cause of the issue's 85 s: duplicate keys were looked for by scanning every earlier key.
    /// Eight times the keys must cost about eight times as much (64 times was the quadratic cost).
    @Test func wideObjectsParseInLinearTime() {
        func seconds(_ keys: Int) -> Double {
            let bytes = Self.wideObject(keys: keys, type: "x")
            // This thread's CPU time, not the wall clock: on a loaded machine other processes'
            // turns landed inside one measurement and made a linear parse look quadratic.
            func threadCPUSeconds() -> Double {
                var now = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
                return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
            }
            return (0..<5).map { _ in
                let started = threadCPUSeconds()
                let outcome = bytes.withUnsafeBytes { FastCodec.read($0) }
                if case .refused(let why) = outcome { Issue.record("refused: \(why)") }
                return threadCPUSeconds() - started
            }.min()!
        }
        let small = seconds(8_000), large = seconds(64_000)
        #expect(large / small < 24, "8,000 keys: \(small) s, 64,000 keys: \(large) s")
    }

    @Test func parseCapsHoldOnBothPaths() throws {
        func outcome(_ text: String) throws -> WireMessage { try MessageCodec.decode(Array(text.utf8)) }
        // Within the caps: a wide version vector decodes (welcomes of long sessions have many agents).
        let agents = (0..<5000).map { "\"a\($0)\":1" }.joined(separator: ",")
        #expect(throws: Never.self) { _ = try outcome("{\"type\":\"hello\",\"version\":2,\"session\":\"\",\"peer\":\"p\",\"name\":\"n\",\"role\":\"guest\",\"nonce\":\"1\",\"proof\":\"2\",\"known\":{\(agents)}}") }
        // Over: refused with `limit`, on the fast path and on the Codable path (a duplicate key sends it there).
        for duplicate in [false, true] {
            let deep = "{\"type\":\"ping\"," + (duplicate ? "\"type\":\"ping\"," : "") + "\"x\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"
            #expect { try outcome(deep) } throws: { ($0 as? MessageError)?.code == .limit }
            let long = "{\"type\":\"ping\"," + (duplicate ? "\"type\":\"ping\"," : "") + "\"x\":[" + String(repeating: "1,", count: ParseLimits.maxTokens) + "1]}"
            #expect { try outcome(long) } throws: { ($0 as? MessageError)?.code == .limit }
        }
    }

    // MARK: An honest hello always fits

    // MARK: Limits with clear errors

    @Test func namesAndPeerIDsAreShortAndPrintableInHelloAndPresence() async throws {
        let session = try await Session.start()
        let port = session.server.port
        func hello(peer: String, name: String) async throws -> ErrorMessage? {
            let raw = try RawClient(port: port)
            guard case .challenge(let challenge)? = await raw.read() else { return nil }
            let nonce = Auth.generateNonce()
            let proof = Auth.joinProof(key: Auth.sessionKey(secret: "s3cret"), serverNonce: challenge.nonce, clientNonce: nonce, session: "", peer: peer)
            try raw.write(.hello(Hello(version: 2, session: "", peer: peer, name: name, role: .guest, nonce: nonce, proof: proof, known: VersionVector())))
            return await raw.readError()
        }
        // The issue's name: one letter and 500,000 combining marks (1 MB): over the pre-hello frame limit.
        let zalgo = "a" + String(repeating: "\u{0301}", count: 500_000)
        #expect(try await hello(peer: "z-1", name: zalgo)?.code == .frame)
        // One character, 201 bytes: fits the frame, not the name rule.
        let short = try await hello(peer: "z-2", name: "a" + String(repeating: "\u{0301}", count: 100))
        #expect(short?.code == .limit && short?.message.contains("64 bytes") == true, "\(String(describing: short))")
        #expect(try await hello(peer: "z-3", name: "evil\u{1B}[2J")?.code == .limit)
        #expect(try await hello(peer: "z-4", name: "\u{202E}txt.exe")?.code == .limit)
        #expect(try await hello(peer: "bad id", name: "ok")?.code == .limit)
        #expect(try await hello(peer: String(repeating: "p", count: 65), name: "ok")?.code == .limit)
        #expect(try await hello(peer: "", name: "ok")?.code == .limit)
        // An emoji with joiners is a fine name.
        let family = try RawClient(port: port)
        #expect(try await family.authenticate(peer: "fam-1") != nil)
        // A presence with a long name, after a good hello: refused and closed.
        try family.write(.presence(PresenceInfo(peer: "fam-1", name: String(repeating: "n", count: 65), colour: 1)))
        let error = await family.readError()
        #expect(error?.code == .limit && error?.message.contains("64 bytes") == true, "\(String(describing: error))")
        // The library refuses a bad name before connecting instead of retrying forever.
        var options = CollaborationPeer.Options(name: String(repeating: "é", count: 40), secret: "s3cret")
        options.connectTimeout = 5
        await #expect(throws: SessionError.self) {
            _ = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: port), options: options)
        }
        #expect(NameRules.displayable(zalgo).utf8.count <= 64)
        #expect(NameRules.nameProblem("👨‍👩‍👧 Ann") == nil)
        await session.expectUndisturbedAndStop(3)
    }

    @Test func pendingConnectionsAreLimitedPerAddressAndInTotal() async throws {
        for perAddress in [true, false] {
            var limits = Self.limits()
            limits.maxPendingPerAddress = perAddress ? 3 : 100
            limits.maxPending = perAddress ? 100 : 3
            let session = try await Session.start(limits: limits)
            let port = session.server.port
            let waiting = try (0..<3).map { _ in try RawClient(port: port) }
            var challenges: [Challenge] = []
            for raw in waiting {
                if case .challenge(let challenge)? = await raw.read() { challenges.append(challenge) }
            }
            #expect(challenges.count == 3, "all three are in")
            let refused = try RawClient(port: port)
            let error = await refused.readError()
            #expect(error?.code == .limit, "\(String(describing: error))")
            #expect(error?.message.contains(perAddress ? "from 127.0.0.1" : "waiting to authenticate") == true, "\(String(describing: error))")
            // One authenticates: its slot is free again.
            #expect(try await waiting[0].finishHandshake(challenges[0]) != nil)
            let next = try RawClient(port: port)
            guard case .challenge? = await next.read() else {
                Issue.record("a freed slot was not given to the next connection")
                await session.stop()
                return
            }
            await session.expectUndisturbedAndStop(3)
        }
    }

    @Test func aGuestOverItsRateIsSlowedDownNotCutOff() async throws {
        var limits = Self.limits()
        limits.framesPerSecond = 1000
        limits.frameBurst = 20
        let session = try await Session.start(limits: limits)
        let raw = try RawClient(port: session.server.port)
        #expect(try await raw.authenticate() != nil)
        // 6000 pings (180 KB) at once. The server handles what one read brings (up to 64 KiB,
        // ~2000 pings), then stops reading until its debt is paid: at 1000 a second the whole takes
        // about 4 s, where unlimited it takes a fraction of that.
        let count = 6000
        let pings = try (1...count).flatMap { raw.frame(try MessageCodec.encode(.ping(Ping(id: $0)))) }
        let started = Date()
        let writer = Task.detached { raw.write(pings) }
        var last = 0
        while last < count, let message = await raw.read() {
            if case .pong(let pong) = message { last = pong.id }
            if case .error(let error) = message { Issue.record("cut off: \(error)"); break }
        }
        await writer.value
        let seconds = Date().timeIntervalSince(started)
        #expect(last == count, "every ping was answered")
        #expect(seconds > 2.5, "the rate was not applied: \(seconds) s")
        // The honest peers are not limited by it.
        await session.expectUndisturbedAndStop(5)
    }

    // MARK: Lockout

    @Test func aLockedOutAddressIsRefusedAtTheHelloAndOneHelloIsAllAConnectionGets() async throws {
        var limits = Self.limits()
        limits.authFailuresBeforeLockout = 3
        let session = try await Session.start(limits: limits)
        let port = session.server.port
        // Opened before any failure, so the connect-time check lets them all in.
        let clients = try (0..<5).map { _ in try RawClient(port: port) }
        // One connection, many guesses in one write: one answer, then the close.
        let guesser = clients[0]
        let rapid = try await guesser.sendHellos(secrets: (0..<50).map { "guess-\($0)" })
        #expect(rapid.errors == 1 && rapid.closed, "\(rapid)")
        // Two more wrong secrets: the address is locked out.
        for raw in clients[1...2] {
            #expect(try await raw.sendHellos(secrets: ["wrong"]).errors == 1)
        }
        // A connection opened before the lockout is refused at its hello, even with the right secret.
        let late = try await clients[3].sendHellos(secrets: ["s3cret"])
        #expect(late.closed && late.messages.contains { $0.contains("too many wrong secrets") }, "\(late)")
        await session.expectUndisturbedAndStop(3)
    }

    // MARK: A welcome larger than one frame

    @Test func aDocumentLargerThanAFrameIsJoinedAndRejoined() async throws {
        var limits = Self.limits()
        limits.maxPayload = 4 * 1024
        let server = try await startHost(text: "", limits: limits)
        let alice = try await join(server, name: "alice", limits: limits)
        // 200 KB: a paste far over a frame (sent in parts too), typing by several agents, deletions.
        var random = SeededGenerator(seed: 12)
        alice.insert(String(repeating: "paste with \"quotes\" \\ and é€🌍\n", count: 6000), at: 0)
        for index in 0..<300 {
            let offset = Int.random(in: 0...alice.scalarCount, using: &random)
            if index % 3 == 0 { alice.delete(at: offset, count: 7) } else { alice.insert("t\(index)\u{1}", at: offset) }
        }
        #expect(await eventually(peers: [alice]) { alice.isSynced })
        #expect(await server.text() == alice.text)
        #expect(alice.text.utf8.count > 40 * limits.maxPayload)
        var options = CollaborationPeer.Options(name: "bob", secret: "s3cret")
        options.limits = limits
        options.connectTimeout = 30  // 80 frames in a debug build on a loaded machine
        let bob = try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: server.port), options: options)
        #expect(bob.text == alice.text, "a new joiner gets exactly the host's text")
        // Bob away; a lot happens; Bob reconnects with his known vector and catches up.
        bob.simulateNetworkDrop()
        alice.insert(String(repeating: "while bob was away ", count: 2000), at: alice.scalarCount / 2)
        alice.delete(at: 10, count: 5000)
        #expect(await eventually(peers: [alice, bob]) { bob.isConnected && alice.isSynced && bob.text == alice.text })
        #expect(await server.text() == alice.text)
        await alice.close(); await bob.close(); await server.shutdown()
    }

    @Test(arguments: [1, 2, 3])
    func splitPartsFitAndApplyToTheSameDocument(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let updates = FastCodecTests.randomUpdates(&random, count: 200)
        let whole = updates.reduce(Update()) { $0.merged(with: $1) }
        let reference = Replica(agent: "ref")
        _ = try reference.apply(whole)
        for budget in [256, 300, 700, 4096] {
            let parts = whole.split(maxBytes: budget)
            let replica = Replica(agent: "parts")
            for part in parts {
                #expect(Update.encodedSize(part) <= budget, "a part of \(Update.encodedSize(part)) bytes over \(budget)")
                _ = try replica.apply(part)
            }
            #expect(replica.text == reference.text)
            #expect(replica.version == reference.version)
            #expect(replica.pendingCount == 0)
        }
        // A run far longer than a part is cut between scalars, and a later edit lands the same way.
        let author = Replica(agent: "author")
        let paste = author.insert(String(repeating: "ab\u{301}🌍\"\n", count: 3000), at: 0)
        let viaParts = Replica(agent: "r1"), viaWhole = Replica(agent: "r2")
        for part in paste.split(maxBytes: 512) { _ = try viaParts.apply(part) }
        _ = try viaWhole.apply(paste)
        let later = author.insert("!", at: 777)
        _ = try viaParts.apply(later); _ = try viaWhole.apply(later)
        #expect(viaParts.text == viaWhole.text && viaParts.text == author.text)
    }
}

extension RawClient {
    /// A hello proving `secret` for the challenge with `nonce`.
    func helloFrame(challenge nonce: String, secret: String, peer: String) throws -> [UInt8] {
        let clientNonce = Auth.generateNonce()
        let proof = Auth.joinProof(key: Auth.sessionKey(secret: secret), serverNonce: nonce, clientNonce: clientNonce, session: "", peer: peer)
        return frame(try MessageCodec.encode(.hello(Hello(version: WireProtocol.version, session: "", peer: peer, name: "raw", role: .guest, nonce: clientNonce,
                                                           proof: proof, known: VersionVector()))))
    }

    /// Completes the handshake for an already read `challenge`; returns the welcome.
    func finishHandshake(_ challenge: Challenge, peer: String = "late-1") async throws -> Welcome? {
        write(try helloFrame(challenge: challenge.nonce, secret: "s3cret", peer: peer))
        while let message = await read() {
            if case .welcome(let welcome) = message { return welcome }
            if case .error = message { return nil }
        }
        return nil
    }

    /// Reads the challenge, sends one hello per secret in a single write, then reads until the
    /// server closes: how many `error` frames came, their texts, and whether the stream ended.
    func sendHellos(secrets: [String]) async throws -> (errors: Int, messages: [String], closed: Bool) {
        guard case .challenge(let challenge)? = await read() else { return (0, [], false) }
        var bytes: [UInt8] = []
        for (index, secret) in secrets.enumerated() { bytes += try helloFrame(challenge: challenge.nonce, secret: secret, peer: "guess-\(index)") }
        write(bytes)
        var errors = 0
        var messages: [String] = []
        while let message = await read() {
            if case .error(let error) = message { errors += 1; messages.append(error.message) }
            if case .welcome = message { messages.append("welcome") }
        }
        return (errors, messages, true)
    }
}

/// The long-history hello on its own suite: building 1500 agents' history is minutes of debug-build
/// work on a loaded 2-core machine, beyond the 2 minutes that catch a hang in the other wire tests.
@Suite(.ownThreads, .timeLimit(.minutes(5))) struct HostileWireHistoryTests {
    @Test func aReconnectingPeerOfALongSessionWithManyAgentsFitsItsHello() async throws {
        let limits = HostileWireTests.limits()
        // 1500 agents have typed (their ids make `known` long: ~40 bytes each).
        let server = try await SessionServer.host(sessionID: "test", secret: "s3cret", bind: "127.0.0.1", port: 0, limits: limits) {
            let replica = Replica(agent: "hub")
            for index in 0..<1500 {
                let other = Replica(agent: "visitor-\(index)-0123456789abcdef")
                _ = try other.apply(replica.updates(since: other.version))
                _ = try replica.apply(other.insert("v", at: 0))
            }
            return (replica, nil)
        }
        let alice = try await join(server, name: "alice", limits: limits)
        #expect(alice.scalarCount == 1500)
        var full = Hello(version: 2, session: "", peer: alice.id, name: "alice", role: .guest, nonce: String(repeating: "a", count: 64),
                         proof: String(repeating: "b", count: 64), known: alice.version)
        #expect(try MessageCodec.encode(.hello(full)).count > FrameLimits.helloMaxPayload, "the test needs a known vector over the limit")
        full.known = CollaborationPeer.known(alice.version, fitting: 4000)
        #expect(try MessageCodec.encode(.hello(full)).count < FrameLimits.helloMaxPayload)
        // Reconnect with that history: the hello is trimmed, the welcome brings what was left out.
        alice.simulateNetworkDrop()
        #expect(await eventually(peers: [alice]) { alice.isConnected && alice.isSynced })
        alice.insert("after", at: 0)
        #expect(await eventually(peers: [alice]) { alice.isSynced })
        #expect(await server.text() == alice.text)
        #expect(alice.text.hasPrefix("after") && alice.scalarCount == 1505)
        await alice.close(); await server.shutdown()
    }
}
