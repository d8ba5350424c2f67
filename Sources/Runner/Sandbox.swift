import CodeSyncBase
import Foundation

/// A container created, attached and started, whose loader waits for a program on stdin.
struct ReadyContainer: Sendable {
    let id: String
    let attach: AttachConnection
    /// When it started: a pooled container older than `ContainerSpec.poolMaxAgeSeconds` is not used,
    /// since its in-container deadline counts from its start.
    var started = ContinuousClock.now
}

/// Retries an engine call that must eventually happen (kill, remove) until it succeeds or the
/// deadline passes: one failed request (engine busy, a dropped connection) must not leave a
/// program running or a container behind.
enum Retry {
    /// Runs `operation` until it does not throw, with a growing pause (50 ms … 1 s) between tries;
    /// false when `seconds` passed without a success.
    static func until(seconds: Double, _ operation: @Sendable () async throws -> Void) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        var pause = Duration.milliseconds(50)
        while true {
            do {
                try await operation()
                return true
            } catch {
                if ContinuousClock.now + pause > deadline { return false }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
        }
    }
}

/// Runs programs in hardened, single-use Docker containers, with a warm pool per language in use.
///
/// Thread-safe. Every container carries labels naming this sandbox; `shutdown()` kills and removes
/// all of them, and the first use of a sandbox removes leftovers of codesync processes that died.
public final class Sandbox: Sendable {
    private struct PoolKey: Hashable {
        var language: Language
        var limits: RunLimits
    }

    private struct Pool {
        var ready: [ReadyContainer] = []
        var filling = false
        var lastError: RunnerError?
    }

    private struct State {
        var shut = false
        var active: [String: RunController] = [:]
        var tasks: [String: Task<Void, Never>] = [:]
        var containers: Set<String> = []
        var pools: [PoolKey: Pool] = [:]
        var fillTasks: [Task<Void, Never>] = []
        var leftoversChecked = false
    }

    public let config: SandboxConfig
    /// The engine client this sandbox uses.
    public let client: DockerClient
    /// Label value that marks this sandbox's containers.
    public let instance: String
    private let state = Locked(State())

    /// A sandbox; nothing touches the engine until the first run or `prepare`.
    public init(config: SandboxConfig) {
        self.config = config
        self.client = DockerClient(socketPath: config.socketPath)
        self.instance = UUID().uuidString.lowercased()
    }

    // MARK: Running

    /// Starts a run; events arrive as the program writes. Ending the iteration early cancels the run.
    public func run(_ request: RunRequest) -> AsyncThrowingStream<RunEvent, any Error> {
        let runID = String(UUID().uuidString.prefix(8)).lowercased()
        let (stream, continuation) = AsyncThrowingStream<RunEvent, any Error>.makeStream()
        let controller = RunController(runID: runID, hasBuild: request.hasBuild, limits: request.limits,
                                       client: client, continuation: continuation)
        let accepted = state.withLock { s -> Bool in
            guard !s.shut else { return false }
            s.active[runID] = controller
            return true
        }
        guard accepted else {
            continuation.finish(throwing: RunnerError.shutDown)
            return stream
        }
        let task = Task {
            await self.execute(request, controller: controller, continuation: continuation)
            self.state.withLock { s in
                s.active[runID] = nil
                s.tasks[runID] = nil
            }
        }
        state.withLock { s in
            if s.active[runID] != nil { s.tasks[runID] = task }
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { controller.kill(.cancelled) }
        }
        return stream
    }

    /// Cancels every run in progress (their containers are killed at once).
    public func cancel() {
        for controller in state.withLock({ Array($0.active.values) }) { controller.kill(.cancelled) }
    }

    /// Cancels one run.
    public func cancel(runID: String) {
        state.withLock { $0.active[runID] }?.kill(.cancelled)
    }

    /// Number of runs in progress.
    public var activeRunCount: Int { state.withLock { $0.active.count } }

