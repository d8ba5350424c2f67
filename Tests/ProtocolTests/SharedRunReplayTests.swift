import CodeSyncProtocol
import Foundation
import Testing
import CodeSyncTestSupport

/// A peer that joins during a run gets the run's start and its latest output, then the live stream.
@Suite(.ownThreads, .timeLimit(.minutes(2))) struct SharedRunReplayTests {
    private func joinAsHost(_ server: SessionServer) async throws -> CollaborationPeer {
        var options = CollaborationPeer.Options(name: "host", secret: "s3cret")
        options.role = .host
        options.limits = fastLimits()
        options.connectTimeout = 30
        return try await CollaborationPeer.join(SessionAddress(host: "127.0.0.1", port: server.port), options: options)
    }

    private func drain(_ watcher: RunWatcher, until condition: (RunWatcher) -> Bool) async -> Bool {
        await watcher.wait(60, condition)
    }

    @Test func aLateJoinerGetsTheOutputSoFarThenTheLiveStream() async throws {
        let server = try await startHost()
        let host = try await joinAsHost(server)
        let early = RunWatcher(try await join(server, name: "early"))
        host.reportRun(.runStarted(RunStartedMessage(run: "r1", by: "early-1", language: "python")))
        host.reportRun(.runOutput(RunOutputMessage(run: "r1", stream: .stdout, text: "one\n")))
        host.reportRun(.runOutput(RunOutputMessage(run: "r1", stream: .stderr, text: "two\n")))
        // Once the early peer has the output, the hub has routed it.
        #expect(await drain(early) { $0.output("r1", "stderr") == "two\n" })
        let late = RunWatcher(try await join(server, name: "late"))
        #expect(await drain(late) { $0.output("r1", "stderr") == "two\n" }, "\(late.events)")
        #expect(late.started == [RunStartedMessage(run: "r1", by: "early-1", language: "python")])
        #expect(late.output("r1", "stdout") == "one\n")
        host.reportRun(.runOutput(RunOutputMessage(run: "r1", stream: .stdout, text: "three\n")))
        host.reportRun(.runExited(RunExitedMessage(run: "r1", outcome: .exited, code: 0, durationMs: 5)))
        #expect(await drain(late) { $0.exit(of: "r1") != nil })
        #expect(late.output("r1", "stdout") == "one\nthree\n")
        #expect(await drain(early) { $0.exit(of: "r1") != nil })
        #expect(late.events == early.events, "the late joiner saw a different run")
        // After the run ended, a newcomer gets no replay.
        let after = RunWatcher(try await join(server, name: "after"))
        host.reportRun(.runStarted(RunStartedMessage(run: "r2", by: "host-1", language: "python")))
        #expect(await drain(after) { !$0.started.isEmpty })
        #expect(after.started.map(\.run) == ["r2"])
        for peer in [host, early.peer, late.peer, after.peer] { await peer.close() }
        await server.shutdown()
    }

    @Test func theReplayKeepsOnlyTheLast256KiB() async throws {
        let server = try await startHost()
        let host = try await joinAsHost(server)
        let early = RunWatcher(try await join(server, name: "early"))
        host.reportRun(.runStarted(RunStartedMessage(run: "big", by: "host-1", language: "python")))
        // 80 chunks of 5 000 bytes (400 000 in all) of two-byte characters, so a cut can fall inside one.
        var all = ""
        for index in 0..<80 {
            let chunk = String(repeating: "é", count: 4_990 / 2) + String(format: "|%08d|", index)
            all += chunk
            host.reportRun(.runOutput(RunOutputMessage(run: "big", stream: .stdout, text: chunk)))
        }
        // Once a peer that was there all along has the marker, the hub has routed everything before it
        // (the late joiner must join after that, or part of the output reaches it live, beside the replay).
        host.reportRun(.runOutput(RunOutputMessage(run: "big", stream: .stderr, text: "end")))
        #expect(await drain(early) { $0.output("big", "stderr") == "end" })
        let late = RunWatcher(try await join(server, name: "late"))
        #expect(await late.wait(60) { $0.output("big", "stderr") == "end" }, "\(late.events.count) events")
        let replayed = late.output("big", "stdout")
        #expect(replayed.utf8.count + 3 <= 256 * 1024)
        #expect(replayed.utf8.count + 3 > 256 * 1024 - 4, "more than a character short of the limit: \(replayed.utf8.count)")
        #expect(all.hasSuffix(replayed), "the replay is not the tail of the output")
        #expect(replayed.hasSuffix("|00000079|"))
        await host.close()
        await early.peer.close()
        await late.peer.close()
        await server.shutdown()
    }
}
