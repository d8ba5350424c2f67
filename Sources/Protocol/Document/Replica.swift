/// One peer's copy of a replicated text: edits apply locally at once and come back as updates to send;
/// remote updates apply in any order, with duplicates, and every replica that saw the same operations
/// holds the same text.
///
/// Not thread-safe: use from one thread/actor/event loop at a time.
public final class Replica {
    /// This replica's agent: the author of its local edits.
    public let agent: AgentID
    /// All state lives in one struct so that each call pays one exclusivity check, not one per field.
    var core: DocumentCore

    /// An empty document edited as `agent`.
    public init(agent: AgentID) {
        self.agent = agent
        core = DocumentCore(agent: agent)
    }

    /// The document decoded from `encodeState()` output, edited as `agent`.
    public init(agent: AgentID, state: [UInt8]) throws {
        self.agent = agent
        var core = DocumentCore(agent: agent)
        try StateCodec.decode(state, into: &core)
        self.core = core
    }

    /// The current text.
    public var text: String { core.currentText() }

    /// The length of the text in Unicode scalars.
    public var scalarCount: Int { core.list.visibleCount }

    /// The operations this replica knows, per agent.
    public var version: VersionVector { core.versionVector() }

    /// Remote operations held back until the operations they depend on arrive.
    public var pendingCount: Int { core.pending.count }

    /// What remote updates may make of this document; an update that would cross a limit is refused whole.
    public var limits: DocumentLimits {
        get { core.limits }
        set { core.limits = newValue }
    }

    /// Inserts `text` at scalar `offset` (clamped to the text) and returns the update to send.
    @discardableResult
    public func insert(_ text: String, at offset: Int) -> Update { core.insert(text, at: offset) }

    /// Deletes `count` scalars at `offset` (the range is clamped to the text) and returns the update to send.
    @discardableResult
    public func delete(at offset: Int, count: Int) -> Update { core.delete(at: offset, count: count) }

    /// Deletes `count` scalars at `offset`, then inserts `text` there (both clamped), without building an
    /// update: for replays and batches, which collect what to send once with `updates(after:)`.
    public func edit(at offset: Int, deleting count: Int, inserting text: String) {
        core.edit(at: offset, deleting: count, inserting: text)
    }

    /// Makes room for `count` more local operations (inserted plus deleted scalars) at once, when the
    /// caller knows how many are coming (a replay, a file load): the per-agent array otherwise grows by
    /// doubling, and while it copies the old and the new buffer are both resident (up to 3× its size).
    public func reserveCapacity(localOperations count: Int) {
        core.list.reserveCapacity(agent: core.me, additional: count)
    }

    /// The current end of this replica's history, for `updates(after:)`.
    public var historyMark: HistoryMark { core.log.mark }

    /// Every operation this replica learned after `mark` (local edits and remote ones), in that order;
    /// e.g. one transaction's edits made with `edit(at:deleting:inserting:)`.
    public func updates(after mark: HistoryMark) -> Update { core.updates(after: mark) }

    /// Applies a remote update and returns the visible changes in order; idempotent, any order: operations
    /// whose dependencies are missing are held (see `pendingCount`) and applied when those arrive.
    /// All or nothing: a malformed update (e.g. an origin that names a deletion, not a character, or a
    /// number out of range) or one that would cross `limits` throws and leaves the replica exactly as it was.
    @discardableResult
    public func apply(_ update: Update) throws -> [TextChange] { try core.apply(update) }

    /// Exactly the operations a peer at `version` lacks, in the order this replica learned them.
    public func updates(since version: VersionVector) -> Update { core.updates(since: version) }

    /// A compact full-state encoding of the document (for joiners and the journal); see `init(agent:state:)`.
    public func encodeState() -> [UInt8] { StateCodec.encode(core) }

    /// An anchor at scalar `offset` (clamped) that follows its neighbouring character across edits.
    public func anchor(at offset: Int, bias: AnchorBias) -> Anchor { core.anchor(at: offset, bias: bias) }

    /// The current scalar offset of `anchor`; an anchor on a character not known here yet resolves to the
    /// document start (left bias) or end (right bias).
    public func offset(of anchor: Anchor) -> Int { core.offset(of: anchor) }

    /// Ends the current undo group: the next local edit starts a new one.
    public func closeUndoGroup() { core.groupOpen = false }

    /// Reverts this agent's most recent edit group (never touching other agents' text): removes what it
    /// inserted that is still there and restores what it deleted. Nil when there is nothing to undo.
    public func undo() -> (update: Update, changes: [TextChange])? { core.undo() }

    /// Re-applies the most recently undone group. Nil when there is nothing to redo.
    public func redo() -> (update: Update, changes: [TextChange])? { core.redo() }
}

