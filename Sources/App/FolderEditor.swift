import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import Foundation

/// The editor's document in a shared folder: edits go to the file shown. It keeps the text the model
/// has (`seen`): a file's remote edits arrive on the network thread, so the peer carries each local
/// edit over those the model has not seen yet, and `catchUp` hands the model the difference.
/// Used on the editor thread only.
final class FolderDocument: EditorDocument {
    let peer: CollaborationPeer
    /// The file shown (as listed by the host); nil when none is open.
    private(set) var path: String?
    /// The text of `path` as the model has it.
    private(set) var seen = ""
    /// Edits the peer could not send (the file was closed under them), for the status bar.
    private var errors: [String] = []

    init(peer: CollaborationPeer) {
        self.peer = peer
    }

    var text: String { seen }

    func insert(_ text: String, at offset: Int) { edit(offset: offset, delete: 0, insert: text) }
    func delete(at offset: Int, count: Int) { edit(offset: offset, delete: count, insert: "") }

    func closeUndoGroup() {
        if let path { peer.closeUndoGroup(inFile: path) }
    }

    func undo() -> [EditorChange]? { step(peer.undoFile) }
    func redo() -> [EditorChange]? { step(peer.redoFile) }

    /// Shows `path`, whose text is `text` now.
    func show(_ path: String, text: String) {
        self.path = path
        seen = text
    }

    /// The file shown was renamed (by anyone).
    func renamed(from: String, to: String) {
        if path == from { path = to }
    }

    /// The file shown was deleted: nothing is shown.
    func closed(_ gone: String) {
        guard path == gone else { return }
        path = nil
        seen = ""
    }

    /// What changed in the file shown since the model last saw it (remote edits), as one change.
    func catchUp() -> EditorChange? {
        guard let path, let now = peer.fileText(path), let change = TextDiff.change(from: seen, to: now) else { return nil }
        seen = now
        return change
    }

    /// Edits that failed since the last call.
    func takeErrors() -> [String] {
        defer { errors = [] }
        return errors
    }

    private func edit(offset: Int, delete count: Int, insert text: String) {
        guard let path else { return }
        do {
            try peer.editFile(path, seen: seen, offset: offset, delete: count, insert: text)
        } catch {
            // The model shows the edit all the same; `catchUp` takes it back from the screen.
            errors.append("your edit of \(TerminalSanitizer.line(path)) was not sent: \(error)")
        }
        seen = Self.replacing(in: seen, offset: offset, count: count, with: text)
    }

    /// Undo and redo change the file's document; the model gets the difference (with any remote edits).
    private func step(_ action: (String) -> Bool) -> [EditorChange]? {
        guard let path, action(path) else { return nil }
        guard let change = catchUp() else { return [] }
        return [change]
    }

    static func replacing(in text: String, offset: Int, count: Int, with inserted: String) -> String {
        var scalars = text.unicodeScalars
        let start = scalars.index(scalars.startIndex, offsetBy: min(max(0, offset), scalars.count))
        let end = scalars.index(start, offsetBy: min(max(0, count), scalars.distance(from: start, to: scalars.endIndex)))
        scalars.replaceSubrange(start..<end, with: inserted.unicodeScalars)
        return String(scalars)
    }
}

/// A shared folder in the editor (`codesync host DIR`, or joining such a session): lists the files,
/// opens them (each its own document), creates, renames and deletes them, and turns what others do
/// into editor events. Requests run as tasks; their outcomes and the folder's changes reach the
/// model in `poll`, on the editor thread.
final class FolderSession: @unchecked Sendable {
    let peer: CollaborationPeer
    let document: FolderDocument
    /// The file shown, for the analyzer's language (read off the editor thread).
    let shownName = SharedName()
    private let lock = NSLock()
    private var outcomes: [Outcome] = []
    /// The index as the host listed it, kept current from `file.changed` (editor thread).
    private var entries: [ProjectEntry] = []
    private var wake: (@Sendable () -> Void)?

    private enum Outcome {
        case listed([ProjectEntry], truncated: Bool)
        case opened(String)
        case failed(path: String?, reason: String)
        case created(String)
        case done(String)
    }

    /// The host's own editor (its peers list also gives the status bar's count).
    private let isHost: Bool

    init(peer: CollaborationPeer, isHost: Bool) {
        self.peer = peer
        self.isHost = isHost
        document = FolderDocument(peer: peer)
    }

    /// Lists the folder and opens the first file to show; `wake` nudges the editor loop.
    func start(wake: @escaping @Sendable () -> Void) {
        self.wake = wake
        let peer = self.peer
        Task {
            do {
                let (entries, truncated) = try await peer.listFiles()
                self.deliver(.listed(entries, truncated: truncated))
                if let first = Self.firstFile(entries) {
                    try await peer.openFile(first)
                    self.deliver(.opened(first))
                }
            } catch {
                self.deliver(.failed(path: nil, reason: "cannot list the shared folder: \(error)"))
            }
        }
    }

    /// The file shown first: a README at the top of the folder, else the first text file in path order.
    static func firstFile(_ entries: [ProjectEntry]) -> String? {
        let texts = entries.filter { $0.kind == .text && TerminalSanitizer.line($0.path) == $0.path }
        return texts.first { !$0.path.contains("/") && $0.path.lowercased().hasPrefix("readme") }?.path ?? texts.first?.path
    }

