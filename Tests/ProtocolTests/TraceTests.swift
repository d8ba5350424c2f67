import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// Real editing traces (../shared/traces): sequential ones replay to their end content; concurrent ones
/// converge with one replica per agent.
@Suite(.ownThreads) struct TraceTests {
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
        // The replay sizes its operation array from these counts once; they must cover every operation
        // (deletes past the end of the text are clamped, so the counts may exceed what is made).
        let operations = trace.startContent.unicodeScalars.count + trace.insertedScalarCount + trace.deletedCount
        #expect(replica.version["trace"] > 0)
        #expect(replica.version["trace"] <= operations)
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

    @Test func compactPatchStreamKeepsEveryEdit() throws {
        // Edge cases the shared traces lack: an empty transaction, multi-byte varints for positions,
        // text lengths and delete counts, emoji/CJK text, delete-and-insert patches.
        let xs = String(repeating: "x", count: 300)
        let json = """
            {"startContent":"","endContent":"é中文cend\(String(repeating: "x", count: 50))","txns":[
            {"time":"t","patches":[[0,0,"😀中文abc"]]},
            {"time":"t","patches":[]},
            {"time":"t","patches":[[6,0,"\(xs)"],[3,2,""],[0,1,"é"]]},
            {"time":"t","patches":[[4,250,"end"]]}]}
            """
        let trace = try EditingTrace(gzipped: Self.gzipStored(Array(json.utf8)))
        #expect(trace.transactionCount == 4)
        #expect(trace.patchCount == 5)
        var reader = EditingTrace.PatchReader()
        var seen: [String] = []
        for _ in 0..<trace.transactionCount {
            for _ in 0..<reader.nextTransaction(in: trace) {
                let (patch, text) = reader.next(in: trace)
                seen.append("\(patch.position),\(patch.deleted),\(text.unicodeScalars.count)")
            }
        }
        #expect(seen == ["0,0,6", "6,0,300", "3,2,0", "0,1,1", "4,250,3"])
        #expect(trace.insertedScalarCount == 6 + 300 + 1 + 3)
        #expect(trace.deletedCount == 2 + 1 + 250)
        let replica = TraceReplay.replayLocal(trace)
        #expect(replica.text == trace.endContent)
        // No delete here reaches past the text: one operation per inserted or deleted scalar, exactly.
        #expect(replica.version["trace"] == 310 + 253)
    }

    /// A gzip file holding `data` in stored (uncompressed) deflate blocks.
    static func gzipStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        var start = 0
        repeat {
            let n = min(65_535, data.count - start)
            out.append(start + n == data.count ? 1 : 0)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[start..<(start + n)]
            start += n
        } while start < data.count
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        for value in [crc, UInt32(truncatingIfNeeded: data.count)] {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
        }
        return out
    }

    @Test func rejectsNonGzipInput() {
        #expect(throws: TraceError.self) { try EditingTrace(gzipped: Array("{\"txns\":[]}".utf8)) }
        #expect(throws: TraceError.self) { try EditingTrace(gzipped: []) }
    }
}
