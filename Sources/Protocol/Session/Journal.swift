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
    public init(file: String, session: String, secret: String, port: Int, hostSecret: String? = nil) {
        self.file = file; self.session = session; self.secret = secret; self.port = port; self.hostSecret = hostSecret
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

        private enum Key: String, CodingKey { case kind, header, state, update }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            switch try c.decode(String.self, forKey: .kind) {
            case "header": self = .header(try c.decode(JournalHeader.self, forKey: .header))
            case "state": self = .state(try c.decode(String.self, forKey: .state))
            default: self = .update(try c.decode(Update.self, forKey: .update))
            }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            switch self {
            case .header(let h): try c.encode("header", forKey: .kind); try c.encode(h, forKey: .header)
            case .state(let s): try c.encode("state", forKey: .kind); try c.encode(s, forKey: .state)
            case .update(let u): try c.encode("update", forKey: .kind); try c.encode(u, forKey: .update)
            }
        }
    }

    /// What a journal held when it was opened.
    public struct Recovered {
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
            }
        }
        guard let header, let replica else { return nil }
        return Recovered(header: header, replica: replica, updates: updates)
    }

    /// Starts a fresh journal at `url` holding `header` and the full state of `replica`.
    public init(url: URL, header: JournalHeader, replica: Replica) throws {
        self.url = url
        self.header = header
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        handle = try Self.writeFresh(url: url, records: [.header(header), .state(Data(replica.encodeState()).base64EncodedString())])
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
        try handle.write(contentsOf: data)
        dirty = true
        updatesSinceState += 1
    }

    /// Rewrites the journal as one full state when it has grown long.
    public func compactIfNeeded(_ replica: Replica) throws {
        guard updatesSinceState >= compactAfter else { return }
        try compact(replica)
    }

    /// Rewrites the journal as the header plus the full state of `replica` (atomically).
    public func compact(_ replica: Replica) throws {
        try handle.close()
        handle = try Self.writeFresh(url: url, records: [.header(header), .state(Data(replica.encodeState()).base64EncodedString())])
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
        guard dirty, !backgroundSync.withValue({ $0 }) else { return }
        let descriptor = dup(handle.fileDescriptor)
        guard descriptor >= 0 else {
            sync()
            return
        }
        dirty = false
        backgroundSync.withValue { $0 = true }
        let running = backgroundSync
        let duplicate = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        Self.syncQueue.async {
            try? duplicate.synchronize()
            running.withValue { $0 = false }
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

    private static func writeFresh(url: URL, records: [Record]) throws -> FileHandle {
        var data = Data()
        for record in records { data.append(try frame(record)) }
        let temp = url.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw SessionError.file("cannot create the session journal in \(url.deletingLastPathComponent().path): check its permissions")
        }
        let tempHandle = try FileHandle(forWritingTo: temp)
        try tempHandle.write(contentsOf: data)
        try tempHandle.synchronize()
        try tempHandle.close()
        if rename(temp.path, url.path) != 0 {
            throw SessionError.file("cannot write the session journal \(url.path): \(String(cString: strerror(errno)))")
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return handle
    }
}

/// Atomic file replacement: write a temporary file beside the target, fsync, rename.
public enum AtomicFile {
    /// Replaces `url`'s contents with `text` so that readers see the old or the new file, never half.
    public static func write(_ text: String, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).codesync-\(Auth.randomHex(count: 4)).tmp")
        let existing = try? FileManager.default.attributesOfItem(atPath: url.path)
        let mode = (existing?[.posixPermissions] as? NSNumber)?.int16Value ?? 0o644
        guard FileManager.default.createFile(atPath: temp.path, contents: nil, attributes: [.posixPermissions: mode]) else {
            throw SessionError.file("cannot save \(url.path): cannot create a file in \(directory.path) (check permissions)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw SessionError.file("cannot save \(url.path): \(error.localizedDescription)")
        }
        if rename(temp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw SessionError.file("cannot save \(url.path): \(reason)")
        }
    }
}
