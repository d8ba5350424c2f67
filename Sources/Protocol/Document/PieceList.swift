/// Packs a character id (agent index, operation number) into one Int; -1 means "none" (document edge).
@inline(__always) func packID(_ agent: Int32, _ seq: Int32) -> Int { Int(agent) << 32 | Int(UInt32(bitPattern: seq)) }
@inline(__always) func idAgent(_ id: Int) -> Int32 { Int32(truncatingIfNeeded: id >> 32) }
@inline(__always) func idSeq(_ id: Int) -> Int32 { Int32(truncatingIfNeeded: id) }

/// A run of characters typed in one go by one agent: ids (agent, seq) ..< (agent, seq + len), all in
/// the same state. The first character's left origin is `left`; character k > 0 has (agent, seq + k - 1).
/// All share the right origin `right`.
struct Piece {
    var agent: Int32
    var seq: Int32
    var len: Int32
    var deleted: Bool
    var left: Int
    var right: Int

    /// True when `next` continues this run exactly, so the two can be stored as one piece.
    @inline(__always) func canAppend(_ next: Piece) -> Bool {
        agent == next.agent && seq &+ len == next.seq && deleted == next.deleted
            && next.left == packID(agent, next.seq &- 1) && right == next.right
    }
}

/// A place in the list: chunk index, piece index within the chunk, character offset within the piece.
/// Tuples compare in document order as long as the list is not changed in between.
struct Pos: Comparable {
    var c: Int
    var p: Int
    var o: Int

    static func < (a: Pos, b: Pos) -> Bool {
        if a.c != b.c { return a.c < b.c }
        if a.p != b.p { return a.p < b.p }
        return a.o < b.o
    }

    static let beforeStart = Pos(c: -1, p: 0, o: 0)
}

/// Per operation of one agent: the inserted scalar (kept when deleted, undo reads it back) and the id of
/// the chunk holding the character; chunk -1 marks a non-insert (delete) operation. One array per agent
/// instead of two halves the array accesses on the typing path.
struct Slot {
    var scalar: UInt32
    var chunk: Int32
}

/// A contiguous slice of the document's pieces; chunks keep inserts cheap (no whole-document memmove).
struct Chunk {
    var pieces: [Piece]
    var visible: Int
    var id: Int32
}

/// Where the last local insert's piece is (see `PieceList.typing`); offset -1: unknown.
struct TypingRun {
    var offset: Int
    var c: Int
    var p: Int
}

/// Sum tree over chunk visible lengths: prefix sums and "which chunk holds visible index k" in O(log n).
struct Fenwick {
    private var tree: [Int] = [0]

    mutating func rebuild(_ values: [Int]) {
        tree = [0] + values
        var i = 1
        while i < tree.count {
            let parent = i + (i & -i)
            if parent < tree.count { tree[parent] += tree[i] }
            i += 1
        }
    }

    // The loops below keep every index in 1..<tree.count by construction, so they skip bounds checks.
    mutating func add(_ index: Int, _ delta: Int) {
        tree.withUnsafeMutableBufferPointer { tree in
            var i = index + 1
            while i < tree.count {
                tree[i] += delta
                i += i & -i
            }
        }
    }

    /// Sum of the first `count` values.
    func prefix(_ count: Int) -> Int {
        tree.withUnsafeBufferPointer { tree in
            var i = min(count, tree.count - 1)
            var sum = 0
            while i > 0 {
                sum += tree[i]
                i -= i & -i
            }
            return sum
        }
    }

    /// The smallest index whose inclusive prefix sum exceeds k, and the sum before it.
    func find(_ k: Int) -> (index: Int, before: Int) {
        tree.withUnsafeBufferPointer { tree in
            var position = 0
            var remaining = k
            var step = 1
            while step * 2 < tree.count { step *= 2 }
            while step > 0 {
                let next = position + step
                if next < tree.count && tree[next] <= remaining {
                    position = next
                    remaining -= tree[next]
                }
                step /= 2
            }
            return (position, k - remaining)
        }
    }
}

/// The document as an ordered list of pieces (tombstones included), chunked, with a visible-length index
/// and an id index (per agent and operation number: which chunk holds the character).
struct PieceList {
    static let maxPieces = 64
    /// Pieces per chunk when a list is built at once (decoding): half full, so edits rarely split at once.
    static let chunkFill = maxPieces / 2