/// The replica's state and algorithms, as one value (see `Replica.core`).
struct DocumentCore {
    var names: [AgentID] = []
    var agentIndex: [AgentID: Int32] = [:]
    let me: Int32 = 0
    let agent: AgentID
    var list = PieceList()
    /// Per agent index: how many operations are known (the next expected operation number).
    var known: [Int] = []
    var log = OpLog()
    var pending = PendingOps()
    var undoStack: [UndoGroup] = []
    var redoStack: [UndoGroup] = []
    var groupOpen = false
    /// Characters restored by undoing a delete, original id → the id of the restored copy.
    var revived: [Int: Int] = [:]
    var cachedText: String?
    /// Reused by local deletes for their target spans (kept empty between calls).
    var scratchTargets: [TargetSpan] = []
    var limits = DocumentLimits()

    /// The agent `intern` returned last.
    var lastInterned: Int32 = 0

    init(agent: AgentID) {
        self.agent = agent
        _ = intern(agent)
    }

    mutating func currentText() -> String {
        if let cachedText { return cachedText }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(list.visibleCount)
        list.forEachPiece { piece in
            guard !piece.deleted else { return }
            let lo = Int(piece.seq), hi = lo + Int(piece.len)
            list.slots[Int(piece.agent)].withUnsafeBufferPointer { slots in
                for s in lo..<hi { appendUTF8(slots[s].scalar, to: &utf8) }
            }
        }
        let result = String(decoding: utf8, as: UTF8.self)
        cachedText = result
        return result
    }

    func versionVector() -> VersionVector {
        var counts: [AgentID: Int] = [:]
        for (index, count) in known.enumerated() where count > 0 { counts[names[index]] = count }
        return VersionVector(counts)
    }

    mutating func intern(_ name: AgentID) -> Int32 {
        // Consecutive operations mostly name the same agent: compare before hashing the name.
        if Int(lastInterned) < names.count && names[Int(lastInterned)] == name { return lastInterned }
        if let index = agentIndex[name] {
            lastInterned = index
            return index
        }
        let index = Int32(names.count)
        names.append(name)
        agentIndex[name] = index
        known.append(0)
        list.addAgent()
        lastInterned = index
        return index
    }

    func ref(_ id: Int) -> Update.OpRef? {
        id == -1 ? nil : Update.OpRef(agent: names[Int(idAgent(id))], seq: Int(idSeq(id)))
    }

    // MARK: Local edits

    /// Inserts `text` at scalar `offset` (clamped to the text) and returns the update to send.
    mutating func insert(_ text: String, at offset: Int) -> Update {
        guard let run = localInsert(text, at: offset) else { return Update() }
        return Update(ops: [.insert(Update.InsertOp(agent: agent, seq: Int(run.seq), left: ref(run.left), right: ref(run.right), text: text))])
    }

    mutating func delete(at offset: Int, count: Int) -> Update {
        guard let seq = localDelete(at: offset, count: count) else { return Update() }
        return Update(ops: [.delete(deleteOp(seq: seq, targets: scratchTargets))])
    }

    /// `delete` then `insert` without building updates.
    mutating func edit(at offset: Int, deleting count: Int, inserting text: String) {
        if count > 0 { _ = localDelete(at: offset, count: count) }
        if !text.isEmpty { _ = localInsert(text, at: offset) }
    }

    /// A local insert with undo recorded; returns the run's first operation number and origins.
    mutating func localInsert(_ text: String, at offset: Int) -> (seq: Int32, left: Int, right: Int)? {
        let offset = min(max(offset, 0), list.visibleCount)
        let m = Int(me)
        let seq = Int32(known[m])
        let n = Int32(storeLocalScalars(text))
        guard n > 0 else { return nil }
        let left: Int, right: Int
        if let run = list.extendTyping(agent: me, seq: seq, count: n, at: offset) {
            (left, right) = run
        } else {
            let point = list.insertionPoint(visible: offset)
            list.insert(Piece(agent: me, seq: seq, len: n, deleted: false, left: point.left, right: point.right), before: point.pos, typedAt: offset)
            (left, right) = (point.left, point.right)
        }
        known[m] = Int(seq + n)
        log.appendInsert(agent: me, seq: seq, len: n, left: left, right: right)
        cachedText = nil
        recordInsertUndo(seq: seq, count: n)
        return (seq, left, right)
    }

    /// Appends the scalars of a local insert to this agent's slots (not yet placed); returns how many.
    mutating func storeLocalScalars(_ text: String) -> Int {
        let m = Int(me)
        var n = 0
        for scalar in text.unicodeScalars {
            list.slots[m].append(Slot(scalar: scalar.value, chunk: -1))
            n += 1
        }
        return n
    }

