import Foundation
import NIOCore

/// One file of a shared folder that this peer opened: its own replica of the file's document.
final class OpenProjectFile {
    /// The host's document id (it may change when the host restarts: a reopen says the new one).
    var doc: Int
    let replica: Replica
    init(doc: Int, replica: Replica) { self.doc = doc; self.replica = replica }
}

/// A peer's state for a shared folder; guarded by the peer's lock.
struct ProjectClientState {
    var isProject = false
    var nextRequest = 0
    var pending: [Int: CheckedContinuation<WireMessage, any Error>] = [:]
    /// Opened files, by the path they were opened with.
    var files: [String: OpenProjectFile] = [:]
    /// Files whose `doc.ops` the host refused, by path: their copy was dropped (it held an edit the
    /// host's document never will) and reopened with `req`; `doc` is the refused document.
    var reloading: [String: (req: Int, doc: Int)] = [:]
    /// File changes heard and not yet taken (`takeFileChanges`), at most `maxChanges`.
    var changes: [FileChanged] = []
    static let maxChanges = 10_000
}

/// A shared folder (`codesync host DIR`) from a peer's side: list, open, edit and change files.
///
/// A file's remote edits are applied on the network thread as they arrive (unlike the session's
/// main document, which applies them in `poll`): offsets into a file are valid only until the next
/// call. Every request is answered or refused by the host; one it never answers fails after 30 s.
extension CollaborationPeer {
    /// True when the session shares a folder.
    public var isProject: Bool { withLock { project.isProject } }

    /// The whole index of the shared folder, in path order; `truncated` when the host indexed only part.
    public func listFiles() async throws -> (entries: [ProjectEntry], truncated: Bool) {
        var entries: [ProjectEntry] = []
        var truncated = false
        // A hostile host could announce pages forever: the host's own limit is 100 pages.
        for _ in 0..<1000 {
            let from = entries.count
            let answer = try await request { .filesList(FilesList(req: $0, from: from)) }
            guard case .files(let page) = answer, page.from == from else {
                throw SessionError.rejected("the host answered files.list with \(answer.type)")
            }
            entries += page.entries
            truncated = page.truncated == true
            if page.entries.isEmpty || entries.count >= page.total { return (entries, truncated) }
        }
        throw SessionError.rejected("the host's file list did not end after 1000 pages")
    }

    /// Opens the file at `path` (relative to the shared folder) and returns its text.
    @discardableResult
    public func openFile(_ path: String) async throws -> String {
        if let text = fileText(path) { return text }
        let answer = try await request { .fileOpen(FileOpen(req: $0, path: path)) }
        guard case .fileState = answer, let text = fileText(path) else {
            throw SessionError.rejected("the host answered file.open with \(answer.type)")
        }
        return text
    }

    /// The text of an opened file, nil when it is not open.
    public func fileText(_ path: String) -> String? { withLock { project.files[path]?.replica.text } }

    /// Paths of the files this peer has open.
    public var openFiles: [String] { withLock { project.files.keys.sorted() } }

    /// Inserts `text` at a scalar offset (clamped) of an opened file and sends it.
    public func insert(_ text: String, at offset: Int, inFile path: String) throws {
        try withLock {
            let file = try openedFile(path)
            sendDocOps(file.replica.insert(text, at: offset), doc: file.doc)
        }
    }

    /// Deletes `count` scalars at `offset` (clamped) of an opened file and sends it.
    public func delete(at offset: Int, count: Int, inFile path: String) throws {
        try withLock {
            let file = try openedFile(path)
            sendDocOps(file.replica.delete(at: offset, count: count), doc: file.doc)
        }
    }

    /// Creates a file (and missing folders) in the shared folder; refused if it exists.
    public func createFile(_ path: String, text: String = "") async throws {
        _ = try await request { .fileCreate(FileRequest(req: $0, path: path, text: text)) }
    }

    /// Renames a file of the shared folder; refused if `newPath` exists.
    public func renameFile(_ path: String, to newPath: String) async throws {
        _ = try await request { .fileRename(FileRequest(req: $0, path: path, to: newPath)) }
    }

