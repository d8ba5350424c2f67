import CodeSyncProtocol
import CodeSyncTestSupport
import Testing

@Suite(.ownThreads) struct BatchEditTests {
    @Test func editWithoutUpdatesMatchesInsertAndDelete() {
        var rng = SeededGenerator(seed: 5)
        let quiet = Replica(agent: "a"), loud = Replica(agent: "a")
        let alphabet = ["x", "yz", "😀", "中文", "e\u{301}", "\n"]
        for _ in 0..<2_000 {
            let offset = Int.random(in: -2...(quiet.scalarCount + 2), using: &rng)  // out of range: clamped
            let count = quiet.scalarCount > 0 && Bool.random(using: &rng) ? Int.random(in: 0...5, using: &rng) : 0
            let text = Int.random(in: 0..<4, using: &rng) == 0 ? "" : alphabet.randomElement(using: &rng) ?? "x"
            quiet.edit(at: offset, deleting: count, inserting: text)
            loud.delete(at: offset, count: count)
            loud.insert(text, at: offset)
        }
        #expect(quiet.text == loud.text)
        #expect(quiet.version == loud.version)
        #expect(quiet.encodeState() == loud.encodeState())
    }

    @Test func updatesAfterAMarkCarryExactlyTheBatch() throws {
        let a = Replica(agent: "a"), b = Replica(agent: "b")
        a.insert("hello world", at: 0)
        try b.apply(a.updates(since: b.version))
        // Typing extends the last log run in place: the mark must cut inside it.
        let mark = a.historyMark
        a.edit(at: 11, deleting: 0, inserting: "!")
        a.edit(at: 12, deleting: 0, inserting: "!")
        a.edit(at: 0, deleting: 6, inserting: "")
        a.edit(at: 0, deleting: 0, inserting: "wide ")
        let batch = a.updates(after: mark)
        #expect(batch.operationCount == 2 + 6 + 5)
        #expect(b.version.includes(VersionVector(["a": 11])))
        try b.apply(batch)
        #expect(b.text == "wide world!!")
        #expect(b.version == a.version)
        #expect(b.pendingCount == 0)
        // Nothing new after a fresh mark; remote operations count as learned too.
        let later = a.historyMark
        #expect(a.updates(after: later).isEmpty)
        let fromB = b.insert("<", at: 0)
        try a.apply(fromB)
        #expect(a.updates(after: later) == fromB)
    }

    @Test func typingRunsPlaceLikeRemoteIntegration() throws {
        // Consecutive keystrokes take the typing fast path; an observer integrating each keystroke's
        // update through the general (remote) path must see the same text at every step, also when
        // another writer's edits land in between and break the run.
        var rng = SeededGenerator(seed: 23)
        let typist = Replica(agent: "t"), other = Replica(agent: "o"), observer = Replica(agent: "v")
        for _ in 0..<150 {
            var cursor = Int.random(in: 0...typist.scalarCount, using: &rng)
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                if cursor > 0 && Int.random(in: 0..<5, using: &rng) == 0 {
                    cursor -= 1
                    let update = typist.delete(at: cursor, count: 1)
                    try observer.apply(update)
                    try other.apply(update)
                } else {
                    let update = typist.insert(["a", "é", "😀", "中", "\n"].randomElement(using: &rng) ?? "a", at: cursor)
                    cursor += 1
                    try observer.apply(update)
                    try other.apply(update)
                }
                #expect(observer.text == typist.text)
                if Int.random(in: 0..<8, using: &rng) == 0 {
                    let offset = Int.random(in: 0...other.scalarCount, using: &rng)
                    let update = other.insert("<o>", at: offset)
                    try typist.apply(update)
                    try observer.apply(update)
                    if offset <= cursor { cursor += 3 }
                }
            }
        }
        #expect(other.text == typist.text)
        #expect(observer.text == typist.text)
    }

    @Test func batchedEditsUndoLikeSingleOnes() {
        let r = Replica(agent: "a")
        r.edit(at: 0, deleting: 0, inserting: "one two")
        r.closeUndoGroup()
        r.edit(at: 3, deleting: 4, inserting: " three")
        #expect(r.text == "one three")
        #expect(r.undo() != nil)
        #expect(r.text == "one two")
        #expect(r.redo() != nil)
        #expect(r.text == "one three")
    }
}
