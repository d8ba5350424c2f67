import CodeSyncTestSupport
import CodeSyncProtocol
import Foundation
import Testing

/// A shared folder served over real TCP on loopback: listing, lazy per-file documents, file changes,
/// and what a hostile guest's project messages get.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(3))) struct ProjectSessionTests {
    /// Generous liveness limits: raw clients here answer no pings (see HostileIdentityTests).
    static func limits() -> SessionLimits {
        var limits = fastLimits()
        limits.deadAfter = .seconds(60)
        limits.handshakeTimeout = .seconds(60)
        return limits
    }

    private func host(_ fixture: ProjectFixture, guests: GuestAccess = .editRun,
                      projectLimits: ProjectTree.Limits = ProjectTree.Limits()) async throws -> HostSession {
        var options = HostSession.Options(file: fixture.root, name: "host")
        options.projectLimits = projectLimits
        options.port = 0
        options.stateDirectory = fixture.base.appendingPathComponent("state")
        options.limits = Self.limits()
        options.guests = guests
        return try await HostSession.start(options)
    }

    private func guest(_ session: HostSession, name: String, secret: String? = nil) async throws -> CollaborationPeer {
        var options = CollaborationPeer.Options(name: name, secret: secret ?? session.secret)
        options.limits = Self.limits()
        options.connectTimeout = 10
        return try await CollaborationPeer.join(session.joinAddress, options: options)
    }

    /// The journals in the fixture's state directory.
    static func journals(of fixture: ProjectFixture) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixture.base.appendingPathComponent("state").path).filter { $0.hasSuffix(".csj") }
    }

    /// The file changes `peer` hears, once `count` have arrived (or after 15 s).
    static func changes(heardBy peer: CollaborationPeer, count: Int) async throws -> [FileChanged] {
        var heard: [FileChanged] = []
        for _ in 0..<750 where heard.count < count {
            heard += peer.takeFileChanges()
            try await Task.sleep(for: .milliseconds(20))
        }
        return heard
    }

    private func makeFixture() throws -> ProjectFixture {
        let fixture = try ProjectFixture()
        try fixture.write("main.py", "import helper\nprint(helper.f())\n")
        try fixture.write("helper.py", "def f():\n    return 1\n")
        try fixture.write("docs/README.md", "# hi\n")
        try fixture.write(".gitignore", "*.secret\n")
        try fixture.write("key.secret", "KEY\n")
        try fixture.symlink("escape.txt", to: fixture.outside.appendingPathComponent("secret.txt").path)
        return fixture
    }

    @Test func twoPeersInDifferentFilesThenTheSameOneConvergeAndSave() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        let bob = try await guest(session, name: "bob")
        #expect(ann.isProject && bob.isProject)
        let (entries, truncated) = try await ann.listFiles()
        #expect(!truncated)
        #expect(entries.map(\.path) == [".gitignore", "docs/README.md", "helper.py", "main.py"])
        #expect(entries.first { $0.path == "main.py" }?.size == 32)

        // Different files: each peer has only what it opened.
        #expect(try await ann.openFile("main.py") == "import helper\nprint(helper.f())\n")
        #expect(try await bob.openFile("helper.py") == "def f():\n    return 1\n")
        #expect(ann.fileText("helper.py") == nil)
        try ann.insert("# ann\n", at: 0, inFile: "main.py")
        try bob.insert("    # bob\n", at: 9, inFile: "helper.py")
        // Then the same file: bob opens main.py and sees ann's edit; both edit it and converge.
        #expect(await eventually { ann.isSynced && bob.isSynced })
        #expect(try await bob.openFile("main.py") == "# ann\nimport helper\nprint(helper.f())\n")
        try bob.insert("# bob\n", at: 0, inFile: "main.py")
        try ann.insert("\n# end\n", at: ann.fileText("main.py")!.unicodeScalars.count, inFile: "main.py")
        #expect(await eventually { ann.fileText("main.py") == bob.fileText("main.py") && ann.isSynced && bob.isSynced })
        let merged = try #require(ann.fileText("main.py"))
        #expect(merged == "# bob\n# ann\nimport helper\nprint(helper.f())\n\n# end\n")
        // Nothing reaches the disk until saved; a clean stop saves every edited file.
        #expect(fixture.contents("main.py") == "import helper\nprint(helper.f())\n")
        await ann.close()
        await bob.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents("main.py") == merged)
        #expect(fixture.contents("helper.py") == "def f():\n    # bob\n    return 1\n")
        #expect(try Self.journals(of: fixture).isEmpty, "journals left after a clean save")
    }

    @Test func guestsCreateRenameAndDeleteOnTheHostsDiskAndEveryPeerHears() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        let bob = try await guest(session, name: "bob")
        try await bob.openFile("helper.py")
        try await ann.createFile("pkg/new.py", text: "x = 1\n")
        #expect(fixture.contents("pkg/new.py") == "x = 1\n")
        try await ann.renameFile("helper.py", to: "lib/helper.py")
        #expect(fixture.contents("helper.py") == nil && fixture.contents("lib/helper.py") == "def f():\n    return 1\n")
        try await ann.deleteFile("docs/README.md")
        #expect(fixture.contents("docs/README.md") == nil)
        let heard = try await Self.changes(heardBy: bob, count: 3)
        #expect(heard.map(\.change) == [.created, .renamed, .deleted])
        #expect(heard.allSatisfy { $0.by == ann.id })
        // bob's open file followed the rename, and his edits go to the new path.
        #expect(bob.openFiles == ["lib/helper.py"])
        try bob.insert("# moved\n", at: 0, inFile: "lib/helper.py")
        #expect(await eventually { bob.isSynced })
        let (entries, _) = try await bob.listFiles()
        #expect(entries.map(\.path) == [".gitignore", "lib/helper.py", "main.py", "pkg/new.py"])
        // Refused: an existing name, a path outside, an ignored one.
        await #expect(throws: SessionError.self) { try await ann.createFile("main.py") }
        await #expect(throws: SessionError.self) { try await ann.renameFile("main.py", to: "../main.py") }
        await #expect(throws: SessionError.self) { try await ann.createFile("new.secret") }
        await #expect(throws: SessionError.self) { try await ann.deleteFile("key.secret") }
        #expect(fixture.contents("key.secret") == "KEY\n")
        await ann.close()
        await bob.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents("lib/helper.py") == "# moved\ndef f():\n    return 1\n")
    }

    /// The ignore files decide what a guest may read, and `.codesync.json` what every run runs: a
    /// guest who could write them would share the host's ignored secrets with itself (`!key.secret`)
    /// or pick the host's run command. Only the host changes them; guests still read them.
    @Test func guestsCannotChangeTheFilesThatDecideWhatIsSharedOrRun() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        try fixture.write("docs/.codesyncignore", "draft.md\n")
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        try await ann.createFile("unignore.txt", text: "!*.secret\n")
        // Each of these would make key.secret (or docs/draft.md) shareable, or set the run command.
        let attempts: [(String, () async throws -> Void)] = [
            ("create .codesyncignore", { try await ann.createFile(".codesyncignore", text: "!key.secret\n") }),
            ("create sub/.gitignore", { try await ann.createFile("sub/.gitignore", text: "!*\n") }),
            ("delete .gitignore", { try await ann.deleteFile(".gitignore") }),
            ("rename onto .codesyncignore", { try await ann.renameFile("unignore.txt", to: ".codesyncignore") }),
            ("rename .gitignore away", { try await ann.renameFile(".gitignore", to: "old-gitignore") }),
            ("delete docs/.codesyncignore", { try await ann.deleteFile("docs/.codesyncignore") }),
            ("create .codesync.json", { try await ann.createFile(".codesync.json", text: #"{"run": "cat /etc/hostname"}"#) }),
        ]
        for (what, attempt) in attempts {
            do {
                try await attempt()
                Issue.record("\(what) was allowed")
            } catch let error as SessionError {
                #expect("\(error)".contains("only the host"), "\(what): \(error)")
            }
        }
        #expect(fixture.contents(".gitignore") == "*.secret\n" && fixture.contents("docs/.codesyncignore") == "draft.md\n")
        #expect(fixture.contents(".codesyncignore") == nil && fixture.contents("sub/.gitignore") == nil && fixture.contents(".codesync.json") == nil)
        await #expect(throws: SessionError.self) { try await ann.openFile("key.secret") }

        // An edit of an ignore file is refused (and reloaded), so the host's save-all cannot write it.
        #expect(try await ann.openFile(".gitignore") == "*.secret\n")
        try ann.insert("!key.secret\n", at: 0, inFile: ".gitignore")
        #expect(await eventually { ann.poll().contains { if case .error(let text) = $0 { text.contains("only the host") } else { false } } })
        #expect(await eventually { ann.fileText(".gitignore") == "*.secret\n" && ann.isSynced })
        await #expect(throws: SessionError.self) { try await ann.openFile("key.secret") }
        // Other files stay ann's to change.
        try await ann.renameFile("unignore.txt", to: "notes.txt")
        await ann.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents(".gitignore") == "*.secret\n")
        #expect(fixture.contents("notes.txt") == "!*.secret\n")
    }

    /// A guest's rename never replaces a file (rename(2) would: the link + unlink does not), and no
    /// create or rename reaches `.git` or climbs out with `..`.
    @Test func aRenameNeverOverwritesAndNothingReachesGitOrClimbsOut() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        try fixture.write(".git/config", "[core]\n")
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        for (from, to) in [("helper.py", "main.py"), ("helper.py", ".git/hooks/pre-commit"), ("helper.py", "a/../../x.py"),
                           ("helper.py", "docs"), ("helper.py", ".git")] {
            await #expect(throws: SessionError.self, "\(from) → \(to)") { try await ann.renameFile(from, to: to) }
        }
        for path in [".git/hooks/post-checkout", "x/../../../evil.py", ".git/config", "fresh/.git/config", "fresh/key.secret"] {
            await #expect(throws: SessionError.self, "\(path)") { try await ann.createFile(path, text: "#!/bin/sh\n") }
        }
        #expect(fixture.contents("main.py") == "import helper\nprint(helper.f())\n")
        #expect(fixture.contents("helper.py") == "def f():\n    return 1\n")
        #expect(fixture.contents(".git/config") == "[core]\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.root.appendingPathComponent(".git/hooks").path))
        #expect(!FileManager.default.fileExists(atPath: fixture.base.appendingPathComponent("evil.py").path))
        // Nor below a folder that does not exist yet (the fuzzer's find: `fresh/` skipped every rule).
        #expect(!FileManager.default.fileExists(atPath: fixture.root.appendingPathComponent("fresh").path))
        await #expect(throws: SessionError.self) { try await ann.renameFile("helper.py", to: "fresh/.git/hooks/pre-commit") }
        #expect(!FileManager.default.fileExists(atPath: fixture.root.appendingPathComponent("fresh").path))
        await ann.close()
        try await session.shutdown(save: true)
    }

    @Test func watchersReadButNeitherEditNorChangeFiles() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        let session = try await host(fixture)
        let vic = try await guest(session, name: "vic", secret: session.viewSecret)
        #expect(try await vic.openFile("main.py").hasPrefix("import helper"))
        await #expect(throws: SessionError.self) { try await vic.createFile("x.py") }
        await #expect(throws: SessionError.self) { try await vic.deleteFile("main.py") }
        try vic.insert("evil", at: 0, inFile: "main.py")
        #expect(await eventually { vic.poll().contains { if case .error(let text) = $0 { text.contains("doc.ops") } else { false } } })
        // The refused edit does not stay in vic's copy, and once reloaded vic is synced (nothing of its own is waiting).
        #expect(await eventually { vic.fileText("main.py") == "import helper\nprint(helper.f())\n" && vic.isSynced })
        await vic.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents("main.py") == "import helper\nprint(helper.f())\n")
        #expect(fixture.contents("x.py") == nil)
    }

    @Test func aRefusedFileEditIsReloadedFromTheHostAndOtherFilesKeepTheirEdits() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        var options = HostSession.Options(file: fixture.root, name: "host")
        options.port = 0
        options.stateDirectory = fixture.base.appendingPathComponent("state")
        options.limits = Self.limits()
        // Small enough for one guest edit to breach: the host refuses it whole.
        options.limits.document.maxScalars = 200
        let session = try await HostSession.start(options)
        let ann = try await guest(session, name: "ann")
        let bob = try await guest(session, name: "bob")
        let main = try await ann.openFile("main.py")
        let helper = try await ann.openFile("helper.py")
        #expect(try await bob.openFile("main.py") == main)

        // Over the limit: refused. Right behind it (before the refusal can arrive) ann types in another file.
        try ann.insert(String(repeating: "x", count: 300), at: 0, inFile: "main.py")
        try ann.insert("# kept\n", at: 0, inFile: "helper.py")
        var events: [PeerEvent] = []
        var claimedStored = false
        let reloaded = await eventually {
            events += ann.poll()
            // Read in this order: main.py's text only goes from holding the refused edit to not.
            let synced = ann.isSynced
            if synced && ann.fileText("main.py")?.contains("x") == true { claimedStored = true }
            return synced && ann.fileText("main.py") == main
        }
        #expect(reloaded, "ann's copy of main.py is the host's again")
        #expect(!claimedStored, "ann was synced while its copy held the refused edit")
        let refusal = events.compactMap { if case .error(let text) = $0 { text } else { nil } }.filter { $0.contains("doc.ops") }
        #expect(refusal.count == 1, "one refusal event, not one per refused message: \(refusal)")
        #expect(refusal.first?.contains("main.py") == true && refusal.first?.contains("limit") == true)
        // The edit of the other file was not lost.
        #expect(await eventually { ann.fileText("helper.py") == "# kept\n" + helper && ann.isSynced })

        // An honest edit of the same file afterwards is accepted and reaches bob and the disk.
        try ann.insert("# ann\n", at: 0, inFile: "main.py")
        #expect(await eventually { ann.isSynced && bob.fileText("main.py") == "# ann\n" + main })
        #expect(ann.fileText("main.py") == "# ann\n" + main)
        await ann.close()
        await bob.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents("main.py") == "# ann\n" + main)
        #expect(fixture.contents("helper.py") == "# kept\n" + helper)
    }

    @Test func hostileProjectMessagesAreRefusedAndNothingLeavesTheTree() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        try await ann.openFile("helper.py")
        let raw = try RawClient(port: session.joinAddress.port, secret: session.secret)
        _ = try #require(try await raw.authenticate(secret: session.secret, peer: "mallory-1"))

        func refusal(_ message: WireMessage) async throws -> Refused? {
            try raw.write(message)
            while let answer = await raw.read() {
                switch answer {
                case .refused(let refused): return refused
                // A change with no request number is news (the disk watcher seeing the server's own
                // rename), not the answer to this request.
                case .fileChanged(let change) where change.req == nil: continue
                case .fileState, .files, .fileChanged, .error: return nil
                default: continue
                }
            }
            return nil
        }
        let hostile = [
            "../outside/secret.txt", "/etc/passwd", "escape.txt", "key.secret", ".git/config", "docs/../main.py",
            "main.py\u{0}", "\u{202E}yp.niam", String(repeating: "a/", count: 3000), "docs",
        ]
        for (index, path) in hostile.enumerated() {
            let refused = try #require(try await refusal(.fileOpen(FileOpen(req: index + 1, path: path))), "\(path.prefix(40).debugDescription)")
            #expect(refused.req == index + 1 && refused.what == "file.open")
            #expect(!refused.message.contains(fixture.base.path), "the host's own path leaked: \(refused.message)")
            #expect(!refused.message.contains("top secret"))
        }
        // A document this connection did not open (ann's), and one that does not exist.
        let update = Replica(agent: "mallory-1").insert("x", at: 0)
        for doc in [1, 999, -1, Int.max] {
            let refused = try #require(try await refusal(.docOps(DocOps(doc: doc, peer: "mallory-1", seq: doc == 1 ? 1 : 2, update: update))))
            #expect(refused.what == "doc.ops" && refused.message.contains("not open"))
        }
        // Opened, but the edit is authored by someone else.
        try raw.write(.fileOpen(FileOpen(req: 50, path: "helper.py")))
        var opened: FileState?
        while let answer = await raw.read() { if case .fileState(let state) = answer { opened = state; break } }
        let doc = try #require(opened?.doc)
        let forged = Replica(agent: ann.id).insert("forged", at: 0)
        let refused = try #require(try await refusal(.docOps(DocOps(doc: doc, peer: "mallory-1", seq: 3, update: forged))))
        #expect(refused.message.contains("operations by \(ann.id)"))
        // Changes outside the tree, and extreme numbers.
        for message in [WireMessage.fileCreate(FileRequest(req: 60, path: "../evil.py", text: "x")),
                        .fileRename(FileRequest(req: 61, path: "main.py", to: "/tmp/stolen.py")),
                        .fileRename(FileRequest(req: 62, path: "escape.txt", to: "docs/escape-moved.txt")),
                        .fileDelete(FileRequest(req: 63, path: "../outside/secret.txt")),
                        .fileRename(FileRequest(req: 64, path: "main.py"))] {
            let answer = try await refusal(message)
            if case .fileRename(let request) = message, request.path == "escape.txt" {
                // Renaming a symlink moves the link itself, inside the tree; its target outside is untouched.
                #expect(answer == nil)
            } else {
                #expect(answer?.req == message.projectRequestForTests)
            }
        }
        try raw.write(.filesList(FilesList(req: 70, from: -5)))
        try raw.write(.filesList(FilesList(req: 71, from: Int.max)))
        var pages: [FilesPage] = []
        while pages.count < 2, let answer = await raw.read() { if case .files(let page) = answer { pages.append(page) } }
        #expect(pages.map(\.from) == [0, pages.last?.total ?? -1])
        #expect(pages.last?.entries.isEmpty == true)
        #expect(try String(contentsOf: fixture.outside.appendingPathComponent("secret.txt"), encoding: .utf8) == "top secret\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.base.appendingPathComponent("evil.py").path))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/stolen.py"))
        // The session is still fine for the honest guest.
        try ann.insert("ok\n", at: 0, inFile: "helper.py")
        #expect(await eventually { ann.isSynced })
        await ann.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents("helper.py") == "ok\ndef f():\n    return 1\n")
    }

    @Test func offlineEditsToAnOpenFileArriveAfterAReconnect() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        let bob = try await guest(session, name: "bob")
        try await ann.openFile("main.py")
        try await bob.openFile("main.py")
        ann.simulateNetworkDrop()
        try ann.insert("# offline\n", at: 0, inFile: "main.py")
        try bob.insert("# online\n", at: 0, inFile: "main.py")
        // ann reconnects on her own, reopens the file with what she has, and both sides catch up.
        #expect(await eventually(30) { ann.isSynced && bob.isSynced && ann.fileText("main.py") == bob.fileText("main.py") })
        let text = try #require(ann.fileText("main.py"))
        #expect(text.contains("# offline\n") && text.contains("# online\n"))
        await ann.close()
        await bob.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents("main.py") == text)
    }

    @Test func aDeadHostsJournalsGoBackIntoTheFilesOrBesideAChangedOne() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        try await ann.openFile("main.py")
        try await ann.openFile("helper.py")
        try ann.insert("# kept\n", at: 0, inFile: "main.py")
        try ann.insert("# aside\n", at: 0, inFile: "helper.py")
        #expect(await eventually { ann.isSynced })
        await ann.close()
        // A stop that neither saves nor drops the journals, as after a crash; then helper.py changes on disk.
        try await session.shutdown(save: false)
        try fixture.write("helper.py", "changed by git pull\n")
        let again = try await host(fixture)
        let summary = try #require(await again.server?.projectSummary())
        #expect(summary.recovered.count == 2, "\(summary.recovered)")
        #expect(fixture.contents("main.py") == "# kept\nimport helper\nprint(helper.f())\n")
        #expect(fixture.contents("helper.py") == "changed by git pull\n")
        #expect(fixture.contents("helper.py.codesync-unsaved") == "# aside\ndef f():\n    return 1\n")
        try await again.shutdown(save: true)
        #expect(try Self.journals(of: fixture).isEmpty, "journals left after a clean save")
    }

    @Test func changesOnDiskReachTheSessionAndAConflictKeepsBothVersions() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        try await ann.openFile("main.py")
        try await ann.openFile("helper.py")
        // Another program rewrites a file nobody edits (in place, then by rename as editors do): the session takes it.
        try fixture.write("main.py", "print('from disk')\n")
        #expect(await eventually { ann.fileText("main.py") == "print('from disk')\n" })
        try Data("print('renamed in')\n".utf8).write(to: fixture.root.appendingPathComponent("main.py"), options: .atomic)
        #expect(await eventually { ann.fileText("main.py") == "print('renamed in')\n" })
        // A new file and a deleted one reach the index and every peer.
        try fixture.write("pkg/added.py", "x\n")
        try FileManager.default.removeItem(at: fixture.root.appendingPathComponent("docs/README.md"))
        let heard = try await Self.changes(heardBy: ann, count: 2)
        #expect(Set(heard.map { "\($0.change.rawValue) \($0.path)" }) == ["created pkg/added.py", "deleted docs/README.md"])
        #expect(try await ann.listFiles().entries.map(\.path) == [".gitignore", "helper.py", "main.py", "pkg/added.py"])
        // Changed on disk and in the session: the session keeps its text, the disk's goes beside it.
        try ann.insert("# session\n", at: 0, inFile: "helper.py")
        #expect(await eventually { ann.isSynced })
        try fixture.write("helper.py", "# disk\n")
        #expect(await eventually { fixture.contents("helper.py.codesync-disk") == "# disk\n" })
        #expect(ann.fileText("helper.py") == "# session\ndef f():\n    return 1\n")
        // Ignored files changing on disk are not the session's business.
        try fixture.write("new.secret", "KEY\n")
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await ann.listFiles().entries.contains { $0.path == "new.secret" } == false)
        await ann.close()
        try await session.shutdown(save: true)
        #expect(fixture.contents("helper.py") == "# session\ndef f():\n    return 1\n")
        #expect(fixture.contents("main.py") == "print('renamed in')\n")
    }

    /// Documents stay in memory until the host stops, so their text together has a budget: a
    /// watcher opening file after file is refused past it, with a message, and a file deleted
    /// gives its share back.
    @Test func openFilesTogetherHaveAMemoryBudget() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        for name in ["a", "b", "c"] { try fixture.write("big/\(name).txt", String(repeating: "x", count: 1000) + "\n") }
        // Not text: read, it would be refused as binary. Past the budget it must be refused on
        // its size alone, unread (an open storm of big files froze the host when each was read).
        try fixture.write("big/d.txt", String(repeating: "x", count: 1000) + "\u{0}")
        var limits = ProjectTree.Limits()
        limits.maxOpenTotalBytes = 2500
        let session = try await host(fixture, projectLimits: limits)
        let watcher = try await guest(session, name: "watcher", secret: session.viewSecret)
        let editor = try await guest(session, name: "editor")
        #expect(try await watcher.openFile("big/a.txt").count == 1001)
        #expect(try await watcher.openFile("big/b.txt").count == 1001)
        await #expect { try await watcher.openFile("big/c.txt") } throws: { error in
            // A refusal, not a lost connection: the watcher stays in the session.
            "\(error)".hasPrefix("the host refused your file.open: ") && "\(error)".contains("MiB a host keeps in memory")
        }
        await #expect { try await watcher.openFile("big/d.txt") } throws: { error in
            "\(error)".contains("MiB a host keeps in memory")
        }
        // Files already open still open for anyone: they cost nothing more.
        #expect(try await editor.openFile("big/a.txt").count == 1001)
        try await editor.deleteFile("big/b.txt")
        #expect(try await watcher.openFile("big/c.txt").count == 1001)
        await watcher.close()
        await editor.close()
        try await session.shutdown(save: true)
    }

    @Test func aOneFileSessionRefusesProjectRequests() async throws {
        let fixture = try makeFixture()
        defer { fixture.remove() }
        var options = HostSession.Options(file: fixture.root.appendingPathComponent("main.py"), name: "host")
        options.port = 0
        options.stateDirectory = fixture.base.appendingPathComponent("state")
        options.limits = Self.limits()
        let session = try await HostSession.start(options)
        let ann = try await guest(session, name: "ann")
        #expect(!ann.isProject)
        await #expect(throws: SessionError.self) { try await ann.listFiles() }
        await #expect(throws: SessionError.self) { try await ann.openFile("main.py") }
        await ann.close()
        try await session.shutdown(save: true)
    }
}

extension WireMessage {
    var projectRequestForTests: Int? {
        switch self {
        case .fileCreate(let m), .fileRename(let m), .fileDelete(let m): m.req
        default: nil
        }
    }
}
