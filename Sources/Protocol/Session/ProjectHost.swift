@_spi(Wire) import CodeSyncDocument
import Foundation
import Logging
import NIOCore

/// One opened file of a shared project on the host: its document, journal and journal lock.
final class ProjectDocument {
    let id: Int
    /// The real path (relative to the project root) the document saves to.
    var path: String
    let replica: Replica
    var journal: Journal
    var lock: JournalLock
    /// Edited since the last save.
    var dirty = false
    /// Bytes of text read from disk when it was opened (counted against the session's budget).
    var openedBytes = 0
    /// `FileDigest` of the file as last read or written by the session: a change on disk with
    /// another digest was made by someone else.
    var diskDigest = ""
    /// Peers (by id) that opened it: they get its `doc.ops`.
    var members: Set<String> = []

    init(id: Int, path: String, replica: Replica, journal: Journal, lock: JournalLock) {
        self.id = id; self.path = path; self.replica = replica; self.journal = journal; self.lock = lock
    }
}

/// The identity a project's per-file journals carry (so a restarted host keeps its join line).
struct ProjectJournalIdentity {
    var session: String
    var secret: String
    var hostSecret: String?
    var port: Int
    var stateDirectory: URL
}

/// A shared folder on the host's server: the index (`ProjectTree`) and one document per opened
/// file, opened lazily, each journaled before its edits are acknowledged. Confined to the
/// server's event loop, like the hub that owns it; every path a peer sends goes through the tree.
final class ProjectHost {
    let tree: ProjectTree
    private let identity: ProjectJournalIdentity
    private let limits: SessionLimits
    private let logger: Logger
    private var documents: [Int: ProjectDocument] = [:]
    private var byPath: [String: Int] = [:]
    private var nextID = 1
    /// The text read from disk for the documents open now (`ProjectTree.Limits.maxOpenTotalBytes`).
    private(set) var openTextBytes = 0
    /// What recovering a dead host's journals did at start.
    var recovered: [String] = []
    /// Watches the folder for changes by other programs (nil: not watching).
    var watcher: ProjectWatcher?
    /// At most this many files open at once in a session (each holds a document and a journal).
    /// Each also holds two descriptors (its journal and the journal's lock): under the usual soft
    /// limit of 1024, a guest opening every file of a big tree would otherwise leave the host
    /// unable to accept a peer or save a file. A quarter of the process's descriptors (at least 128)
    /// stays for connections, saves, runs and the watcher.
    static let maxOpenFiles: Int = {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 256 }
        let soft = Int(clamping: limit.rlim_cur)
        return min(1024, max(8, (soft - max(128, soft / 4)) / 2))
    }()
    /// The run settings peers were last told (`.codesync.json` on disk).
    private(set) var runSettings: ProjectRunSettings

    init(tree: ProjectTree, identity: ProjectJournalIdentity, limits: SessionLimits, logger: Logger) {
        self.tree = tree
        self.identity = identity
        self.limits = limits
        self.logger = logger
        runSettings = ProjectRunSettings.read(root: tree.root)
    }

    /// Reads `.codesync.json` from disk again; the new settings when they changed (to tell everyone).
    func refreshRunSettings() -> ProjectRunSettings? {
        let now = ProjectRunSettings.read(root: tree.root)
        guard now != runSettings else { return nil }
        runSettings = now
        logger.notice("\(ProjectRunSettings.fileName) changed: \(now.summary)")
        return now
    }

    /// What a run in the folder needs from the session, checked: the file to run (its real path,
    /// through the one gate for peers' paths, as for `file.open`), the session's text of every open
    /// document (unsaved edits included), and the run settings from disk (peers told if changed).
    func runSources(file: String?) throws(ProjectError) -> ProjectRunSources {
        var real: String?
        if let file {
            let checked = try tree.check(file)
            real = try tree.inspect(checked).real.string
        }
        var texts: [String: String] = [:]
        for document in documents.values { texts[document.path] = document.replica.text }
        return ProjectRunSources(root: tree.root, file: real, texts: texts, settings: runSettings)
    }

    var openCount: Int { documents.count }

    /// Files only the host changes: the ignore files decide what a guest may read (a guest's
    /// `!key.secret` would share what the host kept out) and `.codesync.json` what every run runs.
    /// Guests may still open and read them.
    static func isHostOnly(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name == ".gitignore" || name == ".codesyncignore" || path == ProjectRunSettings.fileName
    }

    /// A guest's refused change of a host-only file.
    static func hostOnlyRefusal(_ path: String) -> String {
        "only the host changes \(ProjectPath.shown(path)) (ignore files decide what is shared, \(ProjectRunSettings.fileName) what runs)"
    }

    func document(_ id: Int) -> ProjectDocument? { documents[id] }

    // MARK: Requests

    /// `files.list`: one page of the index.
    func page(_ request: FilesList) -> FilesPage {
        let entries = tree.entries
        let from = min(max(request.from, 0), entries.count)
        let slice = entries[from..<min(from + FilesPage.maxEntries, entries.count)]
        return FilesPage(req: request.req, from: from, total: entries.count, entries: Array(slice), truncated: tree.truncated ? true : nil)
    }

    /// `file.open`: the document for `path` (made from the file on first open), with `peer` a member.
    func open(_ path: String, by peer: String) throws -> ProjectDocument {
        let checked = try tree.check(path)
        let inspected = try tree.inspect(checked)
        let real = inspected.real.string
        if let id = byPath[real], let document = documents[id] {
            document.members.insert(peer)
            return document
        }
        guard documents.count < Self.maxOpenFiles else {
            throw ProjectError.refused("\(Self.maxOpenFiles) files are open in this session already; no more can be opened")
        }
        // Checked on the size before the file is read: a peer repeating `file.open` of a big file
        // past the budget must not make the host read it again each time (the folder fuzzer's
        // open storm froze the loop for a minute that way).
        let budget = tree.limits.maxOpenTotalBytes
        func overBudget() -> ProjectError {
            .refused("the files open in this session hold \(openTextBytes >> 20) MiB of text, and \(ProjectPath.shown(real)) would pass "
                + "the \(budget >> 20) MiB a host keeps in memory; it cannot be opened until the host restarts")
        }
        guard openTextBytes + inspected.size <= budget else { throw overBudget() }
        let (text, _) = try tree.read(real)
        guard openTextBytes + text.utf8.count <= budget else { throw overBudget() }
        let absolute = URL(fileURLWithPath: tree.root + "/" + real)
        let journalURL = Journal.url(for: absolute, directory: identity.stateDirectory)
        let lock: JournalLock
        do {
            lock = try JournalLock(journal: journalURL, file: absolute)
        } catch {
            logger.warning("\(real): \(error)")
            throw ProjectError.refused("\(ProjectPath.shown(real)) is hosted by another codesync on this machine; it cannot be opened here")
        }
        let replica = Replica(agent: "file-\(Auth.randomHex(count: 4))")
        replica.limits = limits.document
        if !text.isEmpty { replica.insert(text, at: 0) }
        let header = JournalHeader(file: absolute.path, session: identity.session, secret: identity.secret, port: identity.port,
                                   hostSecret: identity.hostSecret, fileDigest: FileDigest.of(text), project: tree.root)
        let journal: Journal
        do {
            journal = try Journal(url: journalURL, header: header, replica: replica)
        } catch {
            lock.release()
            throw ProjectError.io("cannot journal \(ProjectPath.shown(real)): \(error)")
        }
        let document = ProjectDocument(id: nextID, path: real, replica: replica, journal: journal, lock: lock)
        document.diskDigest = FileDigest.of(text)
        document.openedBytes = text.utf8.count
        openTextBytes += document.openedBytes
        nextID += 1
        documents[document.id] = document
        byPath[real] = document.id
        document.members.insert(peer)
        logger.info("opened \(real) as document \(document.id)")
        return document
    }

    /// `file.create`: a new file (missing folders made), refused if the name exists.
    func create(_ path: String, text: String) throws -> ProjectEntry {
        guard text.utf8.count <= tree.limits.maxOpenBytes else {
            throw ProjectError.refused("a new file of \(text.utf8.count) bytes is over the \(tree.limits.maxOpenBytes >> 10) KiB a session opens")
        }
        try tree.write(text, to: path, mustCreate: true)
        return tree.entry(path) ?? ProjectEntry(path: path, size: text.utf8.count, kind: .text)
    }

    /// `file.rename`: on disk, in the index, and for an open document (its journal moves with it).
    func rename(_ path: String, to newPath: String) throws -> ProjectEntry {
        try tree.rename(path, to: newPath)
        if let id = byPath.removeValue(forKey: path), let document = documents[id] {
            document.path = newPath
            byPath[newPath] = id
            moveJournal(of: document)
        }
        return tree.entry(newPath) ?? ProjectEntry(path: newPath, size: 0, kind: .text)
    }

    /// `file.delete`: on disk and in the index; an open document is dropped (with its journal).
    func delete(_ path: String) throws {
        try tree.delete(path)
        if let id = byPath.removeValue(forKey: path), let document = documents.removeValue(forKey: id) {
            openTextBytes -= document.openedBytes
            document.journal.discard()
            document.lock.release()
        }
    }

    /// The journal follows a renamed document: a fresh one at the new path's journal, the old one gone.
    private func moveJournal(of document: ProjectDocument) {
        let absolute = URL(fileURLWithPath: tree.root + "/" + document.path)
        let url = Journal.url(for: absolute, directory: identity.stateDirectory)
        var header = document.journal.header
        header.file = absolute.path
        do {
            let lock = try JournalLock(journal: url, file: absolute)
            let journal = try Journal(url: url, header: header, replica: document.replica)
            document.journal.discard()
            document.lock.release()
            document.journal = journal
            document.lock = lock
        } catch {
            // The old journal still holds every edit (under the old name): recovery puts it aside.
            logger.error("cannot move the journal of \(document.path): \(error)")
        }
    }

    // MARK: Changes on disk

    /// What a batch of changes on disk means for the session: edits to send to an open document's
    /// members (already applied and journaled), and index changes to tell everyone.
    struct DiskOutcome {
        var edits: [(document: ProjectDocument, updates: [Update])] = []
        var changes: [FileChanged] = []
    }

    /// Takes in files changed on disk by another program. The index follows (created, deleted,
    /// sizes). An open document whose file changed takes the new text as an edit, when the session
    /// has no unsaved edits of its own; when it has, the session keeps its text and the disk's is
    /// put beside the file as `NAME.codesync-disk`, so neither is lost or silently overwritten.
    func diskChanged(_ paths: Set<String>) -> DiskOutcome {
        var outcome = DiskOutcome()
        for path in paths.sorted() {
            guard let checked = try? tree.check(path) else { continue }  // ignored, or no path a peer could name
            let known = tree.entry(path)
            guard let found = try? tree.inspect(checked) else {
                if known != nil {
                    tree.forget(path)
                    outcome.changes.append(FileChanged(change: .deleted, path: path))
                }
                // An open document of a deleted file stays in the session (a save writes it back).
                continue
            }
            let entry = tree.refresh(checked, size: found.size)
            if known == nil { outcome.changes.append(FileChanged(change: .created, path: path, entry: entry)) }
            guard found.real == checked, let id = byPath[path], let document = documents[id],
                  let (text, _) = try? tree.read(path) else { continue }
            let digest = FileDigest.of(text)
            guard digest != document.diskDigest else { continue }  // the session's own save, or no change
            document.diskDigest = digest
            if document.dirty {
                guard let aside = try? ProjectRecovery.putAside(text, of: path, in: tree, suffix: ".codesync-disk") else {
                    logger.error("\(path) changed on disk and in the session; the disk's version could not be kept aside")
                    continue
                }
                logger.warning("\(path) changed on disk and in the session: the session keeps its text (saved at the next save); the disk's is in \(aside)")
                outcome.changes.append(FileChanged(change: .created, path: aside, entry: tree.entry(aside)))
                continue
            }
            let updates = Self.replace(document.replica, with: text)
            for update in updates { try? document.journal.append(update) }
            if !updates.isEmpty { outcome.edits.append((document, updates)) }
        }
        return outcome
    }

    /// Edits `replica` into `text`: one delete and one insert around the common prefix and suffix.
    static func replace(_ replica: Replica, with text: String) -> [Update] {
        let old = Array(replica.text.unicodeScalars), new = Array(text.unicodeScalars)
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        var updates: [Update] = []
        let removed = old.count - prefix - suffix
        if removed > 0 { updates.append(replica.delete(at: prefix, count: removed)) }
        var inserted = String.UnicodeScalarView()
        inserted.append(contentsOf: new[prefix..<(new.count - suffix)])
        if !inserted.isEmpty { updates.append(replica.insert(String(inserted), at: prefix)) }
        return updates
    }

    // MARK: Saving and housekeeping

    /// Saves every edited document to its file (atomically), or only the one at `only` (a path as a
    /// peer opened it); returns the failures' messages.
    @discardableResult
    func saveAll(only: String? = nil) -> [String] {
        var failures: [String] = []
        var chosen: Int?
        if let only {
            do {
                chosen = byPath[try tree.inspect(try tree.check(only)).real.string]
            } catch {
                return ["cannot save \(ProjectPath.shown(only)): \(error)"]
            }
            // Not open in the session (never edited): nothing to save.
            if chosen == nil { return [] }
        }
        for document in documents.values where document.dirty && (chosen == nil || document.id == chosen) {
            document.journal.sync()
            let text = document.replica.text
            do {
                try tree.write(text, to: document.path)
                try document.journal.recordSaved(text)
                document.dirty = false
                document.diskDigest = FileDigest.of(text)
            } catch {
                failures.append("cannot save \(document.path): \(error)")
            }
        }
        return failures
    }

    /// Starts the background fsync of every journal (each second, like the session's).
    func syncJournals() {
        for document in documents.values { document.journal.syncInBackground() }
    }

    /// Closes every journal (deleting them after a clean save) and releases the locks.
    func close(discardJournals: Bool) {
        watcher?.stop()
        watcher = nil
        for document in documents.values {
            if discardJournals && !document.dirty { document.journal.discard() } else { document.journal.close() }
            document.lock.release()
        }
        documents = [:]
        byPath = [:]
    }

    /// A peer left: it no longer gets the documents' edits.
    func leave(_ peer: String) {
        for document in documents.values { document.members.remove(peer) }
    }
}

