import CodeSyncRunner
import CodeSyncTestSupport
import Foundation
import Testing

/// What a run produced, collected for assertions.
struct Collected {
    var chunks: [OutputChunk] = []
    var start: RunStart?
    var result: RunResult?
    var error: (any Error)?
    /// Milliseconds from the request to each chunk.
    var chunkTimes: [Double] = []
    var exitedAt: Double?

    var stdout: String { String(decoding: chunks.filter { $0.stream == .stdout }.flatMap(\.bytes), as: UTF8.self) }
    var stderr: String { String(decoding: chunks.filter { $0.stream == .stderr }.flatMap(\.bytes), as: UTF8.self) }
    var outputBytes: Int { chunks.reduce(0) { $0 + $1.bytes.count } }
    var outcome: RunOutcome? { result?.outcome }
}

/// A sandbox on the real engine using the local test images, checked for leftovers when done.
struct EngineHarness {
    let docker: DockerFixture
    let sandbox: Sandbox

    /// nil (skipped with a notice) when the engine or the Python test image is missing outside CI.
    static func make(pool: Int = 0, limits: RunLimits = .standard) throws -> EngineHarness? {
        guard let (docker, _) = try DockerFixture.withImage("python") else { return nil }
        var catalog = LanguageCatalog()
        for index in catalog.languages.indices {
            let name = catalog.languages[index].name
            catalog.languages[index].image = docker.image(for: name == "cpp" ? "c" : name)
        }
        let config = SandboxConfig(socketPath: docker.socketPath, catalog: catalog, limits: limits, poolSize: pool)
        return EngineHarness(docker: docker, sandbox: Sandbox(config: config))
    }

    func language(_ name: String) throws -> Language { try sandbox.config.catalog.named(name) }

    /// Whether the image for `name` exists (compiled-language tests skip without it outside CI).
    func requireImage(_ name: String) throws -> Bool {
        let image = docker.image(for: name == "cpp" ? "c" : name)
        if docker.hasImage(image) { return true }
        return try TestEnvironment.missing("the test image \(image)", fix: "run scripts/build-test-images") ?? false
    }

    func request(_ source: String, _ language: String = "python", stdin: String? = nil,
                 timeout: Double = 20, configure: (inout RunLimits) -> Void = { _ in }) throws -> RunRequest {
        var limits = sandbox.config.limits
        limits.timeoutSeconds = timeout
        configure(&limits)
        return RunRequest(source: source, language: try self.language(language), stdin: stdin.map { Array($0.utf8) },
                          limits: limits, startedBy: "tester")
    }

    /// Runs to the end and collects everything.
    func run(_ request: RunRequest) async -> Collected {
        var collected = Collected()
        let clock = ContinuousClock()
        let began = clock.now
        do {
            for try await event in sandbox.run(request) {
                let at = Self.ms(clock.now - began)
                switch event {
                case .started(let start): collected.start = start
                case .output(let chunk):
                    collected.chunks.append(chunk)
                    collected.chunkTimes.append(at)
                case .exited(let result):
                    collected.result = result
                    collected.exitedAt = at
                }
            }
        } catch {
            collected.error = error
        }
        return collected
    }

    func run(_ source: String, _ language: String = "python", stdin: String? = nil, timeout: Double = 20,
             configure: (inout RunLimits) -> Void = { _ in }) async throws -> Collected {
        await run(try request(source, language, stdin: stdin, timeout: timeout, configure: configure))
    }

    /// Shuts the sandbox down and checks that none of its containers is left on the engine.
    func finish() async throws {
        await sandbox.shutdown()
        let left = try await sandbox.client.containerIDs(label: "\(SandboxLabels.instance)=\(sandbox.instance)")
        #expect(left.isEmpty, "containers left behind: \(left)")
    }

    /// Containers of this sandbox that exist right now.
    func containers() async throws -> [String] {
        try await sandbox.client.containerIDs(label: "\(SandboxLabels.instance)=\(sandbox.instance)")
    }

    static func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

extension EngineHarness {
    /// Runs `body` with a fresh sandbox, then always shuts it down and checks for leftovers.
    static func with(pool: Int = 0, limits: RunLimits = .standard, _ body: (EngineHarness) async throws -> Void) async throws {
        guard let harness = try make(pool: pool, limits: limits) else { return }
        var failure: (any Error)?
        do { try await body(harness) } catch { failure = error }
        try await harness.finish()
        if let failure { throw failure }
    }
}
