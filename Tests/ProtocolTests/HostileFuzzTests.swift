import CodeSyncTestSupport
@_spi(Wire) import CodeSyncDocument
import CodeSyncProtocol
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The live hostile-peer fuzzer (issue 12): a host and a relay on 127.0.0.1, honest peers typing on
/// both, and an attacker sending random, mutated and boundary frames, unauthenticated and as a
/// guest or watcher. After every batch: both servers still answer, every honest peer's text equals
/// its server's (and the host's saved file), memory stays bounded, and an honest edit's round trip
/// stays within a generous budget.
///
/// Quick and seeded by default (< 40 s). `CODESYNC_FUZZ_LONG=1` runs long; `CODESYNC_FUZZ_SEED`,
/// `CODESYNC_FUZZ_ROUNDS` and `CODESYNC_FUZZ_ATTACKS` choose the seed, the number of batches and the
/// attacks per batch; `CODESYNC_FUZZ_FAMILIES` is `all` (the default) or a comma list of families.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(60))) struct HostileFuzzTests {
    /// What the attacker tries.
    enum Family: String, CaseIterable {
        case garbage, badHello, unknownTypes, deepJSON, wrongAuthor, foreignPeer, badOrigins, mutated,
             repeated, truncated, watcher, hugeStrings, relayRegister
        /// 160,000 distinct keys before the hello: seconds of the event loop (wire: linear, bounded parsing).
        case wideJSON
        /// A name of one letter and 500,000 combining marks (wire: names of at most 64 bytes).
        case hugeNames
        /// Operation numbers and counts at the Int32 edge: the host traps (doc: checked arithmetic).
        case extremeInts
        /// A valid op followed by an invalid one: the valid one stays on the server alone (doc: all or nothing).
        case halfValid
    }

    typealias Config = FuzzConfig<Family>

    @Test func hostilePeersNeverCrashStallOrSplitASession() async throws {
        let config = Config.fromEnvironment(defaultSeed: 20261202, quick: (rounds: 10, attacks: 40), long: (rounds: 60, attacks: 100))
        print("hostile fuzz: \(config) (replay: CODESYNC_FUZZ_SEED=\(config.seed) CODESYNC_FUZZ_ROUNDS=\(config.rounds))")
        let fixture = try await FuzzFixture.start()
        var rng = SplitMix(seed: config.seed)
        var sent: [Family: Int] = [:]
        var refusedAtHandshake = 0
        let baseline = FuzzFixture.residentMiB()
        var worstRoundTrip = 0.0
        var peakGrowth = 0
        let started = Date()
        for round in 1...config.rounds {
            for _ in 0..<config.attacksPerRound {
                let family = config.families[Int(rng.next() % UInt64(config.families.count))]
                let target: FuzzFixture.Target = family == .relayRegister || rng.next() % 3 == 0 ? .relay : .host
                if await !Attacker.run(family, target: target, fixture: fixture, rng: &rng) { refusedAtHandshake += 1 }
                sent[family, default: 0] += 1
                fixture.honestTyping(&rng)
            }
            // The checks after every batch.
            let host = await fixture.answers(.host)
            let relay = await fixture.answers(.relay)
            #expect(host, "round \(round): the host no longer answers a handshake")
            #expect(relay, "round \(round): the relay no longer answers a handshake")
            let converged = await fixture.converge()
            #expect(converged.isEmpty, "round \(round): honest peers diverged from their server: \(converged)")
            let saved = try await fixture.saveMatches()
            #expect(saved, "round \(round): the saved file differs from the host's text")
            let roundTrip = await fixture.roundTripMs(round: round)
            worstRoundTrip = max(worstRoundTrip, roundTrip)
            #expect(roundTrip < 3000, "round \(round): an honest edit took \(Int(roundTrip)) ms to reach the other peer")
            let longNames = fixture.everyone.flatMap(\.presences).map(\.name.utf8.count).filter { $0 > 64 }
            #expect(longNames.isEmpty, "round \(round): members were shown names of \(longNames) bytes")
            fixture.lingering = []
            let growth = FuzzFixture.residentMiB() - baseline
            peakGrowth = max(peakGrowth, growth)
            #expect(growth < 512, "round \(round): resident memory grew by \(growth) MiB")
            if !(host && relay && converged.isEmpty && saved) { break }
        }
        let counts = sent.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
        print("hostile fuzz: \(config): \(sent.values.reduce(0, +)) attacks (\(counts)), \(refusedAtHandshake) refused before any frame; " +
              "worst honest round trip \(Int(worstRoundTrip)) ms, peak RSS growth \(peakGrowth) MiB, \(Int(Date().timeIntervalSince(started))) s")
        await fixture.stop()
    }
}

