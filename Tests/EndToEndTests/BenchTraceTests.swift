import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync bench trace` on the real binaries: it measures in the lean child and prints every field.
@Suite(.ownThreads) struct BenchTraceTests {
    @Test func benchTracePrintsEveryFieldFromTheLeanChild() throws {
        guard let trace = try TestEnvironment.sharedFile("traces/friendsforever.json.gz") else { return }
        let binary = try TestEnvironment.codesyncBinary()
        let result = try Command.run([binary.path, "bench", "trace", "--runs", "1", trace.path], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first.map(String.init))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        #expect(object["ops"] as? Int == 26078)
        for field in ["localMs", "remoteMs", "mergeMs", "encodedBytes", "peakRSSBytes", "startRSSBytes", "baselineRSSBytes"] {
            #expect((object[field] as? NSNumber)?.doubleValue ?? 0 > 0, "\(field) missing or zero in \(line)")
        }
        // The child links no Foundation: its floor stays far below the editor binary's (about 22 MB).
        #expect((object["startRSSBytes"] as? Int ?? .max) < 16 << 20, "the measuring child is not lean: \(line)")
    }

    @Test func aMissingTraceFileIsAUsageError() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let result = try Command.run([binary.path, "bench", "trace", "/nonexistent/trace.json.gz"], timeout: 60)
        #expect(result.status == 64)
        #expect(result.stderr.contains("cannot read trace file /nonexistent/trace.json.gz"), "\(result.stderr)")
    }
}
