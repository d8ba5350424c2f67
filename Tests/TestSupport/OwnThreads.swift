import Foundation
import Testing

/// A task executor for the tests' own code whose pool grows whenever every thread is busy, so a
/// test that blocks (polling tmux, waiting on a child process or a socket) never holds up anything.
///
/// Why: Swift's global executor has one thread per core, two on the CI machine. Swift Testing runs
/// a synchronous test on one of them for the whole test, so two slow blocking tests froze every
/// asynchronous task in the process, including the in-process servers' and peers' own tasks, whose
/// liveness timers then fired: the session suites' flakiness under the full parallel run. How many
/// tests run at once is bounded separately (`SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH` in
/// scripts/test), not by this pool: a test waiting here for a thread would run out its time limit.
public final class TestThreadPool: TaskExecutor, @unchecked Sendable {
    /// The pool all suites share (threads are reused across tests).
    public static let shared = TestThreadPool()

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var idleThreads = 0
    /// Idle threads above this many leave after a while, so a burst does not keep its threads.
    private let keptIdle = 4

    public init() {}

    public func enqueue(_ job: UnownedJob) {
        condition.lock()
        jobs.append(job)
        let spawn = jobs.count > idleThreads
        condition.signal()
        condition.unlock()
        if spawn {
            let thread = Thread { [self] in work() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func work() {
        // Named from inside: on Linux a new thread starts with its creator's name.
        Thread.current.name = "test-worker"
        let me = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty {
                idleThreads += 1
                let woken = condition.wait(until: Date().addingTimeInterval(10))
                idleThreads -= 1
                if !woken && jobs.isEmpty && idleThreads >= keptIdle {
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: me)
        }
    }
}

/// Runs each test of a suite with `TestThreadPool.shared` as its task executor: the test's own
/// code, blocking or not, stays off Swift's global pool that the code under test relies on.
public struct OwnThreadsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(TestThreadPool.shared) { try await function() }
    }
}

extension Trait where Self == OwnThreadsTrait {
    /// Run the suite's tests on threads of their own (see `TestThreadPool`).
    public static var ownThreads: Self { OwnThreadsTrait() }
}

/// Runs a blocking `body` on a thread of its own and awaits its result: unlike Dispatch's global
/// queue, which adds about one thread a second when its threads block, it never waits for a thread.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
