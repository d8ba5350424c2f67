/// Binary full-state encoding of a replica (joiners, journal). Layout, all integers LEB128 varints:
///
///     "CSD" 2                         magic and format version
///     agentCount, (byteCount, UTF-8)* agent names
///     known*                          operations known per agent (the version vector)
///     runCount, run*                  insert runs in document order (tombstones included): len << 5 | header
///                                     (see `RunHeader`), [agent], zigzag seq delta, [left], [right]
///     visibilityRunCount, length*     alternating visible / deleted lengths over the runs, visible first
///     byteCount, UTF-8                the visible text
///     deleteCount, delete*            delete runs: spanCount << 1 | newAgent, [agent], seq delta, span*
///                                     with span = distance << 1 | newAgent, [agent], zigzag count
///
/// Ids are written relative to what is nearby: an origin or a delete target as its distance (zigzag) from
/// the run's or delete's own operation number, with its agent only when it differs from the one before
/// (`flagged`). Format 1 (the same without the flags, header and length as separate values) still decodes.
///
/// Deleted characters' text is not stored: no replica ever shows it again (undo restores text from the
/// undoing agent's own memory), so a joiner keeps only their ids and origins, which concurrent inserts
/// still need to find their place.
enum StateCodec {
    static let magic: [UInt8] = [0x43, 0x53, 0x44, 0x02]
    /// Format versions `decode` reads (the fourth magic byte).
    static let readableVersions: ClosedRange<UInt8> = 1...2
    /// Upper bound on operations in a decoded state, so a corrupt length cannot exhaust memory.
    static let maxOperations = 1 << 26
    /// Agents and agent-name lengths a state may hold; `Replica.apply` refuses updates beyond them, so that
    /// every reachable document decodes again.
    static let maxAgents = 1 << 16
    static let maxAgentNameBytes = 4096

    /// Run header bits: 0 same agent as the previous run; 1-2 left origin kind; 3-4 right origin kind.
    enum RunHeader {
        static let sameAgent: UInt8 = 1
        // Left origin kinds: none, last character of the previous run, (own agent, seq - 1), explicit.
        static let leftNone: UInt8 = 0, leftPrevious: UInt8 = 1, leftChain: UInt8 = 2, leftExplicit: UInt8 = 3
        // Right origin kinds: none, first character of the next run, the previous run's right, explicit.
        static let rightNone: UInt8 = 0, rightNext: UInt8 = 1, rightSame: UInt8 = 2, rightExplicit: UInt8 = 3
    }