    /// A local delete with undo recorded; returns its first operation number, its targets are left in
    /// `scratchTargets` (until the next local delete).
    mutating func localDelete(at offset: Int, count: Int) -> Int32? {
        let offset = min(max(offset, 0), list.visibleCount)
        let count = min(max(count, 0), list.visibleCount - offset)
        guard count > 0 else { return nil }
        // Reuse one scratch buffer: a fresh array per keystroke was a malloc/free pair on the hot path.
        var targets = scratchTargets
        scratchTargets = []
        // removeAll(keepingCapacity:) goes through a generic replaceSubrange; the buffer holds few spans.
        while !targets.isEmpty { targets.removeLast() }
        deleteVisible(at: offset, count: count, targets: &targets)
        let seq = appendLocalDelete(targets)
        recordDeleteUndo(targets)
        scratchTargets = targets
        return seq
    }

    /// Stores and places a local insert run just before `pos`; returns its first operation number.
    mutating func insertLocal(_ text: String, before pos: Pos, left: Int, right: Int) -> Int32? {
        let m = Int(me)
        let seq = known[m]
        let n = storeLocalScalars(text)
        guard n > 0 else { return nil }
        list.insert(Piece(agent: me, seq: Int32(seq), len: Int32(n), deleted: false, left: left, right: right), before: pos)
        known[m] = seq + n
        log.appendInsert(agent: me, seq: Int32(seq), len: Int32(n), left: left, right: right)
        cachedText = nil
        return Int32(seq)
    }

    /// Marks `count` visible scalars at `offset` deleted, collecting their ids as target spans.
    mutating func deleteVisible(at offset: Int, count: Int, targets: inout [TargetSpan]) {
        var remaining = count
        while remaining > 0 {
            let pos = list.findNearCursor(visible: offset)
            let result = list.markDeleted(at: pos, count: remaining)
            appendTarget(TargetSpan(agent: result.agent, seq: result.seq, count: Int32(result.count), backward: false), to: &targets)
            remaining -= result.count
        }
        cachedText = nil
    }

    func appendTarget(_ target: TargetSpan, to targets: inout [TargetSpan]) {
        if targets.isEmpty || !targets[targets.count - 1].absorb(target) { targets.append(target) }
    }

    /// Numbers a local delete run and logs it; returns its first operation number.
    mutating func appendLocalDelete(_ targets: [TargetSpan]) -> Int32 {
        let m = Int(me)
        let seq = known[m]
        let total = targets.reduce(0) { $0 + Int($1.count) }
        list.reserve(agent: me, count: seq + total)
        known[m] = seq + total
        log.appendDelete(agent: me, seq: Int32(seq), targets: targets)
        return Int32(seq)
    }

    func deleteOp(seq: Int32, targets: [TargetSpan]) -> Update.DeleteOp {
        Update.DeleteOp(
            agent: agent, seq: Int(seq),
            spans: targets.map { Update.DeleteSpan(agent: names[Int($0.agent)], seq: Int($0.seq), count: Int($0.count), backward: $0.backward) })
    }

    // MARK: Remote updates

    /// Applies a remote update and returns the visible changes in order (see `Replica.apply`). Two passes:
    /// `check` walks the update against the current state without changing anything and throws where the
    /// update is malformed or would cross a limit; only then is it applied. So a refusal has no side
    /// effects by construction, and the hot path (one or two runs) pays one extra walk of its runs.
    mutating func apply(_ update: Update) throws -> [TextChange] {
        let ops = update.ops
        guard !ops.isEmpty else { return [] }
        let agentsBefore = names.count
        var queue: [RawOp] = []
        queue.reserveCapacity(ops.count)
        do {
            for op in ops { queue.append(try raw(op)) }
            try check(queue)
        } catch {
            forgetAgents(above: agentsBefore - 1)
            throw error
        }
        // Integration work is bounded per update (`limits.maxIntegrationSteps`), and only a scan can tell
        // what it costs, so a run over the budget is found while applying. An update whose only insert run
        // comes first scans before it changes anything (every keystroke, every delete); one with more keeps
        // a copy to go back to (copy on write: it costs the buffers the update touches, O(document)) unless
        // a cheap bound shows that its scans cannot reach the budget.
        let insertRuns = queue.reduce(0) { $0 + ($1.isInsert ? 1 : 0) }
        let mayRefuse = insertRuns > 1 || insertRuns == 1 && !queue[0].isInsert
        let saved: DocumentCore? = mayRefuse && integrationBound(queue) > limits.maxIntegrationSteps ? self : nil
        var budget = limits.maxIntegrationSteps
        var changes: [TextChange] = []
        var index = 0
        // The highest agent index that a run held back by this call refers to (it must stay interned).
        var referenced: Int32 = -1
        while index < queue.count {
            let op = queue[index]
            index += 1
            if let wait = missingDependency(of: op, known: { known[Int($0)] }) {
                referenced = max(referenced, op.highestAgent)
                pending.park(op, agent: wait.agent, seq: wait.seq)
                continue
            }
            // The update's own runs passed `check`, so they integrate; a run woken from the waiting set
            // that turns out malformed now (an origin that is a delete) is dropped, as it always was.
            let advanced: Int32?
            do {
                // Runs woken from the waiting set were accepted when they arrived: not this update's work.
                var unlimited = Int.max
                advanced = index > ops.count ? try integrate(op, changes: &changes, budget: &unlimited) : try integrate(op, changes: &changes, budget: &budget)
            } catch let error as DocumentError where error.kind == .limit {
                if let saved { self = saved }
                forgetAgents(above: agentsBefore - 1)
                throw error
            } catch {
                assert(index > ops.count, "check passed a run that integrate refuses: \(error)")
                continue
            }
            guard let advanced else { continue }
            pending.wake(agent: advanced, known: known[Int(advanced)], into: &queue)
        }
        // Agents named only by runs that were already known (skipped) would otherwise stay interned forever.
        var keep = referenced
        for a in stride(from: names.count - 1, through: agentsBefore, by: -1) where known[a] > 0 {
            keep = max(keep, Int32(a))
            break
        }
        forgetAgents(above: max(Int(keep), agentsBefore - 1))
        if !changes.isEmpty { cachedText = nil }
        return changes
    }