/// What a live fuzzer runs, from the environment: quick and seeded by default; `CODESYNC_FUZZ_LONG=1`
/// runs long (a random seed unless given); `CODESYNC_FUZZ_SEED`, `CODESYNC_FUZZ_ROUNDS` and
/// `CODESYNC_FUZZ_ATTACKS` choose the seed, the batches and the attacks per batch;
/// `CODESYNC_FUZZ_FAMILIES` is `all` (the default) or a comma list of families.
struct FuzzConfig<Family: RawRepresentable & CaseIterable & Hashable>: CustomStringConvertible where Family.RawValue == String {
    var seed: UInt64
    var rounds: Int
    var attacksPerRound: Int
    var families: [Family]
    var long: Bool

    static func fromEnvironment(defaultSeed: UInt64, quick: (rounds: Int, attacks: Int), long longRun: (rounds: Int, attacks: Int)) -> Self {
        let env = ProcessInfo.processInfo.environment
        let long = env["CODESYNC_FUZZ_LONG"] == "1"
        let seed = env["CODESYNC_FUZZ_SEED"].flatMap(UInt64.init) ?? (long ? UInt64.random(in: 1...UInt64(UInt32.max)) : defaultSeed)
        let rounds = env["CODESYNC_FUZZ_ROUNDS"].flatMap(Int.init) ?? (long ? longRun.rounds : quick.rounds)
        let families: [Family]
        switch env["CODESYNC_FUZZ_FAMILIES"] {
        case let list? where !list.isEmpty && list != "all": families = list.split(separator: ",").compactMap { Family(rawValue: String($0)) }
        default: families = Array(Family.allCases)
        }
        let attacks = env["CODESYNC_FUZZ_ATTACKS"].flatMap(Int.init) ?? (long ? longRun.attacks : quick.attacks)
        return Self(seed: seed, rounds: rounds, attacksPerRound: attacks, families: families, long: long)
    }

    var description: String {
        "seed \(seed), rounds \(rounds) x \(attacksPerRound) attacks, families \(families.map(\.rawValue).joined(separator: ","))"
    }
}

/// A seeded generator (SplitMix64): the same seed gives the same attacks.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// The live session under attack: a host with three honest members, a relay with two.
final class FuzzFixture: @unchecked Sendable {
    enum Target { case host, relay }

    static let secret = "s3cret", viewSecret = "w4tch", hostSecret = "h0st-fuzz"
    static let relaySecret = "r3lay", relayView = "rw4tch", relayHostSecret = "relay-h0st-fuzz"

    let host: SessionServer
    let relay: SessionServer
    /// The relayed session's own host server: the relay only forwards to it (blind).
    var relayServer: SessionServer?
    let relaySession: String
    let hostPeer: CollaborationPeer
    let alice: CollaborationPeer
    let bob: CollaborationPeer
    let relayHost: CollaborationPeer
    let carol: CollaborationPeer
    let saveURL: URL
    private var checks = 0
    /// Attack connections kept open until the end of the batch.
    var lingering: [FuzzClient] = []
    /// The server's version vector in the attacker's last welcome, per target.
    var lastKnown: [Target: VersionVector] = [:]

    private init(host: SessionServer, relay: SessionServer, relaySession: String, hostPeer: CollaborationPeer, alice: CollaborationPeer,
                 bob: CollaborationPeer, relayHost: CollaborationPeer, carol: CollaborationPeer, saveURL: URL) {
        self.host = host; self.relay = relay; self.relaySession = relaySession; self.hostPeer = hostPeer
        self.alice = alice; self.bob = bob; self.relayHost = relayHost; self.carol = carol; self.saveURL = saveURL
    }

