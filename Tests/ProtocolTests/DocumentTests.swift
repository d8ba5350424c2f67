import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

@Suite(.ownThreads) struct DocumentTests {
    @Test func localEditsCountUnicodeScalars() {
        let r = Replica(agent: "a")
        r.insert("e\u{301}👨‍👩‍👧\r\n中", at: 0)
        #expect(r.scalarCount == 2 + 5 + 2 + 1)
        r.delete(at: 1, count: 1)  // the combining accent only
        #expect(r.text == "e👨‍👩‍👧\r\n中")
        r.insert("!", at: 100)  // clamped to the end
        r.delete(at: -5, count: 1)  // clamped to the start
        #expect(r.text == "👨‍👩‍👧\r\n中!")
        #expect(r.delete(at: 3, count: 0).isEmpty)
        #expect(r.insert("", at: 0).isEmpty)
    }

    @Test func remoteChangesDescribeTheEdit() throws {
        let a = Replica(agent: "a"), b = Replica(agent: "b")
        try b.apply(a.insert("hello world", at: 0))
        #expect(try b.apply(a.delete(at: 0, count: 6)) == [TextChange(offset: 0, deleted: 6, inserted: "")])
        #expect(try b.apply(a.insert("big ", at: 0)) == [TextChange(offset: 0, deleted: 0, inserted: "big ")])
        #expect(b.text == "big world")
    }

    @Test func stateRoundTripKeepsTextVersionAndBehaviour() throws {
        let a = Replica(agent: "a"), b = Replica(agent: "b")
        try b.apply(a.insert("The quick brown fox", at: 0))
        try a.apply(b.insert("very ", at: 4))
        a.delete(at: 0, count: 4)
        try b.apply(a.updates(since: b.version))
        let state = b.encodeState()
        let c = try Replica(agent: "c", state: state)
        #expect(c.text == b.text)
        #expect(c.version == b.version)
        #expect(c.encodeState() == state)
        // The decoded replica keeps converging with concurrent edits made before it loaded.
        let concurrent = a.insert("[a]", at: 0)
        let fromC = c.insert("[c]", at: 0)
        try c.apply(concurrent)
        try a.apply(fromC)
        #expect(a.text == c.text)
        // And it can serve what others lack, including operations from before it loaded.
        let d = Replica(agent: "d")
        try d.apply(c.updates(since: VersionVector()))
        #expect(d.text == c.text)
        #expect(d.pendingCount == 0)
    }