    var chunks: [Chunk] = []
    /// Chunk id → current index in `chunks`.
    var chunkIndex: [Int32] = []
    var tree = Fenwick()
    var visibleCount = 0
    /// Per agent, per operation number: the character's scalar and chunk (see `Slot`).
    var slots: [[Slot]] = []
    /// Where the last local insert ended, while nothing else changed the list since: the next keystroke
    /// at that offset extends the same piece without a search (typing is mostly consecutive).
    var typing = TypingRun(offset: -1, c: 0, p: 0)

    var end: Pos { Pos(c: chunks.count, p: 0, o: 0) }
    var start: Pos { Pos(c: 0, p: 0, o: 0) }

    mutating func addAgent() { slots.append([]) }

    @inline(__always) func piece(at pos: Pos) -> Piece { chunks[pos.c].pieces[pos.p] }

    @inline(__always) func id(at pos: Pos) -> Int {
        let piece = chunks[pos.c].pieces[pos.p]
        return packID(piece.agent, piece.seq &+ Int32(pos.o))
    }

    /// True when (agent, seq) names an inserted character known here.
    func isInsert(_ id: Int) -> Bool {
        let agent = Int(idAgent(id)), seq = Int(idSeq(id))
        return agent >= 0 && agent < slots.count && seq >= 0 && seq < slots[agent].count && slots[agent][seq].chunk >= 0
    }

    /// True when every operation of `span` is an inserted character known here (one bounds check, then a
    /// tight loop: decoding checks every delete target).
    func allInserts(_ span: TargetSpan) -> Bool {
        allInserts(agent: span.agent, low: Int(span.low), high: Int(span.high))
    }

    /// True when operations low...high of `agent` are all inserted characters known here.
    func allInserts(agent: Int32, low: Int, high: Int) -> Bool {
        let agent = Int(agent)
        guard low <= high, agent >= 0, agent < slots.count, low >= 0, high < slots[agent].count else { return false }
        return slots[agent].withUnsafeBufferPointer { slots in
            for s in low...high where slots[s].chunk < 0 { return false }
            return true
        }
    }

    /// Chunk of the last local edit and the visible length before it: real edits are local, so the
    /// next edit usually lands in the same chunk and skips the tree search.
    var cursorChunk = -1
    var cursorPrefix = 0

    /// `find(visible:)` that first tries the chunk of the previous edit.
    mutating func findNearCursor(visible k: Int) -> Pos {
        if cursorChunk >= 0 && cursorChunk < chunks.count && k >= cursorPrefix && k < cursorPrefix + chunks[cursorChunk].visible {
            return find(visible: k, chunk: cursorChunk, before: cursorPrefix)
        }
        let (c, before) = tree.find(k)
        cursorChunk = c
        cursorPrefix = before
        return find(visible: k, chunk: c, before: before)
    }

    /// The position of the k-th visible character (0-based); requires k < visibleCount.
    func find(visible k: Int) -> Pos {
        let (c, before) = tree.find(k)
        return find(visible: k, chunk: c, before: before)
    }

    private func find(visible k: Int, chunk c: Int, before: Int) -> Pos {
        var remaining = k - before
        let pieces = chunks[c].pieces
        var p = 0
        while p < pieces.count {
            let piece = pieces[p]
            if !piece.deleted {
                if remaining < Int(piece.len) { return Pos(c: c, p: p, o: remaining) }
                remaining -= Int(piece.len)
            }
            p += 1
        }
        return end
    }

    /// The position of the character with this id, or nil if it is not an inserted character known here.
    func locate(_ id: Int) -> Pos? {
        guard isInsert(id) else { return nil }
        let agent = idAgent(id), seq = idSeq(id)
        let c = Int(chunkIndex[Int(slots[Int(agent)][Int(seq)].chunk)])
        let pieces = chunks[c].pieces
        for p in pieces.indices {
            let piece = pieces[p]
            if piece.agent == agent && seq >= piece.seq && seq < piece.seq &+ piece.len {
                return Pos(c: c, p: p, o: Int(seq &- piece.seq))
            }
        }
        return nil
    }

    /// The character after `pos` in list order (tombstones included), or `end`.
    func next(_ pos: Pos) -> Pos {
        if pos.o + 1 < Int(chunks[pos.c].pieces[pos.p].len) { return Pos(c: pos.c, p: pos.p, o: pos.o + 1) }
        return nextPiece(pos)
    }