    static func encode(_ replica: DocumentCore) -> [UInt8] {
        var out = ByteWriter()
        out.bytes.append(contentsOf: magic)
        // Only agents with operations are written, renumbered in first-seen order.
        var agentNumber = [Int](repeating: -1, count: replica.names.count)
        var written = 0
        for (index, count) in replica.known.enumerated() where count > 0 {
            agentNumber[index] = written
            written += 1
        }
        out.varint(written)
        for (index, name) in replica.names.enumerated() where agentNumber[index] >= 0 {
            let utf8 = Array(name.utf8)
            out.varint(utf8.count)
            out.bytes.append(contentsOf: utf8)
        }
        for count in replica.known where count > 0 { out.varint(count) }
        func number(_ agent: Int32) -> Int { agentNumber[Int(agent)] }

        // Runs: pieces merged regardless of deletion (deletion is the separate visibility list). Streamed
        // twice (count, then write with one run of lookahead) rather than collected: an array of them was
        // the largest allocation of encoding, resident next to the replica.
        func forEachRun(_ body: (Piece) -> Void) {
            var current: Piece?
            replica.list.forEachPiece { piece in
                if var last = current, last.agent == piece.agent, last.seq + last.len == piece.seq,
                    piece.left == packID(piece.agent, piece.seq - 1), piece.right == last.right
                {
                    last.len += piece.len
                    current = last
                } else {
                    if let current { body(current) }
                    current = piece
                }
            }
            if let current { body(current) }
        }
        var visibility: [Int] = [0]
        var visibleState = true
        var text: [UInt8] = []
        text.reserveCapacity(replica.list.visibleCount)
        replica.list.forEachPiece { piece in
            if piece.deleted == visibleState {
                visibility.append(0)
                visibleState.toggle()
            }
            visibility[visibility.count - 1] += Int(piece.len)
            if !piece.deleted {
                let lo = Int(piece.seq), hi = lo + Int(piece.len)
                replica.list.slots[Int(piece.agent)].withUnsafeBufferPointer { slots in
                    for s in lo..<hi { appendUTF8(slots[s].scalar, to: &text) }
                }
            }
        }
        var runCount = 0
        forEachRun { _ in runCount += 1 }
        out.varint(runCount)
        var expectedSeq = [Int32](repeating: 0, count: replica.names.count)
        func write(_ run: Piece, previous: Piece?, next: Piece?) {
            var header: UInt8 = 0
            if previous?.agent == run.agent { header |= RunHeader.sameAgent }
            let leftKind: UInt8
            if run.left == -1 {
                leftKind = RunHeader.leftNone
            } else if let previous, run.left == packID(previous.agent, previous.seq + previous.len - 1) {
                leftKind = RunHeader.leftPrevious
            } else if run.left == packID(run.agent, run.seq - 1) {
                leftKind = RunHeader.leftChain
            } else {
                leftKind = RunHeader.leftExplicit
            }
            let rightKind: UInt8
            if run.right == -1 {
                rightKind = RunHeader.rightNone
            } else if let next, run.right == packID(next.agent, next.seq) {
                rightKind = RunHeader.rightNext
            } else if let previous, run.right == previous.right {
                rightKind = RunHeader.rightSame
            } else {
                rightKind = RunHeader.rightExplicit
            }
            header |= leftKind << 1 | rightKind << 3
            // Most runs are short: length and header share one varint.
            out.varint(Int(run.len) << 5 | Int(header))
            if previous?.agent != run.agent { out.varint(number(run.agent)) }
            out.zigzag(Int(run.seq) - Int(expectedSeq[Int(run.agent)]))
            expectedSeq[Int(run.agent)] = run.seq + run.len
            // Explicit origins are usually characters typed shortly before: store the distance.
            if leftKind == RunHeader.leftExplicit {
                out.flagged(Int(run.seq) - Int(idSeq(run.left)), agent: number(idAgent(run.left)), previous: number(run.agent))
            }
            if rightKind == RunHeader.rightExplicit {
                out.flagged(Int(run.seq) - Int(idSeq(run.right)), agent: number(idAgent(run.right)), previous: number(run.agent))
            }
        }
        // Each run is written once the next one is known.
        var previous: Piece?, pending: Piece?
        forEachRun { run in
            if let pending {
                write(pending, previous: previous, next: run)
                previous = pending
            }
            pending = run
        }
        if let pending { write(pending, previous: previous, next: nil) }
        out.varint(visibility.count)
        for length in visibility { out.varint(length) }
        out.varint(text.count)
        out.bytes.append(contentsOf: text)

        // Delete runs in a canonical form (by agent, then operation number, contiguous runs merged) so
        // that decoding and re-encoding gives the same bytes.
        // Flat: the merged spans of delete k are deleteSpans[spanEnd(k - 1) ..< deletes[k].spanEnd]; one
        // array per delete run was one allocation each, resident next to the replica while encoding.
        var deletes: [(agent: Int, seq: Int32, len: Int32, spanEnd: Int)] = []
        var deleteSpans: [TargetSpan] = []
        var order: [Int32] = []
        for (index, record) in replica.log.records.enumerated() where record.isDelete { order.append(Int32(index)) }
        func key(_ index: Int32) -> (Int, Int32) {
            let record = replica.log.records[Int(index)]
            return (number(record.agent), record.seq)
        }
        // A single author's log is already in order: sort (indices, not records) only when it is not.
        if zip(order, order.dropFirst()).contains(where: { key($0.1) < key($0.0) }) {
            order.sort { key($0) < key($1) }
        }
        for index in order {
            let record = replica.log.records[Int(index)]
            let spans = replica.log.spans[Int(record.spanStart)..<Int(record.spanEnd)]
            let agent = number(record.agent)
            var spansStart = deleteSpans.count
            if let last = deletes.last, last.agent == agent, last.seq + last.len == record.seq {
                spansStart = deletes.count > 1 ? deletes[deletes.count - 2].spanEnd : 0
                deletes[deletes.count - 1].len += record.len
            } else {
                deletes.append((agent, record.seq, record.len, 0))
            }
            for span in spans where deleteSpans.count == spansStart || !deleteSpans[deleteSpans.count - 1].absorb(span) {
                deleteSpans.append(span)
            }
            deletes[deletes.count - 1].spanEnd = deleteSpans.count
        }
        out.varint(deletes.count)
        var deleteEnd = [Int](repeating: 0, count: written)
        var previousDeleter = -1
        var spanStart = 0
        for record in deletes {
            let newAgent = record.agent != previousDeleter
            out.varint((record.spanEnd - spanStart) << 1 | (newAgent ? 1 : 0))
            if newAgent { out.varint(record.agent) }
            previousDeleter = record.agent
            out.varint(Int(record.seq) - deleteEnd[record.agent])
            deleteEnd[record.agent] = Int(record.seq + record.len)
            var previousTarget = record.agent
            for span in deleteSpans[spanStart..<record.spanEnd] {
                out.flagged(Int(record.seq) - Int(span.seq), agent: number(span.agent), previous: previousTarget)
                previousTarget = number(span.agent)
                out.zigzag(span.backward ? -Int(span.count) : Int(span.count))
            }
            spanStart = record.spanEnd
        }
        return out.bytes
    }

