import CodeSyncAnalyzer
import CodeSyncTestSupport
import Foundation
import Testing

/// The Java front end over the JDK's own `java.util` sources (from Debian's openjdk-17-source, or
/// any JDK's lib/src.zip): the share of files parsed without a syntax error, every rejection listed.
@Suite(.ownThreads) struct JavaFidelityTests {
    /// The issue's bar.
    private static let minimumAccepted = 99.0

    private static func sourceZip() -> String? {
        if let explicit = TestEnvironment.value("CODESYNC_JDK_SRC") { return explicit }
        var candidates = ["/usr/lib/jvm/openjdk-17/lib/src.zip"]
        let jvms = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/jvm")) ?? []).sorted()
        candidates += jvms.map { "/usr/lib/jvm/\($0)/lib/src.zip" }
        // A dangling src.zip link (the JDK without its -source package) does not count.
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }

    @Test func jdkUtilSourcesParse() throws {
        guard Command.exists("unzip") else {
            _ = try TestEnvironment.missing("unzip", fix: "apt-get install unzip") as Bool?
            return
        }
        guard let zip = Self.sourceZip() else {
            _ = try TestEnvironment.missing("the JDK sources (lib/src.zip)", fix: "apt-get install openjdk-17-source") as Bool?
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-jdk-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let unzip = try Command.run(["unzip", "-q", "-o", zip, "java.base/java/util/*", "-d", dir.path], timeout: 120)
        #expect(unzip.status == 0, "unzip failed: \(unzip.stderr)")
        guard let enumerator = FileManager.default.enumerator(atPath: dir.path) else {
            Issue.record("cannot list \(dir.path)")
            return
        }
        var total = 0
        var rejected: [String] = []
        for case let relative as String in enumerator where relative.hasSuffix(".java") {
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(relative).path) else { continue }
            total += 1
            let report = Analyzer.analyze(source: String(decoding: data, as: UTF8.self), language: "java")
            if let first = report.errors.first { rejected.append("\(relative):\(first.line): \(first.message)") }
        }
        let accepted = total - rejected.count
        let percent = total == 0 ? 0 : Double(accepted) * 100 / Double(total)
        print("JDK java.util from \(zip): \(accepted)/\(total) files accepted")
        for r in rejected.sorted() { print("  rejected \(r)") }
        #expect(total > 300)
        #expect(percent >= Self.minimumAccepted)
    }
}
