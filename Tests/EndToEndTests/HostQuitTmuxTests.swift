import CodeSyncTestSupport
import Foundation
import Testing

/// Ctrl-Q in the host's editor is a clean quit: the journal goes, so the next start reads FILE.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(2))) struct HostQuitTmuxTests {
    @Test func ctrlQRemovesTheJournalAndTheNextHostReadsTheFile() throws {
        guard try TmuxFixture.ensureTmux() else { return }
        let binary = try TestEnvironment.codesyncBinary().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-quit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("q.py")
        try "print('before')\n".write(to: file, atomically: true, encoding: .utf8)
        let state = folder.appendingPathComponent("state/codesync")
        let environment = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path, "CODESYNC_NAME": "alice"]
        func journals() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: state.path)) ?? []).filter { $0.hasSuffix(".csj") } }
        let command = "\(TmuxFixture.shellQuote(binary)) host \(TmuxFixture.shellQuote(file.path)) --port 0; echo \"status=$?\"; sleep 30"
        guard let host = try TmuxFixture.start(command, columns: 100, rows: 30, environment: environment) else { return }
        try host.waitFor("CODESYNC_SECRET=", timeout: 20)
        #expect(journals().count == 1, "the running host keeps a journal")
        try host.send("C-q")
        try host.waitFor("status=0", timeout: 20)
        #expect(journals().isEmpty, "Ctrl-Q left the journal: \(journals())")
        // As a `git pull` would: the next host serves the file as it is now.
        try "print('after')\n".write(to: file, atomically: true, encoding: .utf8)
        guard let again = try TmuxFixture.start(command, columns: 100, rows: 30, environment: environment) else { return }
        try again.waitFor("print('after')", timeout: 20)
        try again.send("C-q")
        try again.waitFor("status=0", timeout: 20)
    }
}
