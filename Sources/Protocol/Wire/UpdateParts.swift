@_spi(Wire) import CodeSyncDocument

/// Cutting an update into parts that each fit a frame, for welcomes and `ops` larger than one.
extension Update {
    /// Largest JSON a sender puts in one part (or one frame of updates): well under the frame
    /// limit and `ParseLimits.maxTokens`, so a receiver never holds more than this per frame.
    static let partBudget = 1 << 20
    /// Bytes an `ops` or welcome envelope may add around a part's update.
    static let partEnvelope = 512
    /// The smallest budget `split` works with (an insert's fixed fields and one scalar fit it).
    static let minimumPartBudget = 256

    /// Fixed bytes of an insert run besides its text: brackets, commas, quotes and 7 numbers of at most 11 digits.
    private static let insertFixed = 2 + 8 + 2 + 7 * 11
    /// Bytes of a delete run's header, and of each of its spans.
    private static let deleteFixed = 2 + 3 + 3 * 11
    private static let spanBytes = 3 + 3 * 11
    /// `{"a":[],"o":[]}`
    private static let emptyBytes = 15

    /// The JSON size of `update`, exactly.
    static func encodedSize(_ update: Update) -> Int { FastCodec.encode(update).count }

    /// Consecutive updates that, applied in order, do exactly what this one does, each at most
    /// `maxBytes` of JSON (at least `minimumPartBudget`). Long insert runs are cut between scalars
    /// (the rest of a run sits after the run's previous character, which is what character k of a
    /// run means), long delete runs between spans (a delete's numbers follow its spans in order).
    func split(maxBytes: Int) -> [Update] {
        let budget = Swift.max(maxBytes, Self.minimumPartBudget)
        var parts: [Update] = []
        var current: [Op] = []
        var agents: Set<AgentID> = []
        var used = Self.emptyBytes
        func agentCost(_ agent: AgentID) -> Int { agents.contains(agent) ? 0 : Self.escapedSize(agent) + 3 }
        func close() {
            guard !current.isEmpty else { return }
            parts.append(Update(ops: current))
            current = []
            agents = []
            used = Self.emptyBytes
        }
        func add(_ op: Op, size: Int, names: [AgentID]) {
            current.append(op)
            used += size + 1
            agents.formUnion(names)
        }
        for op in ops {
            switch op {
            case .insert(var insert):
                // Measured once per run (not per part: a run cut into k parts would be walked k times).
                var textSize = Self.escapedSize(insert.text) + 2
                while true {
                    let names = [insert.agent] + [insert.left?.agent, insert.right?.agent].compactMap { $0 }
                    let naming = Set(names).reduce(0) { $0 + agentCost($1) }
                    if used + naming + Self.insertFixed + textSize + 1 <= budget {
                        add(.insert(insert), size: Self.insertFixed + textSize + naming, names: names)
                        break
                    }
                    // Fits a fresh part whole: start one. Otherwise cut the run to what fits here.
                    let freshNaming = Set(names).reduce(0) { $0 + Self.escapedSize($1) + 3 }
                    if !current.isEmpty && Self.emptyBytes + freshNaming + Self.insertFixed + textSize + 1 <= budget {
                        close()
                        continue
                    }
                    let room = budget - used - naming - Self.insertFixed - 2 - 1
                    // Walk the UTF-8 bytes; cut only before a scalar's first byte.
                    let utf8 = insert.text.utf8
                    var cut = utf8.startIndex
                    var headSize = 0
                    var taken = 0
                    var position = utf8.startIndex
                    var scalarSize = 0
                    while position < utf8.endIndex {
                        let byte = utf8[position]
                        if byte & 0xC0 != 0x80 {
                            // A scalar starts here: the one before it is complete.
                            if position != utf8.startIndex {
                                if headSize + scalarSize > room { break }
                                headSize += scalarSize
                                taken += 1
                                cut = position
                            }
                            scalarSize = 0
                        }
                        scalarSize += Self.escapedSize(byte: byte)
                        position = utf8.index(after: position)
                    }
                    if position == utf8.endIndex, headSize + scalarSize <= room {
                        headSize += scalarSize
                        taken += 1
                        cut = position
                    }
                    let head = Substring(insert.text.utf8[..<cut])
                    if head.isEmpty {
                        // Not even one scalar fits beside what this part holds: a fresh part has room.
                        close()
                        continue
                    }
                    add(.insert(InsertOp(agent: insert.agent, seq: insert.seq, left: insert.left, right: insert.right, text: String(head))),
                        size: Self.insertFixed + headSize + 2 + naming, names: names)
                    close()
                    textSize -= headSize
                    insert = InsertOp(agent: insert.agent, seq: insert.seq + taken, left: OpRef(agent: insert.agent, seq: insert.seq + taken - 1),
                                      right: insert.right, text: String(Substring(insert.text.utf8[cut...])))
                }
            case .delete(let delete):
                var seq = delete.seq
                var spans: [DeleteSpan] = []
                var size = Self.deleteFixed
                var names: Set<AgentID> = [delete.agent]
                func flush() {
                    guard !spans.isEmpty else { return }
                    let naming = names.reduce(0) { $0 + agentCost($1) }
                    add(.delete(DeleteOp(agent: delete.agent, seq: seq, spans: spans)), size: size + naming, names: Array(names))
                    seq += spans.reduce(0) { $0 + $1.count }
                    spans = []
                    size = Self.deleteFixed
                    names = [delete.agent]
                }
                for span in delete.spans {
                    let extra = Self.spanBytes + (names.contains(span.agent) ? 0 : agentCost(span.agent))
                    let naming = names.reduce(0) { $0 + agentCost($1) }
                    if used + naming + size + extra + 1 > budget {
                        flush()
                        close()
                    }
                    spans.append(span)
                    size += Self.spanBytes
                    names.insert(span.agent)
                }
                flush()
            }
        }
        close()
        return parts.isEmpty ? [self] : parts
    }

    /// Bytes of `text` inside a JSON string literal, as `JSONWriter` escapes it.
    private static func escapedSize(_ text: String) -> Int { text.utf8.reduce(0) { $0 + escapedSize(byte: $1) } }

    private static func escapedSize(byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x0C, 0x0A, 0x0D, 0x09: 2
        case 0x00..<0x20: 6
        default: 1
        }
    }
}