    var honestOnHost: [CollaborationPeer] { [hostPeer, alice, bob] }
    var honestOnRelay: [CollaborationPeer] { [relayHost, carol] }
    var everyone: [CollaborationPeer] { honestOnHost + honestOnRelay }

    static func limits() -> SessionLimits {
        var limits = fastLimits()
        limits.handshakeTimeout = .seconds(2)
        return limits
    }

    static func start() async throws -> FuzzFixture {
        let host = try await SessionServer.host(sessionID: "fuzz", secret: secret, bind: "127.0.0.1", port: 0, limits: limits(),
                                                viewSecret: viewSecret, hostSecret: hostSecret) {
            let replica = Replica(agent: "hub")
            replica.insert("def f(n):\n    return n\n", at: 0)
            return (replica, nil)
        }
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: limits())
        func peer(_ address: SessionAddress, _ name: String, secret: String, role: PeerRole = .guest, hostSecret: String? = nil,
                  viewSecret: String? = nil, state: [UInt8]? = nil) async throws -> CollaborationPeer {
            var options = CollaborationPeer.Options(name: name, secret: secret)
            options.limits = limits()
            options.connectTimeout = 20
            options.role = role
            options.hostSecret = hostSecret
            options.viewSecret = viewSecret
            return try await CollaborationPeer.join(address, options: options, state: state)
        }
        let direct = SessionAddress(host: "127.0.0.1", port: host.port)
        let hostPeer = try await peer(direct, "host", secret: secret, role: .host, hostSecret: hostSecret)
        let alice = try await peer(direct, "alice", secret: secret)
        let bob = try await peer(direct, "bob", secret: secret)
        let relaySession = Auth.sessionID(hostSecret: relayHostSecret)
        let relayed = SessionAddress(host: "127.0.0.1", port: relay.port, session: relaySession)
        // The relayed session's authority is its host's own server; the relay forwards to it.
        let relayServer = try await SessionServer.host(sessionID: relaySession, secret: relaySecret, bind: "127.0.0.1", port: 0, limits: limits(),
                                                       viewSecret: relayView, hostSecret: relayHostSecret) {
            let replica = Replica(agent: "relay-doc")
            replica.insert("print('relay')\n", at: 0)
            return (replica, nil)
        }
        try await relayServer.attachRelay(relayed, hostSecret: relayHostSecret)
        let relayHost = try await peer(SessionAddress(host: "127.0.0.1", port: relayServer.port), "rhost", secret: relaySecret, role: .host,
                                       hostSecret: relayHostSecret, viewSecret: relayView)
        let carol = try await peer(relayed, "carol", secret: relaySecret)
        let saveURL = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-fuzz-\(getpid()).py")
        let fixture = FuzzFixture(host: host, relay: relay, relaySession: relaySession, hostPeer: hostPeer, alice: alice, bob: bob,
                                  relayHost: relayHost, carol: carol, saveURL: saveURL)
        fixture.relayServer = relayServer
        return fixture
    }

    func port(_ target: Target) -> Int { target == .host ? host.port : relay.port }
    func session(_ target: Target) -> String { target == .host ? "" : relaySession }
    func secret(_ target: Target, watcher: Bool) -> String {
        switch (target, watcher) {
        case (.host, false): Self.secret
        case (.host, true): Self.viewSecret
        case (.relay, false): Self.relaySecret
        case (.relay, true): Self.relayView
        }
    }

    /// Honest members type a little: an insert or a short delete at a random place.
    func honestTyping(_ rng: inout SplitMix) {
        for peer in everyone where rng.next() % 2 == 0 {
            _ = peer.poll()
            let length = peer.scalarCount
            if rng.next() % 4 == 0, length > 4 {
                peer.delete(at: rng.below(length - 2), count: 1 + rng.below(2))
            } else {
                let words = ["x", "n ", "+1", "\n", "é", "🌍", "if n:", "# ok"]
                peer.insert(words[rng.below(words.count)], at: rng.below(length + 1))
            }
        }
    }

    /// A fresh guest completes a handshake within 10 s (from an address the attacker never uses).
    func answers(_ target: Target) async -> Bool {
        await documentSeenByANewcomer(target) != nil
    }

    /// The document as a new guest receives it in its welcome; nil when no welcome came.
    func documentSeenByANewcomer(_ target: Target) async -> String? {
        checks += 1
        let id = "checker-\(checks)"
        guard let client = try? FuzzClient(port: port(target), from: "127.0.0.4", timeout: 10),
            let welcome = await client.handshake(secret: secret(target, watcher: false), peer: id, session: session(target))
        else { return nil }
        let replica = Replica(agent: id)
        guard (try? replica.apply(welcome.update)) != nil else { return nil }
        return replica.text
    }

    /// Waits until every honest peer agrees with its server; returns what differs (empty: all agree).
    func converge() async -> [String] {
        var host = "", relayText: String? = ""
        let agreed = await eventually(30, peers: everyone) {
            host = await self.host.text()
            guard self.honestOnHost.allSatisfy({ $0.text == host && $0.isSynced }) else { return false }
            guard self.honestOnRelay.allSatisfy({ $0.isSynced }), self.carol.text == self.relayHost.text else { return false }
            relayText = await self.documentSeenByANewcomer(.relay)
            return relayText == self.carol.text
        }
        if agreed { return [] }
        return everyone.map { "\($0.options.name): \($0.text.count) chars, synced \($0.isSynced), connected \($0.isConnected)" }
            + ["host server: \(host.count) chars", "relay newcomer: \(relayText?.count ?? -1) chars"]
    }

    /// Saves the host's document and reads the file back.
    func saveMatches() async throws -> Bool {
        try await host.save(to: saveURL)
        let saved = try String(contentsOf: saveURL, encoding: .utf8)
        return await saved == host.text()
    }

    /// Milliseconds for an honest edit to reach another honest peer (on the host, then on the relay; the worse).
    func roundTripMs(round: Int) async -> Double {
        func trip(_ from: CollaborationPeer, _ to: CollaborationPeer, marker: String) async -> Double {
            let start = Date()
            from.insert(marker, at: 0)
            guard await eventually(10, peers: [from, to], { to.text.contains(marker) }) else { return 10_000 }
            return Date().timeIntervalSince(start) * 1000
        }
        let direct = await trip(alice, bob, marker: "«a\(round)»")
        let relayed = await trip(carol, relayHost, marker: "«c\(round)»")
        return max(direct, relayed)
    }

    /// This process's resident memory (VmRSS), in MiB.
    static func residentMiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib / 1024
    }

    func stop() async {
        for peer in everyone { await peer.close() }
        await host.shutdown()
        await relayServer?.shutdown()
        await relay.shutdown()
        try? FileManager.default.removeItem(at: saveURL)
    }
}

