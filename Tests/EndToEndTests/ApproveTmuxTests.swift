import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync host --approve` with real editors in tmux (issue 13): a guest waits and is admitted,
/// another is refused, a third is removed mid-session and cannot come back without the host.
@Suite(.ownThreads, .serialized) struct ApproveTmuxTests {
    struct Screens: Sendable {
        var bobWaiting: String
        var hostAfterTyping: String
        var bobAfterTyping: String
        var carolRefused: String
        var daveRemoved: String
        var bobAfterRemoval: String
        var hostAfterRemoval: String
        var daveAgain: String
        var hostAfterDaveAgain: String
    }

    @Test func guestsWaitAreAdmittedRefusedAndRemovedFromTheHostsScreen() async throws {
        // tmux polling blocks: keep it off the two threads that run async tests.
        let screens = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Screens?, Error>) in
            DispatchQueue.global().async { continuation.resume(with: Result { try Self.drive() }) }
        }
        guard let s = screens else { return }
        #expect(s.bobWaiting.contains("waiting for the host to admit you"), "\(s.bobWaiting)")
        #expect(!s.bobWaiting.contains("print('shared')"), "a waiting guest saw the document:\n\(s.bobWaiting)")
        // Both screens agree on the text bob typed once admitted.
        #expect(s.hostAfterTyping.contains("print('shared') # bob"), "\(s.hostAfterTyping)")
        #expect(s.bobAfterTyping.contains("print('shared') # bob"), "\(s.bobAfterTyping)")
        #expect(s.carolRefused.contains("the host did not admit you to this session"), "\(s.carolRefused)")
        #expect(!s.carolRefused.contains("print('shared')"), "\(s.carolRefused)")
        #expect(s.daveRemoved.contains("you were removed from this session by the host"), "\(s.daveRemoved)")
        #expect(s.bobAfterRemoval.contains("dave left (removed by the host)"), "\(s.bobAfterRemoval)")
        #expect(!s.hostAfterRemoval.contains("● dave"), "\(s.hostAfterRemoval)")
        #expect(s.daveAgain.contains("waiting for the host to admit you") && !s.daveAgain.contains("print('shared')"), "\(s.daveAgain)")
        #expect(s.hostAfterDaveAgain.contains("[1 waiting: ^W]"), "\(s.hostAfterDaveAgain)")
    }

    /// Drives the host and three guests; nil when tmux is missing (skipped with a notice).
    static func drive() throws -> Screens? {
        let binary = try TestEnvironment.codesyncBinary().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-approve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("demo.py")
        try "print('shared')\n".write(to: file, atomically: true, encoding: .utf8)
        let environment = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path,
                           "XDG_RUNTIME_DIR": folder.appendingPathComponent("run").path]
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("run"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        guard let host = try TmuxFixture.start(
            "\(TmuxFixture.shellQuote(binary)) host \(TmuxFixture.shellQuote(file.path)) --port 0 --approve",
            columns: 120, rows: 30, environment: environment.merging(["CODESYNC_NAME": "alice"]) { $1 }) else { return nil }
        let screen = try host.waitFor("share: CODESYNC_SECRET=", timeout: 30)
        let range = try #require(screen.range(of: #"CODESYNC_SECRET=[0-9a-f]+ codesync join \S+"#, options: .regularExpression),
                                 "no join line on the host's screen:\n\(screen)")
        let command = String(screen[range]).replacingOccurrences(of: " codesync join ", with: " \(TmuxFixture.shellQuote(binary)) join ")
        func guest(_ name: String) throws -> TmuxFixture {
            try #require(try TmuxFixture.start(command, columns: 120, rows: 30, environment: environment.merging(["CODESYNC_NAME": name]) { $1 }))
        }
        /// Opens the people dialog, waits for `row` to be picked after `downs` presses of Down, presses `key`.
        func decide(_ row: String, downs: Int = 0, key: String) throws {
            try host.send("C-w")
            try host.waitFor("a admit · r refuse · x remove", timeout: 30)
            for _ in 0..<downs { try host.send("Down") }
            try host.waitFor("› " + row, timeout: 30)
            try host.type(key)
            try host.send("Escape")
        }

        // bob waits, seeing nothing, until the host admits him; then he types and both screens agree.
        let bob = try guest("bob")
        let bobWaiting = try bob.waitFor("waiting for the host to admit you", timeout: 30)
        try host.waitFor("[1 waiting: ^W]", timeout: 30)
        try decide("waiting  bob · 127.0.0.1 · edit+run", key: "a")
        try bob.waitFor("print('shared')", timeout: 30)
        try host.waitFor("● bob", timeout: 30)
        try bob.send("End")
        try bob.type(" # bob")
        let hostAfterTyping = try host.waitFor("print('shared') # bob", timeout: 30)
        let bobAfterTyping = try bob.waitFor("print('shared') # bob", timeout: 30)

        // carol is refused: her codesync stops with the host's decision.
        let carol = try guest("carol")
        try carol.waitFor("waiting for the host to admit you", timeout: 30)
        try host.waitFor("[1 waiting: ^W]", timeout: 30)
        try decide("waiting  carol", key: "r")
        let carolRefused = try carol.waitFor("the host did not admit you", timeout: 30)
        try carol.waitUntil("carol's codesync exits") { _ in (try? carol.paneIsDead()) == true }

        // dave is admitted, then removed mid-session: everyone sees him leave, he cannot come back by himself.
        let dave = try guest("dave")
        try dave.waitFor("waiting for the host to admit you", timeout: 30)
        try host.waitFor("[1 waiting: ^W]", timeout: 30)
        try decide("waiting  dave", key: "a")
        try dave.waitFor("print('shared') # bob", timeout: 30)
        try host.waitFor("● dave", timeout: 30)
        try bob.waitFor("dave joined", timeout: 30)
        try decide("joined   dave", downs: 1, key: "x")
        let daveRemoved = try dave.waitFor("you were removed from this session by the host", timeout: 30)
        let bobAfterRemoval = try bob.waitFor("dave left (removed by the host)", timeout: 30)
        let hostAfterRemoval = try host.waitUntil("dave gone from the host's status bar") { !$0.contains("● dave") }
        // Joining again is a new request to the host: dave waits in the lobby, seeing nothing.
        try dave.send("C-q")
        try dave.waitUntil("dave's editor exits") { _ in (try? dave.paneIsDead()) == true }
        let daveAgainFixture = try guest("dave")
        let daveAgain = try daveAgainFixture.waitFor("waiting for the host to admit you", timeout: 30)
        let hostAfterDaveAgain = try host.waitFor("[1 waiting: ^W]", timeout: 30)
        try decide("waiting  dave", key: "r")
        try daveAgainFixture.waitFor("the host did not admit you", timeout: 30)

        try bob.send("C-q")
        try host.send("C-q")
        if (try? host.waitFor("Save changes to", timeout: 5)) != nil { try host.send("n") }
        try host.waitUntil("the host exits") { _ in (try? host.paneIsDead()) == true }
        return Screens(bobWaiting: bobWaiting, hostAfterTyping: hostAfterTyping, bobAfterTyping: bobAfterTyping,
                       carolRefused: carolRefused, daveRemoved: daveRemoved, bobAfterRemoval: bobAfterRemoval,
                       hostAfterRemoval: hostAfterRemoval, daveAgain: daveAgain, hostAfterDaveAgain: hostAfterDaveAgain)
    }
}
