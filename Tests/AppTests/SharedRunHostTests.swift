import CodeSyncApp
import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import Foundation
import Testing
import CodeSyncTestSupport

/// Shared runs on a fake engine and a fake session: the host's rules (one run at a time, a new run
/// cancels the old, who cancelled, refusals, UTF-8 across chunks) without Docker or a network.
/// The same paths run for real in ProtocolTests' SharedRunTests.
@Suite(.ownThreads) struct SharedRunHostTests {
    let engine = FakeEngine()
    let link = FakeLink()

    private func host(onReport: (@Sendable (RunReport) -> Void)? = nil) -> SharedRunHost {
        SharedRunHost(link: link, setup: RunSetup(engine: engine, language: .python, limits: .standard), onReport: onReport)
    }

    @Test func aRunIsStartedStreamedAndEndedForEveryPeer() async throws {
        let reports = Collector<RunReport>()
        let runs = host { reports.add($0) }
        runs.start(source: "print(42)\n", by: "bob-2")
        let run = try await engine.waitRun(0)
        #expect(run.request.source == "print(42)\n")
        #expect(run.request.startedBy == "bob-2")
        #expect(run.request.language.name == "python")
        engine.emit(run.id, .stdout, Array("out 42\n".utf8))
        engine.emit(run.id, .stderr, Array("err\n".utf8))
        engine.exit(run.id, .exited(code: 3), ms: 41)
        #expect(await link.wait { $0.exited.count == 1 })

        let started = try #require(link.started.first)
        #expect(started.by == "bob-2")
        #expect(started.byName == "Bob")
        #expect(started.language == "python")
        #expect(link.output(started.run, .stdout) == "out 42\n")
        #expect(link.output(started.run, .stderr) == "err\n")
        let exit = try #require(link.exited.first)
        #expect(exit.run == started.run)
        #expect(exit.outcome == .exited)
        #expect(exit.code == 3)
        #expect(exit.durationMs == 41)
        #expect(exit.by == nil)
        // The host's own pane gets the same typed reports, in the same order, as the session.
        #expect(await reports.wait { $0.count == link.sent.count })
        #expect(reports.all.compactMap(\.message) == link.sent)
    }

    @Test func aCharacterSplitAcrossChunksArrivesWhole() async throws {
        let runs = host()
        runs.start(source: "", by: "bob-2")
        let run = try await engine.waitRun(0)
        let bytes = Array("é€😀\n".utf8)
        // One byte at a time: every multi-byte character is cut.
        for byte in bytes { engine.emit(run.id, .stdout, [byte]) }
        // A sequence still incomplete at the end is shown as what it is, not dropped.
        engine.emit(run.id, .stderr, [0xE2, 0x82])
        engine.exit(run.id, .exited(code: 0))
        #expect(await link.wait { $0.exited.count == 1 })
        let id = try #require(link.started.first).run
        #expect(link.output(id, .stdout) == "é€😀\n")
        #expect(link.outputs(id).allSatisfy { !$0.text.isEmpty })
        #expect(link.outputs(id).filter { $0.stream == .stdout }.allSatisfy { !$0.text.contains("\u{FFFD}") })
        #expect(link.output(id, .stderr) == "\u{FFFD}")
    }

    @Test func aCancelNamesWhoCancelledAndAnOldRunIDIsIgnored() async throws {
        let runs = host()
        runs.start(source: "loop", by: "ann-3")
        let run = try await engine.waitRun(0)
        #expect(await link.wait { $0.started.count == 1 })
        let id = try #require(link.started.first).run
        let cancelsBefore = engine.cancelCount
        runs.handle(.cancelRequested(RunCancelMessage(peer: "bob-2", run: "not-\(id)")))
        #expect(engine.cancelCount == cancelsBefore)
        runs.handle(.cancelRequested(RunCancelMessage(peer: "bob-2", run: id)))
        #expect(await link.wait { $0.exited.count == 1 })
        let exit = try #require(link.exited.first)
        #expect(exit.outcome == .cancelled)
        #expect(exit.by == "bob-2")
        #expect(exit.byName == "Bob")
        #expect(exit.code == nil)
        _ = run
    }

