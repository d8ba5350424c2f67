import CodeSyncBase
import Crypto
import Foundation

/// Where per-user session state lives: `$XDG_STATE_HOME/codesync`, else `~/.local/state/codesync`.
public enum StateDirectory {
    /// The directory (not created).
    public static var url: URL {
        let env = ProcessInfo.processInfo.environment
        if let state = env["XDG_STATE_HOME"], state.hasPrefix("/") {
            return URL(fileURLWithPath: state).appendingPathComponent("codesync")
        }
        let home = env["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/state/codesync")
    }

    /// Creates `directory` (0700) if missing, and narrows it to 0700 if it exists with wider
    /// permissions: journals hold session secrets, so no other user may list or open them.
    public static func prepare(_ directory: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SessionError.file("cannot create the state directory \(directory.path): \(error.localizedDescription)")
        }
        var info = stat()
        guard lstat(directory.path, &info) == 0 else {
            throw SessionError.file("cannot use the state directory \(directory.path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else {
            throw SessionError.file("the state directory \(directory.path) is not a directory of yours: remove it or set XDG_STATE_HOME elsewhere")
        }
        if info.st_mode & 0o077 != 0 && chmod(directory.path, 0o700) != 0 {
            throw SessionError.file("cannot make the state directory \(directory.path) private (chmod 700): \(String(cString: strerror(errno)))")
        }
    }
}

/// The SHA-256 of a file's bytes (hex), to notice that a hosted file changed behind the journal's back.
public enum FileDigest {
    /// The digest of `text` as UTF-8.
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }

    /// The digest of `data`.
    public static func of(_ data: Data) -> String { Auth.hex(Array(SHA256.hash(data: data))) }

    /// The digest of the file at `url` (following symlinks); nil when it cannot be read.
    public static func ofFile(_ url: URL) -> String? {
        FileManager.default.contents(atPath: url.path).map { of($0) }
    }
}

/// An exclusive lock on one hosted file's journal (`flock` on `journal-….lock`), held while a
/// host serves the file, so a second `codesync host FILE` stops before touching the journal.
///
/// The kernel drops the lock when the process dies (even by `kill -9`), so no stale lock survives
/// a crash. The lock file is never deleted: deleting it while another process has it open would
/// let two hosts each lock a different inode.
public final class JournalLock: @unchecked Sendable {
    /// The lock file.
    public let url: URL
    private let descriptor = Locked<Int32>(-1)

    /// The lock file beside a journal.
    public static func url(forJournal journal: URL) -> URL {
        journal.deletingPathExtension().appendingPathExtension("lock")
    }