    /// The first character of the piece after the one at `pos`, or `end`.
    func nextPiece(_ pos: Pos) -> Pos {
        if pos.p + 1 < chunks[pos.c].pieces.count { return Pos(c: pos.c, p: pos.p + 1, o: 0) }
        return pos.c + 1 < chunks.count ? Pos(c: pos.c + 1, p: 0, o: 0) : end
    }

    /// The character before `pos` in list order, or nil at the start.
    func previous(_ pos: Pos) -> Pos? {
        if pos.c >= chunks.count {
            guard let last = chunks.last?.pieces.last else { return nil }
            return Pos(c: chunks.count - 1, p: chunks[chunks.count - 1].pieces.count - 1, o: Int(last.len) - 1)
        }
        if pos.o > 0 { return Pos(c: pos.c, p: pos.p, o: pos.o - 1) }
        if pos.p > 0 { return Pos(c: pos.c, p: pos.p - 1, o: Int(chunks[pos.c].pieces[pos.p - 1].len) - 1) }
        if pos.c > 0, let last = chunks[pos.c - 1].pieces.last {
            return Pos(c: pos.c - 1, p: chunks[pos.c - 1].pieces.count - 1, o: Int(last.len) - 1)
        }
        return nil
    }

    /// Visible characters before `pos`.
    func visibleOffset(of pos: Pos) -> Int {
        if pos.c >= chunks.count { return visibleCount }
        var offset = tree.prefix(pos.c)
        let pieces = chunks[pos.c].pieces
        for p in 0..<pos.p where !pieces[p].deleted { offset += Int(pieces[p].len) }
        if pos.p < pieces.count && !pieces[pos.p].deleted { offset += pos.o }
        return offset
    }

    /// Room for `additional` more operations of `agent` without regrowing its array.
    mutating func reserveCapacity(agent: Int32, additional: Int) {
        let a = Int(agent)
        guard additional > 0, slots[a].capacity - slots[a].count < additional else { return }
        slots[a].reserveCapacity(slots[a].count + additional)
    }

    /// Makes sure the per-agent arrays cover operation numbers below `count`.
    mutating func reserve(agent: Int32, count: Int) {
        let a = Int(agent)
        let missing = count - slots[a].count
        if missing == 1 {
            slots[a].append(Slot(scalar: 0, chunk: -1))
        } else if missing > 0 {
            slots[a].append(contentsOf: repeatElement(Slot(scalar: 0, chunk: -1), count: missing))
        }
    }

    /// Splits the piece at (c, p) so that a new piece starts at character offset `o` (0 < o < len).
    mutating func splitPiece(c: Int, p: Int, at o: Int) {
        typing.offset = -1
        let piece = chunks[c].pieces[p]
        let cut = Int32(o)
        var right = piece
        right.seq = piece.seq &+ cut
        right.len = piece.len - cut
        right.left = packID(piece.agent, right.seq &- 1)
        chunks[c].pieces[p].len = cut
        chunks[c].pieces.insert(right, at: p + 1)
    }

    /// Inserts a new piece just before the character at `pos` (or at the end); merges it into the previous
    /// piece when it continues that run. Content must already be stored. `typedAt`: the visible offset of
    /// a local insert, remembered so that the next keystroke after it can take `extendTyping`.
    mutating func insert(_ new: Piece, before pos: Pos, typedAt: Int = -1) {
        typing.offset = -1
        if chunks.isEmpty {
            chunkIndex = [0]
            chunks = [Chunk(pieces: [new], visible: 0, id: 0)]
            tree.rebuild([0])
            setLocation(new, chunk: 0)
            addVisible(chunk: 0, new.deleted ? 0 : Int(new.len))
            if typedAt >= 0 && !new.deleted { typing = TypingRun(offset: typedAt + Int(new.len), c: 0, p: 0) }
            return
        }
        var c = pos.c, p = pos.p
        if c >= chunks.count {
            c = chunks.count - 1
            p = chunks[c].pieces.count
        } else if pos.o > 0 {
            splitPiece(c: c, p: p, at: pos.o)
            p += 1
        } else if p == 0 && c > 0 {
            c -= 1
            p = chunks[c].pieces.count
        }
        if p > 0 && chunks[c].pieces[p - 1].canAppend(new) {
            chunks[c].pieces[p - 1].len += new.len
            p -= 1
        } else {
            chunks[c].pieces.insert(new, at: p)
        }
        setLocation(new, chunk: chunks[c].id)
        addVisible(chunk: c, new.deleted ? 0 : Int(new.len))
        let half = rebalance(c)
        if typedAt >= 0 && !new.deleted {
            typing = half > 0 && p >= half
                ? TypingRun(offset: typedAt + Int(new.len), c: c + 1, p: p - half)
                : TypingRun(offset: typedAt + Int(new.len), c: c, p: p)
        }
    }

