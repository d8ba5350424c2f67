@testable import CodeSyncProtocol
import Foundation
import Testing
import CodeSyncTestSupport

/// The host's once-a-second fsync runs off the event loop; records written meanwhile, and a
/// compaction that replaces the file meanwhile, must all survive.
@Suite(.ownThreads) struct JournalSyncTests {
    @Test func backgroundSyncsInterleavedWithWritesAndCompactionLoseNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-journalsync-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("journal.csj")
        let hub = Replica(agent: "hub-1")
        let journal = try Journal(url: url, header: JournalHeader(file: "/tmp/x.txt", session: "s", secret: "k", port: 1), replica: hub)
        journal.compactAfter = 150
        let writer = Replica(agent: "w-1")
        for step in 0..<400 {
            let update = writer.insert(String(UnicodeScalar(UInt8(97 + step % 26))), at: writer.scalarCount / 2)
            _ = try hub.apply(update)
            try journal.append(update)
            try journal.compactIfNeeded(hub)
            if step % 7 == 0 { journal.syncInBackground() }
        }
        journal.close()
        let recovered = try #require(try Journal.recover(url: url, agent: "hub-2"))
        #expect(recovered.replica.text == writer.text)
        #expect(recovered.updates == 400 % 150)  // the updates after the last compaction
    }
}