/// The attacker's frames, family by family.
enum Attacker {
    enum Access { case anonymous, guest, watcher }

    /// Frame bytes: the 4-byte big-endian length, then `payload` (no check: attacks lie about lengths too).
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(truncatingIfNeeded: payload.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
    }

    static func frame(_ json: String) -> [UInt8] { frame(Array(json.utf8)) }

    static func ops(_ peer: String, seq: Int, _ update: String) -> [UInt8] {
        frame("{\"peer\":\"\(peer)\",\"seq\":\(seq),\"type\":\"ops\",\"update\":\(update)}")
    }

    /// One attack on `target`; false when an authenticated family could not even get through the handshake.
    static func run(_ family: HostileFuzzTests.Family, target: FuzzFixture.Target, fixture: FuzzFixture, rng: inout SplitMix) async -> Bool {
        let access: Access
        switch family {
        case .garbage, .badHello, .deepJSON, .foreignPeer, .relayRegister, .wideJSON, .hugeNames: access = .anonymous
        case .watcher: access = .watcher
        case .unknownTypes, .truncated: access = rng.next() % 2 == 0 ? .anonymous : .guest
        default: access = .guest
        }
        // Unauthenticated attacks come from 127.0.0.2 (wrong secrets lock that address out, as they
        // should), signed-in ones from 127.0.0.3, so neither locks out the other or the honest peers.
        guard let client = try? FuzzClient(port: fixture.port(target), from: access == .anonymous ? "127.0.0.2" : "127.0.0.3", timeout: 2) else {
            return false
        }
        var me = "mallory-\(rng.next() % 1_000_000_000)"
        var known = VersionVector()
        var nonce = ""
        if access == .anonymous {
            // Two in three hold the secret's PSK but send no valid hello (the frame layer inside the
            // channel, before a hello); the rest never get past the cleartext prelude.
            let secret = fixture.secret(target, watcher: false), session = fixture.session(target)
            if rng.next() % 3 != 0 { _ = try? await offPool { client.secure(secret: secret, session: session) } }
            if case .challenge(let challenge)? = try? await offPool({ client.read() }) { nonce = challenge.nonce }
        } else {
            // Asking only for what changed since the last attack keeps welcomes (and the run) short.
            guard let welcome = await client.handshake(secret: fixture.secret(target, watcher: access == .watcher), peer: me,
                                                       session: fixture.session(target), known: fixture.lastKnown[target] ?? VersionVector())
            else { return false }
            known = welcome.known
            fixture.lastKnown[target] = known
        }
        let frames = Self.frames(family, target: target, fixture: fixture, me: &me, known: known, serverNonce: nonce, rng: &rng)
        _ = try? await offPool {
            for bytes in frames { client.write(bytes) }
            client.drain(milliseconds: 30)
        }
        // Stays in the session until the batch's checks, which look at what members see of it.
        if family == .hugeNames { fixture.lingering.append(client) }
        return true
    }

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    static func frames(_ family: HostileFuzzTests.Family, target: FuzzFixture.Target, fixture: FuzzFixture, me: inout String,
                       known: VersionVector, serverNonce: String, rng: inout SplitMix) -> [[UInt8]] {
        let extremes = ["0", "-1", "1", "2147483646", "2147483647", "2147483648", "-2147483648", "9223372036854775807",
                        "-9223372036854775808", "1e308", "-0", "0.5", "18446744073709551616", "null", "\"7\"", "[]", "{}", "true"]
        func extreme() -> String { extremes[rng.below(extremes.count)] }
        func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        let victims = known.counts.keys.sorted() + [fixture.alice.id, fixture.bob.id, fixture.hostPeer.id, fixture.carol.id, "hub"]
        func victim() -> String { victims[rng.below(victims.count)] }
        /// A guest's hello with the right proof for this challenge (written by hand: the name is not escaped).
        func signedHello(_ peer: String, name: String, watcher: Bool) -> [UInt8] {
            let client = "00", session = fixture.session(target)
            let proof = Auth.joinProof(key: Auth.sessionKey(secret: fixture.secret(target, watcher: watcher)), serverNonce: serverNonce,
                                       clientNonce: client, session: session, peer: peer)
            return frame("{\"known\":{},\"name\":\"\(name)\",\"nonce\":\"\(client)\",\"peer\":\"\(peer)\",\"proof\":\"\(proof)\",\"role\":\"guest\",\"session\":\"\(session)\",\"type\":\"hello\",\"version\":\(WireProtocol.version)}")
        }
        let hello = { (peer: String, version: String, extra: String) -> String in
            "{\"known\":{},\"name\":\"m\",\"nonce\":\"00\",\"peer\":\"\(peer)\",\"proof\":\"\(String(repeating: "ab", count: 32))\",\"role\":\"guest\",\"session\":\"\",\"type\":\"hello\",\"version\":\(version)\(extra)}"
        }
        switch family {
        case .garbage:
            switch rng.below(5) {
            case 0: return [randomBytes(1 + rng.below(4096))]
            case 1: return [frame(randomBytes(1 + rng.below(4096)))]
            case 2: return [[0, 0, 0, 0]]
            case 3: return [[0xff, 0xff, 0xff, 0xff] + randomBytes(64)]
            default: return [[0, 0, 0x10, 0] + randomBytes(rng.below(4096))]  // says 4096, sends less, then closes
            }
        case .badHello:
            switch rng.below(6) {
            case 0: return [frame(hello("m-1", extreme(), ""))]
            case 1: return [frame(hello(String(repeating: "p", count: 100_000 + rng.below(100_000)), "3", ""))]
            case 2: return [frame(hello("", "3", ",\"known\":{\"a\":\(extreme())}"))]
            case 3: return [frame("{\"type\":\"hello\",\"version\":\"x\",\"peer\":7}")]
            case 4: return [frame(hello("m-2", "3", ",\"role\":\"king\",\"nonce\":\"\(String(repeating: "zz", count: 50_000))\""))]
            default: return [frame(hello("m-3", "3", "")), frame(hello("m-3", "3", ""))]
            }
        case .unknownTypes:
            let type = ["x-\(rng.next())", "", "hello.v9", String(repeating: "t", count: 10_000)][rng.below(4)]
            return [frame("{\"type\":\"\(type)\",\"data\":\(extreme())}"), frame("{\"type\":\(extreme())}"), frame("{}"), frame("[1,2,3]")]
        case .deepJSON:
            let depth = 1000 + rng.below(60_000)
            let open = rng.next() % 2 == 0 ? "[" : "{\"a\":"
            let close = open == "[" ? "]" : "}"
            let deep = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
            return [frame("{\"type\":\"hello\",\"known\":\(deep)}")]
        case .wideJSON:
            var wide = "{\"type\":\"hello\""
            for index in 0..<160_000 { wide += ",\"k\(index)\":1" }
            return [frame(wide + "}")]
        case .hugeNames:
            // Signed in properly: the name is what every member would receive in presence messages.
            return [signedHello(me, name: "a" + String(repeating: "\u{301}", count: 500_000), watcher: false)]
        case .wrongAuthor:
            let who = victim()
            let seq = known[who]
            switch rng.below(4) {
            case 0: return [ops(me, seq: 1, "{\"a\":[\"\(who)\"],\"o\":[[0,0,\(seq),-1,0,-1,0,\"EVIL\"]]}")]
            case 1: return [ops(me, seq: 1, "{\"a\":[\"\(me)\",\"\(who)\"],\"o\":[[0,0,0,-1,0,-1,0,\"ok\"],[0,1,\(seq),-1,0,-1,0,\"EVIL\"]]}")]
            case 2: return [frame("{\"language\":\"python\",\"peer\":\"\(who)\",\"source\":\"print(1)\",\"type\":\"run.request\"}")]
            default: return [frame("{\"peer\":\"\(who)\",\"run\":\"r1\",\"type\":\"run.cancel\"}")]
            }
        case .foreignPeer:
            // Claiming a member's id: with a wrong proof, or (as the server sees a guest) with the right secret.
            let who = victim()
            return [signedHello(who, name: "m", watcher: rng.next() % 2 == 0),
                    ops(who, seq: 1, "{\"a\":[\"\(who)\"],\"o\":[[0,0,\(known[who]),-1,0,-1,0,\"EVIL\"]]}")]
        case .badOrigins:
            let unknown = "ghost-\(rng.below(100))"
            switch rng.below(6) {
            case 0: return [ops(me, seq: 1, "{\"a\":[\"\(me)\",\"\(unknown)\"],\"o\":[[0,0,0,1,\(rng.below(1000)),-1,0,\"x\"]]}")]
            case 1: return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,0,\(1 + rng.below(100_000)),-1,0,-1,0,\"gap\"]]}")]
            case 2: return [ops(me, seq: 1, "{\"a\":[\"\(me)\",\"\(victim())\"],\"o\":[[1,0,0,1,\(rng.below(100_000)),\(1 + rng.below(50))]]}")]
            case 3: return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,5,0,-1,0,-1,0,\"x\"]]}")]
            case 4: return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[7,0,0],[0,0,0],[0,0,0,-1,0,-1,0,\"\"]]}")]
            default: return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"ok\"],[1,0,2,0,1,-2]]}")]
            }
        case .extremeInts:
            // The issue's first row, then the Int32 edge on every field.
            if rng.next() % 2 == 0 { return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[1,0,0,0,2147483646,2]]}")] }
            return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[\(rng.below(2)),0,\(extreme()),0,\(extreme()),\(extreme()),\(extreme()),\"x\"]]}")]
        case .halfValid:
            return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"SMUGGLED\"],[1,0,8,0,0,1],[0,0,9,0,8,-1,0,\"y\"]]}")]
        case .mutated:
            var json = Array("{\"peer\":\"\(me)\",\"seq\":1,\"type\":\"ops\",\"update\":{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"mut\"],[1,0,3,0,0,2]]}}".utf8)
            let alphabet = Array("0123456789-[]{}\",:.e\\u".utf8)
            for _ in 0..<(1 + rng.below(4)) {
                guard !json.isEmpty else { break }
                let at = rng.below(json.count)
                switch rng.below(4) {
                case 0: json[at] = alphabet[rng.below(alphabet.count)]
                case 1: json.remove(at: at)
                case 2: json.insert(alphabet[rng.below(alphabet.count)], at: at)
                default: json[at] ^= UInt8(1 << rng.below(8))
                }
            }
            return [frame(json)]
        case .repeated:
            let valid = ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"r\"]]}")
            switch rng.below(3) {
            case 0: return Array(repeating: valid, count: 20)
            case 1: return Array(repeating: frame("{\"id\":1,\"type\":\"ping\"}"), count: 200)
            default: return [valid, frame(hello(me, "3", "")), valid]
            }
        case .truncated:
            let valid = ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"cut\"]]}")
            return [Array(valid.prefix(1 + rng.below(valid.count - 1)))]
        case .watcher:
            return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"WATCHER\"]]}"),
                    frame("{\"language\":\"python\",\"peer\":\"\(me)\",\"source\":\"print(1)\",\"type\":\"run.request\"}"),
                    frame("{\"guests\":\"view\",\"type\":\"roles.set\"}"),
                    frame("{\"by\":\"\(me)\",\"language\":\"python\",\"run\":\"r9\",\"type\":\"run.started\"}")]
        case .hugeStrings:
            let big = String(repeating: "A", count: 64 * 1024 + rng.below(1_000_000))
            switch rng.below(3) {
            case 0: return [frame("{\"colour\":0,\"name\":\"\(big)\",\"peer\":\"\(me)\",\"type\":\"presence\"}")]
            case 1: return [frame("{\"type\":\"x-big\",\"blob\":\"\(big)\"}")]
            default: return [ops(me, seq: 1, "{\"a\":[\"\(me)\"],\"o\":[[0,0,0,-1,0,-1,0,\"\(big.prefix(1024))\"]]}")]
            }
        case .relayRegister:
            // A session registration without the relay host key: wrong ids, bogus keys, wrong proofs.
            let relayKey = Auth.keyHex(Auth.relayHostKey(hostKey: Auth.sessionKey(secret: "mallory-\(rng.below(1000))")))
            let session = rng.next() % 2 == 0 ? fixture.relaySession : Auth.sessionID(relayHostKey: Auth.key(fromHex: relayKey)!)
            let bogus = rng.next() % 3 == 0 ? extreme() : "\"\(relayKey)\""
            return [frame("{\"key\":\"\(relayKey)\",\"known\":{},\"name\":\"m\",\"nonce\":\"00\",\"peer\":\"\(me)\",\"proof\":\"\(String(repeating: "cd", count: 32))\",\"relayKey\":\(bogus),\"role\":\"host\",\"session\":\"\(session)\",\"type\":\"hello\",\"version\":\(WireProtocol.version)}")]
        }
    }
}

