/// A peer asks for a page of the project's index (`files.list`).
public struct FilesList: Codable, Equatable, Sendable {
    /// The requester's number for this request, echoed by the answer (or by `refused`).
    public var req: Int
    /// The first entry wanted (0-based, in path order).
    public var from: Int
    public init(req: Int, from: Int) { self.req = req; self.from = from }
}

/// A page of the project's index (`files`, server → peer): at most `FilesPage.maxEntries` entries.
public struct FilesPage: Codable, Equatable, Sendable {
    public var req: Int
    public var from: Int
    /// Entries in the whole index.
    public var total: Int
    public var entries: [ProjectEntry]
    /// The host indexed only part of the tree (it holds more files than its limit).
    public var truncated: Bool?
    /// Entries per page: 1000 paths of at most 4 KiB stay far below the frame limit.
    public static let maxEntries = 1000
    public init(req: Int, from: Int, total: Int, entries: [ProjectEntry], truncated: Bool? = nil) {
        self.req = req; self.from = from; self.total = total; self.entries = entries; self.truncated = truncated
    }
}

/// A peer opens a file of the project (`file.open`): the host answers `file.state`.
public struct FileOpen: Codable, Equatable, Sendable {
    /// Absent on a reopen after a reconnect (the answer then carries no `req` either).
    public var req: Int?
    public var path: String
    /// What the peer already has of the file's document (a reopen); absent: nothing.
    public var known: VersionVector?
    public init(req: Int?, path: String, known: VersionVector? = nil) { self.req = req; self.path = path; self.known = known }
}

/// One file's document as the host holds it (`file.state`, server → peer).
public struct FileState: Codable, Equatable, Sendable {
    public var req: Int?
    /// The document id, used by `doc.ops` from then on (for this connection's life).
    public var doc: Int
    /// The path as the peer asked for it.
    public var path: String
    /// What the peer lacks of the document (all of it on a first open).
    public var update: Update
    /// The host's version vector, so the peer sends exactly what the host lacks.
    public var known: VersionVector
    public init(req: Int?, doc: Int, path: String, update: Update, known: VersionVector) {
        self.req = req; self.doc = doc; self.path = path; self.update = update; self.known = known
    }
}

/// Operations on one file's document (`doc.ops`, both ways); acknowledged by `ack` like `ops`
/// (one `seq` counter per connection for both).
public struct DocOps: Codable, Equatable, Sendable {
    public var doc: Int
    public var peer: String
    public var seq: Int
    public var update: Update
    public init(doc: Int, peer: String, seq: Int, update: Update) { self.doc = doc; self.peer = peer; self.seq = seq; self.update = update }
}

/// A peer creates, renames or deletes a file (`file.create`, `file.rename`, `file.delete`).
public struct FileRequest: Codable, Equatable, Sendable {
    public var req: Int
    public var path: String
    /// `file.rename`: the new path.
    public var to: String?
    /// `file.create`: the new file's text (absent: empty).
    public var text: String?
    public init(req: Int, path: String, to: String? = nil, text: String? = nil) { self.req = req; self.path = path; self.to = to; self.text = text }
}

/// What happened to a file of the project (`file.changed`, server → every peer).
public struct FileChanged: Codable, Equatable, Sendable {
    public enum Change: String, Codable, Sendable { case created, renamed, deleted }
    /// Set only on the copy sent to the peer that asked for the change.
    public var req: Int?
    public var change: Change
    public var path: String
    /// `renamed`: the new path.
    public var to: String?
    /// `created` and `renamed`: the index entry now.
    public var entry: ProjectEntry?
    /// Who asked for it.
    public var by: String?
    public init(req: Int? = nil, change: Change, path: String, to: String? = nil, entry: ProjectEntry? = nil, by: String? = nil) {
        self.req = req; self.change = change; self.path = path; self.to = to; self.entry = entry; self.by = by
    }
}
