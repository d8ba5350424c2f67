import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// A running `codesync` process with line-by-line stdout and a stdin for headless commands.
final class CodesyncProcess: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var errors = Data()
    private var ended = false

    init(_ binary: URL, _ arguments: [String], environment: [String: String]) throws {
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errorPipe = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errorPipe
        try process.run()
        Thread { [self] in
            var buffer = Data()
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    condition.lock(); lines.append(line); condition.broadcast(); condition.unlock()
                }
            }
            condition.lock(); ended = true; condition.broadcast(); condition.unlock()
        }.start()
        Thread { [self] in
            while true {
                let chunk = errorPipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                condition.lock(); errors.append(chunk); condition.unlock()
            }
        }.start()
    }

    var stderr: String { condition.lock(); defer { condition.unlock() }; return String(decoding: errors, as: UTF8.self) }

    /// The process id (containers a host starts carry it as a label).
    var pid: Int32 { process.processIdentifier }

    func send(_ line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// The next stdout line starting with `prefix` (skipping others), nil after `timeout` s or exit.
    func line(prefix: String, timeout: Double = 20) async -> String? {
        (try? await offPool { self.lineBlocking(prefix: prefix, timeout: timeout) }) ?? nil
    }

    private func lineBlocking(prefix: String, timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            while !lines.isEmpty {
                let line = lines.removeFirst()
                if line.hasPrefix(prefix) { return line }
            }
            if ended || !condition.wait(until: deadline) { return nil }
        }
    }

    /// True once standard error holds `text` (polled off the async threads), false after `timeout` s.
    func stderrContains(_ text: String, within timeout: Double = 30) async -> Bool {
        (try? await offPool { () -> Bool in
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if self.stderr.contains(text) { return true }
                usleep(100_000)
            }
            return self.stderr.contains(text)
        }) ?? false
    }

    /// The text a headless joiner reports for `text`.
    func text(timeout: Double = 10) async -> String? {
        send("text")
        guard let line = await line(prefix: "text ", timeout: timeout) else { return nil }
        return try? JSONDecoder().decode(String.self, from: Data(line.dropFirst(5).utf8))
    }

    /// SIGKILL, at once (also the clean-up in `defer`); returns once the kernel has ended it (see `waitForDeath`).
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        waitForDeath(of: process.processIdentifier)
    }

    /// SIGTERM, then waits up to `timeout` s for a clean exit (SIGKILL after); returns the exit status.
    @discardableResult
    func stop(within timeout: Double = 10) async -> Int32 {
        (try? await offPool {
            if self.process.isRunning { self.process.terminate() }
            let deadline = Date().addingTimeInterval(timeout)
            while self.process.isRunning && Date() < deadline { usleep(10_000) }
            self.kill9()
            return self.process.terminationStatus
        }) ?? -1
    }
}