    /// Deletes a file of the shared folder.
    public func deleteFile(_ path: String) async throws {
        _ = try await request { .fileDelete(FileRequest(req: $0, path: path)) }
    }

    /// The file changes (created, renamed, deleted, by anyone) heard since the last call.
    public func takeFileChanges() -> [FileChanged] {
        withLock {
            defer { project.changes = [] }
            return project.changes
        }
    }

    // MARK: Internals

    /// The open file at `path` (lock held); an error when it is not open or is being reloaded.
    private func openedFile(_ path: String) throws -> OpenProjectFile {
        if let file = project.files[path] { return file }
        if project.reloading[path] != nil {
            throw SessionError.rejected("\(path) is being reloaded from the host after a refused edit: try again in a moment")
        }
        throw SessionError.rejected("\(path) is not open: open it first")
    }

    /// Sends a request numbered by this peer and waits for its answer (or refusal, as an error).
    private func request(_ make: @escaping (Int) -> WireMessage) async throws -> WireMessage {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<WireMessage, any Error>) in
            if !register(continuation, make) {
                continuation.resume(throwing: SessionError.rejected("not connected to the session"))
            }
        }
    }

    /// Numbers and sends a request, its continuation waiting for the answer; false when not connected.
    private func register(_ continuation: CheckedContinuation<WireMessage, any Error>, _ make: (Int) -> WireMessage) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let link, link.isWelcomed else { return false }
        project.nextRequest += 1
        let req = project.nextRequest
        project.pending[req] = continuation
        link.send(make(req))
        group.next().scheduleTask(in: .seconds(30)) { [weak self] in
            self?.failRequest(req, SessionError.timedOut("the host did not answer within 30 s (an older host without shared folders?)"))
        }
        return true
    }

    private func failRequest(_ req: Int, _ error: any Error) {
        let waiting = withLock { project.pending.removeValue(forKey: req) }
        waiting?.resume(throwing: error)
    }

    /// Fails every request still waiting (the link went away).
    func failProjectRequests(_ error: any Error) {
        let waiting = withLock {
            defer { project.pending = [:] }
            return Array(project.pending.values)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
    }

    /// Sends one file's update as `doc.ops` (lock held); cut in parts like `ops` when large.
    func sendDocOps(_ update: Update, doc: Int) {
        guard !update.isEmpty, let link, link.isWelcomed else { return }
        let budget = min(options.limits.maxPayload, Update.partBudget) - Update.partEnvelope
        for part in update.split(maxBytes: budget) {
            seq += 1
            link.send(.docOps(DocOps(doc: doc, peer: id, seq: seq, update: part)))
        }
    }

    /// After a (re)connection: asks again for every open file with what this peer has, so both sides
    /// catch up (lock held). The answers carry no `req`.
    func reopenFiles(on handler: ClientConnection) {
        for (path, file) in project.files {
            handler.send(.fileOpen(FileOpen(req: nil, path: path, known: file.replica.version)))
        }
        for (path, reload) in project.reloading {
            handler.send(.fileOpen(FileOpen(req: reload.req, path: path)))
        }
    }

    /// Handles a project message from the host; false for every other message.
    func receivedProject(_ message: WireMessage, on handler: ClientConnection) -> Bool {
        let (handled, resume) = withLock { handleProject(message, on: handler) }
        if let (continuation, result) = resume { continuation.resume(with: result) }
        return handled
    }

    private typealias Resumption = (CheckedContinuation<WireMessage, any Error>, Result<WireMessage, any Error>)

    /// `receivedProject` with the lock held: whether the message was a project one, and the request it answers.
    private func handleProject(_ message: WireMessage, on handler: ClientConnection) -> (Bool, Resumption?) {
        guard link === handler else { return (false, nil) }
        switch message {
        case .files(let page):
            guard let waiting = project.pending.removeValue(forKey: page.req) else { return (true, nil) }
            return (true, (waiting, .success(message)))
        case .fileState(let state):
            let waiting = state.req.flatMap { project.pending.removeValue(forKey: $0) }
            // A document nobody asked for (neither a first open nor a reopen) is not taken.
            guard waiting != nil || project.files[state.path] != nil || project.reloading[state.path] != nil else { return (true, nil) }
            do {
                try applyFileState(state, on: handler)
                return (true, waiting.map { ($0, .success(message)) })
            } catch {
                return (true, waiting.map { ($0, .failure(SessionError.rejected("the host sent a bad document for \(state.path): \(error)"))) })
            }
        case .docOps(let ops):
            // Another member's edit of a file this peer has open; a bad one is dropped, never half-applied.
            if let file = project.files.values.first(where: { $0.doc == ops.doc }) {
                _ = try? file.replica.apply(ops.update)
            }
            return (true, nil)
        case .fileChanged(let changed):
            switch changed.change {
            case .renamed:
                if let to = changed.to, let file = project.files.removeValue(forKey: changed.path) { project.files[to] = file }
                if let to = changed.to, let reload = project.reloading.removeValue(forKey: changed.path) { project.reloading[to] = reload }
            case .deleted:
                project.files[changed.path] = nil
                project.reloading[changed.path] = nil
            case .created:
                break
            }
            if project.changes.count < ProjectClientState.maxChanges { project.changes.append(changed) }
            guard let req = changed.req, let waiting = project.pending.removeValue(forKey: req) else { return (true, nil) }
            return (true, (waiting, .success(message)))
        case .refused(let refused):
            if let req = refused.req, let waiting = project.pending.removeValue(forKey: req) {
                return (true, (waiting, .failure(SessionError.rejected("the host refused your \(refused.what): \(refused.message)"))))
            }
            if refused.what == "doc.ops", let doc = refused.doc {
                // Answered and dropped: when every earlier seq is stored, the bookkeeping moves past it
                // (the copy holding it is dropped below), so an idle watcher is synced again.
                if let refusedSeq = refused.seq, acked == refusedSeq - 1 { acked = refusedSeq }
                return (reloadRefused(doc, refused.message, on: handler), nil)
            }
            if refused.what == "file.open", let req = refused.req,
               let path = project.reloading.first(where: { $0.value.req == req })?.key {
                project.reloading[path] = nil
                push(.error("\(path) could not be reloaded after your refused edit: \(refused.message); it is closed"))
                return (true, nil)
            }
            return (false, nil)
        default:
            return (false, nil)
        }
    }

    /// The host refused a `doc.ops` of document `doc` (lock held): this copy of the file holds an edit
    /// the host's never will, and later edits may build on it (the host refuses them until a reopen).
    /// So the copy is dropped and the file opened afresh, and the peer is told which file and why;
    /// other files are untouched. False (shown as a plain refusal) for a document not open here.
    private func reloadRefused(_ doc: Int, _ reason: String, on handler: ClientConnection) -> Bool {
        // More refusals of the same document, sent before the reopen reached the host: already handled.
        if project.reloading.values.contains(where: { $0.doc == doc }) { return true }
        guard let path = project.files.first(where: { $0.value.doc == doc })?.key else { return false }
        project.files[path] = nil
        project.nextRequest += 1
        project.reloading[path] = (req: project.nextRequest, doc: doc)
        handler.send(.fileOpen(FileOpen(req: project.nextRequest, path: path)))
        push(.error("the host refused your doc.ops for \(path): \(reason) (the file is reloaded with the host's text)"))
        return true
    }

    /// A file's document from the host (lock held): a first open makes the replica, a reopen catches
    /// up both ways, a reload after a refusal replaces the dropped copy.
    private func applyFileState(_ state: FileState, on handler: ClientConnection) throws {
        // Whichever answer comes first (the reload's or another open's) ends a reload: it is the host's document.
        project.reloading[state.path] = nil
        if let file = project.files[state.path] {
            file.doc = state.doc
            _ = try file.replica.apply(state.update)
            let missing = file.replica.updates(since: state.known)
            if !missing.isEmpty { sendDocOps(missing, doc: state.doc) }
            return
        }
        // Same agent id: the host stored none of this copy's edits from the refused one on, so new
        // edits may reuse their numbers.
        let replica = Replica(agent: id)
        _ = try replica.apply(state.update)
        project.files[state.path] = OpenProjectFile(doc: state.doc, replica: replica)
    }
}
