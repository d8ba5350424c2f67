/// One run of operations by one agent, in the order this replica learned them (a causal order).
/// 32 bytes: an insert run's origins and a delete run's span range share the same two words (a record
/// is one or the other), so the log is a fifth smaller than with separate fields.
struct LogRecord {
    var agent: Int32
    var seq: Int32
    var len: Int32
    var isDelete: Bool
    /// Insert runs: origins of the first character (packed ids, -1 for none). Delete runs: `spanStart`.
    var left: Int
    /// Insert runs: the shared right origin. Delete runs: `spanEnd`.
    var right: Int

    init(agent: Int32, seq: Int32, len: Int32, isDelete: Bool, left: Int, right: Int, spanStart: Int32, spanEnd: Int32) {
        self.agent = agent
        self.seq = seq
        self.len = len
        self.isDelete = isDelete
        self.left = isDelete ? Int(spanStart) : left
        self.right = isDelete ? Int(spanEnd) : right
    }

    /// Delete runs: their target spans are `spans[spanStart..<spanEnd]` of the log.
    var spanStart: Int32 {
        get { Int32(truncatingIfNeeded: left) }
        set { left = Int(newValue) }
    }

    var spanEnd: Int32 {
        get { Int32(truncatingIfNeeded: right) }
        set { right = Int(newValue) }
    }
}

/// `count` consecutive target characters of one agent, from `seq` upwards or (backward) downwards.
struct TargetSpan: Equatable {
    var agent: Int32
    var seq: Int32
    var count: Int32
    var backward: Bool

    /// Lowest and highest operation number covered.
    var low: Int32 { backward ? seq - count + 1 : seq }
    var high: Int32 { backward ? seq : seq + count - 1 }

    /// Extends this span by `next` when one span can describe both (forward typing deletes, backspace runs).
    mutating func absorb(_ next: TargetSpan) -> Bool {
        guard next.agent == agent, !next.backward || next.count == 1 else { return false }
        if (!backward || count == 1) && next.seq == high + 1 {
            if backward { backward = false }
            count += next.count
            return true
        }
        if (backward || count == 1) && next.count == 1 && next.seq == low - 1 {
            if !backward {
                backward = true
            }
            seq = high
            count += 1
            return true
        }
        return false
    }

    /// The span without its first `k` targets.
    func dropping(_ k: Int32) -> TargetSpan {
        var rest = self
        rest.count -= k
        rest.seq = backward ? seq - k : seq + k
        return rest
    }
}

/// Every operation this replica knows, as run-length records; answers "what does version V lack".
struct OpLog {
    var records: [LogRecord] = []
    var spans: [TargetSpan] = []

    mutating func appendInsert(agent: Int32, seq: Int32, len: Int32, left: Int, right: Int) {
        if var last = records.last, !last.isDelete, last.agent == agent, last.seq + last.len == seq,
            left == packID(agent, seq - 1), right == last.right
        {
            last.len += len
            records[records.count - 1] = last
            return
        }
        records.append(LogRecord(agent: agent, seq: seq, len: len, isDelete: false, left: left, right: right, spanStart: 0, spanEnd: 0))
    }

    mutating func appendDelete(agent: Int32, seq: Int32, targets: some Collection<TargetSpan>) {
        guard !targets.isEmpty else { return }
        let total = targets.reduce(Int32(0)) { $0 + $1.count }
        if var last = records.last, last.isDelete, last.agent == agent, last.seq + last.len == seq,
            Int(last.spanEnd) == spans.count
        {
            for target in targets where !spans[spans.count - 1].absorb(target) { spans.append(target) }
            last.len += total
            last.spanEnd = Int32(spans.count)
            records[records.count - 1] = last
            return
        }
        let start = Int32(spans.count)
        for target in targets {
            if Int32(spans.count) > start, spans[spans.count - 1].absorb(target) { continue }
            spans.append(target)
        }
        records.append(LogRecord(agent: agent, seq: seq, len: total, isDelete: true, left: -1, right: -1, spanStart: start, spanEnd: Int32(spans.count)))
    }
}

/// A point in one replica's history (see `Replica.historyMark`): how many log records there were and how
/// long the last one was, since the last record can grow in place.
public struct HistoryMark: Sendable, Equatable {
    let records: Int
    let lastLength: Int32
}

extension OpLog {
    var mark: HistoryMark { HistoryMark(records: records.count, lastLength: records.last?.len ?? 0) }
}
