import CodeSyncTestSupport
import Foundation
import Testing

/// Two real editors in two tmux sessions, a host and a guest on loopback.
@Suite(.ownThreads, .serialized) struct EditorSessionTmuxTests {
    struct Pair {
        var host: TmuxFixture
        var guest: TmuxFixture
        var file: URL
    }

    /// Starts `codesync host` on a copy of examples/demo.py and joins it with `codesync join`.
    static func startPair(extraEnvironment: [String: String] = [:]) throws -> Pair? {
        let binary = try TestEnvironment.codesyncBinary().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-pair-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("demo.py")
        try FileManager.default.copyItem(
            at: TestEnvironment.packageRoot().appendingPathComponent("examples/demo.py"), to: file)
        var environment = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path]
        environment.merge(extraEnvironment) { $1 }
        var hostEnvironment = environment
        hostEnvironment["CODESYNC_NAME"] = "alice"
        guard let host = try TmuxFixture.start(
            "\(TmuxFixture.shellQuote(binary)) host \(TmuxFixture.shellQuote(file.path)) --port 0",
            columns: 100, rows: 30, environment: hostEnvironment) else { return nil }
        let screen = try host.waitFor("CODESYNC_SECRET=", timeout: 20)
        let range = try #require(
            screen.range(of: #"CODESYNC_SECRET=[0-9a-f]+ codesync join \S+"#, options: .regularExpression),
            "no join line on the host's screen:\n\(screen)")
        // The join line as printed, run by a shell: `CODESYNC_SECRET=… codesync join ADDR`.
        let command = String(screen[range]).replacingOccurrences(of: " codesync join ", with: " \(TmuxFixture.shellQuote(binary)) join ")
        var guestEnvironment = environment
        guestEnvironment["CODESYNC_NAME"] = "bob"
        guard let guest = try TmuxFixture.start(command, columns: 100, rows: 30, environment: guestEnvironment)
        else { return nil }
        try guest.waitFor("connected", timeout: 20)
        try host.waitFor("● bob", timeout: 20)
        return Pair(host: host, guest: guest, file: file)
    }

    @Test func typingInOnePeerAppearsInTheOtherWithTheRemoteCursorFlag() throws {
        guard let pair = try Self.startPair() else { return }
        try pair.guest.send("Down", "Down", "Down", "End")
        try pair.guest.type("  # bob was here 漢字")
        let hostScreen = try pair.host.waitFor("# bob was here 漢字")
        let line = try #require(hostScreen.split(separator: "\n").first { $0.contains("bob was here") })
        // The guest's cursor is at the end of line 4; its name flag sits just after the text.
        #expect(line.hasPrefix("  4 def first(items):  # bob was here 漢字   bob "), "line: \(line)")
        try pair.host.send("Down")
        try pair.host.type("# alice too")
        let guestScreen = try pair.guest.waitFor("# alice too")
        let guestLine = try #require(guestScreen.split(separator: "\n").first { $0.contains("# alice too") })
        #expect(guestLine.contains(" alice "), "the host's flag is on its line: \(guestLine)")
        // Pings run every second; the guest's status bar then shows the measured round trip.
        let latencyScreen = try pair.guest.waitUntil("a latency on the guest's status bar", timeout: 20) {
            $0.range(of: #"connected · \d+ ms"#, options: .regularExpression) != nil
        }
        #expect(latencyScreen.contains("connected · "))
        try pair.host.send("C-s")
        try pair.host.waitFor("saved demo.py")
        let saved = try String(contentsOf: pair.file, encoding: .utf8)
        #expect(saved.contains("def first(items):  # bob was here 漢字"))
        #expect(saved.contains("Ctrl-R runs.\"\"\"\n# alice too\n"))
        try Self.quit(pair)
    }

    @Test func aGuestsRunShowsItsOutputInBothEditors() throws {
        guard let (_, image) = try DockerFixture.withImage("python") else { return }
        guard let pair = try Self.startPair(extraEnvironment: ["CODESYNC_IMAGE_PYTHON": image]) else { return }
        try pair.guest.send("C-r")
        for peer in [pair.guest, pair.host] {
            let screen = try peer.waitFor("exited with code 0", timeout: 60)
            #expect(screen.contains("fib(20) = 6765"))
            #expect(screen.contains("run by bob"))
        }
        try Self.quit(pair)
    }

    /// Quits both editors; the host may ask about unsaved changes (answered: do not save).
    static func quit(_ pair: Pair) throws {
        try pair.guest.send("C-q")
        try pair.host.send("C-q")
        if (try? pair.host.waitFor("Save changes to", timeout: 2)) != nil { try pair.host.send("n") }
        try pair.host.waitUntil("the host exits") { _ in (try? pair.host.paneIsDead()) == true }
    }
}
