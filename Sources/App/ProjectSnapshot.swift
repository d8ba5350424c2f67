import CodeSyncProtocol
import Foundation

/// A per-run copy of a shared folder, as the session holds it: every shared file of the folder
/// (the index: ignored files, symlinks leaving the folder, devices and FIFOs are absent), read
/// through `ProjectTree`'s gate, with each open file's session text (unsaved edits included) in
/// place of its disk copy. The sandbox mounts it read-only; it is removed when the run has ended.
///
/// Why a copy and not a bind of the folder itself: see docs/DECISIONS.md ("Runs in a shared folder").
public struct ProjectSnapshot: Sendable {
    /// Bounds on one run's copy.
    public struct Limits: Sendable {
        /// Bytes copied at most (the run is refused past it, with a message that says so).
        public var maxBytes: Int64 = 512 << 20
        public init() {}
    }

    /// The copy's folder (world-readable inside: the container runs as nobody).
    public let directory: URL
    /// Files and bytes copied.
    public let files: Int
    public let bytes: Int64

    /// Where snapshots go: `$TMPDIR/codesync-runs-UID`, a 0700 folder of this user's (checked, so
    /// another account cannot plant a symlink or read the copies).
    static func parent() throws -> URL {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("codesync-runs-\(getuid())")
        if mkdir(base.path, 0o700) != 0 && errno != EEXIST {
            throw SnapshotError("cannot make \(base.path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(base.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw SnapshotError("\(base.path) is not a private folder of this user (mode 0700, not a symlink): remove it")
        }
        return base
    }

    /// Copies the folder `sources.root` as the session holds it.
    public static func make(_ sources: ProjectRunSources, limits: Limits = Limits()) throws -> ProjectSnapshot {
        let tree: ProjectTree
        do { tree = try ProjectTree(root: sources.root) } catch { throw SnapshotError("cannot read the shared folder: \(error)") }
        let directory = try parent().appendingPathComponent("run-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())")
        guard mkdir(directory.path, 0o755) == 0 else {
            throw SnapshotError("cannot make \(directory.path): \(String(cString: strerror(errno)))")
        }
        chmod(directory.path, 0o755)
        var made: Set<String> = [""]
        var files = 0
        var bytes: Int64 = 0
        do {
            for entry in tree.entries {
                let opened: (fd: Int32, real: String)
                do { opened = try tree.openForCopy(entry.path) } catch { continue }  // gone or refused since the walk
                let (fd, real) = opened
                defer { close(fd) }
                let components = entry.path.split(separator: "/").map(String.init)
                var folder = ""
                for name in components.dropLast() {
                    folder += (folder.isEmpty ? "" : "/") + name
                    if made.insert(folder).inserted {
                        let path = directory.path + "/" + folder
                        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw SnapshotError("cannot make \(path): \(String(cString: strerror(errno)))") }
                        chmod(path, 0o755)
                    }
                }
                let target = directory.path + "/" + entry.path
                let out = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                guard out >= 0 else { throw SnapshotError("cannot write \(target): \(String(cString: strerror(errno)))") }
                defer { close(out) }
                fchmod(out, 0o644)
                if let text = sources.texts[real] {
                    let data = Array(text.utf8)
                    bytes += Int64(data.count)
                    guard bytes <= limits.maxBytes else { throw tooLarge(limits) }
                    try writeAll(out, data[...], target)
                } else {
                    try copy(from: fd, to: out, target, counting: &bytes, limits: limits)
                }
                files += 1
            }
        } catch {
            remove(directory)
            throw error
        }
        return ProjectSnapshot(directory: directory, files: files, bytes: bytes)
    }

    /// Removes the copy (after the run's container is gone).
    public func remove() { Self.remove(directory) }

    static func remove(_ directory: URL) {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Removes copies left by codesync processes that died mid-run (their pid is in the name).
    public static func removeLeftovers() {
        guard let base = try? parent(), let names = try? FileManager.default.contentsOfDirectory(atPath: base.path) else { return }
        for name in names where name.hasPrefix("run-") {
            let parts = name.split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[1]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            remove(base.appendingPathComponent(name))
        }
    }

    private static func tooLarge(_ limits: Limits) -> SnapshotError {
        let text = "the shared files are over the \(limits.maxBytes >> 20) MiB a run copies: leave data out with .codesyncignore"
        return SnapshotError(text, forPeers: text)
    }

    private static func writeAll(_ fd: Int32, _ data: ArraySlice<UInt8>, _ target: String) throws {
        var rest = data
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SnapshotError("cannot write \(target): \(String(cString: strerror(errno)))") }
            rest = rest.dropFirst(n)
        }
    }

    private static func copy(from input: Int32, to output: Int32, _ target: String, counting bytes: inout Int64, limits: Limits) throws {
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SnapshotError("cannot copy \(target): \(String(cString: strerror(errno)))") }
            if n == 0 { return }
            bytes += Int64(n)
            guard bytes <= limits.maxBytes else { throw tooLarge(limits) }
            try writeAll(output, buffer[0..<n], target)
        }
    }
}

/// Why a run's copy of the folder could not be made (one line, for the requester).
public struct SnapshotError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// What a guest is told: the host's own paths and errors stay in the host's log.
    public var forPeers: String
    init(_ description: String, forPeers: String? = nil) {
        self.description = description
        self.forPeers = forPeers ?? "the host could not copy the shared folder for the run (the host's log says why)"
    }
}