    /// Carries out a command of the model (editor thread); the outcome comes back through `poll`.
    func handle(_ command: FileCommand, host: HostSession?) {
        if case .saveAll = command, let host {
            // Waited for here, like Ctrl-S: it comes right before a quit, which must not outrun it.
            do {
                try blockingAwait { try await host.save() }
            } catch {
                deliver(.failed(path: nil, reason: "save failed: \(error)"))
            }
            return
        }
        let peer = self.peer
        Task {
            switch command {
            case .open(let path):
                do {
                    try await peer.openFile(path)
                    self.deliver(.opened(path))
                } catch {
                    self.deliver(.failed(path: path, reason: "\(error)"))
                }
            case .create(let path):
                do {
                    try await peer.createFile(path)
                    self.deliver(.created(path))
                } catch {
                    self.deliver(.failed(path: nil, reason: "cannot create \(path): \(error)"))
                }
            case .rename(let from, let to):
                do {
                    try await peer.renameFile(from, to: to)
                    self.deliver(.done("renamed \(from) to \(to)"))
                } catch {
                    self.deliver(.failed(path: nil, reason: "cannot rename \(from): \(error)"))
                }
            case .delete(let path):
                do {
                    try await peer.deleteFile(path)
                    self.deliver(.done("deleted \(path)"))
                } catch {
                    self.deliver(.failed(path: nil, reason: "cannot delete \(path): \(error)"))
                }
            case .saveAll:
                break
            }
        }
    }

    private func deliver(_ outcome: Outcome) {
        lock.lock()
        outcomes.append(outcome)
        lock.unlock()
        wake?()
    }

    /// The editor events of everything that happened since the last call (editor thread).
    func poll() -> [EditorEvent] {
        lock.lock()
        let taken = outcomes
        outcomes = []
        lock.unlock()
        var events: [EditorEvent] = []
        // The file shown first catches up with its remote edits, before any switch.
        var peersMoved = false
        if let change = document.catchUp() {
            events.append(.remoteChanges([change]))
            peersMoved = true
        }
        for error in document.takeErrors() { events.append(.message(error, isError: true)) }
        var listChanged = false
        for change in peer.takeFileChanges() {
            listChanged = true
            events += apply(change)
        }
        for outcome in taken {
            switch outcome {
            case .listed(let list, let truncated):
                entries = list
                listChanged = true
                if truncated { events.append(.notice("the host lists only the first \(list.count) files of this folder")) }
            case .opened(let path):
                guard let text = peer.fileText(path) else {
                    events.append(.fileOpenFailed(path: path, reason: "it was closed before it could be shown"))
                    continue
                }
                document.show(path, text: text)
                shownName.value = path
                events.append(.fileOpened(path: path, text: text))
                peersMoved = true
            case .failed(let path?, let reason):
                events.append(.fileOpenFailed(path: path, reason: reason))
            case .failed(nil, let reason):
                events.append(.message(reason, isError: true))
            case .created(let path):
                events.append(.message("created \(path)", isError: false))
                handle(.open(path), host: nil)
            case .done(let text):
                events.append(.message(text, isError: false))
            }
        }
        if listChanged {
            // Before the events that refer to the new list (a rename shown, a file opened).
            events.insert(.projectFiles(entries.map(Self.file)), at: 0)
        }
        if peersMoved {
            // Peers' cursors in a file are resolved in this peer's copy of it: anew once it is shown
            // (anchors heard before it was open), and after its remote edits.
            events += SessionEvents.editorEvents(for: .peersChanged(peer.presences), isHost: isHost)
        }
        return events
    }

    /// Keeps the index and the document shown current after a file changed.
    private func apply(_ change: FileChanged) -> [EditorEvent] {
        let who = change.by.map { id in id == peer.id ? "you" : peer.presences.first { $0.id == id }.map { TerminalSanitizer.line($0.name) } ?? "someone" } ?? "the host's disk"
        let path = TerminalSanitizer.line(change.path)
        switch change.change {
        case .created:
            if let entry = change.entry, !entries.contains(where: { $0.path == entry.path }) {
                entries.append(entry)
                entries.sort { $0.path < $1.path }
            }
            return change.by == peer.id ? [] : [.notice("\(who) created \(path)")]
        case .renamed:
            guard let to = change.to else { return [] }
            entries.removeAll { $0.path == change.path || $0.path == to }
            entries.append(change.entry ?? ProjectEntry(path: to, size: 0, kind: .text))
            entries.sort { $0.path < $1.path }
            document.renamed(from: change.path, to: to)
            if document.path == to { shownName.value = to }
            return [.fileMoved(from: change.path, to: to, notice: "\(who) renamed \(path) to \(TerminalSanitizer.line(to))")]
        case .deleted:
            entries.removeAll { $0.path == change.path }
            document.closed(change.path)
            return [.fileMoved(from: change.path, to: nil, notice: "\(who) deleted \(path)")]
        }
    }

    /// A listed file as the editor shows it: a name with control characters is listed, never opened
    /// (what the screen shows could not be sent back as the same path).
    static func file(_ entry: ProjectEntry) -> ProjectFile {
        let shown = TerminalSanitizer.line(entry.path)
        if shown != entry.path { return ProjectFile(path: shown, refusal: "its name holds control characters") }
        switch entry.kind {
        case .text: return ProjectFile(path: entry.path)
        case .binary: return ProjectFile(path: entry.path, refusal: "binary")
        case .large: return ProjectFile(path: entry.path, refusal: "too large (\(entry.size >> 10) KiB)")
        }
    }
}

/// A file name read on the analyzer's thread and written on the editor's.
final class SharedName: @unchecked Sendable {
    private let lock = NSLock()
    private var name = ""
    var value: String {
        get { lock.lock(); defer { lock.unlock() }; return name }
        set { lock.lock(); name = newValue; lock.unlock() }
    }
}
