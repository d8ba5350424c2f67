/// One undoable step of this agent: characters it inserted, or characters it deleted (with their text).
enum UndoAction {
    case inserted(seq: Int32, count: Int32)
    case deleted(targets: [TargetSpan], content: [UInt32])
}

/// The local edits between two `closeUndoGroup()` calls, undone and redone together.
struct UndoGroup {
    var actions: [UndoAction] = []
}

extension Replica {
    /// Ends the current undo group: the next local edit starts a new one.
    public func closeUndoGroup() { groupOpen = false }

    /// Reverts this agent's most recent edit group (never touching other agents' text): removes what it
    /// inserted that is still there and restores what it deleted. Nil when there is nothing to undo.
    public func undo() -> (update: Update, changes: [TextChange])? {
        groupOpen = false
        while let group = undoStack.popLast() {
            let (inverse, update, changes) = invert(group)
            if update.isEmpty { continue }
            redoStack.append(inverse)
            return (update, changes)
        }
        return nil
    }

    /// Re-applies the most recently undone group. Nil when there is nothing to redo.
    public func redo() -> (update: Update, changes: [TextChange])? {
        groupOpen = false
        while let group = redoStack.popLast() {
            let (inverse, update, changes) = invert(group)
            if update.isEmpty { continue }
            undoStack.append(inverse)
            return (update, changes)
        }
        return nil
    }

    func recordUndo(_ action: UndoAction) {
        if groupOpen, var group = undoStack.popLast() {
            if case .inserted(let seq, let count) = action, case .inserted(let lastSeq, let lastCount)? = group.actions.last,
                lastSeq + lastCount == seq
            {
                group.actions[group.actions.count - 1] = .inserted(seq: lastSeq, count: lastCount + count)
            } else {
                group.actions.append(action)
            }
            undoStack.append(group)
        } else {
            undoStack.append(UndoGroup(actions: [action]))
        }
        groupOpen = true
    }

    /// Performs the inverse of each action, last first; returns the group that would invert that again.
    private func invert(_ group: UndoGroup) -> (UndoGroup, Update, [TextChange]) {
        var inverse = UndoGroup()
        var ops: [Update.Op] = []
        var changes: [TextChange] = []
        for action in group.actions.reversed() {
            switch action {
            case .inserted(let seq, let count):
                var targets: [TargetSpan] = []
                var removed: [UInt32] = []
                for s in seq..<(seq + count) {
                    // Follow characters that an earlier undo restored under new ids.
                    var id = packID(me, s)
                    while let pos = list.locate(id), list.piece(at: pos).deleted, let next = revived[id] { id = next }
                    guard let pos = list.locate(id), !list.piece(at: pos).deleted else { continue }
                    let offset = list.visibleOffset(of: pos)
                    _ = list.markDeleted(at: pos, count: 1)
                    appendTarget(TargetSpan(agent: idAgent(id), seq: idSeq(id), count: 1, backward: false), to: &targets)
                    removed.append(list.content[Int(idAgent(id))][Int(idSeq(id))])
                    if let last = changes.last, last.offset == offset, last.inserted.isEmpty, !changes.isEmpty {
                        changes[changes.count - 1].deleted += 1
                    } else {
                        changes.append(TextChange(offset: offset, deleted: 1, inserted: ""))
                    }
                }
                guard !targets.isEmpty else { continue }
                let deleteSeq = appendLocalDelete(targets)
                ops.append(.delete(deleteOp(seq: deleteSeq, targets: targets)))
                inverse.actions.append(.deleted(targets: targets, content: removed))
                cachedText = nil
            case .deleted(let targets, let content):
                var base = 0
                for target in targets {
                    var s = target.low
                    while s <= target.high {
                        guard let pos = list.locate(packID(target.agent, s)) else { break }
                        let piece = list.piece(at: pos)
                        let n = min(Int(target.high - s) + 1, Int(piece.len) - pos.o)
                        var scalars = String.UnicodeScalarView()
                        for q in Int(s)..<(Int(s) + n) {
                            // Content is in the order the span walks its targets: downwards for backward spans.
                            let index = base + (target.backward ? Int(target.high) - q : q - Int(target.low))
                            scalars.append(Unicode.Scalar(content[index]) ?? "\u{FFFD}")
                        }
                        let text = String(scalars)
                        let left = list.previous(pos).map { list.id(at: $0) } ?? -1
                        let right = list.id(at: pos)
                        let offset = list.visibleOffset(of: pos)
                        if let newSeq = insertLocal(text, before: pos, left: left, right: right) {
                            for k in 0..<Int32(n) { revived[packID(target.agent, s + k)] = packID(me, newSeq + k) }
                            ops.append(.insert(Update.InsertOp(agent: agent, seq: Int(newSeq), left: ref(left), right: ref(right), text: text)))
                            inverse.actions.append(.inserted(seq: newSeq, count: Int32(n)))
                            changes.append(TextChange(offset: offset, deleted: 0, inserted: text))
                        }
                        s += Int32(n)
                    }
                    base += Int(target.count)
                }
            }
        }
        return (inverse, Update(ops: ops), changes)
    }
}
