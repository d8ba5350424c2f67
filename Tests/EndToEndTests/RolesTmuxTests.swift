import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync host --guests view` with two real editors in tmux: the guest's editor is read-only,
/// its keys never change the document, and Ctrl-R is refused.
@Suite(.ownThreads, .serialized) struct RolesTmuxTests {
    @Test func aWatchOnlyGuestGetsAReadOnlyEditorAndCannotRun() async throws {
        let screens = try await onOwnThread { try Self.watchOnlyGuest() }
        guard let screens else { return }
        #expect(screens.guestFirst.contains("watch only"), "\(screens.guestFirst)")
        #expect(!screens.guestLast.contains("zzz"), "\(screens.guestLast)")
        #expect(!screens.hostLast.contains("zzz"), "\(screens.hostLast)")
    }

    @Test func theHostChangesAGuestsRoleLiveFromItsScreen() async throws {
        let screens = try await onOwnThread { try Self.liveRoles() }
        guard let screens else { return }
        #expect(screens.guestFirst.contains("[read-only]"), "\(screens.guestFirst)")
        #expect(!screens.hostLast.contains("zzz"), "a watch-only key reached the host:\n\(screens.hostLast)")
        #expect(screens.hostLast.contains("print('shared')yy"), "\(screens.hostLast)")
        #expect(screens.hostLast.contains("[guests: edit+run]"), "\(screens.hostLast)")
        #expect(screens.guestLast.split(separator: "\n").last?.hasPrefix(" demo.py") == true,
                "the guest's status bar should name the host's file:\n\(screens.guestLast)")
    }

    /// Host with the default roles; Ctrl-E twice makes guests watchers, once more lets them edit again.
    static func liveRoles() throws -> Screens? {
        guard let (host, guest) = try startPair(hostOptions: "--port 0", joinLine: "share: CODESYNC_SECRET=") else { return nil }
        try guest.waitFor("print('shared')", timeout: 30)
        try host.waitFor("● bob", timeout: 30)
        try host.send("C-e")
        try host.waitFor("[guests: edit]", timeout: 30)
        try guest.waitFor("runs are now the host's alone", timeout: 30)
        try host.send("C-e")
        try host.waitFor("[guests: view]", timeout: 30)
        let guestFirst = try guest.waitFor("[read-only]", timeout: 30)
        try guest.type("zzz")
        try guest.waitFor("read-only: this session lets you watch", timeout: 30)
        try host.send("C-e")
        try host.waitFor("[guests: edit+run]", timeout: 30)
        try guest.waitFor("lets you edit and run", timeout: 30)
        try guest.send("End")
        try guest.type("yy")
        let hostLast = try host.waitFor("print('shared')yy", timeout: 30)
        let guestLast = try guest.capture()
        try quitPair(host: host, guest: guest)
        return Screens(guestFirst: guestFirst, guestLast: guestLast, hostLast: hostLast)
    }

    /// Quits both editors (the host without saving) and waits for the host to exit.
    static func quitPair(host: TmuxFixture, guest: TmuxFixture) throws {
        try guest.send("C-q")
        try host.send("C-q")
        if (try? host.waitFor("Save changes to", timeout: 5)) != nil { try host.send("n") }
        try host.waitUntil("the host exits") { _ in (try? host.paneIsDead()) == true }
    }

    /// A host editor on demo.py started with `hostOptions`, and a guest editor joined with the
    /// host's line that starts with `joinLine`; nil when tmux is missing (skipped with a notice).
    static func startPair(hostOptions: String, joinLine: String) throws -> (host: TmuxFixture, guest: TmuxFixture)? {
        let binary = try TestEnvironment.codesyncBinary().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-roles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("demo.py")
        try "print('shared')\n".write(to: file, atomically: true, encoding: .utf8)
        var environment = ["XDG_STATE_HOME": folder.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path, "CODESYNC_NAME": "alice"]
        guard let host = try TmuxFixture.start(
            "\(TmuxFixture.shellQuote(binary)) host \(TmuxFixture.shellQuote(file.path)) \(hostOptions)",
            columns: 120, rows: 30, environment: environment) else { return nil }
        let screen = try host.waitFor(joinLine, timeout: 30)
        let range = try #require(
            screen.range(of: NSRegularExpression.escapedPattern(for: joinLine) + #"[0-9a-f]+ codesync join \S+"#, options: .regularExpression),
            "no join line on the host's screen:\n\(screen)")
        // The join line as printed, run by a shell: `CODESYNC_SECRET=… codesync join ADDR`.
        let command = String(screen[range].dropFirst(joinLine.count - "CODESYNC_SECRET=".count))
            .replacingOccurrences(of: " codesync join ", with: " \(TmuxFixture.shellQuote(binary)) join ")
        environment["CODESYNC_NAME"] = "bob"
        guard let guest = try TmuxFixture.start(command, columns: 120, rows: 30, environment: environment) else { return nil }
        return (host, guest)
    }

    struct Screens: Sendable {
        var guestFirst: String
        var guestLast: String
        var hostLast: String
    }

    /// Drives both editors; nil when tmux is missing (skipped with a notice).
    static func watchOnlyGuest() throws -> Screens? {
        guard let (host, guest) = try startPair(hostOptions: "--port 0 --guests view", joinLine: "watch only: CODESYNC_SECRET=") else { return nil }
        let guestScreen = try guest.waitFor("[read-only]", timeout: 30)
        try host.waitFor("● bob", timeout: 30)
        try guest.type("zzz")
        try guest.waitFor("read-only: this session lets you watch", timeout: 30)
        try guest.send("C-r")
        try guest.waitFor("does not let you run code", timeout: 30)
        // The host's own edit still reaches the guest, and the guest's keys reached nobody.
        try host.send("End")
        try host.type("# alice")
        let after = try guest.waitFor("# alice", timeout: 30)
        let hostLast = try host.capture()
        try quitPair(host: host, guest: guest)
        return Screens(guestFirst: guestScreen, guestLast: after, hostLast: hostLast)
    }
}
