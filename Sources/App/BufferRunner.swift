import CodeSyncRunner
import Foundation

extension RunUpdate {
    /// The output pane's view of a runner event.
    public init(_ event: RunEvent) {
        switch event {
        case .started(let start):
            self = .started(by: start.startedBy, language: start.language)
        case .output(let chunk):
            self = .output(chunk.text, isError: chunk.stream == .stderr)
        case .exited(let result):
            let success: Bool
            if case .exited(let code) = result.outcome { success = code == 0 } else { success = false }
            self = .finished(summary: result.outcome.description, success: success, durationMs: Int(result.durationMilliseconds))
        }
    }
}

/// Runs the buffer in the Docker sandbox and hands progress to a callback (from a background task).
/// One run at a time: a new run cancels the previous one.
public final class BufferRunner: @unchecked Sendable {
    private let sandbox: Sandbox
    private let language: Language
    private let limits: RunLimits
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    /// A runner for the file at `path` (language from its extension, Python when unknown).
    public init(path: String) throws {
        var config = try SandboxConfig.load()
        config.poolSize = 0
        sandbox = Sandbox(config: config)
        language = config.catalog.forFile(path) ?? .python
        limits = config.limits
        // Containers a crashed codesync left go now, not at the first run.
        sandbox.removeLeftoversInBackground()
    }

    /// The language runs use, e.g. "python".
    public var languageName: String { language.name }

    /// Starts a run of `source`; `report` gets every update, ending with `.finished` or `.failed`.
    public func run(_ source: String, by user: String, report: @escaping @Sendable (RunUpdate) -> Void) {
        let request = RunRequest(source: source, language: language, limits: limits, startedBy: user)
        sandbox.cancel()
        let sandbox = self.sandbox
        let newTask = Task {
            do {
                for try await event in sandbox.run(request) { report(RunUpdate(event)) }
            } catch {
                report(.failed("\(error)"))
            }
        }
        lock.lock()
        task = newTask
        lock.unlock()
    }

    private func currentTask() -> Task<Void, Never>? {
        lock.withLock { task }
    }

    /// Cancels the current run (its container is killed and removed).
    public func cancel() { sandbox.cancel() }

    /// Cancels any run and waits until the sandbox has cleaned up.
    public func shutdown() async {
        sandbox.cancel()
        await currentTask()?.value
        await sandbox.shutdown()
    }
}

/// Waits on the calling (non-async) thread for an async operation; for the editor thread only,
/// which is never a thread of the concurrency pool.
public func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let semaphore = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task {
        do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
        semaphore.signal()
    }
    semaphore.wait()
    return try box.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, Error>?

    func set(_ value: Result<T, Error>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func get() throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let result else { throw CancellationError() }
        return try result.get()
    }
}