    @Test func corruptStatesAreRejectedNotCrashing() throws {
        let a = Replica(agent: "a")
        a.insert("hello wörld 😀", at: 0)
        a.delete(at: 2, count: 3)
        a.insert("xy", at: 4)
        let state = a.encodeState()
        for length in 0..<state.count {
            #expect(throws: DocumentError.self) { try Replica(agent: "b", state: Array(state[0..<length])) }
        }
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            var broken = state
            broken[Int.random(in: 0..<broken.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            if let decoded = try? Replica(agent: "b", state: broken) { _ = decoded.text }
        }
    }

    @Test func malformedUpdatesThrow() throws {
        let json = #"{"a":["x"],"o":[[0,0,0,-1,0,-1,0,""]]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Update.self, from: Data(json.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Update.self, from: Data(#"{"a":[],"o":[[0,0,0,-1,0,-1,0,"a"]]}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Update.self, from: Data(#"{"a":["x"],"o":[[7,0,0]]}"#.utf8)) }
        // Hostile delete spans: numbers at the ends of Int must be refused, not overflow (a crash of the host).
        for span in ["0,-9223372036854775807,-5", "0,0,-9223372036854775808", "0,5,-9223372036854775807", "0,9223372036854775807,1",
                     "0,2,-4", "0,0,0", "0,-1,1"] {
            #expect(throws: DecodingError.self, "\(span)") {
                try JSONDecoder().decode(Update.self, from: Data((#"{"a":["x"],"o":[[1,0,0,"# + span + "]]}").utf8))
            }
        }
        // A backward span ending exactly at character 0 is fine.
        #expect(try JSONDecoder().decode(Update.self, from: Data(#"{"a":["x"],"o":[[1,0,0,0,2,-3]]}"#.utf8)).operationCount == 3)
        // Origin naming a deletion, not a character: malformed once it can be checked.
        let a = Replica(agent: "x")
        let base = a.insert("ab", at: 0)
        let del = a.delete(at: 0, count: 1)  // operation x:2 is a delete
        let bad = try JSONDecoder().decode(Update.self, from: Data(#"{"a":["x","y"],"o":[[0,1,0,0,2,-1,0,"q"]]}"#.utf8))
        let b = Replica(agent: "b")
        try b.apply(base)
        try b.apply(del)
        #expect(throws: DocumentError.self) { try b.apply(bad) }
        #expect(b.text == "b")
    }

    @Test func updateJSONIsCompactRuns() throws {
        let a = Replica(agent: "alice")
        let update = a.insert("hello", at: 0)
        let json = String(decoding: try JSONEncoder().encode(update), as: UTF8.self)
        #expect(json.count < 60, "\(json)")
        #expect(try JSONDecoder().decode(Update.self, from: Data(json.utf8)) == update)
    }

    @Test func anchorsFollowTheirCharacter() throws {
        let a = Replica(agent: "a"), b = Replica(agent: "b")
        try b.apply(a.insert("hello world", at: 0))
        let cursor = b.anchor(at: 6, bias: .right)  // before "w"
        let afterO = b.anchor(at: 5, bias: .left)  // after "o"
        let end = b.anchor(at: 11, bias: .right)
        let start = b.anchor(at: 0, bias: .left)
        try b.apply(a.insert(">> ", at: 0))
        #expect(b.offset(of: cursor) == 9)
        #expect(b.offset(of: afterO) == 8)
        // Text typed exactly at the anchor: right-bias stays after it, left-bias before it.
        try b.apply(a.insert("_", at: 8))
        #expect(b.offset(of: afterO) == 8)
        #expect(b.offset(of: cursor) == 10)
        try b.apply(a.delete(at: 10, count: 1))  // delete "w": the anchor stays where it was
        #expect(b.offset(of: cursor) == 10)
        #expect(b.offset(of: end) == b.scalarCount)
        #expect(b.offset(of: start) == 0)
        let roundTripped = try JSONDecoder().decode(Anchor.self, from: JSONEncoder().encode(cursor))
        #expect(roundTripped == cursor && a.offset(of: roundTripped) == 10)
        #expect(Replica(agent: "z").offset(of: cursor) == 0)
    }

    @Test func undoAndRedoWalkTheHistory() throws {
        var rng = SeededGenerator(seed: 11)
        let r = Replica(agent: "a")
        var history = [r.text]
        for _ in 0..<40 {
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                if r.scalarCount > 0 && Bool.random(using: &rng) {
                    let offset = Int.random(in: 0..<r.scalarCount, using: &rng)
                    r.delete(at: offset, count: Int.random(in: 1...3, using: &rng))
                } else {
                    r.insert(["ab", "😀", "中文", "e\u{301}", "\n"].randomElement(using: &rng) ?? "", at: Int.random(in: 0...r.scalarCount, using: &rng))
                }
            }
            r.closeUndoGroup()
            history.append(r.text)
        }
        for expected in history.reversed().dropFirst() {
            #expect(r.undo() != nil)
            #expect(r.text == expected)
        }
        #expect(r.undo() == nil)
        for expected in history.dropFirst() {
            #expect(r.redo() != nil)
            #expect(r.text == expected)
        }
        #expect(r.redo() == nil)
        // A new edit after undo clears the redo stack.
        _ = r.undo()
        r.insert("new", at: 0)
        #expect(r.redo() == nil)
    }

    @Test func undoNeverRemovesOthersText() throws {
        let a = Replica(agent: "a"), b = Replica(agent: "b")
        try b.apply(a.insert("one two three", at: 0))
        a.closeUndoGroup()
        try a.apply(b.insert("BOB ", at: 4))
        try b.apply(a.delete(at: 0, count: 4))  // a deletes "one "
        a.closeUndoGroup()
        try b.apply(a.insert("xx", at: 4))  // a types before "two"
        try a.apply(b.insert("!", at: b.scalarCount))
        #expect(a.text == "BOB xxtwo three!")
        var changes: [TextChange] = []
        while let step = a.undo() {
            changes += step.changes
            try b.apply(step.update)
        }
        #expect(a.text == "BOB !")
        #expect(b.text == a.text)
        var view = Array("BOB xxtwo three!".unicodeScalars)
        for change in changes { apply(change, to: &view) }
        #expect(String(String.UnicodeScalarView(view)) == "BOB !")
        // Changes returned by undo reproduce the text.
        let c = Replica(agent: "c")
        try c.apply(b.updates(since: VersionVector()))
        #expect(c.text == "BOB !")
        while let step = a.redo() { try b.apply(step.update) }
        #expect(a.text == "BOB xxtwo three!")
        #expect(b.text == a.text)
    }

    @Test func undoChangesMatchTheText() throws {
        let r = Replica(agent: "a")
        var view: [Unicode.Scalar] = []
        for word in ["alpha ", "beta ", "gamma "] {
            r.insert(word, at: r.scalarCount)
            view += word.unicodeScalars
            r.closeUndoGroup()
        }
        r.delete(at: 2, count: 9)
        view.removeSubrange(2..<11)
        r.closeUndoGroup()
        while let step = r.undo() {
            for change in step.changes { apply(change, to: &view) }
            #expect(String(String.UnicodeScalarView(view)) == r.text)
        }
        #expect(r.text.isEmpty)
    }
}
