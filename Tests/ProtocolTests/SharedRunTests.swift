import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// A `codesync host --headless` process, with the join line's address and secret.
final class SharedRunHostProcess: @unchecked Sendable {
    private let process: CodesyncProcess
    let address: String
    let secret: String
    /// What the host printed first: its join lines, then the watch-only line.
    let stdoutLines: [String]

    /// `options` replace the default `--port 0` (e.g. `--relay ADDR --guests view`).
    init(_ binary: URL, file: URL, environment: [String: String], options: [String] = ["--port", "0"]) async throws {
        let process = try CodesyncProcess(binary, ["host", file.path, "--headless", "--name", "host"] + options, environment: environment)
        var lines: [String] = []
        while let line = await process.line(prefix: "", timeout: 60) {
            lines.append(line)
            if line.hasPrefix("watch only: ") { break }
        }
        guard lines.last?.hasPrefix("watch only: ") == true, let join = lines.first(where: { $0.hasPrefix("CODESYNC_SECRET=") }),
              let (address, secret) = HostSession.parseJoinLine(join) else {
            process.kill9()
            throw RawError("host printed no join line: \(process.stderr)")
        }
        self.process = process
        stdoutLines = lines
        self.address = address
        self.secret = secret
    }

    var pid: Int32 { process.pid }
    var stderr: String { process.stderr }

    /// SIGTERM (a clean quit); true when the host exited cleanly within 60 s.
    func quit() async -> Bool { await process.stop(within: 60) == 0 }

    func kill9() { process.kill9() }
}

/// Collects one in-process peer's run events (polling it; never blocking the test threads).
final class RunWatcher: @unchecked Sendable {
    let peer: CollaborationPeer
    private(set) var events: [SessionRunEvent] = []
    private(set) var closed = false

    init(_ peer: CollaborationPeer) { self.peer = peer }

    func pump() {
        for event in peer.poll() {
            if case .run(let run) = event { events.append(run) }
            if case .connection(.closed) = event { closed = true }
        }
    }

    /// Waits (generously: a loaded machine) until `condition` holds; returns whether it did.
    func wait(_ timeout: Double = 60, _ condition: (RunWatcher) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump()
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        pump()
        return condition(self)
    }

    var started: [RunStartedMessage] { events.compactMap { if case .started(let m) = $0 { m } else { nil } } }
    var exited: [RunExitedMessage] { events.compactMap { if case .exited(let m) = $0 { m } else { nil } } }

    func output(_ run: String, _ stream: String) -> String {
        events.compactMap { if case .output(let m) = $0, m.run == run, m.stream.rawValue == stream { m.text } else { nil } }.joined()
    }

    func exit(of run: String) -> RunExitedMessage? { exited.first { $0.run == run } }
}