    /// An upper bound on the pieces the update's scans visit, from the document before it: a run whose
    /// origins both exist already scans at most the chunks from its left origin's to its right origin's
    /// (to the end when the right one lies before), plus the pieces earlier runs add (an insert adds at
    /// most 3 with its split, a delete span 2). Int.max when an origin is new in the update (its place is
    /// not known before applying). Multi-edits at several places bound small; large merges do not.
    func integrationBound(_ ops: [RawOp]) -> Int {
        var bound = 0, added = 0
        for op in ops {
            switch op {
            case .insert(_, _, _, let left, let right, _):
                guard left == -1 || list.isInsert(left), right == -1 || list.isInsert(right) else { return .max }
                let from = left == -1 ? 0 : list.locate(left)?.c ?? 0
                let leftPos = left == -1 ? Pos.beforeStart : list.locate(left) ?? .beforeStart
                let rightPos = right == -1 ? list.end : list.locate(right) ?? list.end
                let to = leftPos < rightPos ? min(rightPos.c, list.chunks.count - 1) : list.chunks.count - 1
                bound += PieceList.maxPieces * max(to - from + 1, 1) + added
                added += 3
            case .delete(_, _, _, let targets):
                added += 2 * targets.count
            }
            if bound > limits.maxIntegrationSteps { return bound }
        }
        return bound
    }

    /// Un-interns agents with an index above `last` (added by the current `apply`, never used).
    mutating func forgetAgents(above last: Int) {
        guard names.count - 1 > last else { return }
        while names.count - 1 > last {
            let name = names.removeLast()
            agentIndex[name] = nil
            known.removeLast()
            list.slots.removeLast()
        }
        lastInterned = 0
    }

    /// An update's run with its numbers checked in `Int` (before any narrowing) and its agents interned.
    mutating func raw(_ op: Update.Op) throws -> RawOp {
        switch op {
        case .insert(let insert):
            let n = insert.text.unicodeScalars.count
            guard n > 0 else { throw DocumentError("malformed update: an insert without text") }
            try checkRun(seq: insert.seq, count: n)
            let agent = try internChecked(insert.agent)
            let left = try packed(insert.left), right = try packed(insert.right)
            // An operation depends only on earlier ones of its own author: otherwise it would wait forever.
            func later(_ origin: Int) -> Bool { origin != -1 && idAgent(origin) == agent && Int(idSeq(origin)) >= insert.seq }
            if later(left) || later(right) {
                throw DocumentError("malformed update: an insert's origin is not an earlier operation of its author")
            }
            return .insert(agent: agent, seq: insert.seq, count: n, left: left, right: right, text: insert.text)
        case .delete(let delete):
            guard !delete.spans.isEmpty else { throw DocumentError("malformed update: a delete without targets") }
            var targets: [TargetSpan] = []
            targets.reserveCapacity(delete.spans.count)
            var total = 0
            for span in delete.spans {
                // Each value alone first, then the span's ends: none of this can overflow an Int.
                guard span.count > 0, span.count <= maxID, span.seq >= 0, span.seq < maxID,
                    span.backward ? span.seq - (span.count - 1) >= 0 : span.seq + (span.count - 1) < maxID
                else { throw DocumentError("malformed update: a delete span out of range (\(span.seq), \(span.count))") }
                total += span.count
                guard total <= maxID else { throw DocumentError("malformed update: a delete run too long") }
                targets.append(TargetSpan(agent: try internChecked(span.agent), seq: Int32(span.seq), count: Int32(span.count), backward: span.backward))
            }
            try checkRun(seq: delete.seq, count: total)
            let agent = try internChecked(delete.agent)
            for target in targets where target.agent == agent && Int(target.high) >= delete.seq {
                throw DocumentError("malformed update: a delete targets an operation that is not an earlier one of its author")
            }
            return .delete(agent: agent, seq: delete.seq, count: total, targets: targets)
        }
    }

