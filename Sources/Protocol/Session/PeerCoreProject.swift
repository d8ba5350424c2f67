/// One file of a shared folder that this peer opened: its own replica of the file's document.
final class OpenProjectFile {
    /// The host's document id (it may change when the host restarts: a reopen says the new one).
    var doc: Int
    let replica: Replica
    init(doc: Int, replica: Replica) { self.doc = doc; self.replica = replica }
}

/// A peer core's state for a shared folder (`codesync host DIR`): the files it opened, and the
/// requests it numbered that wait for an answer.
struct ProjectCoreState {
    var isProject = false
    var nextRequest = 0
    /// Requests sent and not yet answered (the shell holds who waits for each).
    var outstanding: Set<Int> = []
    /// Opened files, by the path they were opened with.
    var files: [String: OpenProjectFile] = [:]
    /// Files whose `doc.ops` the host refused, by path: their copy was dropped (it held an edit the
    /// host's document never will) and reopened with `req`; `doc` is the refused document.
    var reloading: [String: (req: Int, doc: Int)] = [:]
    /// File changes heard and not yet taken (`takeFileChanges`), at most `maxChanges`.
    var changes: [FileChanged] = []
    static let maxChanges = 10_000
}

/// The answer (or refusal) to a numbered project request, for the shell to hand to whoever waits.
public struct RequestAnswer: Equatable, Sendable {
    public var req: Int
    public var result: Result<WireMessage, SessionError>
}

/// A shared folder from the core's side: files' replicas, numbered requests, reloads after refusals.
///
/// A file's remote edits are applied as they arrive (unlike the main document, which waits for
/// `poll`): offsets into a file are valid only until the next input.
extension PeerCore {
    /// True when the session shares a folder.
    public var isProject: Bool { project.isProject }

    /// The text of an opened file, nil when it is not open.
    public func fileText(_ path: String) -> String? { project.files[path]?.replica.text }

    /// Paths of the files this peer has open.
    public var openFiles: [String] { project.files.keys.sorted() }

    /// Inserts `text` at a scalar offset (clamped) of an opened file.
    public func insert(_ text: String, at offset: Int, inFile path: String) throws -> Output {
        let file = try openedFile(path)
        return Output(send: docOpsMessages(file.replica.insert(text, at: offset), doc: file.doc))
    }

    /// Deletes `count` scalars at `offset` (clamped) of an opened file.
    public func delete(at offset: Int, count: Int, inFile path: String) throws -> Output {
        let file = try openedFile(path)
        return Output(send: docOpsMessages(file.replica.delete(at: offset, count: count), doc: file.doc))
    }

    /// Deletes `count` scalars at `offset`, then inserts `text` there, in the opened file `path`,
    /// where the offsets are in `seen` (an editor's own copy of the text, which may be a few remote
    /// edits behind the file's replica): they are carried over those edits first (`TextDiff`).
    public func editFile(_ path: String, seen: String, offset: Int, delete count: Int, insert text: String) throws -> Output {
        let file = try openedFile(path)
        var start = offset, end = offset + max(0, count)
        if let change = TextDiff.change(from: seen, to: file.replica.text) {
            start = TextDiff.transform(start, through: change)
            end = max(start, TextDiff.transform(end, through: change))
        }
        var out = Output()
        if end > start { out.send += docOpsMessages(file.replica.delete(at: start, count: end - start), doc: file.doc) }
        if !text.isEmpty { out.send += docOpsMessages(file.replica.insert(text, at: start), doc: file.doc) }
        return out
    }

    /// Shares this peer's caret (and selection) in the opened file `path`, offsets in its text now;
    /// other peers see which file this peer is in. Nothing changes when the file is not open.
    public func setPresence(cursor: Int, selection: Range<Int>?, inFile path: String) -> Output {
        guard let file = project.files[path] else { return Output() }
        return setPresence(cursor: cursor, selection: selection, file: path, in: file.replica)
    }

