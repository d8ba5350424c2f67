import CodeSyncTestSupport
import Foundation
import Testing

/// The suites' `.ownThreads` trait: blocking test code must not hold up other async work.
@Suite(.ownThreads) struct OwnThreadsTests {
    /// Four jobs block their threads for a second each (more than the two cores Swift's global
    /// pool has here); a fifth, asynchronous one still runs at once.
    @Test func blockingJobsDoNotDelayAnAsyncOne() async {
        let start = Date()
        let asyncRanAfter = await withTaskExecutorPreference(TestThreadPool()) {
            await withTaskGroup(of: TimeInterval?.self) { group in
                for _ in 0..<4 { group.addTask { usleep(1_000_000); return nil } }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(20))
                    return Date().timeIntervalSince(start)
                }
                var found: TimeInterval?
                for await value in group { if let value { found = value } }
                return found
            }
        }
        #expect(asyncRanAfter.map { $0 < 0.8 } == true, "the async job waited \(String(describing: asyncRanAfter)) s behind blocked threads")
    }

    /// The test's own code runs on the executor's threads, not on Swift's global pool.
    @Test func aSynchronousTestRunsOnAWorkerThread() {
        #expect(Thread.current.name == "test-worker")
    }
}