    private func execute(
        _ request: RunRequest, controller: RunController,
        continuation: AsyncThrowingStream<RunEvent, any Error>.Continuation
    ) async {
        let started = ContinuousClock.now
        let language = request.language
        var containerID: String?
        do {
            if let problem = request.limits.problem { throw RunnerError.invalidConfiguration(problem) }
            try await removeLeftoversOnce()
            let key = PoolKey(language: language, limits: Self.poolLimits(request.limits))
            // A project run needs its own mount: never a pooled container, and it does not fill the pool.
            var container = request.project == nil ? takeFromPool(key) : nil
            let pooled = container != nil
            // A pooled run refills when it ends: creating containers meanwhile would compete with this
            // run's first output for the engine and the CPU. A cold run means the pool is empty: refill now.
            if config.poolSize > 0 && !pooled && request.project == nil { refill(key) }
            defer { if config.poolSize > 0 && pooled { refill(key) } }
            if container == nil {
                container = try await launch(language: language, limits: request.limits, pooled: false, project: request.project)
            }
            guard let container else { throw RunnerError.shutDown }
            containerID = container.id
            controller.bind(containerID: container.id)
            continuation.yield(.started(RunStart(
                runID: controller.runID, language: language.name, image: language.image,
                startedBy: request.startedBy, pooled: pooled)))

            container.attach.setReceiver(
                onFrame: { frame in controller.receive(frame) },
                onEnd: { _ in controller.streamEnded() })
            controller.resetDeadline()
            let watchdog = Task { await controller.watchDeadline() }
            defer { watchdog.cancel() }
            // A program that exits without reading its stdin closes the pipe under us: not an error.
            let input = request.project == nil
                ? Loader.payload(source: request.source, stdin: request.stdin, language: language) : request.stdin ?? []
            if !input.isEmpty { try? await container.attach.write(input) }
            await container.attach.closeInput()
            await controller.waitForStreamEnd()
            let remaining = controller.deadline - ContinuousClock.now
            let waitSeconds = max(5, Double(remaining.components.seconds) + 15)
            let code = try await client.wait(container.id, timeout: waitSeconds)
            let inspected = try await client.inspect(container.id)
            let outcome = controller.outcome(exitCode: code, oomKilled: inspected.oomKilled)
            controller.markFinished()
            let elapsed = ContinuousClock.now - started
            continuation.yield(.exited(RunResult(
                runID: controller.runID, outcome: outcome, durationMilliseconds: Self.milliseconds(elapsed),
                startedBy: request.startedBy, language: language.name)))
            container.attach.close()
            await discard(container.id)
            continuation.finish()
        } catch {
            controller.markFinished()
            if let containerID { await discard(containerID) }
            continuation.finish(throwing: error)
        }
    }

    /// Creates, attaches and starts a hardened container for `language` (for the pool: it may wait longer for its code).
    private func launch(language: Language, limits: RunLimits, pooled: Bool, project: ProjectMount? = nil) async throws -> ReadyContainer {
        let hasBuild = project.map { $0.hasBuild(language) } ?? language.isCompiled
        let body = ContainerSpec.createBody(
            language: language, limits: limits, instance: instance, pid: getpid(), host: Self.hostName,
            lifetimeSeconds: ContainerSpec.lifetimeSeconds(language: language, limits: limits, pooled: pooled, hasBuild: hasBuild),
            project: project)
        let id = try await client.create(body, image: language.image)
        let open = state.withLock { s -> Bool in
            s.containers.insert(id)
            return !s.shut
        }
        guard open else {
            await discard(id)
            throw RunnerError.shutDown
        }
        do {
            let attach = try await client.attach(id)
            try await client.start(id)
            return ReadyContainer(id: id, attach: attach)
        } catch {
            await discard(id)
            throw error
        }
    }

    /// Removes a container (killing it if needed), retrying for a while, and forgets it. One that
    /// still cannot be removed stops by its own deadline; `shutdown` and the next start remove it.
    private func discard(_ id: String) async {
        let client = client
        _ = await Retry.until(seconds: Self.engineRetrySeconds) { try await client.remove(id) }
        _ = state.withLock { $0.containers.remove(id) }
    }

    /// Run timeouts up to this many seconds share a pool (longer ones get a pool of their own).
    static let poolTimeoutBucket = 30.0

    /// How long a kill or a remove is retried.
    static let engineRetrySeconds = 30.0

    // MARK: Warm pool

    private static func poolLimits(_ limits: RunLimits) -> RunLimits {
        // The output cap and the precise wall-clock limit are enforced here, not in the container, so
        // they do not split pools. The container's own deadline is derived from the key's timeout:
        // every timeout up to `poolTimeoutBucket` shares one pool whose deadline allows the bucket.
        var key = limits
        key.outputLimitBytes = 0
        if key.timeoutSeconds <= Self.poolTimeoutBucket { key.timeoutSeconds = Self.poolTimeoutBucket }
        return key
    }

    private func takeFromPool(_ key: PoolKey) -> ReadyContainer? {
        var stale: [ReadyContainer] = []
        let taken = state.withLock { s -> ReadyContainer? in
            let maxAge = Duration.seconds(ContainerSpec.poolMaxAgeSeconds)
            while var pool = s.pools[key], !pool.ready.isEmpty {
                let candidate = pool.ready.removeFirst()
                s.pools[key] = pool
                if candidate.attach.isOpen && ContinuousClock.now - candidate.started < maxAge { return candidate }
                stale.append(candidate)
            }
            return nil
        }
        for container in stale {
            container.attach.close()
            Task { await self.discard(container.id) }
        }
        return taken
    }