    /// No document holds more operations than a state encoding can (`StateCodec.maxOperations`), so no
    /// operation number reaches it: a reference beyond is malformed, not something to wait for. (Also
    /// far below `Int32.max`, how numbers are stored.)
    var maxID: Int { StateCodec.maxOperations }

    /// Operation numbers of a run `seq ..< seq + count` must lie below `maxID`.
    func checkRun(seq: Int, count: Int) throws {
        guard seq >= 0, seq < maxID, count > 0, count <= maxID - seq else {
            throw DocumentError("malformed update: operation numbers out of range (\(seq), \(count) operations)")
        }
    }

    mutating func packed(_ ref: Update.OpRef?) throws -> Int {
        guard let ref else { return -1 }
        guard ref.seq >= 0, ref.seq < maxID else {
            throw DocumentError("malformed update: an origin's operation number \(ref.seq) is out of range")
        }
        return packID(try internChecked(ref.agent), Int32(ref.seq))
    }

    /// `intern` for names from outside: they must fit what a state encoding can hold.
    mutating func internChecked(_ name: AgentID) throws -> Int32 {
        guard name.utf8.count <= StateCodec.maxAgentNameBytes else {
            throw DocumentError("malformed update: an agent id longer than \(StateCodec.maxAgentNameBytes) bytes")
        }
        let index = intern(name)
        guard names.count <= StateCodec.maxAgents else {
            throw DocumentError("the document would have more than \(StateCodec.maxAgents) agents", kind: .limit)
        }
        return index
    }

    /// The dry run of `apply`: walks the update's own runs in order against the state each will meet (this
    /// replica plus the runs before it; runs woken from the waiting set only come after all of them) and
    /// throws exactly where `apply` would refuse, without changing anything. O(runs + delete targets).
    func check(_ ops: [RawOp]) throws {
        var overlay = Overlay()
        var addedScalars = 0, addedOperations = 0, waitingRuns = 0, waitingBytes = 0
        func knownCount(_ agent: Int32) -> Int { overlay.known(agent) ?? known[Int(agent)] }
        func isInsert(_ id: Int) -> Bool {
            guard id != -1 else { return true }
            let a = idAgent(id), s = Int(idSeq(id))
            return s < known[Int(a)] ? list.isInsert(id) : overlay.allInserts(agent: a, low: s, high: s)
        }
        func allInserts(_ span: TargetSpan) -> Bool {
            let a = span.agent, low = Int(span.low), high = Int(span.high), k = known[Int(a)]
            if low < k && !list.allInserts(agent: a, low: low, high: min(high, k - 1)) { return false }
            return high < k || overlay.allInserts(agent: a, low: max(low, k), high: high)
        }
        for (index, op) in ops.enumerated() {
            if missingDependency(of: op, known: knownCount) != nil {
                waitingRuns += 1
                waitingBytes += op.waitingBytes
                addedOperations += op.count
                if case .insert(_, _, let n, _, _, _) = op { addedScalars += n }
                continue
            }
            let fresh: Int
            switch op {
            case .insert(let agent, let seq, let n, var left, let right, _):
                let k = knownCount(agent)
                if k - seq >= n { continue }
                if k > seq { left = packID(agent, Int32(k - 1)) }
                guard isInsert(left), isInsert(right) else {
                    throw DocumentError("malformed update: an insert's origin names an operation that is not an insert")
                }
                fresh = n - (k - seq)
                addedScalars += fresh
            case .delete(let agent, let seq, let total, let targets):
                let k = knownCount(agent)
                if k - seq >= total { continue }
                var skip = k - seq
                for target in targets {
                    if skip >= Int(target.count) {
                        skip -= Int(target.count)
                        continue
                    }
                    guard allInserts(skip > 0 ? target.dropping(Int32(skip)) : target) else {
                        throw DocumentError("malformed update: a delete targets an operation that is not an insert")
                    }
                    skip = 0
                }
                fresh = total - (k - seq)
            }
            addedOperations += fresh
            // The last run changes nothing that a later one could see: the usual one-run update skips this.
            if index < ops.count - 1 { overlay.record(agent: op.agent, from: knownCount(op.agent), count: fresh, insert: op.isInsert) }
        }
        if addedScalars > 0 && list.visibleCount + pending.scalars + addedScalars > limits.maxScalars {
            throw DocumentError(
                "the document would exceed its limit of \(limits.maxScalars) characters (it has \(list.visibleCount), the update adds \(addedScalars))",
                kind: .limit)
        }
        if addedOperations > 0 && known.reduce(0, +) + pending.operations + addedOperations > limits.maxOperations {
            throw DocumentError("the document's history would exceed its limit of \(limits.maxOperations) operations", kind: .limit)
        }
        if waitingRuns > 0 && limits.maxWaitingRuns == 0 {
            throw DocumentError(
                "the update depends on operations this document does not have (it holds none waiting): send those first", kind: .limit)
        }
        if waitingRuns > 0
            && (pending.count + waitingRuns > limits.maxWaitingRuns || pending.bytes + waitingBytes > limits.maxWaitingBytes)
        {
            throw DocumentError(
                "too many operations waiting for ones this document has not received (\(pending.count) held, at most \(limits.maxWaitingRuns) runs and \(limits.maxWaitingBytes) bytes)",
                kind: .limit)
        }
    }

