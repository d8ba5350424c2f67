import CodeSyncDocument

/// A visible change to the text: the document's own change type, so remote and local changes need
/// no conversion on their way into the editor.
public typealias EditorChange = TextChange

/// What the editor needs from a document: the text, edits at scalar offsets, and the local user's
/// own undo/redo. Adapters exist for a local buffer and for a collaborative peer. Used from one thread.
public protocol EditorDocument: AnyObject {
    /// The whole text.
    var text: String { get }
    /// Inserts `text` at a scalar offset.
    func insert(_ text: String, at offset: Int)
    /// Deletes `count` scalars at a scalar offset.
    func delete(at offset: Int, count: Int)
    /// Ends the current undo group; the next edit starts a new one.
    func closeUndoGroup()
    /// Undoes this user's last edit group; the changes it made, or nil when there is nothing to undo.
    func undo() -> [EditorChange]?
    /// Redoes the last undone group.
    func redo() -> [EditorChange]?
}

/// A single-user document held in memory, with grouped undo and redo.
public final class LocalDocument: EditorDocument {
    private var buffer: TextBuffer
    private var undoStack: [[EditorChangeRecord]] = []
    private var redoStack: [[EditorChangeRecord]] = []
    private var groupOpen = false

    /// An edit with what it removed, so it can be inverted.
    private struct EditorChangeRecord {
        var offset: Int
        var removed: [Unicode.Scalar]
        var inserted: [Unicode.Scalar]
    }

    public init(text: String) {
        buffer = TextBuffer(text, tracksSyntax: false)
    }

    public var text: String { buffer.text }

    /// Length in Unicode scalars.
    public var scalarCount: Int { buffer.scalarCount }

    public func insert(_ text: String, at offset: Int) {
        let at = min(max(0, offset), buffer.scalarCount)
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return }
        buffer.insert(text, at: at)
        record(EditorChangeRecord(offset: at, removed: [], inserted: scalars))
    }

    public func delete(at offset: Int, count: Int) {
        let at = min(max(0, offset), buffer.scalarCount)
        let n = min(max(0, count), buffer.scalarCount - at)
        guard n > 0 else { return }
        let removed = buffer.scalars(from: buffer.position(of: at), to: buffer.position(of: at + n))
        buffer.delete(at: at, count: n)
        record(EditorChangeRecord(offset: at, removed: removed, inserted: []))
    }

    public func closeUndoGroup() { groupOpen = false }

    public func undo() -> [EditorChange]? {
        groupOpen = false
        guard let group = undoStack.popLast() else { return nil }
        var changes: [EditorChange] = []
        for record in group.reversed() {
            changes.append(apply(offset: record.offset, remove: record.inserted.count, insert: record.removed))
        }
        redoStack.append(group)
        return changes
    }

    public func redo() -> [EditorChange]? {
        groupOpen = false
        guard let group = redoStack.popLast() else { return nil }
        var changes: [EditorChange] = []
        for record in group {
            changes.append(apply(offset: record.offset, remove: record.removed.count, insert: record.inserted))
        }
        undoStack.append(group)
        return changes
    }

    private func apply(offset: Int, remove: Int, insert: [Unicode.Scalar]) -> EditorChange {
        let start = buffer.position(of: offset)
        buffer.replace(from: start, to: buffer.position(of: offset + remove), with: insert)
        return EditorChange(offset: offset, deleted: remove, inserted: String(String.UnicodeScalarView(insert)))
    }

    private func record(_ change: EditorChangeRecord) {
        redoStack.removeAll()
        if groupOpen, !undoStack.isEmpty {
            undoStack[undoStack.count - 1].append(change)
        } else {
            undoStack.append([change])
            groupOpen = true
        }
    }
}