    /// Takes the lock for `journal` (serving `file`), or throws saying who holds it.
    public init(journal: URL, file: URL) throws {
        url = Self.url(forJournal: journal)
        try StateDirectory.prepare(url.deletingLastPathComponent())
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw SessionError.file("cannot open the lock file \(url.path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            var holder = ""
            if busy, let data = FileManager.default.contents(atPath: url.path) {
                holder = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            close(fd)
            if busy {
                let who = holder.isEmpty ? "another codesync process" : "codesync (\(holder))"
                throw SessionError.file(
                    "\(file.path) is already hosted by \(who); quit that host first, or join its session. Nothing was changed (lock: \(url.path))")
            }
            throw SessionError.file("cannot lock \(url.path): \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
        let since = ISO8601DateFormatter().string(from: Date())
        let line = Array("pid \(getpid()), since \(since)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor.withLock { $0 = fd }
    }

    /// Releases the lock (also on deinit; the kernel releases it if the process dies).
    public func release() {
        let fd = descriptor.withLock { value -> Int32 in
            defer { value = -1 }
            return value
        }
        if fd >= 0 {
            _ = ftruncate(fd, 0)
            // Unlock before closing: a child process spawned at this moment by another thread holds a
            // copy of the descriptor until its exec, and closing ours alone would leave the lock held.
            _ = flock(fd, LOCK_UN)
            close(fd)
        }
    }

    deinit { release() }
}

/// What a journal remembers about the session besides the document.
public struct JournalHeader: Codable, Equatable, Sendable {
    public var file: String
    public var session: String
    public var secret: String
    public var port: Int
    /// The secret only the host's own process knows: it proves the `host` role (absent in journals
    /// written before host keys; a recovering host then makes a new one).
    public var hostSecret: String?
    /// `FileDigest` of the hosted file as the host last read or saved it (absent in older journals):
    /// a recovering host compares it with the file to notice changes made meanwhile (a `git pull`).
    public var fileDigest: String?
    /// A file of a shared project (`codesync host DIR`): the project's real root. A restarted host of
    /// that folder recovers every such journal into its file (see `ProjectRecovery`).
    public var project: String?
    public init(file: String, session: String, secret: String, port: Int, hostSecret: String? = nil, fileDigest: String? = nil,
                project: String? = nil) {
        self.file = file; self.session = session; self.secret = secret; self.port = port; self.hostSecret = hostSecret
        self.fileDigest = fileDigest; self.project = project
    }
}

/// An append-only log of a host's document so that a crash loses no acknowledged edit.
///
/// Records are framed like the wire (UInt32 big-endian length + JSON): a header, a full state,
/// then one record per update. Each record is written with `write(2)` before the edit is
/// acknowledged, so it survives `kill -9` of the host; `fsync` runs from `sync()` (the host calls
/// it every second) to also survive a machine crash with at most that window lost. A record cut
/// short by a crash is ignored on recovery. Not thread-safe: one owner.
public final class Journal {
    private enum Record: Codable {
        case header(JournalHeader)
        case state(String)
        case update(Update)
        /// The host saved the file: its new digest.
        case saved(String)

        private enum Key: String, CodingKey { case kind, header, state, update, digest }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            switch try c.decode(String.self, forKey: .kind) {
            case "header": self = .header(try c.decode(JournalHeader.self, forKey: .header))
            case "state": self = .state(try c.decode(String.self, forKey: .state))
            case "saved": self = .saved(try c.decode(String.self, forKey: .digest))
            default: self = .update(try c.decode(Update.self, forKey: .update))
            }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            switch self {
            case .header(let h): try c.encode("header", forKey: .kind); try c.encode(h, forKey: .header)
            case .state(let s): try c.encode("state", forKey: .kind); try c.encode(s, forKey: .state)
            case .update(let u): try c.encode("update", forKey: .kind); try c.encode(u, forKey: .update)
            case .saved(let d): try c.encode("saved", forKey: .kind); try c.encode(d, forKey: .digest)
            }
        }
    }

    /// The journal cannot grow: more edits would pass `maxBytes` even right after a compaction.
    public struct Full: Error, CustomStringConvertible {
        public var limit: Int
        public var description: String {
            "the session journal reached its limit of \(limit >> 20) MiB even after compaction (the document is too large): "
                + "this edit is not acknowledged; save (Ctrl-S), delete text or split the file, then restart the session"
        }
    }

    /// What a journal held when it was opened.
    public struct Recovered {
        /// The header, with `fileDigest` as of the last save recorded.
        public var header: JournalHeader
        public var replica: Replica
        /// Update records replayed on top of the last full state.
        public var updates: Int
    }

    /// The journal file.
    public let url: URL
    public private(set) var header: JournalHeader
    private var handle: FileHandle
    private var updatesSinceState = 0
    private var dirty = false
    /// Update records after which the journal is rewritten as one full state.
    public var compactAfter = 20_000
    /// The journal never grows past this many bytes: past half of it, the next `compactIfNeeded`
    /// compacts; an append that would pass it throws `Full` (the edit is then not acknowledged).
    public var maxBytes = 256 << 20
    /// Bytes in the journal file now.
    public private(set) var size = 0

    /// The journal path for a served file: one per absolute path.
    public static func url(for file: URL, directory: URL = StateDirectory.url) -> URL {
        let digest = SHA256.hash(data: Data(file.standardizedFileURL.path.utf8))
        let name = Auth.hex(Array(digest.prefix(8)))
        return directory.appendingPathComponent("journal-\(name).csj")
    }

    /// Reads an existing journal; nil when there is none or it holds no usable state.
    public static func recover(url: URL, agent: AgentID) throws -> Recovered? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        var header: JournalHeader?
        var replica: Replica?
        var updates = 0
        let bytes = [UInt8](data)
        var index = 0
        let decoder = JSONDecoder()
        while index + 4 <= bytes.count {
            let length = Int(bytes[index]) << 24 | Int(bytes[index + 1]) << 16 | Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard length > 0, index + 4 + length <= bytes.count else { break }  // torn tail: written when the host died
            let payload = Data(bytes[(index + 4)..<(index + 4 + length)])
            index += 4 + length
            guard let record = try? decoder.decode(Record.self, from: payload) else { break }
            switch record {
            case .header(let h): header = h
            case .state(let base64):
                guard let state = Data(base64Encoded: base64) else { break }
                replica = try Replica(agent: agent, state: [UInt8](state))
                updates = 0
            case .update(let update):
                guard let replica else { continue }
                _ = try replica.apply(update)
                updates += 1
            case .saved(let digest):
                header?.fileDigest = digest
            }
        }
        guard let header, let replica else { return nil }
        return Recovered(header: header, replica: replica, updates: updates)
    }

    /// Starts a fresh journal at `url` holding `header` and the full state of `replica`.
    public init(url: URL, header: JournalHeader, replica: Replica) throws {
        self.url = url
        self.header = header
        try StateDirectory.prepare(url.deletingLastPathComponent())
        (handle, size) = try Self.writeFresh(url: url, records: [.header(header), .state(Data(replica.encodeState()).base64EncodedString())])
    }

    /// Records that the host saved the file as `text`, so a later recovery knows the file is its own.
    public func recordSaved(_ text: String) throws {
        let digest = FileDigest.of(text)
        header.fileDigest = digest
        let record = try Self.frame(.saved(digest))
        try handle.write(contentsOf: record)
        size += record.count
        dirty = true
    }

    /// Appends one update; returns once the bytes are in the kernel (safe against process death).
    public func append(_ update: Update) throws {
        try append(updateJSON: FastCodec.encode(update))
    }

    /// Appends one update given as its JSON (already validated by decoding it), like `append(_:)`.
    func append(updateJSON: some Collection<UInt8>) throws {
        // The same record `Record.update` encodes to, written without a JSONEncoder per edit.
        let prefix = Array(#"{"kind":"update","update":"#.utf8)
        let length = prefix.count + updateJSON.count + 1
        var data = Data(capacity: 4 + length)
        withUnsafeBytes(of: UInt32(length).bigEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: prefix)
        data.append(contentsOf: updateJSON)
        data.append(UInt8(ascii: "}"))
        guard size + data.count <= maxBytes else { throw Full(limit: maxBytes) }
        try handle.write(contentsOf: data)
        size += data.count
        dirty = true
        updatesSinceState += 1
    }

    /// Rewrites the journal as one full state when it has grown long (in records or in bytes).
    public func compactIfNeeded(_ replica: Replica) throws {
        guard updatesSinceState >= compactAfter || size > maxBytes / 2 else { return }
        guard updatesSinceState > 0 else { return }  // a state alone past half the limit: compacting again cannot help
        try compact(replica)
    }

    /// Rewrites the journal as the header plus the full state of `replica` (atomically).
    public func compact(_ replica: Replica) throws {
        let records: [Record] = [.header(header), .state(Data(replica.encodeState()).base64EncodedString())]
        // A state that alone passes the limit is not written: the journal as it is stays complete.
        let bytes = try records.reduce(0) { $0 + (try Self.frame($1)).count }
        guard bytes <= maxBytes else { throw Full(limit: maxBytes) }
        try handle.close()
        (handle, size) = try Self.writeFresh(url: url, records: records)
        updatesSinceState = 0
    }

    /// Flushes written records to the disk (waits for the disk).
    public func sync() {
        guard dirty else { return }
        try? handle.synchronize()
        dirty = false
    }

    /// Starts flushing written records to the disk on a background thread and returns at once.
    ///
    /// An fsync takes milliseconds, and far longer on a busy disk; the host's event loop calls this
    /// every second and must not stall every session's edits meanwhile. The fsync runs on a
    /// duplicate of the descriptor, so a compaction that replaces the file meanwhile is harmless.
    /// While one is still running, the next call leaves the records dirty for the call after.
    func syncInBackground() {
        guard dirty, !backgroundSync.withLock({ $0 }) else { return }
        let descriptor = dup(handle.fileDescriptor)
        guard descriptor >= 0 else {
            sync()
            return
        }
        dirty = false
        backgroundSync.withLock { $0 = true }
        let running = backgroundSync
        let duplicate = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        Self.syncQueue.async {
            try? duplicate.synchronize()
            running.withLock { $0 = false }
        }
    }

    private static let syncQueue = DispatchQueue(label: "codesync.journal.fsync")
    private let backgroundSync = Locked(false)

    /// Closes the journal and deletes it (after a clean save, nothing is left to recover).
    public func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }

    /// Closes the journal, keeping it on disk.
    public func close() {
        try? handle.synchronize()
        try? handle.close()
    }

    private static func frame(_ record: Record) throws -> Data {
        let json = try JSONEncoder().encode(record)
        var data = Data(capacity: json.count + 4)
        let length = UInt32(json.count).bigEndian
        withUnsafeBytes(of: length) { data.append(contentsOf: $0) }
        data.append(json)
        return data
    }

    private static func writeFresh(url: URL, records: [Record]) throws -> (FileHandle, Int) {
        var data = Data()
        for record in records { data.append(try frame(record)) }
        let temp = url.appendingPathExtension("tmp")
        // Created 0600 from the start (not chmod-ed after): the journal holds the session secrets.
        unlink(temp.path)
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw SessionError.file("cannot create the session journal in \(url.deletingLastPathComponent().path): \(String(cString: strerror(errno)))")
        }
        let tempHandle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try tempHandle.write(contentsOf: data)
        try tempHandle.synchronize()
        try tempHandle.close()
        if rename(temp.path, url.path) != 0 {
            throw SessionError.file("cannot write the session journal \(url.path): \(String(cString: strerror(errno)))")
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return (handle, data.count)
    }
}

/// Atomic file replacement: write a temporary file beside the target, fsync, rename.
public enum AtomicFile {
    /// Replaces `url`'s contents with `text` so that readers see the old or the new file, never half.
    ///
    /// A symlink is followed: its target is replaced and the link stays a link. The target keeps
    /// its permission bits (a new file gets 0666 less the umask, like any editor's).
    public static func write(_ text: String, to url: URL) throws {
        let target = try resolveSymlinks(url)
        let directory = target.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(".\(target.lastPathComponent).codesync-\(Auth.randomHex(count: 4)).tmp")
        var info = stat()
        let existingMode: mode_t? = stat(target.path, &info) == 0 ? info.st_mode & 0o7777 : nil
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw SessionError.file("cannot save \(url.path): cannot create a file in \(directory.path) (\(reason)); check its permissions")
        }
        // fchmod is not subject to the umask, so the target's exact mode carries over.
        if let existingMode { fchmod(fd, existingMode) }
        do {
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temp.path)
            throw SessionError.file("cannot save \(url.path): \(error.localizedDescription)")
        }
        if rename(temp.path, target.path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temp.path)
            throw SessionError.file("cannot save \(url.path): \(reason)")
        }
    }

    /// The file a path finally names, following symlinks in its last component (as `open` would).
    public static func resolveSymlinks(_ url: URL) throws -> URL {
        var path = url.path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return URL(fileURLWithPath: path) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(path, &buffer, buffer.count - 1)
            guard count > 0 else { break }
            let destination = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            path = destination.hasPrefix("/")
                ? destination
                : (URL(fileURLWithPath: path).deletingLastPathComponent().path as NSString).appendingPathComponent(destination)
        }
        throw SessionError.file("cannot save \(url.path): too many levels of symbolic links")
    }
}