    /// The typing fast path: when the previous local insert ended at visible `offset` and its piece is
    /// this agent's run ending at `seq`, appends `count` characters to that piece (the same left/right
    /// origins `insertionPoint` would give) and returns the new characters' origins. Nil: take the
    /// general path.
    mutating func extendTyping(agent: Int32, seq: Int32, count: Int32, at offset: Int) -> (left: Int, right: Int)? {
        guard typing.offset == offset, typing.offset >= 0 else { return nil }
        let c = typing.c, p = typing.p
        let piece = chunks[c].pieces[p]
        guard piece.agent == agent, piece.seq &+ piece.len == seq, !piece.deleted else { return nil }
        chunks[c].pieces[p].len = piece.len + count
        let chunkID = chunks[c].id
        slots[Int(agent)].withUnsafeMutableBufferPointer { buffer in
            for s in Int(seq)..<Int(seq + count) { buffer[s].chunk = chunkID }
        }
        addVisible(chunk: c, Int(count))
        typing.offset = offset + Int(count)
        return (packID(agent, seq &- 1), piece.right)
    }

    /// Marks up to `count` characters deleted, starting at `pos` and staying within its piece. Returns
    /// the piece's agent, the first character's operation number, how many characters were covered,
    /// and whether they were visible before (false: already deleted, nothing changed).
    mutating func markDeleted(at pos: Pos, count: Int) -> (agent: Int32, seq: Int32, count: Int, wasVisible: Bool) {
        typing.offset = -1
        var c = pos.c, p = pos.p
        let original = chunks[c].pieces[p]
        let n = min(count, Int(original.len) - pos.o)
        let seq = original.seq &+ Int32(pos.o)
        if original.deleted { return (original.agent, seq, n, false) }
        if pos.o > 0 {
            splitPiece(c: c, p: p, at: pos.o)
            p += 1
        }
        if n < Int(chunks[c].pieces[p].len) { splitPiece(c: c, p: p, at: n) }
        chunks[c].pieces[p].deleted = true
        // Merge with neighbours that are now in the same state (backspacing through a run keeps it one piece).
        if p + 1 < chunks[c].pieces.count && chunks[c].pieces[p].canAppend(chunks[c].pieces[p + 1]) {
            chunks[c].pieces[p].len += chunks[c].pieces[p + 1].len
            chunks[c].pieces.remove(at: p + 1)
        }
        if p > 0 && chunks[c].pieces[p - 1].canAppend(chunks[c].pieces[p]) {
            chunks[c].pieces[p - 1].len += chunks[c].pieces[p].len
            chunks[c].pieces.remove(at: p)
            p -= 1
        }
        addVisible(chunk: c, -n)
        rebalance(c)
        return (original.agent, seq, n, true)
    }

    /// Where a new run goes when the user types at visible `offset`: just after the previous visible
    /// character, with that character as left origin and the next list item (maybe a tombstone) as right.
    mutating func insertionPoint(visible offset: Int) -> (pos: Pos, left: Int, right: Int) {
        if offset == 0 || chunks.isEmpty {
            return (start, -1, chunks.isEmpty ? -1 : id(at: start))
        }
        let leftPos = findNearCursor(visible: offset - 1)
        let after = next(leftPos)
        let pos = after.c == leftPos.c && after.p == leftPos.p ? after : Pos(c: leftPos.c, p: leftPos.p + 1, o: 0)
        return (pos, id(at: leftPos), after == end ? -1 : id(at: after))
    }

