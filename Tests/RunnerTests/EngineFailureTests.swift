import CodeSyncRunner
import CodeSyncTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Forwards connections from a unix socket of its own to the real engine, and can drop them all at
/// once — the engine "going away" mid-run without stopping the engine the team shares.
final class SocketProxy: @unchecked Sendable {
    let path: String
    private let target: String
    private let listener: Int32
    private let lock = NSLock()
    private var fds: [Int32] = []
    private var stopped = false

    init(target: String) throws {
        self.target = target
        path = "/tmp/codesync-proxy-\(UUID().uuidString.prefix(8)).sock"
        listener = try Self.socketFD()
        var address = Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        Thread.detachNewThread { self.acceptLoop() }
    }

    private func acceptLoop() {
        // Only this loop closes the listener: closed by `stop` while the loop was between two
        // `accept` calls, its number could be another socket's by the next call.
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            guard let upstream = try? Self.socketFD() else { close(client); continue }
            var address = Self.address(target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else { close(client); close(upstream); continue }
            let keep = lock.withLock { () -> Bool in
                if stopped { return false }
                fds += [client, upstream]
                return true
            }
            guard keep else { close(client); close(upstream); return }
            Thread.detachNewThread { Self.pump(from: client, to: upstream) }
            Thread.detachNewThread { Self.pump(from: upstream, to: client) }
        }
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count <= 0 {
                shutdown(destination, Int32(SHUT_WR))
                return
            }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + offset, count - offset) }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// Drops every connection and stops listening: to its clients the engine is gone.
    func stop() {
        let all = lock.withLock { () -> [Int32] in
            stopped = true
            return fds
        }
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in all { shutdown(fd, Int32(SHUT_RDWR)) }
        unlink(path)
    }

    private static func socketFD() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        return fd
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}

@Suite(.ownThreads, .serialized) struct EngineFailureTests {
    // A hang fails through the time limit; elapsed time is not asserted, because other tests on
    // the 2-thread cooperative pool can delay this one without anything hanging.
    @Test(.timeLimit(.minutes(2))) func noEngineAtTheSocketIsAClearErrorWithoutHanging() async throws {
        let path = "/tmp/codesync-nothing-\(UUID().uuidString.prefix(8)).sock"
        let sandbox = Sandbox(config: SandboxConfig(socketPath: path, poolSize: 2))
        var caught: (any Error)?
        do {
            for try await _ in sandbox.run(RunRequest(source: "print(1)", language: .python, startedBy: "t")) {}
        } catch {
            caught = error
        }
        #expect(caught as? RunnerError == .engineUnreachable(socket: path))
        let message = "\(caught.map { "\($0)" } ?? "")"
        #expect(message.contains("no Docker engine at \(path)") && message.contains("systemctl start docker"))
        #expect(!message.contains("\n"))
        await #expect(throws: RunnerError.engineUnreachable(socket: path)) { try await sandbox.prepare(.python) }
        await sandbox.shutdown()
    }

    @Test(.timeLimit(.minutes(2))) func engineVanishingMidRunEndsTheRunWithAClearError() async throws {
        guard let (docker, image) = try DockerFixture.withImage("python") else { return }
        let proxy = try SocketProxy(target: docker.socketPath)
        var python = Language.python
        python.image = image
        let sandbox = Sandbox(config: SandboxConfig(socketPath: proxy.path, catalog: LanguageCatalog([python]), poolSize: 0))
        let request = RunRequest(source: "import time\nprint('up', flush=True)\ntime.sleep(30)\n", language: python, startedBy: "t")
        let clock = ContinuousClock()
        var stoppedAt: ContinuousClock.Instant?
        var caught: (any Error)?
        do {
            for try await event in sandbox.run(request) {
                if case .output = event, stoppedAt == nil {
                    stoppedAt = clock.now
                    proxy.stop()
                }
            }
        } catch {
            caught = error
        }
        #expect(stoppedAt != nil, "the program printed before the engine vanished")
        let error = try #require(caught as? RunnerError)
        #expect(!"\(error)".contains("\n"))
        switch error {
        case .engineLost, .engineUnreachable: break
        default: Issue.record("unexpected error \(error)")
        }
        await sandbox.shutdown()
        // Through the real socket: the container the lost engine connection left behind is found by label.
        let real = DockerClient(socketPath: docker.socketPath)
        let removed = try await real.removeAll(label: "\(SandboxLabels.instance)=\(sandbox.instance)")
        #expect(removed <= 1)
        #expect(try await real.containerIDs(label: "\(SandboxLabels.instance)=\(sandbox.instance)").isEmpty)
    }

    @Test func missingImageNamesTheDockerPullLine() async throws {
        try await EngineHarness.with { h in
            var request = try h.request("print(1)")
            request.language.image = "codesync-test/does-not-exist:\(UUID().uuidString.prefix(8).lowercased())"
            let run = await h.run(request)
            let error = try #require(run.error as? RunnerError)
            #expect(error == .imageMissing(request.language.image))
            #expect("\(error)".contains("docker pull \(request.language.image)"))
        }
    }

    @Test func leftoversOfADeadProcessAreRemovedAtTheNextStart() async throws {
        try await EngineHarness.with { h in
            // A container labelled as owned by a process that has exited, as a crash would leave it.
            let dead = try Command.run(["sh", "-c", "echo $$"], timeout: 10)
            let pid = try #require(Int32(dead.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let image = h.docker.image(for: "python")
            let created = try Command.run([
                "docker", "create", "--label", "\(SandboxLabels.sandbox)=1", "--label", "\(SandboxLabels.ownerPID)=\(pid)",
                "--label", "\(SandboxLabels.ownerHost)=\(try Command.run(["hostname"], timeout: 10).stdout.trimmingCharacters(in: .whitespacesAndNewlines))",
                "--network", "none", image, "true",
            ], timeout: 30)
            let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(created.status == 0, "\(created.stderr)")
            let run = try await h.run("print('after cleanup')")
            #expect(run.stdout == "after cleanup\n")
            let still = try Command.run(["docker", "inspect", id], timeout: 20)
            #expect(still.status != 0, "leftover \(id) still exists")
        }
    }
}

@Suite(.ownThreads, .serialized) struct OrphanTests {
    @Test func pooledContainersStopWhenTheirOwnerDisappears() async throws {
        guard let (docker, image) = try DockerFixture.withImage("python") else { return }
        let proxy = try SocketProxy(target: docker.socketPath)
        var python = Language.python
        python.image = image
        let sandbox = Sandbox(config: SandboxConfig(socketPath: proxy.path, catalog: LanguageCatalog([python]), poolSize: 2))
        try await sandbox.prepare(python)
        #expect(await sandbox.waitForPool(python))
        // As if codesync were killed: every connection to the engine drops, nobody calls shutdown.
        proxy.stop()
        let real = DockerClient(socketPath: docker.socketPath)
        let label = "\(SandboxLabels.instance)=\(sandbox.instance)"
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        var running = -1
        while clock.now < deadline {
            running = try Command.run(["docker", "ps", "-q", "--filter", "label=\(label)"], timeout: 20)
                .stdout.split(separator: "\n").count
            if running == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        // The engine closes stdin when the attach connection goes (StdinOnce); the loader sees EOF and exits.
        #expect(running == 0)
        #expect(try await real.containerIDs(label: label).count == 2)
        #expect(try await real.removeAll(label: label) == 2)
    }
}
