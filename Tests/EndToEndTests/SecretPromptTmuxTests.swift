import CodeSyncTestSupport
import Foundation
import Testing

/// With no secret given and a terminal on stdin, `codesync cat` asks for it without echo.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(2))) struct SecretPromptTmuxTests {
    @Test func theSecretIsAskedOnTheTerminalWithoutEcho() throws {
        guard try TmuxFixture.ensureTmux() else { return }
        let binary = try TestEnvironment.codesyncBinary().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-prompt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("p.txt")
        try "prompted text\n".write(to: file, atomically: true, encoding: .utf8)
        let environment = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path, "CODESYNC_NAME": "alice"]
        guard let host = try TmuxFixture.start(
            "\(TmuxFixture.shellQuote(binary)) host \(TmuxFixture.shellQuote(file.path)) --headless --port 0",
            columns: 150, rows: 10, environment: environment) else { return }
        let screen = try host.waitFor("CODESYNC_SECRET=", timeout: 30)
        let match = try #require(screen.firstMatch(of: /CODESYNC_SECRET=([0-9a-f]+) codesync join (\S+)/), "\(screen)")
        let secret = String(match.1), address = String(match.2)
        // `; sleep 30` keeps the pane (and its output) after cat exits.
        guard let guest = try TmuxFixture.start(
            "\(TmuxFixture.shellQuote(binary)) cat \(address); echo \"status=$?\"; sleep 30",
            columns: 150, rows: 10, environment: environment) else { return }
        try guest.waitFor("session secret", timeout: 20)
        try guest.type(secret)
        try guest.send("Enter")
        let after = try guest.waitFor("status=", timeout: 20)
        #expect(after.contains("prompted text"), "\(after)")
        #expect(after.contains("status=0"), "\(after)")
        #expect(!after.contains(secret), "the typed secret was echoed:\n\(after)")
    }
}