    /// The first dependency of `op` not yet known (per `known`), as "wait until agent's known count exceeds seq".
    func missingDependency(of op: RawOp, known: (Int32) -> Int) -> (agent: Int32, seq: Int)? {
        func need(_ id: Int) -> (agent: Int32, seq: Int)? {
            guard id != -1 else { return nil }
            let a = idAgent(id)
            return known(a) > Int(idSeq(id)) ? nil : (a, Int(idSeq(id)))
        }
        switch op {
        case .insert(let agent, let seq, _, let left, let right, _):
            if known(agent) < seq { return (agent, seq - 1) }
            return need(left) ?? need(right)
        case .delete(let agent, let seq, _, let targets):
            if known(agent) < seq { return (agent, seq - 1) }
            for target in targets where known(target.agent) <= Int(target.high) {
                return (target.agent, Int(target.high))
            }
            return nil
        }
    }

    /// Integrates an operation whose dependencies are known; returns the agent whose count advanced.
    /// Throws a `.limit` error, having changed nothing, when placing an insert would scan more than `budget` pieces.
    mutating func integrate(_ op: RawOp, changes: inout [TextChange], budget: inout Int) throws -> Int32? {
        switch op {
        case .insert(let agent, let seq, _, var left, let right, let text):
            let a = Int(agent)
            let skip = known[a] - seq
            var scalars = Array(text.unicodeScalars)
            if skip >= scalars.count { return nil }
            if skip > 0 {
                scalars.removeFirst(skip)
                left = packID(agent, Int32(known[a] - 1))
            }
            if left != -1 && !list.isInsert(left) || right != -1 && !list.isInsert(right) {
                throw DocumentError("malformed update: an insert's origin names an operation that is not an insert")
            }
            let start = known[a]
            let n = scalars.count
            guard start + n < Int(Int32.max) else { throw DocumentError("malformed update: operation numbers overflow") }
            let piece = Piece(agent: agent, seq: Int32(start), len: Int32(n), deleted: false, left: left, right: right)
            guard let dest = list.integrationPoint(of: piece, names: names, budget: &budget) else {
                if budget < 0 {
                    throw DocumentError(
                        "placing the update's inserts would scan more than \(limits.maxIntegrationSteps) pieces of the document (origins far apart, as no live edit makes them)",
                        kind: .limit)
                }
                throw DocumentError("malformed update: an insert's origin is unknown")
            }
            let offset = list.visibleOffset(of: dest)
            list.reserve(agent: agent, count: start + n)
            list.slots[a].withUnsafeMutableBufferPointer { buffer in
                for (k, scalar) in scalars.enumerated() { buffer[start + k].scalar = scalar.value }
            }
            list.insert(piece, before: dest)
            known[a] = start + n
            log.appendInsert(agent: agent, seq: Int32(start), len: Int32(n), left: left, right: right)
            // Usually the whole run is new and its text is the operation's own string.
            var inserted = text
            if skip > 0 {
                var utf8: [UInt8] = []
                for scalar in scalars { appendUTF8(scalar.value, to: &utf8) }
                inserted = String(decoding: utf8, as: UTF8.self)
            }
            changes.append(TextChange(offset: offset, deleted: 0, inserted: inserted))
            return agent
        case .delete(let agent, let seq, let total, var targets):
            let a = Int(agent)
            var skip = known[a] - seq
            if skip >= total { return nil }
            // One removal, not one per skipped span (a hostile run of many spans made that quadratic).
            var first = 0
            while skip > 0 && Int(targets[first].count) <= skip {
                skip -= Int(targets[first].count)
                first += 1
            }
            if first > 0 { targets.removeFirst(first) }
            if skip > 0 { targets[0] = targets[0].dropping(Int32(skip)) }
            for target in targets where !list.allInserts(target) {
                throw DocumentError("malformed update: a delete targets an operation that is not an insert")
            }
            for target in targets {
                var s = target.low
                while s <= target.high {
                    guard let pos = list.locate(packID(target.agent, s)) else {
                        throw DocumentError("malformed update: a delete targets an unknown character")
                    }
                    let offset = list.visibleOffset(of: pos)
                    let result = list.markDeleted(at: pos, count: Int(target.high - s) + 1)
                    if result.wasVisible { changes.append(TextChange(offset: offset, deleted: result.count, inserted: "")) }
                    s += Int32(result.count)
                }
            }
            let start = known[a]
            let count = targets.reduce(0) { $0 + Int($1.count) }
            list.reserve(agent: agent, count: start + count)
            known[a] = start + count
            log.appendDelete(agent: agent, seq: Int32(start), targets: targets)
            return agent
        }
    }

