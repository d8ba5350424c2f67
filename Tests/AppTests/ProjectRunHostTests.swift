@testable import CodeSyncApp
import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import Foundation
import Testing
import CodeSyncTestSupport

/// A shared folder's runs on the host, with a fake engine (it records what would be mounted) and
/// a fake session: the copy the container would get, its removal, refusals, the project command.
/// The same paths run on the real engine and real processes in ProtocolTests' ProjectRunTests.
@Suite(.ownThreads) struct ProjectRunHostTests {
    let engine = FakeEngine()
    let link = FakeLink()

    /// What the session would hand over: a real folder, open texts and settings as given, the
    /// file as given (the real check is the hub's; see ProjectRunTests), or an error.
    struct FakeSource: ProjectRunSource {
        var root: String
        var texts: [String: String] = [:]
        var settings = ProjectRunSettings()
        var failure: ProjectError?
        func projectRunSources(file: String?) async throws -> ProjectRunSources {
            if let failure { throw failure }
            return ProjectRunSources(root: root, file: file, texts: texts, settings: settings)
        }
    }

    final class Folder {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("cs-prh-\(UUID().uuidString.prefix(8))")
        var root: URL { base.appendingPathComponent("project") }
        init() throws {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("pkg"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: base.appendingPathComponent("outside"), withIntermediateDirectories: true)
            try Data("top secret\n".utf8).write(to: base.appendingPathComponent("outside/secret.txt"))
            try Data("import helper\n".utf8).write(to: root.appendingPathComponent("main.py"))
            try Data("def f(): return 1\n".utf8).write(to: root.appendingPathComponent("pkg/helper.py"))
            try Data(".env\n".utf8).write(to: root.appendingPathComponent(".gitignore"))
            try Data("KEY=1\n".utf8).write(to: root.appendingPathComponent(".env"))
            chmod(root.appendingPathComponent("pkg/helper.py").path, 0o600)
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("out.txt").path,
                                                       withDestinationPath: base.appendingPathComponent("outside/secret.txt").path)
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("alias.py").path, withDestinationPath: "pkg/helper.py")
        }
        deinit { try? FileManager.default.removeItem(at: base) }
    }

    private func files(under directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }

    /// Another account can make `codesync-runs-UID` first in a shared /tmp (sticky: we cannot remove
    /// it): runs then use a private folder of an unguessable name, never the foreign one.
    @Test func aForeignRunsFolderIsNotUsedAndRunsGoOnInAPrivateOne() throws {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        // Not private (0755): what a name planted by someone else looks like to us.
        let planted = temporary.appendingPathComponent("codesync-runs-\(getuid())")
        try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: false)
        chmod(planted.path, 0o755)
        let parent = try ProjectSnapshot.parent(temporary: temporary.path)
        #expect(parent.path != planted.path)
        var info = stat()
        #expect(lstat(parent.path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFDIR && info.st_uid == getuid() && info.st_mode & 0o777 == 0o700)
        // The same folder for the rest of the process; a private base is still used as it is.
        #expect(try ProjectSnapshot.parent(temporary: temporary.path) == parent)
        try? FileManager.default.removeItem(at: parent)
        chmod(planted.path, 0o700)
        #expect(try ProjectSnapshot.parent(temporary: temporary.path).path == planted.path)
    }

    @Test func theRunGetsAReadableCopyWithTheSessionsTextsAndNothingHiddenThenItGoes() async throws {
        let folder = try Folder()
        let logs = Collector<String>()
        let source = FakeSource(root: folder.root.path, texts: ["pkg/helper.py": "def f(): return 2  # unsaved\n"])
        let runs = SharedRunHost(link: link, setup: RunSetup(engine: engine, language: .python, limits: .standard),
                                 project: source, log: { logs.add($0) })
        runs.handle(.requested(RunRequestMessage(peer: "bob-2", language: "", source: "ignored", path: "main.py")))
        let run = try await engine.waitRun(0)
        let mount = try #require(run.request.project)
        #expect(mount.file == "main.py" && mount.command == nil && run.request.language.name == "python")
        let copy = mount.hostPath
        #expect(files(under: copy) == [".gitignore", "alias.py", "main.py", "pkg", "pkg/helper.py"])
        // The session's text, not the disk's, for the open file and for the symlink to it.
        #expect(try String(contentsOfFile: copy + "/pkg/helper.py", encoding: .utf8) == "def f(): return 2  # unsaved\n")
        #expect(try String(contentsOfFile: copy + "/alias.py", encoding: .utf8) == "def f(): return 2  # unsaved\n")
        // Readable by the container's user (nobody), whatever the host's own modes; regular files only.
        for path in ["/pkg/helper.py", "/alias.py", "/main.py"] {
            var info = stat()
            #expect(lstat(copy + path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o777 == 0o644, "\(path)")
        }
        var parent = stat()
        #expect(stat((copy as NSString).deletingLastPathComponent, &parent) == 0 && parent.st_mode & 0o777 == 0o700)
        engine.exit(run.id, .exited(code: 0))
        #expect(await link.wait { $0.exited.count == 1 })
        let started = try #require(link.started.first)
        #expect(started.path == "main.py" && started.language == "python" && started.version == RunVersion.of("import helper\n"))
        var gone = false
        for _ in 0..<500 where !gone {
            gone = !FileManager.default.fileExists(atPath: copy)
            if !gone { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(gone, "the copy outlived its run")
        #expect(logs.all.contains { $0.contains("run by Bob: main.py in python") })
    }

    @Test func theFoldersCommandRunsInTheNamedLanguage() async throws {
        let folder = try Folder()
        let source = FakeSource(root: folder.root.path, settings: ProjectRunSettings(command: "make test", build: "make", language: "c"))
        let runs = SharedRunHost(link: link, setup: RunSetup(engine: engine, language: .python, limits: .standard), project: source)
        runs.start(source: "", by: "ann-3")
        let run = try await engine.waitRun(0)
        #expect(run.request.project?.command == "make test" && run.request.project?.build == "make" && run.request.language.name == "c")
        #expect(run.request.hasBuild)
        engine.exit(run.id, .exited(code: 0))
        #expect(await link.wait { $0.exited.count == 1 })
        #expect(link.started.first?.command == "make test")
    }

    @Test(arguments: [
        (ProjectError.refused("'../x' is not allowed"), "'../x' is not allowed", nil as String?),
        (ProjectError.io("cannot read the folder /home/hana/secret-project: Permission denied"), "the host could not read the file", "/home/hana"),
    ])
    func aRefusedRunSaysWhyAndNeverTheHostsPaths(failure: ProjectError, shown: String, hidden: String?) async throws {
        let logs = Collector<String>()
        let runs = SharedRunHost(link: link, setup: RunSetup(engine: engine, language: .python, limits: .standard),
                                 project: FakeSource(root: "/nonexistent", failure: failure), log: { logs.add($0) })
        runs.handle(.requested(RunRequestMessage(peer: "bob-2", language: "", source: "", path: "x.py")))
        #expect(await link.wait { $0.exited.count == 1 })
        let started = try #require(link.started.first)
        #expect(link.exited.first?.outcome == .failed)
        let said = link.output(started.run, .stderr)
        #expect(said.contains(shown), "\(said)")
        if let hidden {
            #expect(!said.contains(hidden))
            #expect(logs.all.contains { $0.contains(hidden) }, "the host's log lost the reason: \(logs.all)")
        }
        #expect(engine.runCount == 0)
    }

    /// A source that records each time the session is asked for a run's files (each ask is a copy).
    struct CountingSource: ProjectRunSource {
        var inner: FakeSource
        let asked = Collector<String>()
        func projectRunSources(file: String?) async throws -> ProjectRunSources {
            asked.add(file ?? "")
            return try await inner.projectRunSources(file: file)
        }
    }

    /// A guest holding Ctrl-R: each request cancels the one before, and a request superseded while it
    /// waited for its turn must not copy the folder (up to 512 MiB each) only to be cancelled.
    @Test func aBurstOfRunRequestsCopiesTheFolderOnlyForTheRunsThatRun() async throws {
        let folder = try Folder()
        let source = CountingSource(inner: FakeSource(root: folder.root.path))
        let runs = SharedRunHost(link: link, setup: RunSetup(engine: engine, language: .python, limits: .standard), project: source)
        runs.handle(.requested(RunRequestMessage(peer: "bob-2", language: "", source: "", path: "main.py")))
        _ = try await engine.waitRun(0)
        let burst = 40
        for _ in 0..<burst { runs.handle(.requested(RunRequestMessage(peer: "bob-2", language: "", source: "", path: "main.py"))) }
        // Every request is answered (none left waiting), the last one runs.
        #expect(await link.wait { $0.exited.count == burst })
        var running: [String] = []
        for _ in 0..<1000 where running.isEmpty {
            running = engine.activeIDs
            if running.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(running.count == 1)
        for id in running { engine.exit(id, .exited(code: 0)) }
        #expect(await link.wait { $0.exited.count == burst + 1 })
        #expect(link.started.count == burst + 1)
        #expect(link.exited.filter { $0.outcome == .cancelled }.count == burst)
        // A request whose turn came before the next arrived is copied (and may run, then be
        // cancelled) like any: how many depends on scheduling, and a request superseded during its
        // own copy is copied without running. What may not happen is a copy for every request that
        // waited (41 before the fix): only requests that got their turn are copied.
        let copies = source.asked.all.count
        #expect(engine.runCount >= 2 && copies >= engine.runCount)
        #expect(copies <= burst / 4, "the folder was copied \(copies) times for \(burst + 1) requests (\(engine.runCount) ran)")
    }

    @Test func runsAreRefusedWhileTheFoldersSettingsHaveAProblemOrNoFileIsNamed() async throws {
        let folder = try Folder()
        for (settings, path, reason) in [(ProjectRunSettings(problem: "bad"), "main.py", "until the host fixes"),
                                         (ProjectRunSettings(), nil, "name the file to run"),
                                         (ProjectRunSettings(command: "x", language: "cobol"), nil, "does not know")] as [(ProjectRunSettings, String?, String)] {
            let link = FakeLink()
            let runs = SharedRunHost(link: link, setup: RunSetup(engine: engine, language: .python, limits: .standard),
                                     project: FakeSource(root: folder.root.path, settings: settings))
            runs.start(source: "", by: "ann-3", path: path)
            #expect(await link.wait { $0.exited.count == 1 })
            let started = try #require(link.started.first)
            #expect(link.output(started.run, .stderr).contains(reason), "\(link.output(started.run, .stderr))")
        }
        #expect(engine.runCount == 0)
    }
}
