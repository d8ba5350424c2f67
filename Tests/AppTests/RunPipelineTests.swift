import CodeSyncApp
import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import Foundation
import Testing
import CodeSyncTestSupport

/// The one run pipeline: `codesync edit`'s runner decodes like the session host (a character cut
/// between chunks arrives whole), and run reports become pane updates in one place.
@Suite(.ownThreads) struct RunPipelineTests {
    @Test func theEditorsRunnerCarriesACharacterSplitAcrossChunks() async throws {
        let engine = FakeEngine()
        let runner = BufferRunner(RunSetup(engine: engine, language: .python, limits: .standard))
        let reports = Collector<RunReport>()
        runner.run("print('é')", by: "ann") { reports.add($0) }
        let run = try await engine.waitRun(0)
        #expect(run.request.startedBy == "ann")
        // "héllo → ✓" with each multi-byte character cut in two (before: two U+FFFD per character).
        let bytes = Array("héllo → ✓\n".utf8)
        var chunks: [[UInt8]] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte & 0xC0 == 0x80 && bytes[index - 1] & 0xC0 != 0x80 {
            chunks.append(Array(bytes[start..<index]))
            start = index
        }
        chunks.append(Array(bytes[start...]))
        #expect(chunks.count == 4)
        for chunk in chunks { engine.emit(run.id, .stdout, chunk) }
        engine.exit(run.id, .exited(code: 0), ms: 250)
        #expect(await reports.wait { $0.contains { if case .exited = $0 { true } else { false } } })

        let updates = reports.all.flatMap(\.paneUpdates)
        let text = updates.compactMap { if case .output(let text, false) = $0 { text } else { nil } }.joined()
        #expect(text == "héllo → ✓\n")
        #expect(!text.contains("\u{FFFD}"))
        #expect(updates.first == .started(by: "ann", language: "python"))
        #expect(updates.last == .finished(summary: "exited with code 0", success: true, durationMs: 250))
        await runner.shutdown()
        #expect(engine.isShutDown)
    }

    @Test func theEditorsRunnerReportsAnEngineFailureAsFailed() async throws {
        let engine = FakeEngine()
        let runner = BufferRunner(RunSetup(engine: engine, language: .python, limits: .standard))
        let reports = Collector<RunReport>()
        runner.run("x", by: "ann") { reports.add($0) }
        let run = try await engine.waitRun(0)
        engine.fail(run.id, FakeFailure("no engine"))
        #expect(await reports.wait { $0.last == .failed("no engine") })
        #expect(RunUpdate(.failed("no engine")) == .failed("no engine"))
    }

    @Test func aNewEditorRunCancelsTheOldOne() async throws {
        let engine = FakeEngine()
        let runner = BufferRunner(RunSetup(engine: engine, language: .python, limits: .standard))
        let reports = Collector<RunReport>()
        runner.run("one", by: "ann") { reports.add($0) }
        let first = try await engine.waitRun(0)
        runner.run("two", by: "ann") { reports.add($0) }
        let second = try await engine.waitRun(1)
        engine.exit(second.id, .exited(code: 0))
        #expect(await reports.wait { $0.filter { if case .exited = $0 { true } else { false } }.count == 2 })
        let ends = reports.all.compactMap { if case .exited(let m) = $0 { m } else { nil } }
        #expect(ends.first { $0.run == first.id }?.outcome == .cancelled)
        #expect(ends.first { $0.run == second.id }?.outcome == .exited)
    }

    /// The pane's words for every ending, the same whichever route the run took.
    @Test func everyEndingBecomesThePanesSummary() {
        func update(_ outcome: RunEnding, _ code: Int?, by: String? = nil, byName: String? = nil) -> RunUpdate {
            RunUpdate(.exited(RunExitedMessage(run: "r", outcome: outcome, code: code, durationMs: 7, by: by, byName: byName)))
        }
        #expect(update(.exited, 0) == .finished(summary: "exited with code 0", success: true, durationMs: 7))
        #expect(update(.exited, 2) == .finished(summary: "exited with code 2", success: false, durationMs: 7))
        #expect(update(.killed, 137) == .finished(summary: "killed by signal 9 (SIGKILL)", success: false, durationMs: 7))
        #expect(update(.cancelled, nil, by: "bob-2", byName: "Bob") == .finished(summary: "cancelled by Bob", success: false, durationMs: 7))
        #expect(update(.cancelled, nil, by: "bob-2") == .finished(summary: "cancelled by bob-2", success: false, durationMs: 7))
        #expect(update(.buildFailed, 1) == .finished(summary: "compile error (build exited with code 1)", success: false, durationMs: 7))
        #expect(update(.timedOut, nil) == .finished(summary: RunOutcome.timedOut.description, success: false, durationMs: 7))
        #expect(update(.failed, nil) == .finished(summary: "the sandbox failed", success: false, durationMs: 7))
        #expect(RunUpdate(.started(RunStartedMessage(run: "r", by: "bob-2", language: "go", byName: "Bob"))) == .started(by: "Bob", language: "go"))
        #expect(RunUpdate(.started(RunStartedMessage(run: "r", by: "bob-2", language: "go"))) == .started(by: "bob-2", language: "go"))
        #expect(RunUpdate(.output(RunOutputMessage(run: "r", stream: .stderr, text: "e"))) == .output("e", isError: true))
        #expect(RunUpdate(.output(RunOutputMessage(run: "r", stream: .stdout, text: "o"))) == .output("o", isError: false))
    }

    /// Every runner outcome survives the wire: name and code back to the same outcome and exit status.
    @Test func everyOutcomeRoundTripsThroughTheWire() {
        let outcomes: [RunOutcome] = [.exited(code: 0), .exited(code: 3), .timedOut, .outOfMemory, .killed(signal: 9),
                                      .outputLimit, .cancelled, .buildFailed(code: 2), .buildTimedOut]
        for outcome in outcomes {
            let result = RunResult(runID: "r", outcome: outcome, durationMilliseconds: 5, startedBy: "a", language: "python")
            let message = RunExitedMessage(run: "r", result: result)
            #expect(message.runOutcome == outcome)
            #expect(message.exitStatus == outcome.exitStatus)
        }
        #expect(RunExitedMessage(run: "r", outcome: .failed, code: nil, durationMs: 0).exitStatus == 125)
        // A code the outcome cannot have is not an outcome (a broken or hostile host).
        #expect(RunExitedMessage(run: "r", outcome: .exited, code: nil, durationMs: 0).runOutcome == nil)
        #expect(RunExitedMessage(run: "r", outcome: .killed, code: 5, durationMs: 0).runOutcome == nil)
    }

    @Test func utf8CarryHoldsBackOnlyAnIncompleteTail() {
        var carry = UTF8Carry()
        #expect(carry.feed([0x61, 0xF0, 0x9F]) == "a")
        #expect(carry.feed([0x98]) == "")
        #expect(carry.feed([0x80, 0x62]) == "😀b")
        // Invalid bytes are not held back forever: they decode (as U+FFFD) at once.
        #expect(carry.feed([0xFF, 0x63]) == "\u{FFFD}c")
        #expect(carry.feed([0xE2, 0x82]) == "")
        #expect(carry.flush() == "\u{FFFD}")
        #expect(carry.flush() == "")
    }
}