    // MARK: Sync

    /// Exactly the operations a peer at `version` lacks, in an order that applies without waiting.
    func updates(since version: VersionVector) -> Update {
        let floor = names.map { version[$0] }
        var ops: [Update.Op] = []
        for record in log.records {
            let skip = floor[Int(record.agent)] - Int(record.seq)
            if skip >= Int(record.len) { continue }
            append(record, skipping: Int32(max(skip, 0)), to: &ops)
        }
        return Update(ops: ops)
    }

    /// The operations logged after `mark`, in log order.
    func updates(after mark: HistoryMark) -> Update {
        var ops: [Update.Op] = []
        let records = log.records
        var index = min(mark.records, records.count)
        if index > 0 && mark.lastLength < records[index - 1].len {
            // The last record at the mark may have been extended since.
            append(records[index - 1], skipping: max(mark.lastLength, 0), to: &ops)
        }
        while index < records.count {
            append(records[index], skipping: 0, to: &ops)
            index += 1
        }
        return Update(ops: ops)
    }

    /// Appends `record` without its first `k` operations as an update operation.
    func append(_ record: LogRecord, skipping k: Int32, to ops: inout [Update.Op]) {
        let a = Int(record.agent)
        if record.isDelete {
            var targets: [TargetSpan] = []
            var toDrop = k
            for span in log.spans[Int(record.spanStart)..<Int(record.spanEnd)] {
                if toDrop >= span.count {
                    toDrop -= span.count
                    continue
                }
                targets.append(toDrop > 0 ? span.dropping(toDrop) : span)
                toDrop = 0
            }
            var op = deleteOp(seq: record.seq + k, targets: targets)
            op.agent = names[a]
            ops.append(.delete(op))
        } else {
            let lo = Int(record.seq + k), hi = Int(record.seq + record.len)
            var utf8: [UInt8] = []
            list.slots[a].withUnsafeBufferPointer { slots in
                for s in lo..<hi { appendUTF8(slots[s].scalar, to: &utf8) }
            }
            let left = k > 0 ? packID(record.agent, Int32(lo - 1)) : record.left
            let text = String(decoding: utf8, as: UTF8.self)
            ops.append(.insert(Update.InsertOp(agent: names[a], seq: lo, left: ref(left), right: ref(record.right), text: text)))
        }
    }

    // MARK: Anchors

    /// An anchor at scalar `offset` (clamped) that follows its neighbouring character across edits.
    func anchor(at offset: Int, bias: AnchorBias) -> Anchor {
        let offset = min(max(offset, 0), list.visibleCount)
        switch bias {
        case .left:
            guard offset > 0 else { return Anchor(agent: nil, seq: 0, after: true) }
            let id = list.id(at: list.find(visible: offset - 1))
            return Anchor(agent: names[Int(idAgent(id))], seq: Int(idSeq(id)), after: true)
        case .right:
            guard offset < list.visibleCount else { return Anchor(agent: nil, seq: 0, after: false) }
            let id = list.id(at: list.find(visible: offset))
            return Anchor(agent: names[Int(idAgent(id))], seq: Int(idSeq(id)), after: false)
        }
    }

    /// The current scalar offset of `anchor`; an anchor on a character not known here yet resolves to the
    /// document start (left bias) or end (right bias).
    func offset(of anchor: Anchor) -> Int {
        guard let name = anchor.agent else { return anchor.after ? 0 : list.visibleCount }
        guard let a = agentIndex[name], anchor.seq >= 0, anchor.seq < Int(Int32.max),
            let pos = list.locate(packID(a, Int32(anchor.seq)))
        else { return anchor.after ? 0 : list.visibleCount }
        let offset = list.visibleOffset(of: pos)
        return anchor.after && !list.piece(at: pos).deleted ? offset + 1 : offset
    }
}

