import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync host --approve --headless` as real processes (issue 13): the host prints who waits
/// and takes `admit`, `refuse` and `remove` on stdin; guests come directly and through a relay.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(2))) struct ApproveProcessTests {
    @Test func aHeadlessHostAdmitsRefusesAndRemovesFromStdin() async throws {
        let binary: URL
        do { binary = try TestEnvironment.codesyncBinary() } catch {
            _ = try TestEnvironment.missing("\(error)") as URL?
            return
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-approve-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path, "CODESYNC_NAME": "tester"]
        let relay = try CodesyncProcess(binary, ["relay", "--port", "0"], environment: environment)
        defer { relay.kill9() }
        guard let listening = await relay.line(prefix: "relay listening on ") else { Issue.record("relay: \(relay.stderr)"); return }
        let relayAddress = String(listening.dropFirst("relay listening on ".count))
        let file = work.appendingPathComponent("shared.py")
        try "x = 1\n".write(to: file, atomically: true, encoding: .utf8)
        let host = try CodesyncProcess(binary, ["host", file.path, "--headless", "--approve", "--name", "host", "--port", "0", "--relay", relayAddress],
                                       environment: environment)
        defer { host.kill9() }
        guard let directLine = await host.line(prefix: "CODESYNC_SECRET="), let (direct, secret) = HostSession.parseJoinLine(directLine),
              let relayLine = await host.line(prefix: "CODESYNC_SECRET="), let viaRelay = HostSession.parseJoinLine(relayLine)?.address
        else {
            Issue.record("no join lines: \(host.stderr)")
            return
        }
        let withSecret = environment.merging(["CODESYNC_SECRET": secret]) { $1 }
        // ann comes directly and is admitted; bob comes through the relay and is refused.
        let ann = try CodesyncProcess(binary, ["join", direct, "--headless", "--name", "ann"], environment: withSecret)
        defer { ann.kill9() }
        guard let annWaiting = await host.line(prefix: "waiting ") else { Issue.record("host: \(host.stderr)"); return }
        let annWords = annWaiting.split(separator: " ").map(String.init)
        #expect(annWords.count >= 5 && annWords[2] == "edit+run" && annWords[3] == "\"127.0.0.1\"" && annWords[4] == "\"ann\"", "\(annWaiting)")
        // Her own line may reach us a moment after the host's (two processes, two pipes).
        #expect(await ann.stderrContains("waiting for the host to admit you"), "\(ann.stderr)")
        let bob = try CodesyncProcess(binary, ["join", viaRelay, "--headless", "--name", "bob"], environment: withSecret)
        defer { bob.kill9() }
        guard let bobWaiting = await host.line(prefix: "waiting ") else { Issue.record("host: \(host.stderr)"); return }
        #expect(bobWaiting.contains("\"127.0.0.1 via relay\"") && bobWaiting.hasSuffix("\"bob\""), "\(bobWaiting)")
        host.send("lobby")
        let lobby = await host.line(prefix: "lobby ")
        #expect(lobby?.contains("\"name\":\"ann\"") == true && lobby?.contains("\"name\":\"bob\"") == true, "\(String(describing: lobby))")
        host.send("admit \(annWords[1])")
        #expect(await ann.line(prefix: "joined ") != nil, "\(ann.stderr)")
        ann.send("append \"y = 2\\n\"")
        ann.send("sync")
        #expect(await ann.line(prefix: "synced") != nil)
        host.send("refuse \(bobWaiting.split(separator: " ")[1])")
        #expect(await bob.stderrContains("the host did not admit you to this session"), "\(bob.stderr)")
        // Removing ann mid-session: she stops with the host's decision.
        host.send("peers")
        let peers = await host.line(prefix: "peers ")
        #expect(peers?.contains("\"name\":\"ann\"") == true, "\(String(describing: peers))")
        host.send("remove \(annWords[1])")
        #expect(await ann.stderrContains("you were removed from this session by the host"), "\(ann.stderr)")
        #expect(await host.stderrContains("ann left (removed by the host)"), "\(host.stderr)")
        // The host saves what ann typed while she was in.
        #expect(await host.stop() == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == "x = 1\ny = 2\n")
    }
}