    @Test func aNewRunCancelsTheOldOneWhichEndsBeforeTheNewOneStarts() async throws {
        let runs = host()
        runs.start(source: "first", by: "ann-3")
        let first = try await engine.waitRun(0)
        engine.emit(first.id, .stdout, Array("first\n".utf8))
        runs.handle(.requested(RunRequestMessage(peer: "bob-2", language: "", source: "second")))
        let second = try await engine.waitRun(1)
        #expect(second.request.source == "second")
        #expect(second.request.startedBy == "bob-2")
        engine.emit(second.id, .stdout, Array("second\n".utf8))
        engine.exit(second.id, .exited(code: 0))
        #expect(await link.wait { $0.exited.count == 2 })

        let kinds = link.sent.map(\.type)
        #expect(kinds == ["run.started", "run.output", "run.exited", "run.started", "run.output", "run.exited"])
        let (one, two) = (link.started[0], link.started[1])
        #expect(one.by == "ann-3" && two.by == "bob-2")
        #expect(link.exited[0].run == one.run)
        #expect(link.exited[0].outcome == .cancelled)
        #expect(link.exited[0].by == "bob-2", "the new run's requester cancelled the old one")
        #expect(link.exited[1].run == two.run && link.exited[1].outcome == .exited)
        #expect(link.output(two.run, .stdout) == "second\n")
        #expect(engine.mostActiveAtOnce == 1, "the engine never held two of the session's runs")
    }

    @Test func runsRequestedInABurstEndOneAfterAnother() async throws {
        let runs = host()
        for n in 1...4 { runs.start(source: "run \(n)", by: "bob-2") }
        // The last request is the one that runs to its end; the others were cancelled on the way
        // (before or after they reached the engine, as the tasks happened to be scheduled).
        #expect(await link.wait { $0.started.count == 4 })
        let last = try await engine.waitRun(engine.runCount - 1)
        #expect(last.request.source == "run 4")
        engine.exit(last.id, .exited(code: 0))
        #expect(await link.wait { $0.exited.count == 4 })
        #expect(link.exited.prefix(3).allSatisfy { $0.outcome == .cancelled && $0.by == "bob-2" })
        #expect(link.exited.last?.outcome == .exited)
        #expect(engine.mostActiveAtOnce == 1)
        // Every run's end comes before the next run's start.
        var open: String?
        for message in link.sent {
            switch message {
            case .runStarted(let m): #expect(open == nil); open = m.run
            case .runExited(let m): #expect(open == m.run); open = nil
            default: break
            }
        }
    }

    @Test func anEngineFailureIsReportedAsAStderrLineAndAFailedEnd() async throws {
        let reports = Collector<RunReport>()
        let runs = host { reports.add($0) }
        runs.start(source: "x", by: "host-1")
        let run = try await engine.waitRun(0)
        engine.fail(run.id, FakeFailure("engine went away"))
        #expect(await link.wait { $0.exited.count == 1 })
        let id = try #require(link.started.first).run
        #expect(link.started.first?.byName == "Hana")
        #expect(link.output(id, .stderr) == "codesync: engine went away\n")
        let exit = try #require(link.exited.first)
        #expect(exit.outcome == .failed)
        #expect(exit.summary == "the sandbox failed")
        #expect(await reports.wait { $0.count == 3 })
        #expect(RunUpdate(reports.all[2]) == .finished(summary: "the sandbox failed", success: false, durationMs: 0))
    }