    private func refill(_ key: PoolKey) {
        let start = state.withLock { s -> Bool in
            guard !s.shut else { return false }
            var pool = s.pools[key] ?? Pool()
            guard !pool.filling else { return false }
            pool.filling = true
            s.pools[key] = pool
            return true
        }
        guard start else { return }
        let task = Task {
            while true {
                let needed = self.state.withLock { s -> Bool in
                    !s.shut && (s.pools[key]?.ready.count ?? 0) < self.config.poolSize
                }
                guard needed else { break }
                do {
                    let container = try await self.launch(language: key.language, limits: key.limits, pooled: true)
                    let kept = self.state.withLock { s -> Bool in
                        guard !s.shut else { return false }
                        s.pools[key, default: Pool()].ready.append(container)
                        s.pools[key]?.lastError = nil
                        return true
                    }
                    if !kept {
                        container.attach.close()
                        await self.discard(container.id)
                    }
                } catch {
                    // Leave the pool short; runs fall back to the cold path and report the error themselves.
                    self.state.withLock { $0.pools[key]?.lastError = error as? RunnerError }
                    break
                }
            }
            self.state.withLock { $0.pools[key]?.filling = false }
        }
        state.withLock { $0.fillTasks.append(task) }
    }

    /// Checks the engine and the image, removes leftovers, and starts filling the pool for `language`.
    public func prepare(_ language: Language, limits: RunLimits? = nil) async throws {
        try await client.ping()
        try await removeLeftoversOnce()
        guard try await client.imageExists(language.image) else { throw RunnerError.imageMissing(language.image) }
        if config.poolSize > 0 { refill(PoolKey(language: language, limits: Self.poolLimits(limits ?? config.limits))) }
    }

    /// Waits until the pool for `language` holds `poolSize` containers; false on timeout or fill error.
    public func waitForPool(_ language: Language, limits: RunLimits? = nil, timeout: Double = 30) async -> Bool {
        let key = PoolKey(language: language, limits: Self.poolLimits(limits ?? config.limits))
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while ContinuousClock.now < deadline {
            let (count, failed, filling) = state.withLock { s in
                (s.pools[key]?.ready.count ?? 0, s.pools[key]?.lastError != nil, s.pools[key]?.filling ?? false)
            }
            if count >= config.poolSize { return true }
            if failed && !filling { return false }
            if !filling { refill(key) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Containers waiting in the pool, over all languages.
    public var pooledContainerCount: Int { state.withLock { $0.pools.values.reduce(0) { $0 + $1.ready.count } } }

    // MARK: Shutdown and leftovers

    /// Cancels every run, removes every container of this sandbox (pooled ones too); runs after it fail.
    public func shutdown() async {
        let (controllers, tasks, fills) = state.withLock { s in
            s.shut = true
            return (Array(s.active.values), Array(s.tasks.values), s.fillTasks)
        }
        for controller in controllers { controller.kill(.cancelled) }
        for task in tasks { await task.value }
        for task in fills { await task.value }
        let (pooled, remaining) = state.withLock { s -> ([ReadyContainer], Set<String>) in
            let all = s.pools.values.flatMap(\.ready)
            s.pools = [:]
            return (all, s.containers)
        }
        for container in pooled { container.attach.close() }
        for id in remaining { await discard(id) }
        // Backstop: anything labelled with this instance that slipped through (e.g. a create in flight).
        _ = try? await client.removeAll(label: "\(SandboxLabels.instance)=\(instance)")
    }

    private func removeLeftoversOnce() async throws {
        let first = state.withLock { s -> Bool in
            defer { s.leftoversChecked = true }
            return !s.leftoversChecked
        }
        guard first else { return }
        do {
            _ = try await removeLeftovers()
        } catch {
            state.withLock { $0.leftoversChecked = false }
            throw error
        }
    }

    /// Removes containers left by codesync processes on this host that no longer exist; returns how many.
    @discardableResult
    public func removeLeftovers() async throws -> Int {
        let host = Self.hostName
        var removed = 0
        for container in try await client.list(label: SandboxLabels.sandbox) {
            guard container.labels[SandboxLabels.ownerHost] == host,
                  let pid = container.labels[SandboxLabels.ownerPID].flatMap({ Int32($0) }),
                  !Self.ownerAlive(pid: pid, start: container.labels[SandboxLabels.ownerStart]) else { continue }
            let client = client, id = container.id
            if await Retry.until(seconds: 10, { try await client.remove(id) }) { removed += 1 }
        }
        return removed
    }

    /// Whether the owner still runs: its pid exists and, when the label says, started when it did.
    static func ownerAlive(pid: Int32, start: String?) -> Bool {
        guard processExists(pid) else { return false }
        guard pid != getpid(), let start, let expected = UInt64(start), let actual = ProcessStart.of(pid) else { return true }
        return actual == expected
    }

    /// Removes leftovers of dead codesync processes now, in the background (at a host's or an
    /// editor's start, rather than at its first run); an absent engine is not an error here.
    public func removeLeftoversInBackground() {
        Task { try? await removeLeftoversOnce() }
    }

    static func processExists(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