/// A blocking TCP client bound to a chosen loopback source address, with short timeouts: an
/// attacker that never waits long for a server that stopped listening to it.
final class FuzzClient: @unchecked Sendable {
    let fd: Int32
    private var transport: SecureTransport?
    private var plaintext: [UInt8] = []
    private var secured = false

    /// The cleartext prelude and the Noise handshake with `secret`'s PSK; afterwards `write` seals
    /// and `read` opens. False when the server refused (it may have locked this address out).
    @discardableResult
    func secure(secret: String, session: String) -> Bool {
        guard !secured else { return transport != nil }
        secured = true
        guard let challenge = readRaw(), case .challenge = try? MessageCodec.decode(challenge),
            var initiator = try? SecureInitiator(psk: SecureChannel.psk(secret: secret), session: session),
            let message1 = try? initiator.start()
        else { return false }
        let open = Array("{\"session\":\"\(session)\",\"type\":\"open\",\"version\":\(SecureChannel.protocolVersion)}".utf8)
        writeRaw(Attacker.frame(open) + SecureRecordReader.wire([message1]))
        guard let reply = readRaw(), reply.count == SecureChannel.handshakeMessageLength, let done = try? initiator.finish(reply: reply) else { return false }
        transport = done
        return true
    }

    private func readRaw() -> [UInt8]? {
        guard let prefix = readExactly(4) else { return nil }
        let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
        guard length <= 64 << 20 else { return nil }
        return readExactly(length)
    }

