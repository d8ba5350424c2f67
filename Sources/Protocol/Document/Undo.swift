/// The local edits between two `closeUndoGroup()` calls, undone and redone together. Stored flat:
/// entries point into one span buffer; deleted text is not copied (replicas keep every character's
/// scalar, deleted or not, so undoing a delete reads it back from the document).
struct UndoGroup {
    struct Entry {
        /// False: this agent inserted (me, seq) ..< (me, seq + count). True: it deleted `spans[spanStart..<spanEnd]`.
        var isDelete: Bool
        var seq: Int32
        var count: Int32
        var spanStart: Int32
        var spanEnd: Int32
    }

    var entries: [Entry] = []
    var spans: [TargetSpan] = []

    mutating func addInsert(seq: Int32, count: Int32) {
        if let last = entries.last, !last.isDelete, last.seq + last.count == seq {
            entries[entries.count - 1].count += count
            return
        }
        entries.append(Entry(isDelete: false, seq: seq, count: count, spanStart: 0, spanEnd: 0))
    }

    mutating func addDelete(_ targets: [TargetSpan]) {
        guard !targets.isEmpty else { return }
        // Consecutive deletes (a run of backspaces) share one entry; spans absorb each other where they can.
        if let last = entries.last, last.isDelete, Int(last.spanEnd) == spans.count {
            for target in targets where !spans[spans.count - 1].absorb(target) { spans.append(target) }
            entries[entries.count - 1].spanEnd = Int32(spans.count)
            return
        }
        let start = Int32(spans.count)
        for target in targets where Int32(spans.count) == start || !spans[spans.count - 1].absorb(target) { spans.append(target) }
        entries.append(Entry(isDelete: true, seq: 0, count: 0, spanStart: start, spanEnd: Int32(spans.count)))
    }
}

extension DocumentCore {
    mutating func undo() -> (update: Update, changes: [TextChange])? {
        groupOpen = false
        while let group = undoStack.popLast() {
            let (inverse, update, changes) = invert(group)
            if update.isEmpty { continue }
            redoStack.append(inverse)
            return (update, changes)
        }
        return nil
    }

    mutating func redo() -> (update: Update, changes: [TextChange])? {
        groupOpen = false
        while let group = redoStack.popLast() {
            let (inverse, update, changes) = invert(group)
            if update.isEmpty { continue }
            undoStack.append(inverse)
            return (update, changes)
        }
        return nil
    }

    /// Records a local edit in the open undo group (or a new one) and forgets what could be redone.
    mutating func recordInsertUndo(seq: Int32, count: Int32) {
        if !redoStack.isEmpty { redoStack.removeAll() }
        if !groupOpen || undoStack.isEmpty { undoStack.append(UndoGroup()) }
        undoStack[undoStack.count - 1].addInsert(seq: seq, count: count)
        groupOpen = true
    }

    mutating func recordDeleteUndo(_ targets: [TargetSpan]) {
        if !redoStack.isEmpty { redoStack.removeAll() }
        if !groupOpen || undoStack.isEmpty { undoStack.append(UndoGroup()) }
        undoStack[undoStack.count - 1].addDelete(targets)
        groupOpen = true
    }

    /// Performs the inverse of each entry, last first; returns the group that would invert that again.
    private mutating func invert(_ group: UndoGroup) -> (UndoGroup, Update, [TextChange]) {
        var inverse = UndoGroup()
        var ops: [Update.Op] = []
        var changes: [TextChange] = []
        for entry in group.entries.reversed() {
            if !entry.isDelete {
                var targets: [TargetSpan] = []
                for s in entry.seq..<(entry.seq + entry.count) {
                    // Follow characters that an earlier undo restored under new ids.
                    var id = packID(me, s)
                    while let pos = list.locate(id), list.piece(at: pos).deleted, let next = revived[id] { id = next }
                    guard let pos = list.locate(id), !list.piece(at: pos).deleted else { continue }
                    let offset = list.visibleOffset(of: pos)
                    _ = list.markDeleted(at: pos, count: 1)
                    appendTarget(TargetSpan(agent: idAgent(id), seq: idSeq(id), count: 1, backward: false), to: &targets)
                    if let last = changes.last, last.offset == offset, last.inserted.isEmpty {
                        changes[changes.count - 1].deleted += 1
                    } else {
                        changes.append(TextChange(offset: offset, deleted: 1, inserted: ""))
                    }
                }
                guard !targets.isEmpty else { continue }
                let deleteSeq = appendLocalDelete(targets)
                ops.append(.delete(deleteOp(seq: deleteSeq, targets: targets)))
                inverse.addDelete(targets)
                cachedText = nil
            } else {
                for target in group.spans[Int(entry.spanStart)..<Int(entry.spanEnd)] {
                    var s = target.low
                    while s <= target.high {
                        guard let pos = list.locate(packID(target.agent, s)) else { break }
                        let piece = list.piece(at: pos)
                        let n = min(Int(target.high - s) + 1, Int(piece.len) - pos.o)
                        var utf8: [UInt8] = []
                        for slot in list.slots[Int(target.agent)][Int(s)..<(Int(s) + n)] { appendUTF8(slot.scalar, to: &utf8) }
                        let text = String(decoding: utf8, as: UTF8.self)
                        let left = list.previous(pos).map { list.id(at: $0) } ?? -1
                        let right = list.id(at: pos)
                        let offset = list.visibleOffset(of: pos)
                        if let newSeq = insertLocal(text, before: pos, left: left, right: right) {
                            for k in 0..<Int32(n) { revived[packID(target.agent, s + k)] = packID(me, newSeq + k) }
                            ops.append(.insert(Update.InsertOp(agent: agent, seq: Int(newSeq), left: ref(left), right: ref(right), text: text)))
                            inverse.addInsert(seq: newSeq, count: Int32(n))
                            changes.append(TextChange(offset: offset, deleted: 0, inserted: text))
                        }
                        s += Int32(n)
                    }
                }
            }
        }
        return (inverse, Update(ops: ops), changes)
    }
}
