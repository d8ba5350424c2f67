import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// Runs in a shared folder (`codesync host DIR --headless` as a real process, the real Docker
/// engine): the session's files as the run sees them, hostile paths, `.codesync.json`, and
/// `codesync run ADDRESS PATH`.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(5))) struct ProjectRunTests {
    private let environment: [String: String]
    private let state: URL

    init() throws {
        state = FileManager.default.temporaryDirectory.appendingPathComponent("cs-projruns-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        var environment = ["XDG_STATE_HOME": state.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": state.appendingPathComponent("config").path, "CODESYNC_NAME": "tester"]
        for language in ["python", "c", "go"] { environment["CODESYNC_IMAGE_\(language.uppercased())"] = DockerFixture.testImageName(language) }
        self.environment = environment
    }

    private func binary() throws -> URL? {
        guard try DockerFixture.withImage("python") != nil else { return nil }
        do { return try TestEnvironment.codesyncBinary() } catch { return try TestEnvironment.missing("\(error)") }
    }

    private func fixture() throws -> ProjectFixture {
        let fixture = try ProjectFixture()
        try fixture.write("main.py", """
            import os, helper
            print(helper.f())
            print(sorted(os.listdir('.')))
            for name in ['key.secret', 'escape.txt', 'outdir/secret.txt']:
                try:
                    print('read', open(name).read())
                except OSError:
                    print('no', name)
            """ + "\n")
        try fixture.write("helper.py", "def f():\n    return 1\n")
        try fixture.write("util.h", "static inline int twice(int x) { return 2 * x; }\n")
        try fixture.write("c/main.c", "#include <stdio.h>\n#include \"../util.h\"\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n")
        try fixture.write(".gitignore", "*.secret\n")
        try fixture.write("key.secret", "KEY\n")
        try fixture.symlink("escape.txt", to: fixture.outside.appendingPathComponent("secret.txt").path)
        try fixture.symlink("outdir", to: fixture.outside.path)
        // The container runs as nobody: the host's files need not be readable by it (the copy is).
        chmod(fixture.root.appendingPathComponent("helper.py").path, 0o600)
        return fixture
    }

    private func host(_ binary: URL, _ fixture: ProjectFixture, options: [String] = ["--port", "0"]) async throws -> SharedRunHostProcess {
        try await SharedRunHostProcess(binary, file: fixture.root, environment: environment, options: options)
    }

    private func join(_ address: String, secret: String, name: String) async throws -> RunWatcher {
        var options = CollaborationPeer.Options(name: name, secret: secret)
        options.connectTimeout = 30
        options.reconnect = false
        return RunWatcher(try await CollaborationPeer.join(try SessionAddress(parsing: address), options: options))
    }

    /// Asks for a run of `path` and waits for its end; the run's start, stdout, stderr and end.
    private func run(_ watcher: RunWatcher, _ path: String?, host: SharedRunHostProcess) async throws
        -> (started: RunStartedMessage, stdout: String, stderr: String, exited: RunExitedMessage) {
        let before = watcher.started.count
        watcher.peer.requestRun(language: "", source: "", path: path)
        let ended = await watcher.wait(120) { w in w.started.count > before && w.exit(of: w.started[before].run) != nil }
        #expect(ended, "the run of \(path ?? "the command") did not end: \(watcher.events) \(host.stderr)")
        let started = try #require(watcher.started.dropFirst(before).first)
        return (started, watcher.output(started.run, "stdout"), watcher.output(started.run, "stderr"), try #require(watcher.exit(of: started.run)))
    }

    /// Run copies this host process left in the snapshot folder.
    private func snapshots(of pid: Int32) -> [String] {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-runs-\(getuid())").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter { $0.hasPrefix("run-\(pid)-") }
    }

    @Test func aRunSeesTheSessionsUnsavedFilesAndNothingIgnoredOrOutside() async throws {
        guard let binary = try binary() else { return }
        let fixture = try fixture()
        defer { fixture.remove() }
        let host = try await host(binary, fixture)
        defer { host.kill9() }
        let ann = try await join(host.address, secret: host.secret, name: "ann")
        let bob = try await join(host.address, secret: host.secret, name: "bob")
        defer { Task { await ann.peer.close(); await bob.peer.close() } }
        // An unsaved edit of the sibling module: the run must see it, not the disk's text.
        try await ann.peer.openFile("helper.py")
        try ann.peer.delete(at: 20, count: 1, inFile: "helper.py")
        try ann.peer.insert("2", at: 20, inFile: "helper.py")
        #expect(await eventually { ann.peer.isSynced })
        #expect(fixture.contents("helper.py") == "def f():\n    return 1\n")

        let python = try await run(ann, "main.py", host: host)
        #expect(python.exited.outcome == .exited && python.exited.code == 0, "\(python.stderr) \(host.stderr)")
        #expect(python.stdout == """
            2
            ['.gitignore', 'c', 'helper.py', 'main.py', 'util.h']
            no key.secret
            no escape.txt
            no outdir/secret.txt

            """, "\(python.stderr)")
        #expect(python.started.path == "main.py" && python.started.language == "python" && python.started.command == nil)
        #expect(python.started.by == ann.peer.id)
        // The other guest saw the same run, named by its file.
        #expect(await bob.wait { $0.exit(of: python.started.run) != nil })
        #expect(bob.started.first { $0.run == python.started.run } == python.started)

        let c = try await run(bob, "c/main.c", host: host)
        #expect(c.exited.outcome == .exited && c.exited.code == 0, "\(c.stderr) \(host.stderr)")
        #expect(c.stdout == "42\n" && c.started.language == "c", "\(c.stderr)")
        // Each run's copy of the folder is gone once the run has ended.
        #expect(await eventually { snapshots(of: host.pid).isEmpty }, "\(snapshots(of: host.pid))")
        #expect(await host.quit())
    }

    @Test func hostilePathsAreRefusedWithTheirReasonAndRunNothing() async throws {
        guard let binary = try binary() else { return }
        let fixture = try fixture()
        defer { fixture.remove() }
        let host = try await host(binary, fixture)
        defer { host.kill9() }
        let eve = try await join(host.address, secret: host.secret, name: "eve")
        defer { Task { await eve.peer.close() } }
        let cases: [(String?, String)] = [
            ("../outside/secret.txt", "'..' is not allowed"), ("/etc/passwd", "absolute path"), ("escape.txt", "outside the shared folder"),
            ("outdir/secret.txt", "symlink"), ("key.secret", "not shared"), ("nope.py", "no such file"), ("a\u{1b}[2J.py", "control character"),
            ("util.h", "no language runs"), (nil, "name the file to run"),
        ]
        for (path, reason) in cases {
            let refused = try await run(eve, path, host: host)
            #expect(refused.exited.outcome == .failed, "\(String(describing: path)) ran: \(refused.stdout)")
            #expect(refused.stderr.contains(reason), "\(String(describing: path)): \(refused.stderr)")
            #expect(!refused.stderr.contains(fixture.base.path), "the host's own path reached the guest: \(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
        // No container was started for any of them, and no copy is left.
        #expect(!host.stderr.contains("mounted read-only"), "\(host.stderr)")
        #expect(snapshots(of: host.pid).isEmpty)
        #expect(await host.quit())
    }

    @Test func theFoldersOwnCommandIsSeenFirstRunsFromDiskAndChangesReachEveryone() async throws {
        guard let binary = try binary() else { return }
        let fixture = try fixture()
        defer { fixture.remove() }
        try fixture.write("tests/check.py", "import helper, sys\nprint('checked', helper.f(), sys.argv[1:])\n")
        try fixture.write(".codesync.json", #"{"run": "PYTHONPATH=. python3 tests/check.py \"$CODESYNC_FILE\""}"#)
        let host = try await host(binary, fixture)
        defer { host.kill9() }
        #expect(await eventually { host.stderr.contains("runs: PYTHONPATH=. python3 tests/check.py") }, "the host was not shown the command: \(host.stderr)")
        let ann = try await join(host.address, secret: host.secret, name: "ann")
        defer { Task { await ann.peer.close() } }
        // Seen in the welcome, before any run.
        let command = #"PYTHONPATH=. python3 tests/check.py "$CODESYNC_FILE""#
        #expect(ann.peer.projectRunSettings?.command == command)

        let first = try await run(ann, "main.py", host: host)
        #expect(first.started.command == command && first.started.path == "main.py")
        #expect(first.stdout == "checked 1 ['main.py']\n", "\(first.stderr) \(host.stderr)")

        // A guest's edit of .codesync.json in the session does not change what runs: the host's disk does.
        try await ann.peer.openFile(".codesync.json")
        try ann.peer.insert("echo pwned; ", at: 8, inFile: ".codesync.json")
        #expect(await eventually { ann.peer.isSynced })
        let second = try await run(ann, nil, host: host)
        #expect(second.started.command == command && second.stdout == "checked 1 ['']\n", "\(second.stdout) \(second.stderr)")

        // The host changes it on disk: every peer hears the new command before the next run.
        try Data(#"{"run": "echo new command", "language": "python"}"#.utf8).write(to: fixture.root.appendingPathComponent(".codesync.json"))
        #expect(await ann.wait { w in w.events.contains(.config(ProjectRunSettings(command: "echo new command", language: "python"))) },
                "no run.config: \(ann.events)")
        #expect(ann.peer.projectRunSettings?.command == "echo new command")
        let third = try await run(ann, nil, host: host)
        #expect(third.stdout == "new command\n" && third.started.command == "echo new command", "\(third.stderr)")

        // Hostile content: runs are refused, and every peer is told why.
        try Data("{\"run\": \"echo \\u001b]0;title\\u0007\"}".utf8).write(to: fixture.root.appendingPathComponent(".codesync.json"))
        #expect(await ann.wait { $0.peer.projectRunSettings?.problem?.contains("control character") == true }, "\(ann.events)")
        let refused = try await run(ann, "main.py", host: host)
        #expect(refused.exited.outcome == .failed && refused.stderr.contains("control character"), "\(refused.stderr)")
        #expect(await host.quit())
    }

    @Test func codesyncRunAddressPathRunsAFileOfTheFolder() async throws {
        guard let binary = try binary() else { return }
        let fixture = try fixture()
        defer { fixture.remove() }
        let host = try await host(binary, fixture)
        defer { host.kill9() }
        let env = environment.merging(["CODESYNC_SECRET": host.secret]) { $1 }
        let ok = try await offPool { try Command.run([binary.path, "run", host.address, "main.py"], timeout: 120, environment: env) }
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.hasPrefix("1\n['.gitignore', 'c', 'helper.py', 'main.py', 'util.h']\n"), "\(ok.stdout) \(ok.stderr)")
        let refused = try await offPool { try Command.run([binary.path, "run", host.address, "../outside/secret.txt"], timeout: 60, environment: env) }
        #expect(refused.status == 125 && refused.stderr.contains("'..' is not allowed") && refused.stdout.isEmpty, "\(refused.stderr)")
        // With a run command, the command is printed before the run is asked for.
        try fixture.write(".codesync.json", #"{"run": "echo from the project; exit 4"}"#)
        // (Once the host has seen the change: a peer hears it.)
        let watcher = try await join(host.address, secret: host.secret, name: "watcher")
        #expect(await watcher.wait { $0.peer.projectRunSettings?.command == "echo from the project; exit 4" }, "\(watcher.events)")
        await watcher.peer.close()
        let command = try await offPool { try Command.run([binary.path, "run", host.address], timeout: 120, environment: env) }
        #expect(command.status == 4 && command.stdout == "from the project\n", "\(command.stdout) \(command.stderr)")
        #expect(command.stderr.contains("runs in this folder: echo from the project; exit 4 (from .codesync.json)"), "\(command.stderr)")
        #expect(await host.quit())
    }
}
