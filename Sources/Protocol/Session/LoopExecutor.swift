import CodeSyncBase
import NIOCore

/// Runs Swift tasks on a peer's network thread (its event loop).
///
/// An owner loop that runs with this preference is resumed by incoming messages on the thread
/// that read them, and its sends are written at once: no hand-off between threads per edit.
/// Once the peer closes (`retire()`), jobs go to the global executor, so a task still preferring
/// this executor never waits for a loop that has stopped.
final class LoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let loop: any EventLoop
    private let retired = Locked(false)

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let onLoop = retired.withLock { isRetired -> Bool in
            guard !isRetired else { return false }
            loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            return true
        }
        if !onLoop { globalConcurrentExecutor.enqueue(job) }
    }

    /// From now on, jobs run on the global executor (the loop is about to shut down).
    func retire() { retired.withLock { $0 = true } }
}
