import CodeSyncTestSupport
import Foundation
import Testing

/// Two real editors on a shared folder (`codesync host DIR`), a host and a guest in tmux on loopback.
@Suite(.ownThreads, .serialized) struct FolderEditorTmuxTests {
    struct Pair {
        var host: TmuxFixture
        var guest: TmuxFixture
        var folder: URL
        /// The host's command line and environment, to start it again.
        var hostCommand: String
        var hostEnvironment: [String: String]
    }

    /// A folder with README.md, a.py and src/b.py, hosted by alice and joined by bob; both show README.md.
    static func startPair(files: [String: String] = [:], extraEnvironment: [String: String] = [:]) throws -> Pair? {
        let binary = try TestEnvironment.codesyncBinary().path
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-folder-\(UUID().uuidString)")
        let folder = base.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("src"), withIntermediateDirectories: true)
        try "# Demo project\n".write(to: folder.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try "alpha = 1\n".write(to: folder.appendingPathComponent("a.py"), atomically: true, encoding: .utf8)
        try "beta = 2\n".write(to: folder.appendingPathComponent("src/b.py"), atomically: true, encoding: .utf8)
        for (path, text) in files { try text.write(to: folder.appendingPathComponent(path), atomically: true, encoding: .utf8) }
        let environment = ["XDG_STATE_HOME": base.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": base.appendingPathComponent("config").path].merging(extraEnvironment) { $1 }
        var hostEnvironment = environment
        hostEnvironment["CODESYNC_NAME"] = "alice"
        let hostCommand = "cd \(TmuxFixture.shellQuote(folder.path)) && \(TmuxFixture.shellQuote(binary)) host --port 0"
        guard let host = try TmuxFixture.start(hostCommand, columns: 110, rows: 30, environment: hostEnvironment) else { return nil }
        let screen = try host.waitFor("CODESYNC_SECRET=", timeout: 20)
        let range = try #require(
            screen.range(of: #"CODESYNC_SECRET=[0-9a-f]+ codesync join \S+"#, options: .regularExpression),
            "no join line on the host's screen:\n\(screen)")
        let command = String(screen[range]).replacingOccurrences(of: " codesync join ", with: " \(TmuxFixture.shellQuote(binary)) join ")
        var guestEnvironment = environment
        guestEnvironment["CODESYNC_NAME"] = "bob"
        guard let guest = try TmuxFixture.start(command, columns: 110, rows: 30, environment: guestEnvironment) else { return nil }
        try guest.waitFor("# Demo project", timeout: 20)
        try host.waitFor("# Demo project", timeout: 20)
        try host.waitFor("● bob", timeout: 20)
        return Pair(host: host, guest: guest, folder: folder, hostCommand: hostCommand, hostEnvironment: hostEnvironment)
    }

    /// Opens `query`'s best match with Ctrl-O and waits for `expected` (a line of its text).
    static func open(_ peer: TmuxFixture, _ query: String, expecting expected: String) throws {
        try peer.send("C-o")
        try peer.waitFor("Open file:")
        try peer.type(query)
        try peer.waitFor("Open file: \(query)")
        try peer.send("Enter")
        try peer.waitFor(expected, timeout: 20)
    }

    @Test func twoPeersInDifferentFilesThenTheSameFile() throws {
        guard let pair = try Self.startPair() else { return }
        // Bob goes to src/b.py and edits it; alice, in README.md, sees where he is but not his cursor.
        try Self.open(pair.guest, "b.py", expecting: "beta = 2")
        try pair.host.waitFor("bob (b.py)", timeout: 20)
        try pair.guest.type("# bob edits b")
        try pair.guest.send("Enter")
        try pair.guest.waitFor("# bob edits b")
        // Alice types in README.md meanwhile: bob's b.py does not get it, nor her screen his edit.
        try pair.host.send("End")
        try pair.host.type(" by alice")
        let readme = try pair.host.waitFor("# Demo project by alice")
        #expect(!readme.contains("# bob edits b"))
        // Alice opens b.py: bob's edit is there, with his flag; now both are in one file.
        try Self.open(pair.host, "b.py", expecting: "# bob edits b")
        // In one file: bob's name flag is on his line, and the status bar no longer says where he is.
        let both = try pair.host.waitUntil("bob's flag in b.py", timeout: 20) { !$0.contains("bob (b.py)") }
        let line = try #require(both.split(separator: "\n").first { $0.contains("beta = 2") })
        #expect(line.contains(" bob "), "bob's cursor is at the start of line 2: \(line)")
        #expect(!(try pair.guest.capture()).contains("by alice"))
        try pair.host.send("Down", "End")
        try pair.host.type("  # alice too")
        try pair.guest.waitFor("beta = 2  # alice too", timeout: 20)
        // Ctrl-S saves the file shown, atomically; the other files are untouched on disk.
        try pair.host.send("C-s")
        try pair.host.waitFor("saved src/b.py", timeout: 20)
        let saved = try String(contentsOf: pair.folder.appendingPathComponent("src/b.py"), encoding: .utf8)
        #expect(saved == "# bob edits b\nbeta = 2  # alice too\n")
        #expect(try String(contentsOf: pair.folder.appendingPathComponent("README.md"), encoding: .utf8) == "# Demo project\n")
        // A guest does not save: the host does.
        try pair.guest.send("C-s")
        try pair.guest.waitFor("only the host saves")
        // Quitting asks about the one file still unsaved (README.md, not the one shown), and saves it.
        try pair.guest.send("C-q")
        try pair.host.send("C-q")
        try pair.host.waitFor("Save changes to README.md?")
        try pair.host.send("y")
        try pair.host.waitUntil("the host exits") { _ in (try? pair.host.paneIsDead()) == true }
        #expect(try String(contentsOf: pair.folder.appendingPathComponent("README.md"), encoding: .utf8) == "# Demo project by alice\n")
    }

    @Test func followModeSwitchesFilesWithThePeerItFollows() throws {
        guard let pair = try Self.startPair() else { return }
        try pair.host.send("C-p")
        try pair.host.waitFor("following bob")
        try Self.open(pair.guest, "a.py", expecting: "alpha = 1")
        // Alice's editor goes where bob went.
        let screen = try pair.host.waitFor("alpha = 1", timeout: 20)
        #expect(screen.contains(" a.py"), "the host's status bar names a.py:\n\(screen)")
        try Self.open(pair.guest, "b.py", expecting: "beta = 2")
        try pair.host.waitFor("beta = 2", timeout: 20)
        try Self.quit(pair)
    }

    @Test func aGuestCreatesRenamesAndDeletesAFileOnTheHostsDisk() throws {
        guard let pair = try Self.startPair() else { return }
        let created = pair.folder.appendingPathComponent("notes.txt")
        let renamed = pair.folder.appendingPathComponent("src/ideas.txt")
        try pair.guest.send("C-b")
        try pair.guest.waitFor("Files (3)")
        try pair.guest.send("n")
        try pair.guest.waitFor("New file:")
        try pair.guest.type("notes.txt")
        try pair.guest.send("Enter")
        try pair.host.waitFor("bob created notes.txt", timeout: 20)
        #expect(FileManager.default.fileExists(atPath: created.path))
        // The creator is taken to the new file; it types there, and the host's pane lists it.
        try pair.guest.waitFor("notes.txt ● alice", timeout: 20)
        try pair.host.send("C-b")
        try pair.host.waitFor("Files (4)", timeout: 20)
        try pair.host.waitFor("notes.txt")
        try pair.host.send("Escape")
        // Rename: the pane's picked row is the file shown; its path is prefilled.
        try pair.guest.send("C-b")
        try pair.guest.send("r")
        try pair.guest.waitFor("Rename notes.txt to: notes.txt")
        for _ in 0..<9 { try pair.guest.send("BSpace") }
        try pair.guest.type("src/ideas.txt")
        try pair.guest.send("Enter")
        try pair.host.waitFor("bob renamed notes.txt to src/ideas.txt", timeout: 20)
        #expect(FileManager.default.fileExists(atPath: renamed.path))
        #expect(!FileManager.default.fileExists(atPath: created.path))
        try pair.host.waitFor("src/ideas.txt")
        // Delete asks first, then goes for everyone.
        try pair.guest.send("C-b")
        try pair.guest.send("d")
        try pair.guest.waitFor("Delete src/ideas.txt for everyone?")
        try pair.guest.send("y")
        try pair.host.waitFor("bob deleted src/ideas.txt", timeout: 20)
        #expect(!FileManager.default.fileExists(atPath: renamed.path))
        try pair.host.waitFor("Files (3)", timeout: 20)
        try Self.quit(pair)
    }

    @Test func killingTheHostLosesNoEditInEitherOpenFile() throws {
        guard let pair = try Self.startPair() else { return }
        // Bob edits a.py; alice opens it and sees his edit (the host stored it before passing it on).
        try Self.open(pair.guest, "a.py", expecting: "alpha = 1")
        try pair.guest.type("# bob")
        try pair.guest.send("Enter")
        try Self.open(pair.host, "a.py", expecting: "# bob")
        // Alice edits README.md; bob opens it and sees her edit.
        try Self.open(pair.host, "READ", expecting: "# Demo project")
        try pair.host.send("End")
        try pair.host.type(" by alice")
        try Self.open(pair.guest, "READ", expecting: "# Demo project by alice")
        // Neither file is saved: kill -9 the host.
        #expect(try String(contentsOf: pair.folder.appendingPathComponent("a.py"), encoding: .utf8) == "alpha = 1\n")
        let shell = try Command.run(["tmux", "-L", pair.host.socketName, "display-message", "-p", "-t", pair.host.sessionName, "#{pane_pid}"],
                                    timeout: 20).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let child = try Command.run(["pgrep", "-P", shell], timeout: 10).stdout.split(separator: "\n").first.map(String.init)
        let pid = try #require(Int32(child ?? shell), "no host process under the pane \(shell)")
        kill(pid, SIGKILL)
        #expect(waitForDeath(of: pid))
        try pair.guest.send("C-q")
        // The next host of the folder writes both files' journaled edits into them before serving.
        guard let again = try TmuxFixture.start(pair.hostCommand, columns: 110, rows: 30, environment: pair.hostEnvironment) else { return }
        try again.waitFor("# Demo project by alice", timeout: 20)
        #expect(try String(contentsOf: pair.folder.appendingPathComponent("README.md"), encoding: .utf8) == "# Demo project by alice\n")
        #expect(try String(contentsOf: pair.folder.appendingPathComponent("a.py"), encoding: .utf8) == "# bob\nalpha = 1\n")
        try again.send("C-q")
        if (try? again.waitFor("Save changes to", timeout: 2)) != nil { try again.send("n") }
        try again.waitUntil("the host exits") { _ in (try? again.paneIsDead()) == true }
    }

    /// Ctrl-R in a folder runs the file shown with the project mounted: a guest's unsaved edit of
    /// main.py runs, and main.py imports a sibling module; both editors show the output.
    @Test func aGuestsRunOfTheFileShownImportsASiblingModule() throws {
        guard let (_, image) = try DockerFixture.withImage("python") else { return }
        guard let pair = try Self.startPair(files: ["main.py": "from src.b import beta\nprint('beta is', beta)\n"],
                                            extraEnvironment: ["CODESYNC_IMAGE_PYTHON": image]) else { return }
        // The host was told what a run does before anyone ran anything.
        #expect(try pair.host.capture().contains("runs:"))
        try Self.open(pair.guest, "main.py", expecting: "from src.b import beta")
        try pair.guest.type("print('unsaved edit')")
        try pair.guest.send("Enter")
        try pair.host.waitFor("bob (main.py)", timeout: 20)
        try pair.guest.send("C-r")
        for peer in [pair.guest, pair.host] {
            let screen = try peer.waitFor("exited with code 0", timeout: 90)
            #expect(screen.contains("unsaved edit"))
            #expect(screen.contains("beta is 2"))
            #expect(screen.contains("run by bob"))
        }
        // The run read the session's text; the file on disk is as it was.
        #expect(try String(contentsOf: pair.folder.appendingPathComponent("main.py"), encoding: .utf8)
                == "from src.b import beta\nprint('beta is', beta)\n")
        try Self.quit(pair)
    }

    /// Quits both editors; the host may ask about unsaved changes (answered: do not save).
    static func quit(_ pair: Pair) throws {
        try pair.guest.send("C-q")
        try pair.host.send("Escape")
        try pair.host.send("C-q")
        if (try? pair.host.waitFor("Save changes to", timeout: 2)) != nil { try pair.host.send("n") }
        try pair.host.waitUntil("the host exits") { _ in (try? pair.host.paneIsDead()) == true }
    }
}
