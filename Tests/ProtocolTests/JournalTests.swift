import CodeSyncProtocol
import Foundation
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct JournalTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-journal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func recoversStateAndUpdatesAndIgnoresATornTail() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = Journal.url(for: URL(fileURLWithPath: "/tmp/some/file.py"), directory: directory)
        let replica = Replica(agent: "hub")
        replica.insert("def f():\n", at: 0)
        let header = JournalHeader(file: "/tmp/some/file.py", session: "abcd", secret: "s", port: 7878)
        let journal = try Journal(url: url, header: header, replica: replica)
        let alice = try Replica(agent: "alice", state: replica.encodeState())
        try journal.append(alice.insert("    return 1\n", at: alice.scalarCount))
        try journal.append(alice.delete(at: 0, count: 4))
        journal.close()
        // A crash in the middle of the next record leaves a partial frame behind.
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0, 0, 1, 0, 0x7b, 0x22]))
        try handle.close()

        let recovered = try #require(try Journal.recover(url: url, agent: "hub-2"))
        #expect(recovered.header == header)
        #expect(recovered.updates == 2)
        #expect(recovered.replica.text == alice.text)
        #expect(recovered.replica.agent == "hub-2")
    }

    @Test func compactionKeepsTheDocument() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("j.csj")
        let replica = Replica(agent: "hub")
        let journal = try Journal(url: url, header: JournalHeader(file: "f", session: "s", secret: "x", port: 1), replica: replica)
        journal.compactAfter = 10
        for i in 0..<25 {
            try journal.append(replica.insert("\(i),", at: replica.scalarCount))
            try journal.compactIfNeeded(replica)
        }
        journal.close()
        let recovered = try #require(try Journal.recover(url: url, agent: "hub-2"))
        #expect(recovered.replica.text == replica.text)
        #expect(recovered.updates < 10)
    }

    @Test func noJournalMeansNothingToRecover() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try Journal.recover(url: directory.appendingPathComponent("none.csj"), agent: "a") == nil)
    }

    @Test func atomicSaveReplacesTheFileWhole() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("out.txt")
        try "old".write(to: file, atomically: false, encoding: .utf8)
        try AtomicFile.write("new ✓\n", to: file)
        #expect(try String(contentsOf: file, encoding: .utf8) == "new ✓\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.txt"])
        #expect(throws: SessionError.self) { try AtomicFile.write("x", to: directory.appendingPathComponent("missing/dir/f")) }
    }
}