    static func decode(_ bytes: [UInt8], into replica: inout DocumentCore) throws {
        var input = ByteReader(bytes: bytes)
        guard bytes.count >= magic.count, Array(bytes[0..<3]) == Array(magic[0..<3]), readableVersions.contains(bytes[3]) else {
            throw DocumentError("not a CodeSync document state (bad magic or unsupported format version)")
        }
        let version = bytes[3]
        input.offset = magic.count
        let agentCount = try input.count(limit: maxAgents)
        var map: [Int32] = []
        for _ in 0..<agentCount {
            let length = try input.count(limit: maxAgentNameBytes)
            let nameBytes = try input.take(length)
            map.append(replica.intern(String(decoding: nameBytes, as: UTF8.self)))
        }
        func agent(_ raw: Int) throws -> Int32 {
            guard raw >= 0, raw < map.count else { throw DocumentError("corrupt document state: agent index \(raw) out of range") }
            return map[raw]
        }
        var totalKnown = 0
        var knownByAgent: [Int] = []
        for _ in 0..<agentCount {
            let count = try input.count(limit: maxOperations)
            knownByAgent.append(count)
            totalKnown += count
        }
        guard totalKnown <= maxOperations else { throw DocumentError("document state too large (\(totalKnown) operations)") }

        /// A (raw agent, distance) pair: format 1 writes both, format 2 the agent only when it is not `previous`.
        func relativeID(previous: Int) throws -> (agent: Int, distance: Int) {
            if version == 1 {
                let raw = try input.count(limit: agentCount - 1)
                return (raw, try input.zigzag())
            }
            let (distance, newAgent) = try input.flaggedZigzag()
            return (newAgent ? try input.count(limit: agentCount - 1) : previous, distance)
        }
        func explicitOrigin(_ seq: Int, runAgent: Int) throws -> Int {
            let (raw, distance) = try relativeID(previous: runAgent)
            let a = try agent(raw)
            let target = seq - distance
            guard target >= 0, target < Int(Int32.max) else { throw DocumentError("corrupt document state: origin out of range") }
            return packID(a, Int32(target))
        }
        // Every run, visibility length and delete takes at least one byte: a count beyond the bytes left is
        // corrupt, and must not reserve memory (a 20-byte state could otherwise ask for gigabytes).
        let runCount = try input.count(limit: min(maxOperations, input.remaining))
        var runs: [Piece] = []
        runs.reserveCapacity(runCount)
        var rightKinds: [UInt8] = []
        rightKinds.reserveCapacity(runCount)
        var expectedSeq = [Int](repeating: 0, count: agentCount)
        var rawAgent = -1
        for index in 0..<runCount {
            let header: UInt8
            var len = 0
            if version == 1 {
                header = try input.byte()
            } else {
                let packed = try input.count(limit: maxOperations << 5 | 31)
                header = UInt8(packed & 31)
                len = packed >> 5
            }
            if header & RunHeader.sameAgent == 0 || index == 0 { rawAgent = try input.count(limit: agentCount - 1) }
            let seq = expectedSeq[rawAgent] + (try input.zigzag())
            if version == 1 { len = try input.count(limit: maxOperations) }
            guard seq >= 0, len > 0, seq + len <= knownByAgent[rawAgent] else {
                throw DocumentError("corrupt document state: insert run outside the agent's operations")
            }
            expectedSeq[rawAgent] = seq + len
            let a = try agent(rawAgent)
            var piece = Piece(agent: a, seq: Int32(seq), len: Int32(len), deleted: false, left: -1, right: -1)
            switch (header >> 1) & 3 {
            case RunHeader.leftPrevious:
                guard let previous = runs.last else { throw DocumentError("corrupt document state: first run refers to a previous run") }
                piece.left = packID(previous.agent, previous.seq + previous.len - 1)
            case RunHeader.leftChain:
                piece.left = packID(a, Int32(seq) - 1)
            case RunHeader.leftExplicit:
                piece.left = try explicitOrigin(seq, runAgent: rawAgent)
            default:
                break
            }
            let rightKind = (header >> 3) & 3
            rightKinds.append(rightKind)
            if rightKind == RunHeader.rightExplicit {
                piece.right = try explicitOrigin(seq, runAgent: rawAgent)
            }
            runs.append(piece)
        }
        // Right origins pointing at the next run, or copying the previous run's, resolve in document order.
        for index in runs.indices {
            switch rightKinds[index] {
            case RunHeader.rightNext:
                guard index + 1 < runs.count else { throw DocumentError("corrupt document state: last run refers to a next run") }
                runs[index].right = packID(runs[index + 1].agent, runs[index + 1].seq)
            case RunHeader.rightSame:
                guard index > 0 else { throw DocumentError("corrupt document state: first run refers to a previous run") }
                runs[index].right = runs[index - 1].right
            default:
                break
            }
        }

        let visibilityCount = try input.count(limit: min(maxOperations, input.remaining))
        var visibility: [Int] = []
        visibility.reserveCapacity(visibilityCount)
        for _ in 0..<visibilityCount { visibility.append(try input.count(limit: maxOperations)) }
        let textLength = try input.count(limit: bytes.count)
        let textBytes = try input.take(textLength)

        // Delete runs point into one flat span buffer (one array per run cost an allocation each).
        var deletes: [(agent: Int32, seq: Int, spans: Range<Int>, total: Int)] = []
        var deleteSpans: [TargetSpan] = []
        let deleteCount = try input.count(limit: min(maxOperations, input.remaining))
        var deleteEnd = [Int](repeating: 0, count: agentCount)
        var rawDeleter = -1
        for _ in 0..<deleteCount {
            let spanCount: Int
            if version == 1 {
                rawDeleter = try input.count(limit: agentCount - 1)
                spanCount = -1
            } else {
                let packed = try input.count(limit: maxOperations << 1 | 1)
                spanCount = packed >> 1
                if packed & 1 == 1 { rawDeleter = try input.count(limit: agentCount - 1) }
            }
            let a = try agent(rawDeleter)
            let seq = deleteEnd[rawDeleter] + (try input.count(limit: maxOperations))
            var total = 0
            let spanTotal = version == 1 ? try input.count(limit: maxOperations) : spanCount
            let firstSpan = deleteSpans.count
            var previousTarget = rawDeleter
            for _ in 0..<spanTotal {
                let (rawTarget, distance) = try relativeID(previous: previousTarget)
                previousTarget = rawTarget
                let target = try agent(rawTarget)
                let start = seq - distance
                let signed = try input.zigzag()
                guard signed != 0, abs(signed) <= maxOperations, start >= 0, start < Int(Int32.max) else {
                    throw DocumentError("corrupt document state: bad delete span")
                }
                total += abs(signed)
                let span = TargetSpan(agent: target, seq: Int32(start), count: Int32(abs(signed)), backward: signed < 0)
                guard span.low >= 0 else { throw DocumentError("corrupt document state: delete span below zero") }
                deleteSpans.append(span)
            }
            guard seq + total <= maxOperations else { throw DocumentError("corrupt document state: delete run out of range") }
            deleteEnd[rawDeleter] = seq + total
            deletes.append((a, seq, firstSpan..<deleteSpans.count, total))
        }
        guard input.offset == bytes.count else { throw DocumentError("corrupt document state: trailing bytes") }

        // Every operation number below `known` must be exactly one insert or one delete.
        var covered = 0
        for run in runs { covered += Int(run.len) }
        for delete in deletes { covered += delete.total }
        guard covered == totalKnown else { throw DocumentError("corrupt document state: operations do not add up to the version") }
        for (raw, count) in knownByAgent.enumerated() {
            let a = map[raw]
            replica.known[Int(a)] = count
            replica.list.reserve(agent: a, count: count)
        }
        var pieces: [Piece] = []
        pieces.reserveCapacity(runs.count + visibility.count)
        var visIndex = 0
        var visRemaining = visibility.first ?? 0
        var deleted = false
        func advanceVisibility() throws {
            while visRemaining == 0 {
                visIndex += 1
                guard visIndex < visibility.count else { throw DocumentError("corrupt document state: visibility runs too short") }
                visRemaining = visibility[visIndex]
                deleted.toggle()
            }
        }
        var scalars: [UInt32] = []
        scalars.reserveCapacity(textBytes.count)
        var decoder = UTF8()
        var iterator = textBytes.makeIterator()
        decodeLoop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar.value)
            case .emptyInput: break decodeLoop
            case .error: throw DocumentError("corrupt document state: text is not valid UTF-8")
            }
        }
        var textIndex = 0
        for run in runs {
            var done: Int32 = 0
            while done < run.len {
                try advanceVisibility()
                let n = Int32(min(Int(run.len - done), visRemaining))
                var piece = run
                piece.seq = run.seq + done
                piece.len = n
                if done > 0 { piece.left = packID(run.agent, piece.seq - 1) }
                piece.deleted = deleted
                let a = Int(run.agent)
                let lo = Int(piece.seq), hi = lo + Int(n)
                // Chunk ids are assigned here, the same way `PieceList.load` cuts chunks.
                let chunk = Int32(pieces.count / PieceList.chunkFill)
                try replica.list.slots[a].withUnsafeMutableBufferPointer { slots in
                    for s in lo..<hi {
                        guard slots[s].chunk == -1 else { throw DocumentError("corrupt document state: a character appears twice") }
                        slots[s].chunk = chunk
                    }
                    if deleted {
                        for s in lo..<hi { slots[s].scalar = 0xFFFD }
                    } else {
                        guard textIndex + (hi - lo) <= scalars.count else {
                            throw DocumentError("corrupt document state: text shorter than visible runs")
                        }
                        for s in lo..<hi {
                            slots[s].scalar = scalars[textIndex]
                            textIndex += 1
                        }
                    }
                }
                pieces.append(piece)
                visRemaining -= Int(n)
                done += n
            }
        }
        guard textIndex == scalars.count else { throw DocumentError("corrupt document state: text longer than visible runs") }
        // Decoding holds the replica and these buffers at once: free each as soon as it is done with.
        scalars = []
        // A piece's origins are its run's, or (cut by visibility) the run's own previous character.
        for run in runs where run.left != -1 && !replica.list.isInsert(run.left) || run.right != -1 && !replica.list.isInsert(run.right) {
            throw DocumentError("corrupt document state: an origin names no character")
        }
        for span in deleteSpans where !replica.list.allInserts(span) {
            throw DocumentError("corrupt document state: a delete targets no character")
        }
        // The log's size is known here: one allocation each instead of doublings.
        replica.log.records.reserveCapacity(runs.count + deletes.count)
        replica.log.spans.reserveCapacity(deleteSpans.count)
        for run in runs {
            replica.log.appendInsert(agent: run.agent, seq: run.seq, len: run.len, left: run.left, right: run.right)
        }
        runs = []
        replica.list.load(pieces, locationsAssigned: true)
        pieces = []
        for delete in deletes {
            let total = delete.total
            let a = Int(delete.agent)
            guard delete.seq + total <= replica.known[a] else {
                throw DocumentError("corrupt document state: a delete overlaps another operation")
            }
            let overlaps = replica.list.slots[a].withUnsafeBufferPointer { slots in
                slots[delete.seq..<(delete.seq + total)].contains { $0.chunk != -1 }
            }
            if overlaps { throw DocumentError("corrupt document state: a delete overlaps another operation") }
            replica.log.appendDelete(agent: delete.agent, seq: Int32(delete.seq), targets: deleteSpans[delete.spans])
        }
        replica.cachedText = String(decoding: textBytes, as: UTF8.self)
    }
}