@Suite(.ownThreads, .serialized, .timeLimit(.minutes(2))) struct SessionProcessTests {
    private let work: URL
    private let environment: [String: String]

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-proc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path, "CODESYNC_NAME": "tester"]
    }

    private func binary() throws -> URL? {
        do { return try TestEnvironment.codesyncBinary() } catch { return try TestEnvironment.missing("\(error)") }
    }

    /// Starts `codesync host FILE --headless`; returns the process, address and secret from its join line.
    private func startHost(_ binary: URL, file: URL, extra: [String] = []) async throws -> (CodesyncProcess, String, String) {
        let host = try CodesyncProcess(binary, ["host", file.path, "--headless", "--name", "host"] + extra, environment: environment)
        guard let line = await host.line(prefix: "CODESYNC_SECRET="), let (address, secret) = HostSession.parseJoinLine(line) else {
            host.kill9()
            throw RawError("host did not print a join line: \(host.stderr)")
        }
        return (host, address, secret)
    }

    /// The environment of a process given `secret` the way the join line gives it (out of `ps`).
    private func with(secret: String) -> [String: String] {
        environment.merging(["CODESYNC_SECRET": secret]) { $1 }
    }

    private func cat(_ binary: URL, _ address: String, _ secret: String) async throws -> CommandResult {
        let environment = with(secret: secret)
        return try await offPool { try Command.run([binary.path, "cat", address], timeout: 20, environment: environment) }
    }

    @Test func killedHostRecoversAcknowledgedEditsAndItsJoinLine() async throws {
        guard let binary = try binary() else { return }
        let file = work.appendingPathComponent("notes.txt")
        try "line one\n".write(to: file, atomically: true, encoding: .utf8)
        let (host, address, secret) = try await startHost(binary, file: file, extra: ["--port", "0"])
        defer { host.kill9() }
        let joiner = try CodesyncProcess(binary, ["join", address, "--headless"], environment: with(secret: secret))
        defer { joiner.kill9() }
        #expect(await joiner.line(prefix: "joined ") != nil)
        joiner.send("append \"edit two\\n\"")
        joiner.send("insert 0 \"# \"")
        joiner.send("sync")
        #expect(await joiner.line(prefix: "synced") != nil, "the host never acknowledged")
        host.kill9()
        // The file on disk was never saved; the journal holds the acknowledged edits.
        #expect(try String(contentsOf: file, encoding: .utf8) == "line one\n")
        // The joiner keeps editing while the host is down.
        joiner.send("append \"offline\\n\"")
        let port = String(address.split(separator: ":").last ?? "0")
        let (restarted, address2, secret2) = try await startHost(binary, file: file, extra: ["--port", port])
        defer { restarted.kill9() }
        #expect(secret2 == secret, "a recovered session keeps its secret so joiners can reconnect")
        #expect(address2 == address)
        let recovered = try await cat(binary, address2, secret2)
        #expect(recovered.stdout.hasPrefix("# line one\nedit two\n"), "stderr: \(recovered.stderr)")
        // The joiner reconnects by itself and its offline edit merges.
        joiner.send("sync")
        #expect(await joiner.line(prefix: "synced") != nil)
        let merged = try await cat(binary, address2, secret2)
        #expect(merged.stdout == "# line one\nedit two\noffline\n")
        #expect(await restarted.stop() == 0)
        // A clean stop saves the file atomically and drops the journal.
        #expect(try String(contentsOf: file, encoding: .utf8) == "# line one\nedit two\noffline\n")
        let journals = (try? FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("state/codesync").path)) ?? []
        #expect(journals.filter { $0.hasSuffix(".csj") }.isEmpty)
    }

    @Test func clearErrorsForRefusedWrongSecretAndPortInUse() async throws {
        guard let binary = try binary() else { return }
        let file = work.appendingPathComponent("e.txt")
        let (host, address, secret) = try await startHost(binary, file: file, extra: ["--port", "0"])
        defer { host.kill9() }
        let wrong = try await cat(binary, address, secret + "x")
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("wrong secret"))
        let port = String(address.split(separator: ":").last ?? "0")
        let other = work.appendingPathComponent("f.txt").path, environment = self.environment
        let clash = try await offPool {
            try Command.run([binary.path, "host", other, "--headless", "--port", port], timeout: 20, environment: environment)
        }
        #expect(clash.status != 0)
        #expect(clash.stderr.contains("already in use"))
        await host.stop()
        let refused = try await cat(binary, address, secret)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("connection refused"))
    }

    @Test func threeProcessesConvergeThroughARelayAfterAJoinerIsKilled() async throws {
        guard let binary = try binary() else { return }
        let relay = try CodesyncProcess(binary, ["relay", "--port", "0"], environment: environment)
        defer { relay.kill9() }
        guard let listening = await relay.line(prefix: "relay listening on ") else { Issue.record("relay: \(relay.stderr)"); return }
        let relayAddress = String(listening.dropFirst("relay listening on ".count))
        let file = work.appendingPathComponent("shared.py")
        try "def f():\n    pass\n".write(to: file, atomically: true, encoding: .utf8)
        // The host listens directly and registers on the relay too: it prints both join lines.
        let (host, direct, secret) = try await startHost(binary, file: file, extra: ["--relay", relayAddress, "--port", "0"])
        defer { host.kill9() }
        guard let relayLine = await host.line(prefix: "CODESYNC_SECRET="), let address = HostSession.parseJoinLine(relayLine)?.address else {
            Issue.record("no relay join line: \(host.stderr)")
            return
        }
        #expect(address.hasPrefix(relayAddress + "/"))
        // Joiner A connects directly; joiner B through the relay, later killed and restarted.
        let a = try CodesyncProcess(binary, ["join", direct, "--headless", "--name", "a"], environment: with(secret: secret))
        defer { a.kill9() }
        var b = try CodesyncProcess(binary, ["join", address, "--headless", "--name", "b"], environment: with(secret: secret))
        defer { b.kill9() }
        let aLineb = await a.line(prefix: "joined "), bLinea = await b.line(prefix: "joined ")
        #expect(aLineb != nil && bLinea != nil)
        for i in 0..<10 {
            a.send("insert 0 \"a\(i) \"")
            b.send("append \" b\(i)\"")
        }
        a.send("sync"); b.send("sync")
        let aSynced = await a.line(prefix: "synced"), bSynced = await b.line(prefix: "synced")
        #expect(aSynced != nil && bSynced != nil)
        b.kill9()
        a.send("append \"\\n# after b died\"")
        b = try CodesyncProcess(binary, ["join", address, "--headless", "--name", "b"], environment: with(secret: secret))
        #expect(await b.line(prefix: "joined ") != nil)
        b.send("insert 0 \"# b is back\\n\"")
        b.send("sync"); a.send("sync")
        let aSynced2 = await a.line(prefix: "synced"), bSynced2 = await b.line(prefix: "synced")
        #expect(aSynced2 != nil && bSynced2 != nil)
        var texts: [String?] = []
        let deadline = Date().addingTimeInterval(10)
        repeat {
            texts = [await a.text(), await b.text(), try await cat(binary, address, secret).stdout, try await cat(binary, direct, secret).stdout]
            if Set(texts.compactMap { $0 }).count == 1 && texts.allSatisfy({ $0 != nil }) { break }
            try await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        #expect(Set(texts.compactMap { $0 }).count == 1, "diverged: \(texts)")
        let final = texts.first.flatMap { $0 } ?? ""
        for i in 0..<10 { #expect(final.contains("a\(i) ") && final.contains(" b\(i)")) }
        #expect(final.contains("# after b died") && final.hasPrefix("# b is back\n"))
        #expect(await host.stop() == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == final)
    }
}
