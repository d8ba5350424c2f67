/// The edits made to the editor's text since the oldest remembered run, so that a position in the
/// text a run ran can be carried to the text as it is now (an anchor on the character, not on a
/// line number that later edits shift).
struct EditLog: Sendable {
    struct Entry: Sendable {
        var at: Int
        var deleted: Int
        var inserted: Int
    }

    /// The position of `entries[0]` among all edits ever recorded.
    private(set) var base = 0
    private(set) var entries: [Entry] = []
    /// Most edits kept; past this the oldest half goes and runs older than that lose their anchors.
    static let maxEntries = 200_000

    /// The position the next edit will get.
    var end: Int { base + entries.count }

    mutating func record(at: Int, deleted: Int, inserted: Int) {
        guard deleted > 0 || inserted > 0 else { return }
        entries.append(Entry(at: at, deleted: deleted, inserted: inserted))
        if entries.count > Self.maxEntries { forget(before: base + entries.count / 2) }
    }

    /// Drops the edits before position `position`.
    mutating func forget(before position: Int) {
        let count = min(entries.count, max(0, position - base))
        guard count > 0 else { return }
        entries.removeFirst(count)
        base += count
    }

    /// Where the character at `offset` of the text as it was at edit position `since` is now, and
    /// whether it survived; nil when those edits are no longer kept.
    func carry(_ offset: Int, since: Int) -> (offset: Int, survived: Bool)? {
        guard since >= base else { return nil }
        var offset = offset, survived = true
        for entry in entries[(since - base)...] {
            if offset < entry.at { continue }
            if offset >= entry.at + entry.deleted {
                offset += entry.inserted - entry.deleted
            } else {
                offset = entry.at
                survived = false
            }
        }
        return (offset, survived)
    }
}

/// The text a remembered run ran, and where in the edit log it stands.
struct RunText: Sendable {
    /// The run's number in the output log.
    var number: Int
    /// The text as it was (a copy-on-write snapshot: costs only the chunks edited since).
    var buffer: TextBuffer
    /// Edit-log position of that text.
    var since: Int
    /// `RunVersion` of `buffer`.
    var version: String
}

/// Where a location in a run's output is in the text now.
struct ResolvedLocation: Equatable {
    var position: TextPosition
    /// The line the run named no longer exists; `position` is the nearest surviving place.
    var lineDeleted: Bool
    /// The run's line was past the end of the text it ran.
    var pastEnd: Bool
    /// The run's text was not kept (or too many edits since): the line number is read in the
    /// current text.
    var unanchored: Bool
}

extension RunText {
    /// Carries `line`:`column` (1-based) of this run's text through the edits since, to `current`.
    func resolve(line: Int, column: Int?, log: EditLog, in current: TextBuffer) -> ResolvedLocation {
        let pastEnd = line > buffer.lineCount
        let index = min(max(1, line), buffer.lineCount) - 1
        let lineStart = buffer.offset(of: TextPosition(line: index, column: 0))
        let length = buffer.line(index).count
        guard let start = log.carry(lineStart, since: since) else {
            return ResolvedLocation.inCurrentText(line: line, column: column, in: current)
        }
        // The line is gone when everything from its first character to its line break went.
        var deleted = false
        if index + 1 < buffer.lineCount, let next = log.carry(lineStart + length + 1, since: since) {
            deleted = next.offset <= start.offset
        }
        var target = start.offset
        if let column, !deleted, !pastEnd, column > 1 {
            target = log.carry(lineStart + min(column - 1, length), since: since)?.offset ?? start.offset
        }
        let position = current.position(of: min(max(0, target), current.scalarCount))
        return ResolvedLocation(position: position, lineDeleted: deleted, pastEnd: pastEnd, unanchored: false)
    }
}

extension ResolvedLocation {
    /// Line `line` of the current text (when the run's own text is not known).
    static func inCurrentText(line: Int, column: Int?, in current: TextBuffer) -> ResolvedLocation {
        let index = min(max(1, line), current.lineCount) - 1
        let columnIndex = min(max(0, (column ?? 1) - 1), current.line(index).count)
        return ResolvedLocation(position: TextPosition(line: index, column: columnIndex), lineDeleted: false,
                                pastEnd: line > current.lineCount, unanchored: true)
    }
}
