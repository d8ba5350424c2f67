@_spi(Wire) import CodeSyncDocument

/// The one region in which two texts differ, in Unicode scalars: what an editor that holds its own
/// copy of a file needs to catch up with the file's document.
public enum TextDiff {
    /// The change that turns `old` into `new` (common prefix and suffix kept), nil when they are equal.
    public static func change(from old: String, to new: String) -> TextChange? {
        if old.utf8.elementsEqual(new.utf8) { return nil }
        let a = old.unicodeScalars, b = new.unicodeScalars
        var prefix = 0
        var i = a.startIndex, j = b.startIndex
        while i != a.endIndex, j != b.endIndex, a[i] == b[j] {
            prefix += 1
            a.formIndex(after: &i)
            b.formIndex(after: &j)
        }
        let countA = a.count, countB = b.count
        // The suffix may not reach into the prefix of the shorter text.
        var suffix = 0
        var ri = a.endIndex, rj = b.endIndex
        while suffix < min(countA, countB) - prefix {
            a.formIndex(before: &ri)
            b.formIndex(before: &rj)
            guard a[ri] == b[rj] else { break }
            suffix += 1
        }
        let inserted = String(String.UnicodeScalarView(b.dropFirst(prefix).dropLast(suffix)))
        return TextChange(offset: prefix, deleted: countA - prefix - suffix, inserted: inserted)
    }

    /// Where `offset` (in the text before `change`) is after it; inside the changed region, its end.
    public static func transform(_ offset: Int, through change: TextChange) -> Int {
        if offset <= change.offset { return offset }
        let inserted = change.inserted.unicodeScalars.count
        if offset >= change.offset + change.deleted { return offset - change.deleted + inserted }
        return change.offset + inserted
    }
}

/// A shared folder's files edited by an editor that holds its own copy of the text (`seen`): the
/// file's remote edits are applied on the network thread as they arrive, so the offsets an editor
/// computed may be a few edits behind. The core (`PeerCoreProject.swift`) carries them over those
/// edits; these calls run it under the peer's lock and send what it says.
extension CollaborationPeer {
    /// Deletes `count` scalars at `offset`, then inserts `text` there, in the opened file `path`,
    /// where the offsets are in `seen` (the caller's copy). Throws when the file is not open here.
    public func editFile(_ path: String, seen: String, offset: Int, delete count: Int, insert text: String) throws {
        try withLock { perform(try core.editFile(path, seen: seen, offset: offset, delete: count, insert: text)) }
    }

    /// Shares this peer's caret (and selection) in the opened file `path`, offsets in its text now;
    /// other peers see which file this peer is in. Nothing is sent when the file is not open.
    public func setPresence(cursor: Int, selection: Range<Int>?, inFile path: String) {
        withLock { perform(core.setPresence(cursor: cursor, selection: selection, inFile: path)) }
    }

    /// Undoes this peer's last edit group in the opened file `path`; false when there was none.
    public func undoFile(_ path: String) -> Bool {
        withLock {
            let (done, out) = core.undoFile(path)
            perform(out)
            return done
        }
    }

    /// Redoes the last undone group in the opened file `path`; false when there was none.
    public func redoFile(_ path: String) -> Bool {
        withLock {
            let (done, out) = core.redoFile(path)
            perform(out)
            return done
        }
    }

    /// Ends the current undo group of the opened file `path`.
    public func closeUndoGroup(inFile path: String) {
        withLock { core.closeUndoGroup(inFile: path) }
    }
}
