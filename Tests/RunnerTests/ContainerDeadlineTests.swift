import CodeSyncBase
@testable import CodeSyncRunner
import CodeSyncTestSupport
import Foundation
import Testing

/// Every container has a wall-clock deadline of its own, kills and removes are retried, and a
/// dead codesync's containers are removed at the next start.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(3))) struct ContainerDeadlineTests {
    @Test func theContainerCommandRunsUnderTheImagesTimeoutWithItsLifetime() throws {
        let body = ContainerSpec.createBody(language: .python, limits: .standard, instance: "i", pid: 1, host: "h")
        let command = try #require(body["Cmd"] as? [String])
        let lifetime = ContainerSpec.lifetimeSeconds(language: .python, limits: .standard, pooled: false)
        #expect(command.prefix(2) == ["/bin/sh", "-c"])
        #expect(command[2].contains("exec timeout -s KILL \(lifetime) \"$@\""))
        #expect(Array(command.dropFirst(4)) == Loader.command(for: .python))
        #expect((body["Labels"] as? [String: String])?[SandboxLabels.lifetime] == "\(lifetime)")
        // A pooled container may wait for its code; a compiled language adds its build limit.
        #expect(ContainerSpec.lifetimeSeconds(language: .python, limits: .standard, pooled: true) > lifetime)
        #expect(ContainerSpec.lifetimeSeconds(language: .c, limits: .standard, pooled: false)
                == lifetime + Int(RunLimits.standard.buildTimeoutSeconds))
    }

    @Test func aReusedPidDoesNotKeepALeftoverAlive() async throws {
        try await EngineHarness.with { h in
            let host = try Command.run(["hostname"], timeout: 10).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let start = try #require(ProcessStart.of(1))
            func create(startLabel: UInt64) throws -> String {
                let created = try Command.run([
                    "docker", "create", "--label", "\(SandboxLabels.sandbox)=1", "--label", "\(SandboxLabels.ownerPID)=1",
                    "--label", "\(SandboxLabels.ownerHost)=\(host)", "--label", "\(SandboxLabels.ownerStart)=\(startLabel)",
                    "--network", "none", h.docker.image(for: "python"), "true",
                ], timeout: 30)
                #expect(created.status == 0, "\(created.stderr)")
                return created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            // Pid 1 is alive, but only one of these was created by the process that holds it now.
            let reused = try create(startLabel: start + 1)
            let live = try create(startLabel: start)
            defer { _ = try? Command.run(["docker", "rm", "-f", live], timeout: 30) }
            _ = try await h.sandbox.removeLeftovers()
            #expect(try Command.run(["docker", "inspect", reused], timeout: 20).status != 0, "the reused pid's leftover stayed")
            #expect(try Command.run(["docker", "inspect", live], timeout: 20).status == 0, "a live owner's container was removed")
        }
    }

    @Test func engineCallsAreRetriedUntilTheyWorkOrTheDeadlinePasses() async {
        let attempts = Locked(0)
        let worked = await Retry.until(seconds: 5) {
            let attempt = attempts.withLock { value -> Int in value += 1; return value }
            if attempt < 3 { throw RunnerError.engine(status: 500, message: "busy") }
        }
        #expect(worked && attempts.withLock { $0 } == 3)
        let clock = ContinuousClock()
        let began = clock.now
        let never = await Retry.until(seconds: 0.5) { throw RunnerError.engine(status: 500, message: "down") }
        #expect(!never)
        #expect(clock.now - began < .seconds(2))
    }

    @Test func aProgramThatKillsItsWatchdogEndsItsContainer() async throws {
        try await EngineHarness.with { h in
            // The program's parent is the deadline's `timeout`; killing it must not free the program.
            let run = try await h.run("import os, time\nos.kill(os.getppid(), 9)\ntime.sleep(60)\n", timeout: 30)
            #expect(run.outcome == .killed(signal: 9), "\(String(describing: run.outcome)) \(run.stderr)")
            #expect((run.exitedAt ?? 99_999) < 15_000, "the container outlived its watchdog: \(String(describing: run.exitedAt)) ms")
        }
    }

    @Test func aContainerDiesByItsDeadlineAfterKillMinus9OfCodesyncAndIsRemovedAtTheNextStart() async throws {
        guard let (docker, image) = try DockerFixture.withImage("python") else { return }
        let binary: URL
        do { binary = try TestEnvironment.codesyncBinary() } catch { let _: URL? = try TestEnvironment.missing("\(error)"); return }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-deadline-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("config"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let program = work.appendingPathComponent("sleeper.py")
        // Sleeping uses no CPU: the CPU rlimit would never stop it.
        try "import time\nprint('up', flush=True)\ntime.sleep(3600)\n".write(to: program, atomically: true, encoding: .utf8)
        let child = Process()
        child.executableURL = binary
        child.arguments = ["run", program.path, "--timeout", "1", "--image", image]
        child.environment = ProcessInfo.processInfo.environment.merging(["XDG_CONFIG_HOME": work.appendingPathComponent("config").path]) { $1 }
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }
        // Wait for the program to print, then freeze codesync so that nobody enforces the 1 s limit.
        // SIGSTOP rather than kill -9 for this part: its pid stays alive, so no other sandbox in a
        // parallel test removes the container as a leftover before its own deadline can be seen.
        let up = try await offPool { output.fileHandleForReading.availableData }
        #expect(String(decoding: up, as: UTF8.self).hasPrefix("up"))
        let pid = child.processIdentifier
        kill(pid, SIGSTOP)
        let frozenAt = ContinuousClock.now
        let list = try Command.run(["docker", "ps", "-aq", "--filter", "label=\(SandboxLabels.ownerPID)=\(pid)"], timeout: 30)
        let id = try #require(list.stdout.split(separator: "\n").first.map(String.init), "no container of pid \(pid)")
        let labels = try Command.run(["docker", "inspect", "-f", "{{index .Config.Labels \"\(SandboxLabels.lifetime)\"}}", id], timeout: 30)
        let lifetime = try #require(Int(labels.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        var limits = RunLimits.standard
        limits.timeoutSeconds = 1
        #expect(lifetime == ContainerSpec.lifetimeSeconds(language: .python, limits: limits, pooled: false))
        var running = true
        while running && ContinuousClock.now - frozenAt < .seconds(lifetime + 20) {
            let state = try Command.run(["docker", "inspect", "-f", "{{.State.Running}}", id], timeout: 30)
            #expect(state.status == 0, "the container vanished while its owner was alive: \(state.stderr)")
            running = state.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "true"
            if running { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(!running, "the container still runs \(lifetime + 20) s after its owner stopped")
        let exit = try Command.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", id], timeout: 30)
        #expect(exit.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "137", "not killed by its deadline: \(exit.stdout)")
        // Now the owner dies for good; the next start removes what it left.
        kill(pid, SIGKILL)
        #expect(waitForDeath(of: pid), "the killed codesync did not die")
        let sandbox = Sandbox(config: SandboxConfig(socketPath: docker.socketPath))
        _ = try await sandbox.removeLeftovers()  // a parallel test's sandbox may have done it first
        let after = try Command.run(["docker", "inspect", id], timeout: 30)
        #expect(after.status != 0, "leftover \(id) still exists")
    }
}

/// Runs blocking work off the test threads.
private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await onOwnThread(body)
}
