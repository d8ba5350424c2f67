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
        let environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path]
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
            converged: converged, finalTextScalars: length)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        say(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    private func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
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
}