    /// The file this peer's caret is in (nil: the session's own document).
    public var presenceFile: String? { myFile }

    /// Undoes this peer's last edit group in the opened file `path`; false when there was none.
    public func undoFile(_ path: String) -> (done: Bool, output: Output) {
        guard let file = project.files[path], let (update, _) = file.replica.undo() else { return (false, Output()) }
        return (true, Output(send: docOpsMessages(update, doc: file.doc)))
    }

    /// Redoes the last undone group in the opened file `path`; false when there was none.
    public func redoFile(_ path: String) -> (done: Bool, output: Output) {
        guard let file = project.files[path], let (update, _) = file.replica.redo() else { return (false, Output()) }
        return (true, Output(send: docOpsMessages(update, doc: file.doc)))
    }

    /// Ends the current undo group of the opened file `path`.
    public func closeUndoGroup(inFile path: String) { project.files[path]?.replica.closeUndoGroup() }

    /// The file changes (created, renamed, deleted, by anyone) heard since the last call.
    public func takeFileChanges() -> [FileChanged] {
        defer { project.changes = [] }
        return project.changes
    }

    /// Numbers a request and returns it with the message to send; nil when no link is welcomed.
    public func request(_ make: (Int) -> WireMessage) -> (req: Int, output: Output)? {
        guard isLinked else { return nil }
        project.nextRequest += 1
        let req = project.nextRequest
        project.outstanding.insert(req)
        return (req, Output(send: [make(req)]))
    }

    /// The shell gave up waiting for `req` (its timeout): a late answer is then ignored.
    public func forget(_ req: Int) { project.outstanding.remove(req) }

    // MARK: Internals

    /// The open file at `path`; an error when it is not open or is being reloaded.
    private func openedFile(_ path: String) throws -> OpenProjectFile {
        if let file = project.files[path] { return file }
        if project.reloading[path] != nil {
            throw SessionError.refused("\(path) is being reloaded from the host after a refused edit: try again in a moment")
        }
        throw SessionError.refused("\(path) is not open: open it first")
    }

    /// One file's update as `doc.ops`, cut in parts like `ops` when large (none without a link: a
    /// reopen after the next welcome catches up from version vectors).
    private func docOpsMessages(_ update: Update, doc: Int) -> [WireMessage] {
        guard !update.isEmpty, isLinked else { return [] }
        let budget = min(config.maxPayload, Update.partBudget) - Update.partEnvelope
        return update.split(maxBytes: budget).map { .docOps(DocOps(doc: doc, peer: id, seq: nextSeq(), update: $0)) }
    }

    /// After a (re)connection: asks again for every open file with what this peer has, so both sides
    /// catch up. The answers carry no `req`.
    func reopenMessages() -> [WireMessage] {
        let reopens = project.files.sorted { $0.key < $1.key }.map { path, file -> WireMessage in
            .fileOpen(FileOpen(req: nil, path: path, known: file.replica.version))
        }
        let reloads = project.reloading.sorted { $0.key < $1.key }.map { path, reload -> WireMessage in
            .fileOpen(FileOpen(req: reload.req, path: path))
        }
        return reopens + reloads
    }

    /// Takes `req` off the outstanding ones: true when it was waiting.
    private func settle(_ req: Int?) -> Bool {
        guard let req else { return false }
        return project.outstanding.remove(req) != nil
    }

