import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// Real editing traces (../shared/traces): sequential ones replay to their end content; concurrent ones
/// converge with one replica per agent.
@Suite struct TraceTests {
    static let sequential = ["automerge-paper.json.gz", "seph-blog1.json.gz", "ascii_only/seph-blog1.json.gz"]
    static let concurrent = ["friendsforever.json.gz", "clownschool.json.gz"]

    static func load(_ name: String) throws -> EditingTrace? {
        guard let url = try TestEnvironment.sharedFile("traces/\(name)") else { return nil }
        return try EditingTrace(gzipped: Array(try Data(contentsOf: url)))
    }

    @Test(arguments: sequential)
    func sequentialTraceReplays(name: String) throws {
        guard let trace = try Self.load(name) else { return }
        #expect(trace.kind == .sequential)
        let replica = TraceReplay.replayLocal(trace)
        #expect(replica.text == trace.endContent)
        let copy = try Replica(agent: "joiner", state: replica.encodeState())
        #expect(copy.text == trace.endContent)
        #expect(copy.version == replica.version)
    }

    @Test(arguments: concurrent)
    func concurrentTraceConverges(name: String) throws {
        guard let trace = try Self.load(name) else { return }
        #expect(trace.kind == .concurrent)
        let result = try TraceReplay.replayConcurrent(trace)
        for replica in result.replicas {
            #expect(replica.text == trace.endContent)
            #expect(replica.pendingCount == 0)
        }
        let merged = try TraceReplay.merge(result.updates)
        #expect(merged.text == trace.endContent)
        // Merging in reverse order exercises holding back every operation until its dependencies arrive.
        let reversed = try TraceReplay.merge(result.updates.reversed())
        #expect(reversed.text == trace.endContent)
        #expect(reversed.pendingCount == 0)
        let copy = try Replica(agent: "joiner", state: merged.encodeState())
        #expect(copy.text == trace.endContent)
    }

    @Test func rejectsNonGzipInput() {
        #expect(throws: TraceError.self) { try EditingTrace(gzipped: Array("{\"txns\":[]}".utf8)) }
        #expect(throws: TraceError.self) { try EditingTrace(gzipped: []) }
    }
}