    @Test func withoutAnEngineEveryRequestIsRefusedAndTheHostPaneHearsNothing() async throws {
        let reports = Collector<RunReport>()
        let runs = SharedRunHost(link: link, setup: nil, unavailable: "no runner.json") { reports.add($0) }
        #expect(!runs.canRun)
        #expect(runs.unavailableReason == "no runner.json")
        runs.handle(.requested(RunRequestMessage(peer: "bob-2", language: "", source: "print(1)")))
        let kinds = link.sent.map(\.type)
        #expect(kinds == ["run.started", "run.output", "run.exited"])
        #expect(link.started.first?.by == "bob-2")
        #expect(link.started.first?.byName == "Bob")
        let id = try #require(link.started.first).run
        #expect(link.output(id, .stderr) == "codesync: the host cannot run code: its Docker sandbox is not configured\n")
        #expect(link.exited.first?.outcome == .failed)
        // A cancel, the host's own start and a shutdown do nothing on a host that cannot run.
        runs.handle(.cancelRequested(RunCancelMessage(peer: "bob-2", run: id)))
        runs.start(source: "x", by: "host-1")
        await runs.shutdown()
        #expect(link.sent.count == 3)
        #expect(reports.all.isEmpty)
    }

    @Test func shutdownCancelsTheRunInTheHostsNameAndStopsTheEngine() async throws {
        let runs = host()
        runs.start(source: "loop", by: "bob-2")
        _ = try await engine.waitRun(0)
        await runs.shutdown()
        #expect(engine.isShutDown)
        let exit = try #require(link.exited.first)
        #expect(exit.outcome == .cancelled)
        #expect(exit.by == "host-1")
        #expect(exit.byName == "Hana")
    }

    @Test func progressEventsReachingTheHostAreIgnored() async throws {
        let runs = host()
        runs.handle(.started(RunStartedMessage(run: "r1", by: "bob-2", language: "python")))
        runs.handle(.output(RunOutputMessage(run: "r1", stream: .stdout, text: "x")))
        runs.handle(.exited(RunExitedMessage(run: "r1", outcome: .exited, code: 0, durationMs: 1)))
        try await Task.sleep(for: .milliseconds(50))
        #expect(link.sent.isEmpty)
        #expect(engine.runCount == 0)
    }
}

/// A guest's runs: refused at once without the run role, a request otherwise, cancel of the latest run.
@Suite(.ownThreads) struct GuestRunsTests {
    @Test func aGuestWithoutTheRunRoleIsRefusedWithoutAskingTheHost() {
        for access in [GuestAccess.edit, .view] {
            let link = FakeLink(id: "bob-2", access: access)
            let guest = GuestRuns(link: link)
            #expect(guest.run("print(1)") == "the host does not let you run code in this session")
            #expect(link.requests.isEmpty)
        }
    }

    @Test func aGuestWithTheRunRoleAsksTheHostWithTheTextItSees() {
        let link = FakeLink(id: "bob-2", access: .editRun)
        let guest = GuestRuns(link: link)
        #expect(guest.run("print(1)\n") == nil)
        #expect(link.requests == [RunRequestMessage(peer: "bob-2", language: "", source: "print(1)\n")])
        // The host took the role away meanwhile: the next run is refused here.
        link.access = .edit
        #expect(guest.run("print(2)\n") != nil)
        #expect(link.requests.count == 1)
    }

    @Test func cancelNamesTheLatestRunAndIsNothingBeforeAnyRun() {
        let link = FakeLink(id: "bob-2")
        let guest = GuestRuns(link: link)
        guest.cancel()
        #expect(link.sent.isEmpty)
        guest.observe(.started(RunStartedMessage(run: "r1", by: "ann-3", language: "python")))
        guest.observe(.output(RunOutputMessage(run: "r1", stream: .stdout, text: "x")))
        guest.observe(.started(RunStartedMessage(run: "r2", by: "ann-3", language: "python")))
        guest.cancel()
        #expect(link.sent == [.runCancel(RunCancelMessage(peer: "bob-2", run: "r2"))])
    }
}