/// Puts back what a host of a project left in its per-file journals when it died (`kill -9`, a
/// crash): each file's acknowledged edits are written to the file, or, if the file changed on disk
/// since (a `git pull`), beside it as `NAME.codesync-unsaved`, so nothing is lost or overwritten.
enum ProjectRecovery {
    /// Recovers every journal of `tree`'s root in `directory` that no running host holds; returns what it did.
    static func recover(_ tree: ProjectTree, directory: URL, logger: Logger) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var done: [String] = []
        for name in names where name.hasPrefix("journal-") && name.hasSuffix(".csj") {
            let url = directory.appendingPathComponent(name)
            guard let recovered = try? Journal.recover(url: url, agent: "recovery"), recovered.header.project == tree.root else { continue }
            let file = recovered.header.file
            guard file.hasPrefix(tree.root + "/") else { continue }
            let relative = String(file.dropFirst(tree.root.count + 1))
            guard let lock = try? JournalLock(journal: url, file: URL(fileURLWithPath: file)) else {
                logger.warning("\(relative): its journal is held by another running codesync; left alone")
                continue
            }
            defer { lock.release() }
            let text = recovered.replica.text
            let now = FileDigest.ofFile(URL(fileURLWithPath: file))
            do {
                if now == FileDigest.of(text) {
                    done.append("\(relative): already saved")
                } else if now == nil || now == recovered.header.fileDigest {
                    try tree.write(text, to: relative, mustCreate: now == nil)
                    done.append("\(relative): recovered \(recovered.updates) unsaved edits into the file")
                } else {
                    let aside = try putAside(text, of: relative, in: tree, suffix: ".codesync-unsaved")
                    done.append("\(relative) changed on disk since the unsaved session: that session's text is in \(aside)")
                }
                try? FileManager.default.removeItem(at: url)
            } catch {
                logger.error("\(relative): cannot recover its journal \(url.path): \(error); left in place")
            }
        }
        return done
    }

    /// Writes `text` beside `path` as a new file `PATH` + `suffix` (numbered if taken); returns its path.
    static func putAside(_ text: String, of path: String, in tree: ProjectTree, suffix: String) throws -> String {
        for attempt in 0..<100 {
            let candidate = path + suffix + (attempt == 0 ? "" : "-\(attempt)")
            var info = stat()
            if lstat(tree.root + "/" + candidate, &info) == 0 { continue }
            try tree.write(text, to: candidate, mustCreate: true)
            return candidate
        }
        throw ProjectError.io("100 earlier \(suffix) copies of \(path) exist: remove them")
    }
}

/// How a host serves a folder (`codesync host DIR`).
public struct ProjectOptions: Sendable {
    /// The folder (its real path is what every access is checked against).
    public var root: String
    /// Where the per-file journals go.
    public var stateDirectory: URL
    /// The port the journals remember, so a restarted host keeps its join line.
    public var journalPort: Int
    public var limits = ProjectTree.Limits()
    /// Pick up changes made on disk by other programs (inotify).
    public var watch = true
    public init(root: String, stateDirectory: URL, journalPort: Int) {
        self.root = root; self.stateDirectory = stateDirectory; self.journalPort = journalPort
    }
}