    /// `count` bytes of the frame stream (opened from records once secured).
    private func readPlain(_ count: Int) -> [UInt8]? {
        guard transport != nil else { return readExactly(count) }
        while plaintext.count < count {
            guard let record = readRaw(), var current = transport, case .data(let bytes)? = try? current.open(record) else { return nil }
            transport = current
            plaintext += bytes
        }
        defer { plaintext.removeFirst(count) }
        return Array(plaintext.prefix(count))
    }

    init(port: Int, from source: String, timeout: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawError("socket failed") }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &local) { localPointer in
            withUnsafePointer(to: &address) { remotePointer in
                localPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { l in
                    remotePointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { r in
                        bind(fd, l, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && connect(fd, r, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                    }
                }
            }
        }
        guard ok else { close(fd); throw RawError("connect failed: \(errno)") }
    }

    deinit { close(fd) }

    /// Writes into the channel (sealed) once secured, else on the socket as is.
    func write(_ bytes: [UInt8]) {
        guard var current = transport else { return writeRaw(bytes) }
        guard let records = try? current.seal(bytes) else { return }
        transport = current
        writeRaw(SecureRecordReader.wire(records))
    }

    func writeRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }

    /// The next message (nil at end of stream, on timeout, or when it does not decode).
    func read() -> WireMessage? {
        guard let prefix = readPlain(4) else { return nil }
        let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
        guard length <= 64 << 20, let payload = readPlain(length) else { return nil }
        return try? MessageCodec.decode(payload)
    }

    /// Reads (and drops) whatever arrives within `milliseconds`.
    func drain(milliseconds: Int) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { return }
            if recv(fd, &buffer, buffer.count, 0) <= 0 { return }
        }
    }

    /// The messages that arrive within `milliseconds` (already opened ones first), stopping early at
    /// the first for which `until` holds, at the end of the stream, or at one that does not decode.
    func messages(within milliseconds: Int, until: (WireMessage) -> Bool = { _ in false }) -> [WireMessage] {
        var out: [WireMessage] = []
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
        while Date() < deadline {
            if plaintext.isEmpty {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { break }
            }
            guard let message = read() else { break }
            out.append(message)
            if until(message) { break }
        }
        return out
    }

    /// Completes the handshake as a guest proving `secret`; the welcome, nil when refused or silent.
    func handshake(secret: String, peer: String, session: String, known: VersionVector = VersionVector()) async -> Welcome? {
        (try? await offPool { () -> Welcome? in
            guard self.secure(secret: secret, session: session), case .challenge(let challenge) = self.read() else { return nil }
            let nonce = Auth.generateNonce()
            let proof = Auth.joinProof(key: Auth.sessionKey(secret: secret), serverNonce: challenge.nonce, clientNonce: nonce, session: session, peer: peer)
            guard let hello = try? MessageCodec.encode(.hello(Hello(version: WireProtocol.version, session: session, peer: peer, name: "fuzz",
                                                                     role: .guest, nonce: nonce, proof: proof, known: known)))
            else { return nil }
            self.write(Attacker.frame(hello))
            while let message = self.read() {
                if case .welcome(let welcome) = message { return welcome }
                if case .error = message { return nil }
            }
            return nil
        }) ?? nil
    }
}
