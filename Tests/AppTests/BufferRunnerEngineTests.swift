import CodeSyncApp
import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync edit`'s runner on the real Docker engine: a program that writes a character in two
/// writes (flushed apart, so they arrive as two chunks) shows it whole in the output pane.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(5))) struct BufferRunnerEngineTests {
    @Test func aCharacterWrittenInTwoPiecesShowsWhole() async throws {
        guard let (docker, image) = try DockerFixture.withImage("python") else { return }
        var catalog = LanguageCatalog()
        catalog.languages[0].image = image
        let sandbox = Sandbox(config: SandboxConfig(socketPath: docker.socketPath, catalog: catalog, poolSize: 0))
        let runner = BufferRunner(RunSetup(engine: sandbox, language: try catalog.named("python"), limits: .standard))
        let reports = Collector<RunReport>()
        let source = """
            import sys, time
            out = sys.stdout.buffer
            for piece in [b'caf\\xc3', b'\\xa9 \\xe2\\x82', b'\\xac\\n']:
                out.write(piece); out.flush(); time.sleep(0.3)

            """
        runner.run(source, by: "ann") { reports.add($0) }
        #expect(await reports.wait(seconds: 120) { $0.contains { if case .exited = $0 { true } else if case .failed = $0 { true } else { false } } },
                "\(reports.all)")
        await runner.shutdown()
        let outputs = reports.all.compactMap { if case .output(let m) = $0 { m } else { nil } }
        #expect(outputs.map(\.text).joined() == "café €\n", "\(reports.all)")
        #expect(outputs.allSatisfy { !$0.text.contains("\u{FFFD}") })
        // The pieces did arrive apart: more than one chunk carried the line.
        #expect(outputs.count > 1, "\(outputs)")
        guard case .exited(let end) = reports.all.last else {
            Issue.record("the run did not end with run.exited: \(reports.all)")
            return
        }
        #expect(RunUpdate(.exited(end)) == .finished(summary: "exited with code 0", success: true, durationMs: end.durationMs))
    }
}
