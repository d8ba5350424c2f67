import CodeSyncBase
import Foundation
import Logging

/// Watches a shared folder with inotify (Linux) and hands the paths that changed, debounced, to a
/// callback: changes made on the host's disk by other programs reach the session.
///
/// One thread of its own blocks in `poll` on the inotify descriptor (the event loop never waits
/// for the disk). It watches every folder the index walked, and folders created later; paths are
/// collected until the folder has been quiet for 100 ms (at most 500 ms), so an editor's
/// write-then-rename or a `git checkout` of many files arrives as one batch.
final class ProjectWatcher: @unchecked Sendable {
    private let fd: Int32
    private let root: String
    private let logger: Logger
    private let stopped = Locked(false)
    /// Watch descriptor → folder (relative, "" for the root); touched only by the watcher's thread after `start`.
    private var folders: [Int32: String] = [:]
    private var warnedFull = false

    // inotify's constants (<sys/inotify.h>), spelt out: Swift's Glibc import lacks some of them.
    private static let modify: UInt32 = 0x2, closeWrite: UInt32 = 0x8, movedFrom: UInt32 = 0x40, movedTo: UInt32 = 0x80
    private static let create: UInt32 = 0x100, delete: UInt32 = 0x200, overflow: UInt32 = 0x4000, isDirectory: UInt32 = 0x4000_0000
    private static let onlyDirectory: UInt32 = 0x0100_0000, dontFollow: UInt32 = 0x0200_0000
    private static let mask = modify | closeWrite | movedFrom | movedTo | create | delete | onlyDirectory | dontFollow

    /// Watches `root` and `folders` (relative to it); nil when inotify is not available.
    init?(root: String, folders: [String], logger: Logger) {
        fd = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard fd >= 0 else {
            logger.warning("changes made on disk will not reach the session: inotify is not available (\(String(cString: strerror(errno))))")
            return nil
        }
        self.root = root
        self.logger = logger
        for folder in [""] + folders { watch(folder) }
    }

    private func watch(_ folder: String) {
        let path = folder.isEmpty ? root : root + "/" + folder
        let wd = inotify_add_watch(fd, path, Self.mask)
        if wd >= 0 {
            folders[wd] = folder
        } else if !warnedFull {
            warnedFull = true
            logger.warning("not every folder is watched for changes on disk (inotify: \(String(cString: strerror(errno))); raise fs.inotify.max_user_watches)")
        }
    }

    /// Starts the watcher's thread; `deliver` gets each batch of changed paths (relative to the root).
    func start(deliver: @escaping @Sendable (Set<String>) -> Void) {
        let thread = Thread { [self] in run(deliver) }
        thread.name = "codesync.watcher"
        thread.start()
    }

    /// Stops the thread (within 200 ms) and closes the descriptor.
    func stop() { stopped.withLock { $0 = true } }

    private func run(_ deliver: @Sendable (Set<String>) -> Void) {
        defer { close(fd) }
        var pending: Set<String> = []
        var firstPending: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let clock = ContinuousClock()
        while !stopped.withLock({ $0 }) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, pending.isEmpty ? 200 : 100)
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    collect(buffer, count: count, into: &pending)
                    if firstPending == nil && !pending.isEmpty { firstPending = clock.now }
                }
                // Quiet for 100 ms is the usual flush; a stream of changes still flushes every 500 ms.
                if let first = firstPending, clock.now - first < .milliseconds(500) { continue }
            }
            // Stopped meanwhile: the server's loop may be going away; the batch goes with it.
            guard !pending.isEmpty, !stopped.withLock({ $0 }) else { continue }
            deliver(pending)
            pending = []
            firstPending = nil
        }
    }

    /// Reads the inotify records in `buffer`, adding changed file paths (and watching new folders).
    private func collect(_ buffer: [UInt8], count: Int, into pending: inout Set<String>) {
        var offset = 0
        while offset + 16 <= count {
            func word(_ at: Int) -> UInt32 {
                UInt32(buffer[at]) | UInt32(buffer[at + 1]) << 8 | UInt32(buffer[at + 2]) << 16 | UInt32(buffer[at + 3]) << 24
            }
            let wd = Int32(bitPattern: word(offset)), mask = word(offset + 4), length = Int(word(offset + 12))
            let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
            offset += 16 + length
            if mask & Self.overflow != 0 {
                logger.warning("too many changes on disk at once: some were missed (the index is refreshed on the next start)")
                continue
            }
            guard let folder = folders[wd], !nameBytes.isEmpty else { continue }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let path = folder.isEmpty ? name : folder + "/" + name
            if mask & Self.isDirectory != 0 {
                if mask & (Self.create | Self.movedTo) != 0, (try? ProjectPath(path)) != nil { watch(path) }
                continue
            }
            // The host's own saves go through temporary files beside the target: their rename is what counts.
            if name.hasPrefix("."), name.hasSuffix(".tmp"), name.contains(".codesync-") { continue }
            pending.insert(path)
        }
    }
}
