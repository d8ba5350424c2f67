import CodeSyncProtocol
import CodeSyncRunner
import Foundation

/// Runs the buffer of `codesync edit` on a run engine and reports typed progress from a background
/// task. One run at a time: a new run cancels the previous one.
public final class BufferRunner: @unchecked Sendable {
    private let engine: any RunEngine
    private let language: Language
    private let limits: RunLimits
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    /// A runner on `setup`'s engine.
    public init(_ setup: RunSetup) {
        engine = setup.engine
        language = setup.language
        limits = setup.limits
    }

    /// A runner on the Docker sandbox for the file at `path` (language from its extension, Python when unknown).
    public convenience init(path: String) throws {
        self.init(try RunSetup.sandbox(forFile: path))
    }

    /// The language runs use, e.g. "python".
    public var languageName: String { language.name }

    /// Starts a run of `source`; `report` gets every report, ending with `.exited` or `.failed`.
    public func run(_ source: String, by user: String, report: @escaping @Sendable (RunReport) -> Void) {
        let request = RunRequest(source: source, language: language, limits: limits, startedBy: user)
        engine.cancel()
        let engine = self.engine
        let newTask = Task {
            var decoder = RunOutputDecoder()
            var runID = ""
            do {
                for try await event in engine.run(request) {
                    switch event {
                    case .started(let start):
                        runID = start.runID
                        report(.started(RunStartedMessage(run: start.runID, by: start.startedBy, language: start.language)))
                    case .output(let chunk):
                        let (stream, text) = decoder.decode(chunk)
                        if !text.isEmpty { report(.output(RunOutputMessage(run: runID, stream: stream, text: text))) }
                    case .exited(let result):
                        for (stream, text) in decoder.flush() { report(.output(RunOutputMessage(run: runID, stream: stream, text: text))) }
                        report(.exited(RunExitedMessage(run: result.runID, result: result)))
                    }
                }
            } catch {
                report(.failed("\(error)"))
            }
        }
        lock.withLock { task = newTask }
    }

    /// Cancels the current run (its container is killed and removed).
    public func cancel() { engine.cancel() }

    /// Cancels any run and waits until the engine has cleaned up.
    public func shutdown() async {
        engine.cancel()
        await currentTask()?.value
        await engine.shutdown()
    }

    private func currentTask() -> Task<Void, Never>? {
        lock.withLock { task }
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