    /// A project message from the host; nil for every other message.
    func receiveProject(_ message: WireMessage) -> (answer: RequestAnswer?, output: Output)? {
        switch message {
        case .files(let page):
            guard settle(page.req) else { return (nil, Output()) }
            return (RequestAnswer(req: page.req, result: .success(message)), Output())
        case .fileState(let state):
            let waiting = settle(state.req)
            // A document nobody asked for (neither a first open nor a reopen) is not taken.
            guard waiting || project.files[state.path] != nil || project.reloading[state.path] != nil else { return (nil, Output()) }
            do {
                let output = try applyFileState(state)
                return (waiting ? RequestAnswer(req: state.req!, result: .success(message)) : nil, output)
            } catch {
                let refusal = SessionError.refused("the host sent a bad document for \(state.path): \(error)")
                return (waiting ? RequestAnswer(req: state.req!, result: .failure(refusal)) : nil, Output())
            }
        case .docOps(let ops):
            // Another member's edit of a file this peer has open; a bad one is dropped, never half-applied.
            if let file = project.files.values.first(where: { $0.doc == ops.doc }) {
                _ = try? file.replica.apply(ops.update)
            }
            return (nil, Output())
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
            if project.changes.count < ProjectCoreState.maxChanges { project.changes.append(changed) }
            guard let req = changed.req, settle(req) else { return (nil, Output()) }
            return (RequestAnswer(req: req, result: .success(message)), Output())
        case .refused(let refused):
            // A reload's own reopen refused: the file is closed, and the owner hears it.
            if refused.what == "file.open", let req = refused.req,
               let path = project.reloading.first(where: { $0.value.req == req })?.key {
                project.outstanding.remove(req)
                project.reloading[path] = nil
                enqueueError("\(path) could not be reloaded after your refused edit: \(refused.message); it is closed")
                return (nil, Output(wake: true))
            }
            if let req = refused.req, settle(req) {
                return (RequestAnswer(req: req, result: .failure(.refused("the host refused your \(refused.what): \(refused.message)"))), Output())
            }
            if refused.what == "doc.ops", let doc = refused.doc {
                // Answered and dropped: when every earlier seq is stored, the bookkeeping moves past it
                // (the copy holding it is dropped below), so an idle watcher is synced again.
                if let refusedSeq = refused.seq { refusedDocOps(seq: refusedSeq) }
                return reloadRefused(doc, refused.message)
            }
            return nil
        default:
            return nil
        }
    }

    /// The host refused a `doc.ops` of document `doc`: this copy of the file holds an edit the
    /// host's never will, and later edits may build on it (the host refuses them until a reopen).
    /// So the copy is dropped and the file opened afresh, and the owner is told which file and why;
    /// other files are untouched. Nil (shown as a plain refusal) for a document not open here.
    private func reloadRefused(_ doc: Int, _ reason: String) -> (answer: RequestAnswer?, output: Output)? {
        // More refusals of the same document, sent before the reopen reached the host: already handled.
        if project.reloading.values.contains(where: { $0.doc == doc }) { return (nil, Output()) }
        guard let path = project.files.first(where: { $0.value.doc == doc })?.key else { return nil }
        project.files[path] = nil
        project.nextRequest += 1
        project.reloading[path] = (req: project.nextRequest, doc: doc)
        project.outstanding.insert(project.nextRequest)
        enqueueError("the host refused your doc.ops for \(path): \(reason) (the file is reloaded with the host's text)")
        return (nil, Output(send: [.fileOpen(FileOpen(req: project.nextRequest, path: path))], wake: true))
    }

    /// A file's document from the host: a first open makes the replica, a reopen catches up both
    /// ways, a reload after a refusal replaces the dropped copy.
    private func applyFileState(_ state: FileState) throws -> Output {
        // Whichever answer comes first (the reload's or another open's) ends a reload: it is the host's document.
        if let reload = project.reloading.removeValue(forKey: state.path) { project.outstanding.remove(reload.req) }
        if let file = project.files[state.path] {
            file.doc = state.doc
            _ = try file.replica.apply(state.update)
            return Output(send: docOpsMessages(file.replica.updates(since: state.known), doc: state.doc))
        }
        // Same agent id: the host stored none of this copy's edits from the refused one on, so new
        // edits may reuse their numbers.
        let replica = Replica(agent: id)
        _ = try replica.apply(state.update)
        project.files[state.path] = OpenProjectFile(doc: state.doc, replica: replica)
        return Output()
    }
}
