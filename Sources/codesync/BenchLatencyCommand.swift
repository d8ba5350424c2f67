import ArgumentParser
import CodeSyncApp
import CodeSyncProtocol
import Foundation

/// `codesync bench latency`: a host (or relay) and N typing peers as separate processes on loopback.
struct BenchLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Measure edit-to-remote-apply latency between peer processes on 127.0.0.1; prints JSON.")

    @Option(help: "Typing peers (separate processes).")
    var peers = 10

    @Option(help: "Edits per second per peer, at random places.")
    var rate = 20.0

    @Option(help: "Seconds of typing.")
    var duration = 10.0

    @Flag(help: "Route through a relay process (host registers there; peers join RELAY/SESSION).")
    var viaRelay = false

    @Option(help: "Seed of the random edits.")
    var seed: UInt64 = 1

    @Flag(help: "Peers also share their cursor after each edit, as the editor does on every keystroke.")
    var presence = false

    @Flag(help: "Without encryption, to measure what it costs (benchmark processes only; an encrypted peer refuses them).")
    var plaintext = false

    @Option(help: "Joins timed for the handshake figure (connect, prelude, Noise handshake, hello and welcome).")
    var handshakes = 20

    /// Set by `--plaintext` for the benchmark's own child processes; honoured only by a headless
    /// host and a typing headless joiner, so no interactive session can be made to skip encryption.
    static let plaintextVariable = "CODESYNC_BENCH_PLAINTEXT"

    static func plaintextRequested(headless: Bool) -> Bool {
        guard headless, ProcessInfo.processInfo.environment[plaintextVariable] == "1" else { return false }
        FileHandle.standardError.write(Data("codesync: WITHOUT ENCRYPTION (\(plaintextVariable)=1, for benchmarks only)\n".utf8))
        return true
    }

    func validate() throws {
        guard (1...64).contains(peers) else { throw ValidationError("--peers must be 1...64") }
        guard rate > 0 && rate <= 1000 else { throw ValidationError("--rate must be in (0, 1000]") }
        guard duration > 0 && duration <= 600 else { throw ValidationError("--duration must be in (0, 600]") }
    }

    func run() async throws {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-bench-\(Auth.randomHex(count: 4))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path]
        if plaintext { environment[Self.plaintextVariable] = "1" }
        let file = work.appendingPathComponent("bench.txt").path
        var children: [Child] = []
        defer { for child in children { child.terminate() } }

        var hostArguments = ["host", file, "--headless", "--name", "host"]
        // Through a relay the host must not listen as well: with --port it would also serve directly
        // (bridging to the relay), print the direct join line first, and the peers would skip the relay.
        if !viaRelay { hostArguments += ["--port", "0"] }
        if viaRelay {
            let relay = try Child(binary, ["relay", "--port", "0"], environment: environment)
            children.append(relay)
            guard let line = relay.waitLine(prefix: "relay listening on ", timeout: 30) else {
                throw ValidationError("the relay did not start: \(relay.errorText)")
            }
            hostArguments += ["--relay", String(line.dropFirst("relay listening on ".count))]
        }
        let host = try Child(binary, hostArguments, environment: environment)
        children.append(host)
        guard let joinLine = host.waitLine(prefix: "CODESYNC_SECRET=", timeout: 30) else {
            throw ValidationError("the host did not start: \(host.errorText)")
        }
        guard let (address, secret) = HostSession.parseJoinLine(joinLine) else { throw ValidationError("unexpected join line: \(joinLine)") }
        if viaRelay && !address.contains("/") {
            throw ValidationError("the host gave a direct join line, not a relay one: \(joinLine)")
        }

        var typists: [Child] = []
        for index in 0..<peers {
            let peer = try Child(binary, [
                "join", address, "--headless", "--name", "peer\(index)",
                "--type-rate", String(rate), "--type-duration", String(duration), "--seed", String(seed &+ UInt64(index)),
            ] + (presence ? ["--type-presence"] : []), environment: environment.merging([SecretOptions.environmentVariable: secret]) { $1 })
            children.append(peer)
            typists.append(peer)
        }
        for peer in typists where peer.waitLine(prefix: "joined ", timeout: 30) == nil {
            throw ValidationError("a peer did not join: \(peer.errorText)")
        }
        let handshakeMs = try await timeHandshakes(address: address, secret: secret)
        let crypto = Self.cryptoCosts()
        for peer in typists { peer.send("go") }
        var sent = 0
        for peer in typists {
            guard let line = peer.waitLine(prefix: "typed ", timeout: duration + 60) else {
                throw ValidationError("a peer did not finish typing: \(peer.errorText)")
            }
            sent += Int(line.dropFirst("typed ".count)) ?? 0
        }

        // Converged: every replica shows the same text (asked repeatedly while the last ops land).
        var converged = false
        var length = 0
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            var texts = Set<String>()
            for peer in typists {
                peer.send("text")
                texts.insert(peer.waitLine(prefix: "text ", timeout: 10) ?? "missing \(peer.pid)")
            }
            if texts.count == 1, let only = texts.first, !only.hasPrefix("missing") {
                converged = true
                let decoded = try? JSONDecoder().decode(String.self, from: Data(only.dropFirst("text ".count).utf8))
                length = decoded?.unicodeScalars.count ?? 0
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }

        var latencies: [Double] = []
        for peer in typists {
            peer.send("stats")
            guard let line = peer.waitLine(prefix: "stats ", timeout: 10),
                let data = line.dropFirst("stats ".count).data(using: .utf8),
                let stats = try? JSONDecoder().decode(PeerStats.self, from: data)
            else { throw ValidationError("a peer gave no stats: \(peer.errorText)") }
            latencies += stats.latencies
        }
        for peer in typists { peer.send("quit") }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return latencies[min(latencies.count - 1, Int((p * Double(latencies.count - 1)).rounded()))]
        }
        let report = LatencyReport(
            peers: peers, rate: rate, duration: duration, viaRelay: viaRelay, presence: presence,
            editsSent: sent, editsApplied: latencies.count, expectedApplied: sent * (peers - 1),
            p50Ms: round3(percentile(0.5)), p99Ms: round3(percentile(0.99)), maxMs: round3(latencies.last ?? 0),
            meanMs: round3(latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count)),
            converged: converged, finalTextScalars: length, encrypted: !plaintext,
            handshakeMedianMs: round3(handshakeMs.median), handshakeP90Ms: round3(handshakeMs.p90), handshakes: handshakes,
            noiseHandshakeMicros: crypto.handshake, sealOpenOpsMicros: crypto.sealOpen)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        say(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    private func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    /// In-process medians of 500 runs, independent of the other processes' scheduling: both sides of
    /// a Noise handshake (microseconds), and sealing plus opening one typical `ops` frame as a record.
    static func cryptoCosts() -> (handshake: Double, sealOpen: Double) {
        let psk = SecureChannel.psk(secret: Auth.generateSecret())
        func median(_ body: () throws -> Void) -> Double {
            var times: [Double] = []
            for _ in 0..<500 {
                let start = ContinuousClock.now
                try? body()
                let elapsed = ContinuousClock.now - start
                times.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
            }
            times.sort()
            return (times[times.count / 2] * 100).rounded() / 100
        }
        let handshake = median {
            var initiator = try SecureInitiator(psk: psk, session: "")
            let outcome = try SecureResponder.respond(to: try initiator.start(), psks: [psk, psk], session: "")
            _ = try initiator.finish(reply: outcome.reply)
        }
        var pair: (SecureTransport, SecureTransport)?
        if var initiator = try? SecureInitiator(psk: psk, session: ""), let first = try? initiator.start(),
            let outcome = try? SecureResponder.respond(to: first, psks: [psk], session: ""), let sender = try? initiator.finish(reply: outcome.reply)
        {
            pair = (sender, outcome.transport)
        }
        let frame = Array((try? MessageCodec.frame(.ops(Ops(peer: "peer3-1a2b3c", seq: 42,
            update: Replica(agent: "peer3-1a2b3c").insert("x", at: 0), sentAt: 1_764_236_000_000.5))).readableBytesView) ?? [])
        let sealOpen = median {
            guard var current = pair else { return }
            for record in try current.0.seal(frame) { _ = try current.1.open(record) }
            pair = current
        }
        return (handshake, sealOpen)
    }

    /// Joins the session `handshakes` times (before the typing starts) and times each from the
    /// connect to the welcome: TCP, the cleartext prelude, the Noise handshake, hello and welcome.
    private func timeHandshakes(address: String, secret: String) async throws -> (median: Double, p90: Double) {
        var times: [Double] = []
        var options = CollaborationPeer.Options(name: "handshake", secret: secret)
        options.limits.plaintextForBenchmark = plaintext
        options.reconnect = false
        let parsed = try SessionAddress(parsing: address)
        for _ in 0..<max(1, handshakes) {
            let start = ContinuousClock.now
            let peer = try await CollaborationPeer.join(parsed, options: options)
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            await peer.close()
        }
        times.sort()
        return (times[times.count / 2], times[min(times.count - 1, Int(Double(times.count - 1) * 0.9))])
    }
}

private struct PeerStats: Decodable {
    var sent: Int
    var latencies: [Double]
}

private struct LatencyReport: Encodable {
    var peers: Int
    var rate: Double
    var duration: Double
    var viaRelay: Bool
    var presence: Bool
    var editsSent: Int
    var editsApplied: Int
    var expectedApplied: Int
    var p50Ms: Double
    var p99Ms: Double
    var maxMs: Double
    var meanMs: Double
    var converged: Bool
    var finalTextScalars: Int
    var encrypted: Bool
    var handshakeMedianMs: Double
    var handshakeP90Ms: Double
    var handshakes: Int
    var noiseHandshakeMicros: Double
    var sealOpenOpsMicros: Double
}