/// A remote operation with agents interned to this replica's indexes; `count`: scalars inserted or
/// characters deleted (the run's operations).
enum RawOp {
    case insert(agent: Int32, seq: Int, count: Int, left: Int, right: Int, text: String)
    case delete(agent: Int32, seq: Int, count: Int, targets: [TargetSpan])

    var agent: Int32 {
        switch self {
        case .insert(let agent, _, _, _, _, _), .delete(let agent, _, _, _): agent
        }
    }

    var count: Int {
        switch self {
        case .insert(_, _, let count, _, _, _), .delete(_, _, let count, _): count
        }
    }

    var isInsert: Bool {
        if case .insert = self { return true }
        return false
    }

    /// The highest agent index the operation names (author, origins, targets).
    var highestAgent: Int32 {
        switch self {
        case .insert(let agent, _, _, let left, let right, _):
            max(agent, left == -1 ? -1 : idAgent(left), right == -1 ? -1 : idAgent(right))
        case .delete(let agent, _, _, let targets):
            targets.reduce(agent) { max($0, $1.agent) }
        }
    }

    /// Roughly what holding it costs (for `DocumentLimits.maxWaitingBytes`).
    var waitingBytes: Int {
        switch self {
        case .insert(_, _, _, _, _, let text): 96 + text.utf8.count
        case .delete(_, _, _, let targets): 96 + 16 * targets.count
        }
    }
}

/// What the runs `DocumentCore.check` has passed so far would add, per agent: the new known count and
/// which of the new operation numbers are inserts. Empty (no allocation) for one-run updates.
struct Overlay {
    /// Per agent: the known count after the checked runs, and the new runs' starts with their kind.
    private var agents: [Int32: (known: Int, runs: [(start: Int, insert: Bool)])] = [:]

    func known(_ agent: Int32) -> Int? { agents[agent]?.known }

    mutating func record(agent: Int32, from start: Int, count: Int, insert: Bool) {
        agents[agent, default: (start, [])].runs.append((start, insert))
        agents[agent]?.known = start + count
    }

    /// True when every operation number in low...high is one of the recorded inserts.
    func allInserts(agent: Int32, low: Int, high: Int) -> Bool {
        guard let entry = agents[agent], low <= high, high < entry.known, let first = entry.runs.first, low >= first.start else { return false }
        // The run holding `low` (binary search: the runs are in order), then every run up to `high`.
        var lo = 0, hi = entry.runs.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if entry.runs[mid].start <= low { lo = mid } else { hi = mid - 1 }
        }
        var r = lo
        while r < entry.runs.count && entry.runs[r].start <= high {
            if !entry.runs[r].insert { return false }
            r += 1
        }
        return true
    }
}

/// Remote operations waiting for a dependency, indexed by the agent whose count they wait on; with their
/// totals, which `DocumentLimits` caps.
struct PendingOps {
    private var waiting: [Int32: [(seq: Int, op: RawOp)]] = [:]
    private(set) var count = 0
    private(set) var bytes = 0
    /// Scalars the waiting inserts would add (counted against `maxScalars` before they arrive).
    private(set) var scalars = 0
    private(set) var operations = 0

    mutating func park(_ op: RawOp, agent: Int32, seq: Int) {
        waiting[agent, default: []].append((seq, op))
        add(op, 1)
    }

    private mutating func add(_ op: RawOp, _ sign: Int) {
        count += sign
        bytes += sign * op.waitingBytes
        operations += sign * op.count
        if op.isInsert { scalars += sign * op.count }
    }

    /// Moves every operation waiting on `agent` below `known` into `queue`.
    mutating func wake(agent: Int32, known: Int, into queue: inout [RawOp]) {
        guard var list = waiting[agent] else { return }
        var kept: [(seq: Int, op: RawOp)] = []
        for entry in list {
            if entry.seq < known {
                queue.append(entry.op)
                add(entry.op, -1)
            } else {
                kept.append(entry)
            }
        }
        list = kept
        waiting[agent] = list.isEmpty ? nil : list
    }
}

@inline(__always) func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
    if value < 0x80 {
        bytes.append(UInt8(value))
    } else if value < 0x800 {
        bytes.append(UInt8(0xC0 | (value >> 6)))
        bytes.append(UInt8(0x80 | (value & 0x3F)))
    } else if value < 0x10000 {
        bytes.append(UInt8(0xE0 | (value >> 12)))
        bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
        bytes.append(UInt8(0x80 | (value & 0x3F)))
    } else {
        bytes.append(UInt8(0xF0 | (value >> 18)))
        bytes.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
        bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
        bytes.append(UInt8(0x80 | (value & 0x3F)))
    }
}
