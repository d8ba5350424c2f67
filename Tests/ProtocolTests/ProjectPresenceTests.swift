import CodeSyncTestSupport
import CodeSyncProtocol
import Foundation
import Testing

/// A shared folder's presence (which file each peer is in) and edits made against an editor's copy
/// of a file that remote edits have moved on from, over real TCP on loopback.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(3))) struct ProjectPresenceTests {
    private func host(_ fixture: ProjectFixture) async throws -> HostSession {
        var options = HostSession.Options(file: fixture.root, name: "host")
        options.port = 0
        options.stateDirectory = fixture.base.appendingPathComponent("state")
        options.limits = ProjectSessionTests.limits()
        return try await HostSession.start(options)
    }

    private func guest(_ session: HostSession, name: String) async throws -> CollaborationPeer {
        var options = CollaborationPeer.Options(name: name, secret: session.secret)
        options.limits = ProjectSessionTests.limits()
        return try await CollaborationPeer.join(session.joinAddress, options: options)
    }

    @Test func presenceNamesThePeersFileAndResolvesInThatFile() async throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("a.py", "alpha = 1\n")
        try fixture.write("b.py", "beta = 2\n")
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        let bob = try await guest(session, name: "bob")
        try await ann.openFile("a.py")
        try await bob.openFile("b.py")
        // Bob selects "= 2" (cursor after the 2): ann does not have b.py open, so she sees his file, offset 0.
        bob.setPresence(cursor: 8, selection: 5..<8, inFile: "b.py")
        #expect(await eventually(peers: [ann]) { ann.presences.first { $0.name == "bob" }?.file == "b.py" })
        #expect(ann.presences.first { $0.name == "bob" }?.cursor == 0)
        // Once she opens it, the anchors resolve in b.py's document, and follow its edits.
        try await ann.openFile("b.py")
        try ann.insert("# x\n", at: 0, inFile: "b.py")
        #expect(await eventually(peers: [ann]) {
            let seen = ann.presences.first { $0.name == "bob" }
            return seen?.cursor == 12 && seen?.selection == 9..<12
        })
        // A peer back in a single-file presence says no file.
        bob.setPresence(cursor: 0, selection: nil)
        #expect(await eventually(peers: [ann]) { ann.presences.first { $0.name == "bob" }.map { $0.file == nil } ?? false })
        await ann.close()
        await bob.close()
        try await session.shutdown(save: false, discardJournal: true)
    }

    @Test func aPresenceWithAPathOutsideTheTreeIsPassedOnWithoutIt() async throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("a.py", "alpha = 1\n")
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        let raw = try RawClient(port: session.joinAddress.port, secret: session.secret)
        _ = try #require(try await raw.authenticate(secret: session.secret, peer: "mallory-1"))
        func file() -> String?? { ann.presences.first { $0.id == "mallory-1" }.map(\.file) }
        for hostile in ["../outside/secret.txt", "/etc/passwd", "a/../../x", String(repeating: "a/", count: 3000) + "x"] {
            // A good path first, so that seeing no file afterwards proves the hostile presence arrived.
            try raw.write(.presence(PresenceInfo(peer: "mallory-1", name: "mallory", colour: 3, file: "a.py")))
            #expect(await eventually(peers: [ann]) { file() == .some("a.py") })
            try raw.write(.presence(PresenceInfo(peer: "mallory-1", name: "mallory", colour: 3, file: hostile)))
            #expect(await eventually(peers: [ann]) { file() == .some(nil) }, "\(hostile.prefix(40)) was passed on")
        }
        await ann.close()
        try await session.shutdown(save: false, discardJournal: true)
    }

    @Test func anEditAgainstAStaleCopyLandsWhereTheEditorMeantIt() async throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("a.py", "def f():\n    return 1\n")
        let session = try await host(fixture)
        let ann = try await guest(session, name: "ann")
        let bob = try await guest(session, name: "bob")
        let seen = try await ann.openFile("a.py")
        try await bob.openFile("a.py")
        // Bob adds a line at the top; ann's editor has not seen it when she types after "return ".
        try bob.insert("import os\n", at: 0, inFile: "a.py")
        #expect(await eventually { ann.fileText("a.py")?.hasPrefix("import os\n") == true })
        let offset = seen.unicodeScalars.count - 2
        try ann.editFile("a.py", seen: seen, offset: offset, delete: 1, insert: "42")
        let expected = "import os\ndef f():\n    return 42\n"
        #expect(ann.fileText("a.py") == expected)
        #expect(await eventually { bob.fileText("a.py") == expected && ann.isSynced && bob.isSynced })
        await ann.close()
        await bob.close()
        try await session.shutdown(save: false, discardJournal: true)
    }

    @Test func theDifferenceOfTwoTextsIsOneChangeInScalars() {
        #expect(TextDiff.change(from: "abc", to: "abc") == nil)
        #expect(TextDiff.change(from: "abc", to: "aXc") == TextChange(offset: 1, deleted: 1, inserted: "X"))
        #expect(TextDiff.change(from: "a😀c", to: "a😀😀c") == TextChange(offset: 2, deleted: 0, inserted: "😀"))
        // A run of equal characters: the suffix never reaches into the prefix.
        #expect(TextDiff.change(from: "aa", to: "aaa") == TextChange(offset: 2, deleted: 0, inserted: "a"))
        #expect(TextDiff.change(from: "aaa", to: "a") == TextChange(offset: 1, deleted: 2, inserted: ""))
        // Canonically equal but different scalars are a change (offsets are in scalars).
        #expect(TextDiff.change(from: "e\u{301}", to: "\u{e9}") == TextChange(offset: 0, deleted: 2, inserted: "\u{e9}"))
        let change = TextChange(offset: 2, deleted: 3, inserted: "XY")
        #expect(TextDiff.transform(1, through: change) == 1)
        #expect(TextDiff.transform(2, through: change) == 2)
        #expect(TextDiff.transform(3, through: change) == 4)
        #expect(TextDiff.transform(6, through: change) == 5)
    }
}
