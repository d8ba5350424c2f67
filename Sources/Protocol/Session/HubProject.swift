import Foundation
import NIOCore

/// The hub's side of a shared folder: listing, opening, per-file edits and file changes, each
/// checked (roles, the document's membership, authorship, paths) before anything happens.
extension Hub {
    /// A project message from a member (`files.list`, `file.open`, `doc.ops`, `file.create/rename/delete`).
    func receiveProject(_ message: WireMessage, payload: ByteBuffer, from connection: ServerConnection) {
        guard let project else {
            connection.send(.refused(Refused(what: message.type, message: "this session shares one file, not a folder", req: message.projectRequest)))
            return
        }
        switch message {
        case .filesList(let list):
            connection.send(.files(project.page(list)))
        case .fileOpen(let open):
            openFile(open, in: project, for: connection)
        case .docOps(let ops):
            receiveDocOps(ops, payload: payload, in: project, from: connection)
        case .fileCreate(let request), .fileRename(let request), .fileDelete(let request):
            changeFile(message.type, request, in: project, from: connection)
        default:
            break
        }
    }

    /// Files changed on disk by another program (the watcher's batch): open documents' members get
    /// the edits as `doc.ops` (seq 0, authored by the file's own agent), everyone the index changes.
    func diskChanged(_ paths: Set<String>) {
        guard let project else { return }
        let outcome = project.diskChanged(paths)
        for (document, updates) in outcome.edits {
            for update in updates {
                let message = WireMessage.docOps(DocOps(doc: document.id, peer: document.replica.agent, seq: 0, update: update))
                guard let frame = try? MessageCodec.frame(message, maxPayload: limits.maxPayload) else { continue }
                for peer in document.members {
                    if let member = members[peer], member.openedDocs.contains(document.id) { member.send(frame: frame) }
                }
            }
            logger.info("\(document.path) changed on disk: the session took the new text")
        }
        for change in outcome.changes { broadcast(.fileChanged(change), except: nil) }
        if paths.contains(ProjectRunSettings.fileName) { announceRunSettings() }
    }

    /// Reads `.codesync.json` again and tells everyone if it changed: a guest sees the command a
    /// run will use before it asks for one.
    func announceRunSettings() {
        guard let project, let settings = project.refreshRunSettings() else { return }
        broadcast(.runConfig(settings), except: nil)
    }

    private func refuse(_ what: String, _ error: ProjectError, req: Int?, to connection: ServerConnection) {
        let message: String
        if case .io = error {
            // The host's own paths and errors stay in its log: a guest learns nothing of the disk outside the tree.
            logger.warning("\(connection.describe): \(what): \(error)")
            message = "the host could not do it (its file system refused; the host's log says why)"
        } else {
            message = error.description
        }
        connection.send(.refused(Refused(what: what, message: message, req: req)))
    }

    private func openFile(_ open: FileOpen, in project: ProjectHost, for connection: ServerConnection) {
        let document: ProjectDocument
        do {
            document = try project.open(open.path, by: connection.peer)
        } catch {
            refuse("file.open", error as? ProjectError ?? .io("\(error)"), req: open.req, to: connection)
            return
        }
        connection.openedDocs.insert(document.id)
        // A (re)open hands the peer the host's document to rebuild its copy from: its edits after
        // this build on that, not on a refused one.
        connection.docOpsRefused.remove(document.id)
        let state = FileState(req: open.req, doc: document.id, path: open.path,
                              update: document.replica.updates(since: open.known ?? VersionVector()), known: document.replica.version)
        guard let frame = try? MessageCodec.frame(.fileState(state), maxPayload: limits.maxPayload) else {
            connection.send(.refused(Refused(what: "file.open", message: "\(ProjectPath.shown(open.path)) has grown too large to send in one frame", req: open.req)))
            return
        }
        connection.send(frame: frame)
    }

    private func receiveDocOps(_ ops: DocOps, payload: ByteBuffer, in project: ProjectHost, from connection: ServerConnection) {
        guard connection.openedDocs.contains(ops.doc), let document = project.document(ops.doc) else {
            connection.send(.refused(Refused(what: "doc.ops", message: "document \(ops.doc) is not open on this connection (open its file first): your edit was not applied", doc: ops.doc, seq: ops.seq)))
            return
        }
        var refused = connection.docOpsRefused.contains(ops.doc)
        defer { if refused { connection.docOpsRefused.insert(ops.doc) } }
        guard admitEdit(ops.update, to: document.replica, what: "doc.ops", refusedBefore: &refused, from: connection,
                    reload: "reopen the file for the current document", doc: ops.doc, seq: ops.seq) else { return }
        let frame = FrameEncoder.frame(payload.readableBytesView)
        for peer in document.members where peer != connection.peer {
            if let member = members[peer], member.openedDocs.contains(document.id) { member.send(frame: frame) }
        }
        document.dirty = true
        do {
            try document.journal.append(ops.update)
            try document.journal.compactIfNeeded(document.replica)
        } catch {
            // Not acknowledged: the peer keeps the edit and resends it.
            logger.error("journal write for \(document.path) failed, edits are not acknowledged: \(error)")
            return
        }
        connection.acknowledge(ops.seq)
    }

    private func changeFile(_ what: String, _ request: FileRequest, in project: ProjectHost, from connection: ServerConnection) {
        guard connection.access.canEdit else {
            connection.send(.refused(Refused(what: what, message: "you may only watch this session: files are not changed for you", req: request.req)))
            return
        }
        let result: FileChanged
        do {
            result = try applyChange(what, request, in: project, by: connection.peer)
        } catch {
            refuse(what, error as? ProjectError ?? .io("\(error)"), req: request.req, to: connection)
            return
        }
        let target = result.to.map { " → " + $0 } ?? ""
        let summary = "\(connection.name) \(result.change.rawValue) \(result.path)\(target)"
        logger.info("\(summary)")
        broadcast(.fileChanged(result), except: connection.peer)
        var answer = result
        answer.req = request.req
        connection.send(.fileChanged(answer))
    }
}

extension Hub {
    /// Does a create, rename or delete; the change to tell everyone.
    fileprivate func applyChange(_ what: String, _ request: FileRequest, in project: ProjectHost, by peer: String) throws -> FileChanged {
        switch what {
        case "file.create":
            let entry = try project.create(request.path, text: request.text ?? "")
            return FileChanged(change: .created, path: request.path, entry: entry, by: peer)
        case "file.rename":
            guard let to = request.to else { throw ProjectError.refused("file.rename needs the new path in `to`") }
            let entry = try project.rename(request.path, to: to)
            return FileChanged(change: .renamed, path: request.path, to: to, entry: entry, by: peer)
        default:
            try project.delete(request.path)
            return FileChanged(change: .deleted, path: request.path, by: peer)
        }
    }
}

extension WireMessage {
    /// The `req` of a project request, to echo in a refusal.
    var projectRequest: Int? {
        switch self {
        case .filesList(let m): m.req
        case .fileOpen(let m): m.req
        case .fileCreate(let m), .fileRename(let m), .fileDelete(let m): m.req
        default: nil
        }
    }
}
