import CodeSyncTestSupport
import Foundation
import Testing

/// Two real editors under tmux, the guest joined with `codesync join ssh://…` through a real sshd
/// on loopback: it types no secret, and both screens show the same buffer.
@Suite(.ownThreads, .serialized) struct EditorSSHTmuxTests {
    @Test func aGuestJoinsOverSSHTypesAndBothScreensAgree() throws {
        guard let sshd = try SSHDFixture.start() else { return }
        defer { sshd.stop() }
        let binary = try TestEnvironment.codesyncBinary().path
        // Short: the runtime directory holds a unix socket (at most 107 bytes of path).
        let folder = URL(fileURLWithPath: "/tmp/cs-sshtmux-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("demo.py")
        try FileManager.default.copyItem(at: TestEnvironment.packageRoot().appendingPathComponent("examples/demo.py"), to: file)
        let runtime = folder.appendingPathComponent("run").path
        let environment = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path,
                           "XDG_RUNTIME_DIR": runtime]
        guard let host = try TmuxFixture.start(
            "\(TmuxFixture.shellQuote(binary)) host \(TmuxFixture.shellQuote(file.path)) --port 0",
            columns: 100, rows: 30, environment: environment.merging(["CODESYNC_NAME": "alice"]) { $1 }) else { return }
        try host.waitFor("CODESYNC_SECRET=", timeout: 20)
        let guestEnvironment = environment.merging([
            "CODESYNC_NAME": "bob",
            "CODESYNC_SSH": sshd.sshCommand,
            "CODESYNC_REMOTE_COMMAND": "env XDG_RUNTIME_DIR=\(runtime) \(binary)",
        ]) { $1 }
        let address = "ssh://root@127.0.0.1:\(sshd.port)\(file.path)"
        guard let guest = try TmuxFixture.start("\(TmuxFixture.shellQuote(binary)) join \(TmuxFixture.shellQuote(address))",
                                                columns: 100, rows: 30, environment: guestEnvironment) else { return }
        try guest.waitFor("connected", timeout: 30)
        try host.waitFor("● bob", timeout: 20)
        try guest.send("Down", "Down", "Down", "End")
        try guest.type("  # bob via ssh")
        try host.waitFor("# bob via ssh")
        try host.send("Down")
        try host.type("# alice answers")
        try guest.waitFor("# alice answers")
        // The buffer's rows agree on both screens (each also shows the other's cursor flag: cut it).
        let rows: (String) -> [String] = { screen in
            screen.split(separator: "\n", omittingEmptySubsequences: false).prefix(12).map { row in
                let buffer = row.split(separator: "│", maxSplits: 1).first.map(String.init) ?? String(row)
                return buffer.replacingOccurrences(of: #"\s+(alice|bob)\s*$"#, with: "", options: .regularExpression)
                    .trimmingCharacters(in: .whitespaces)
            }
        }
        let hostRows = rows(try host.capture()), guestRows = rows(try guest.capture())
        #expect(hostRows.contains { $0.hasSuffix("def first(items):  # bob via ssh") }, "\(hostRows)")
        #expect(hostRows == guestRows, "host:\n\(hostRows.joined(separator: "\n"))\nguest:\n\(guestRows.joined(separator: "\n"))")
        try guest.send("C-q")
        try host.send("C-q")
        if (try? host.waitFor("Save changes to", timeout: 2)) != nil { try host.send("n") }
        try host.waitUntil("the host exits") { _ in (try? host.paneIsDead()) == true }
    }
}