/// Appends LEB128 varints and raw bytes.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: Int) {
        var v = UInt(bitPattern: value)
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ value: Int) { varint((value << 1) ^ (value >> 63)) }

    /// A zigzag distance with a flag bit saying whether an agent number follows (only when `agent` differs
    /// from `previous`, which the reader knows).
    mutating func flagged(_ distance: Int, agent: Int, previous: Int) {
        let newAgent = agent != previous
        varint(((distance << 1) ^ (distance >> 63)) << 1 | (newAgent ? 1 : 0))
        if newAgent { varint(agent) }
    }
}

/// Reads what `ByteWriter` wrote; every read is bounds-checked and throws on truncation.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var remaining: Int { bytes.count - offset }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw DocumentError("corrupt document state: truncated") }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func varint() throws -> UInt {
        var result: UInt = 0
        var shift: UInt = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw DocumentError("corrupt document state: varint too long") }
            result |= UInt(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A non-negative count no larger than `limit`.
    mutating func count(limit: Int) throws -> Int {
        let value = try varint()
        guard limit >= 0, value <= UInt(limit) else { throw DocumentError("corrupt document state: value \(value) out of range") }
        return Int(value)
    }

    mutating func zigzag() throws -> Int { try Self.unzigzag(try varint()) }

    /// What `ByteWriter.flagged` wrote: the distance and whether an agent number follows.
    mutating func flaggedZigzag() throws -> (value: Int, flag: Bool) {
        let raw = try varint()
        return (try Self.unzigzag(raw >> 1), raw & 1 == 1)
    }

    private static func unzigzag(_ raw: UInt) throws -> Int {
        let value = Int(bitPattern: raw >> 1) ^ -Int(bitPattern: raw & 1)
        guard abs(value) <= StateCodec.maxOperations else { throw DocumentError("corrupt document state: value out of range") }
        return value
    }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count <= bytes.count - offset else { throw DocumentError("corrupt document state: truncated") }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }
}