/// Shared runs on real processes over loopback and the real Docker engine.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(5))) struct SharedRunTests {
    private let work: URL
    private let environment: [String: String]

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-runs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("config"), withIntermediateDirectories: true)
        var environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path,
                           "XDG_CONFIG_HOME": work.appendingPathComponent("config").path, "CODESYNC_NAME": "tester"]
        environment["CODESYNC_IMAGE_PYTHON"] = DockerFixture.testImageName("python")
        self.environment = environment
    }

    /// The binary and the engine with the Python test image, or nil (skipped with a notice).
    private func prerequisites() throws -> URL? {
        guard try DockerFixture.withImage("python") != nil else { return nil }
        return try codesyncBinary()
    }

    private func codesyncBinary() throws -> URL? {
        do { return try TestEnvironment.codesyncBinary() } catch { return try TestEnvironment.missing("\(error)") }
    }

    private func host(_ binary: URL, source: String) async throws -> SharedRunHostProcess {
        let file = work.appendingPathComponent("main.py")
        try source.write(to: file, atomically: true, encoding: .utf8)
        return try await SharedRunHostProcess(binary, file: file, environment: environment)
    }

    private func join(_ host: SharedRunHostProcess, name: String) async throws -> RunWatcher {
        var options = CollaborationPeer.Options(name: name, secret: host.secret)
        options.connectTimeout = 30
        options.reconnect = false
        return RunWatcher(try await CollaborationPeer.join(try SessionAddress(parsing: host.address), options: options))
    }

    private func containers(of pid: Int32) async throws -> [String] {
        let result = try await offPool {
            try Command.run(["docker", "ps", "-aq", "--filter", "label=dev.codesync.owner-pid=\(pid)"], timeout: 30)
        }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func aJoinersRunExecutesOnTheHostAndEveryPeerSeesTheSameRun() async throws {
        guard let binary = try prerequisites() else { return }
        let source = "import sys\nprint('out', 6 * 7)\nprint('err line', file=sys.stderr)\nsys.exit(3)\n"
        let host = try await host(binary, source: source)
        defer { host.kill9() }
        let ann = try await join(host, name: "ann")
        let bob = try await join(host, name: "bob")
        defer { Task { await ann.peer.close(); await bob.peer.close() } }
        _ = ann.peer.poll()
        ann.peer.requestRun(language: "python", source: ann.peer.text)
        for watcher in [ann, bob] {
            #expect(await watcher.wait { w in w.started.first.map { w.exit(of: $0.run) != nil } ?? false },
                    "no complete run reached \(watcher.peer.id): \(watcher.events) \(host.stderr)")
        }
        let run = try #require(ann.started.first)
        #expect(run.by == ann.peer.id)
        #expect(run.language == "python")
        #expect(bob.started == ann.started)
        for watcher in [ann, bob] {
            #expect(watcher.output(run.run, "stdout") == "out 42\n")
            #expect(watcher.output(run.run, "stderr") == "err line\n")
            let exit = try #require(watcher.exit(of: run.run))
            #expect(exit.outcome == .exited)
            #expect(exit.code == 3)
        }
        #expect(ann.exit(of: run.run) == bob.exit(of: run.run))
        #expect(try await containers(of: host.pid).isEmpty, "the finished run's container is still there")
    }

    @Test func theOtherPeerCancelsAndEveryoneSeesWho() async throws {
        guard let binary = try prerequisites() else { return }
        let host = try await host(binary, source: "")
        defer { host.kill9() }
        let ann = try await join(host, name: "ann")
        let bob = try await join(host, name: "bob")
        defer { Task { await ann.peer.close(); await bob.peer.close() } }
        ann.peer.requestRun(language: "python", source: "import time\nprint('go', flush=True)\ntime.sleep(120)\n")
        #expect(await bob.wait { w in w.started.first.map { w.output($0.run, "stdout") == "go\n" } ?? false },
                "the run never started: \(bob.events) \(host.stderr)")
        let run = try #require(bob.started.first)
        bob.peer.reportRun(.runCancel(RunCancelMessage(peer: bob.peer.id, run: run.run)))
        for watcher in [ann, bob] {
            #expect(await watcher.wait { $0.exit(of: run.run) != nil }, "no end reached \(watcher.peer.id)")
            let exit = watcher.exit(of: run.run)
            #expect(exit?.outcome == .cancelled)
            #expect(exit?.by == bob.peer.id)
        }
        #expect(try await containers(of: host.pid).isEmpty)
    }

    @Test func aNewRunCancelsTheOneInProgress() async throws {
        guard let binary = try prerequisites() else { return }
        let host = try await host(binary, source: "")
        defer { host.kill9() }
        let ann = try await join(host, name: "ann")
        let bob = try await join(host, name: "bob")
        defer { Task { await ann.peer.close(); await bob.peer.close() } }
        ann.peer.requestRun(language: "python", source: "import time\nprint('first', flush=True)\ntime.sleep(120)\n")
        #expect(await ann.wait { w in w.started.first.map { w.output($0.run, "stdout") == "first\n" } ?? false },
                "the first run never started: \(ann.events) \(host.stderr)")
        let first = try #require(ann.started.first)
        bob.peer.requestRun(language: "python", source: "print('second')\n")
        for watcher in [ann, bob] {
            #expect(await watcher.wait { w in w.started.count == 2 && w.exit(of: w.started[1].run) != nil },
                    "the second run never finished at \(watcher.peer.id): \(watcher.events)")
            #expect(watcher.exit(of: first.run)?.outcome == .cancelled)
            #expect(watcher.exit(of: first.run)?.by == bob.peer.id)
            guard watcher.started.count == 2 else { continue }
            let second = watcher.started[1]
            #expect(second.by == bob.peer.id)
            #expect(watcher.output(second.run, "stdout") == "second\n")
            #expect(watcher.exit(of: second.run)?.code == 0)
            // One active run: the first one's end is reported before the second one starts.
            let firstEnd = watcher.events.firstIndex { if case .exited(let m) = $0 { m.run == first.run } else { false } }
            let secondStart = watcher.events.firstIndex { if case .started(let m) = $0 { m.run == second.run } else { false } }
            #expect(firstEnd != nil && secondStart != nil && firstEnd! < secondStart!)
        }
        #expect(try await containers(of: host.pid).isEmpty)
    }

    @Test func theHostQuittingMidRunLeavesNoContainerBehind() async throws {
        guard let binary = try prerequisites() else { return }
        let host = try await host(binary, source: "")
        defer { host.kill9() }
        let ann = try await join(host, name: "ann")
        defer { Task { await ann.peer.close() } }
        ann.peer.requestRun(language: "python", source: "import time\nprint('go', flush=True)\ntime.sleep(120)\n")
        #expect(await ann.wait { w in w.started.first.map { w.output($0.run, "stdout") == "go\n" } ?? false },
                "the run never started: \(ann.events) \(host.stderr)")
        #expect(try await containers(of: host.pid).count == 1, "the running container is not labelled with the host's pid")
        #expect(await host.quit(), "the host did not exit within 60 s of SIGTERM")
        #expect(try await containers(of: host.pid).isEmpty, "the host left its run's container behind")
        #expect(await ann.wait { $0.closed || !$0.peer.isConnected }, "the guest never noticed the host leaving")
    }

    @Test func headlessRunStreamsTheSessionsBufferWithTheLocalExitCodeRules() async throws {
        guard let binary = try prerequisites() else { return }
        let host = try await host(binary, source: "import sys\nprint('from the session')\nprint('warn', file=sys.stderr)\nsys.exit(5)\n")
        defer { host.kill9() }
        let bob = try await join(host, name: "bob")
        defer { Task { await bob.peer.close() } }
        let environment = self.environment.merging(["CODESYNC_SECRET": host.secret]) { $1 }
        let address = host.address
        let result = try await offPool {
            try Command.run([binary.path, "run", address], timeout: 120, environment: environment)
        }
        #expect(result.status == 5, "stderr: \(result.stderr)")
        #expect(result.stdout == "from the session\n")
        #expect(result.stderr == "warn\n")
        // The other peer saw the same run.
        #expect(await bob.wait { w in w.started.first.map { w.exit(of: $0.run) != nil } ?? false })
        if let run = bob.started.first {
            #expect(bob.output(run.run, "stdout") == "from the session\n")
            #expect(bob.exit(of: run.run)?.code == 5)
        }
    }

    @Test func ctrlCOnAHeadlessSessionRunCancelsItOnTheHost() async throws {
        guard let binary = try prerequisites() else { return }
        let host = try await host(binary, source: "import time\nprint('go', flush=True)\ntime.sleep(120)\n")
        defer { host.kill9() }
        let bob = try await join(host, name: "bob")
        defer { Task { await bob.peer.close() } }
        let runner = Process()
        runner.executableURL = binary
        runner.arguments = ["run", host.address]
        runner.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.merging(["CODESYNC_SECRET": host.secret]) { $1 }
        let output = Pipe(), errors = Pipe()
        runner.standardOutput = output
        runner.standardError = errors
        runner.standardInput = FileHandle.nullDevice
        try runner.run()
        defer { if runner.isRunning { kill(runner.processIdentifier, SIGKILL) } }
        #expect(await bob.wait { w in w.started.first.map { w.output($0.run, "stdout") == "go\n" } ?? false },
                "the run never started: \(bob.events) \(host.stderr)")
        let run = try #require(bob.started.first)
        kill(runner.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(60)
        while runner.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!runner.isRunning, "codesync run did not end within 60 s of Ctrl-C")
        guard !runner.isRunning else { return }
        #expect(runner.terminationStatus == 137)
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stdout == "go\n")
        #expect(run.byName == "tester", "run.started should name the requester: \(run)")
        #expect(stderr.contains("cancelled by tester"), "\(stderr)")
        #expect(await bob.wait { $0.exit(of: run.run) != nil })
        #expect(bob.exit(of: run.run)?.outcome == .cancelled)
        #expect(bob.exit(of: run.run)?.by == run.by, "the requester cancelled its own run")
        #expect(try await containers(of: host.pid).isEmpty)
    }

    @Test func aHostOnARelayHasTheRelayEnforceItsRoles() async throws {
        guard let binary = try codesyncBinary() else { return }
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: fastLimits())
        let file = work.appendingPathComponent("relayed.py")
        try "x = 1\n".write(to: file, atomically: true, encoding: .utf8)
        let host = try await SharedRunHostProcess(binary, file: file, environment: environment,
                                                  options: ["--relay", "127.0.0.1:\(relay.port)", "--guests", "view"])
        defer { host.kill9() }
        #expect(host.address.hasPrefix("127.0.0.1:\(relay.port)/"), "the join line does not go through the relay: \(host.address)")
        let watchLine = try #require(host.stdoutLines.first { $0.hasPrefix("watch only: ") })
        #expect(watchLine.contains(host.address), "the watch-only line does not go through the relay: \(watchLine)")
        let ann = try await join(host, name: "ann")
        #expect(ann.peer.access == .view, "the relay did not apply the host's --guests view")
        ann.peer.insert("HACK ", at: 0)
        ann.peer.requestRun(language: "python", source: "print(1)\n")
        var refusals: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while refusals.count < 2 && Date() < deadline {
            for event in ann.peer.poll() { if case .error(let text) = event, text.contains("refused") { refusals.append(text) } }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(refusals.contains { $0.contains("refused your ops") }, "\(refusals)")
        #expect(refusals.contains { $0.contains("refused your run.request") }, "\(refusals)")
        // A newcomer gets the relay's document: without the refused edit.
        let late = try await join(host, name: "late")
        #expect(late.peer.text == "x = 1\n", "a refused edit reached the document: \(late.peer.text.debugDescription)")
        await ann.peer.close()
        await late.peer.close()
        #expect(await host.quit())
        await relay.shutdown()
    }

    @Test func aHostOnARelayAndDirectRunsRequestsFromTheRelaysSide() async throws {
        guard let binary = try prerequisites() else { return }
        let relay = try await SessionServer.relay(bind: "127.0.0.1", port: 0, limits: fastLimits())
        let file = work.appendingPathComponent("bridged.py")
        try "print('bridged', 6 * 7)\n".write(to: file, atomically: true, encoding: .utf8)
        let host = try await SharedRunHostProcess(binary, file: file, environment: environment,
                                                  options: ["--relay", "127.0.0.1:\(relay.port)", "--port", "0"])
        defer { host.kill9() }
        let relayLine = try #require(host.stdoutLines.first { HostSession.parseJoinLine($0)?.address.hasPrefix("127.0.0.1:\(relay.port)/") == true },
                                     "no relay join line: \(host.stdoutLines)")
        var options = CollaborationPeer.Options(name: "remote", secret: host.secret)
        options.connectTimeout = 30
        options.reconnect = false
        let address = try SessionAddress(parsing: try #require(HostSession.parseJoinLine(relayLine)).address)
        let remote = RunWatcher(try await CollaborationPeer.join(address, options: options))
        let direct = try await join(host, name: "direct")
        remote.peer.requestRun(language: "python", source: remote.peer.text)
        #expect(await remote.wait { w in w.started.first.map { w.exit(of: $0.run) != nil } ?? false },
                "the run requested through the relay never ended: \(remote.events) \(host.stderr)")
        let run = try #require(remote.started.first)
        #expect(remote.output(run.run, "stdout") == "bridged 42\n")
        #expect(remote.exit(of: run.run)?.outcome == .exited)
        // The direct side saw the same run.
        #expect(await direct.wait { $0.exit(of: run.run) != nil })
        #expect(direct.output(run.run, "stdout") == "bridged 42\n")
        await remote.peer.close()
        await direct.peer.close()
        #expect(await host.quit())
        await relay.shutdown()
    }

    @Test func anUnknownGuestsValueIsAUsageError() async throws {
        guard let binary = try codesyncBinary() else { return }
        let file = work.appendingPathComponent("r.py")
        let environment = self.environment
        let bad = try await offPool {
            try Command.run([binary.path, "host", file.path, "--headless", "--guests", "admin"], timeout: 60, environment: environment)
        }
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("edit+run"), "\(bad.stderr)")
    }

    @Test func aPeerJoiningMidRunGetsTheOutputSoFarThenTheLiveStream() async throws {
        guard let binary = try prerequisites() else { return }
        let host = try await host(binary, source: "")
        defer { host.kill9() }
        let ann = try await join(host, name: "ann")
        defer { Task { await ann.peer.close() } }
        ann.peer.requestRun(language: "python", source: "import sys, time\nprint('early', flush=True)\nprint('warn', file=sys.stderr, flush=True)\ntime.sleep(120)\n")
        // Both streams seen first: Docker delivers stdout and stderr on separate streams, so
        // "warn" can reach the host before "early" (under load it did), and the replay can only
        // hold what the host had.
        #expect(await ann.wait { w in
            w.started.first.map { w.output($0.run, "stderr") == "warn\n" && w.output($0.run, "stdout") == "early\n" } ?? false
        }, "the run never started: \(ann.events) \(host.stderr)")
        let run = try #require(ann.started.first)
        let late = try await join(host, name: "late")
        defer { Task { await late.peer.close() } }
        #expect(await late.wait { $0.output(run.run, "stderr") == "warn\n" && $0.output(run.run, "stdout") == "early\n" },
                "no replay: \(late.events)")
        #expect(late.started == [run])
        #expect(late.output(run.run, "stdout") == "early\n")
        // Then the live stream: the cancel's end reaches the late joiner too.
        ann.peer.reportRun(.runCancel(RunCancelMessage(peer: ann.peer.id, run: run.run)))
        #expect(await late.wait { $0.exit(of: run.run) != nil })
        #expect(late.exit(of: run.run)?.outcome == .cancelled)
        #expect(late.exit(of: run.run)?.by == ann.peer.id)
    }

    @Test func theWatchOnlyLineCannotRunAndSaysSo() async throws {
        guard let binary = try codesyncBinary() else { return }
        let host = try await host(binary, source: "print('never')\n")
        defer { host.kill9() }
        let watch = try #require(host.stdoutLines.first { $0.hasPrefix("watch only: CODESYNC_SECRET=") }, "\(host.stdoutLines)")
        let parsed = try #require(HostSession.parseJoinLine(watch))
        #expect(parsed.address == host.address, "\(watch)")
        let secret = parsed.secret
        #expect(secret != host.secret)
        let environment = self.environment.merging(["CODESYNC_SECRET": secret]) { $1 }
        let address = host.address
        let result = try await offPool {
            try Command.run([binary.path, "run", address], timeout: 60, environment: environment)
        }
        #expect(result.status == 125)
        #expect(result.stderr.contains("does not let this secret run code"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func headlessRunWithoutASessionSaysWhatIsWrong() async throws {
        guard let binary = try codesyncBinary() else { return }
        let environment = self.environment
        let noSecret = try await offPool { try Command.run([binary.path, "run", "127.0.0.1:9"], timeout: 60, environment: environment) }
        #expect(noSecret.status == 125)
        #expect(noSecret.stderr.contains("--secret"), "\(noSecret.stderr)")
        let nobody = try await offPool {
            try Command.run([binary.path, "run", "127.0.0.1:9", "--secret", "0123"], timeout: 60, environment: environment)
        }
        #expect(nobody.status == 125)
        #expect(nobody.stderr.contains("cannot join the session at 127.0.0.1:9"), "\(nobody.stderr)")
        #expect(nobody.stderr.split(separator: "\n").count == 1, "not one line: \(nobody.stderr)")
        let neither = try await offPool {
            try Command.run([binary.path, "run", "no-such-file.py", "--secret", "0123"], timeout: 60, environment: environment)
        }
        #expect(neither.status == 125)
        #expect(neither.stderr.contains("neither a file nor a session address"), "\(neither.stderr)")
    }
}

extension DockerFixture {
    /// The test image name for `language` (without probing the engine).
    static func testImageName(_ language: String) -> String {
        TestEnvironment.value("CODESYNC_TEST_IMAGE_\(language.uppercased())") ?? "codesync-test/\(language):latest"
    }
}