    /// The YjsMod / FugueMax integration: where a remote run with these origins goes. Concurrent runs with
    /// the same origins are ordered by agent name, so runs never interleave. Nil if an origin is unknown, or
    /// when the scan would visit more than `budget` pieces (then `budget` is negative); each visited piece
    /// is taken off `budget`.
    func integrationPoint(of new: Piece, names: [AgentID], budget: inout Int) -> Pos? {
        var leftPos = Pos.beforeStart
        if new.left != -1 {
            guard let found = locate(new.left) else { return nil }
            leftPos = found
        }
        var rightPos = end
        if new.right != -1 {
            guard let found = locate(new.right) else { return nil }
            rightPos = found
        }
        let endPos = end
        var i = new.left == -1 ? (chunks.isEmpty ? endPos : start) : next(leftPos)
        var dest = i
        var scanning = false
        while true {
            if !scanning { dest = i }
            if i == endPos || i == rightPos { break }
            budget -= 1
            if budget < 0 { return nil }
            let other = chunks[i.c].pieces[i.p]
            let otherLeft: Pos
            if i.o > 0 {
                otherLeft = Pos(c: i.c, p: i.p, o: i.o - 1)
            } else if other.left == -1 {
                otherLeft = .beforeStart
            } else {
                otherLeft = locate(other.left) ?? .beforeStart
            }
            if otherLeft < leftPos { break }
            if otherLeft == leftPos {
                let otherRight = other.right == -1 ? endPos : (locate(other.right) ?? endPos)
                if otherRight < rightPos {
                    scanning = true
                } else if otherRight == rightPos {
                    let mine = names[Int(new.agent)], theirs = names[Int(other.agent)]
                    if mine < theirs || (mine == theirs && new.seq < other.seq &+ Int32(i.o)) { break }
                    scanning = false
                } else {
                    scanning = false
                }
            }
            // The rest of this piece has left origins inside the scanned range: all skipped alike.
            if rightPos.c == i.c && rightPos.p == i.p && rightPos.o > i.o {
                i = rightPos
            } else {
                i = nextPiece(i)
            }
        }
        return dest
    }

    private mutating func setLocation(_ piece: Piece, chunk: Int32) {
        let a = Int(piece.agent)
        let lo = Int(piece.seq), hi = lo + Int(piece.len)
        slots[a].withUnsafeMutableBufferPointer { buffer in
            for s in lo..<hi { buffer[s].chunk = chunk }
        }
    }

    private mutating func addVisible(chunk c: Int, _ delta: Int) {
        guard delta != 0 else { return }
        if c < cursorChunk { cursorPrefix += delta }
        chunks[c].visible += delta
        visibleCount += delta
        tree.add(c, delta)
    }

    /// Splits an over-full chunk in two; ids of moved characters are pointed at the new chunk. Returns the
    /// index of the first moved piece, 0 when nothing moved.
    @discardableResult
    private mutating func rebalance(_ c: Int) -> Int {
        guard chunks[c].pieces.count > PieceList.maxPieces else { return 0 }
        typing.offset = -1
        let half = chunks[c].pieces.count / 2
        let moved = Array(chunks[c].pieces[half...])
        chunks[c].pieces.removeSubrange(half...)
        let newID = Int32(chunkIndex.count)
        var movedVisible = 0
        for piece in moved {
            if !piece.deleted { movedVisible += Int(piece.len) }
            setLocation(piece, chunk: newID)
        }
        chunks[c].visible -= movedVisible
        chunks.insert(Chunk(pieces: moved, visible: movedVisible, id: newID), at: c + 1)
        if c < cursorChunk { cursorChunk += 1 }
        chunkIndex.append(0)
        for index in (c + 1)..<chunks.count { chunkIndex[Int(chunks[index].id)] = Int32(index) }
        tree.rebuild(chunks.map(\.visible))
        return half
    }

    /// Rebuilds the chunk and id indexes from a flat list of pieces (used when decoding a state); the
    /// caller may already have pointed each character at chunk `index / chunkFill`.
    mutating func load(_ pieces: [Piece], locationsAssigned: Bool) {
        cursorChunk = -1
        typing.offset = -1
        chunks = []
        chunkIndex = []
        visibleCount = 0
        let size = PieceList.chunkFill
        var start = 0
        while start < pieces.count {
            let slice = Array(pieces[start..<min(start + size, pieces.count)])
            let id = Int32(chunks.count)
            var visible = 0
            for piece in slice {
                if !piece.deleted { visible += Int(piece.len) }
                if !locationsAssigned { setLocation(piece, chunk: id) }
            }
            chunks.append(Chunk(pieces: slice, visible: visible, id: id))
            chunkIndex.append(id)
            visibleCount += visible
            start += size
        }
        tree.rebuild(chunks.map(\.visible))
    }

    /// Calls `body` with each piece in document order.
    func forEachPiece(_ body: (Piece) -> Void) {
        for chunk in chunks {
            for piece in chunk.pieces { body(piece) }
        }
    }
}
