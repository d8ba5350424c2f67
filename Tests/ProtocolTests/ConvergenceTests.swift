import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// Seeded convergence fuzzing: replicas edit concurrently, exchange updates partially, duplicated, out of
/// order and across healing partitions, and must end identical. Quick fixed seeds always; many more with
/// CODESYNC_FUZZ_LONG=1. A failure prints its seed.
@Suite(.ownThreads) struct ConvergenceTests {
    static let quickSeeds: [UInt64] = [1, 2, 3, 42, 2024, 0xC0DE]

    @Test(arguments: quickSeeds)
    func convergesUnderRandomDelivery(seed: UInt64) throws {
        var fuzz = Fuzz(seed: seed, steps: 300)
        try fuzz.run()
    }

    @Test func longRun() throws {
        guard TestEnvironment.value("CODESYNC_FUZZ_LONG") == "1" else {
            print("skipped: long convergence fuzz (set CODESYNC_FUZZ_LONG=1)")
            return
        }
        for seed in UInt64(100)..<UInt64(400) {
            var fuzz = Fuzz(seed: seed, steps: 1500)
            try fuzz.run()
        }
    }

    @Test func concurrentRunsDoNotInterleave() throws {
        for order in 0..<4 {
            let a = Replica(agent: "a"), b = Replica(agent: "b"), c = Replica(agent: "c")
            let base = a.insert("[]", at: 0)
            try b.apply(base)
            try c.apply(base)
            var fromA: [Update] = [], fromB: [Update] = [], fromC: [Update] = []
            for (i, ch) in "hello".enumerated() { fromA.append(a.insert(String(ch), at: 1 + i)) }
            for (i, ch) in "world".enumerated() { fromB.append(b.insert(String(ch), at: 1 + i)) }
            for (i, ch) in "12345".enumerated() { fromC.append(c.insert(String(ch), at: 1 + i)) }
            // Deliver one character at a time, alternating, in a different interleaving per round.
            let streams = order % 2 == 0 ? [fromA, fromB, fromC] : [fromC, fromB, fromA]
            for i in 0..<5 {
                for (s, stream) in streams.enumerated() {
                    let update = order >= 2 ? stream[4 - i] : stream[i]
                    for (r, replica) in [a, b, c].enumerated() where r != s { _ = try? replica.apply(update) }
                }
            }
            // Out-of-order rounds leave nothing pending once everything arrived.
            for replica in [a, b, c] {
                for update in fromA + fromB + fromC { try replica.apply(update) }
                #expect(replica.pendingCount == 0)
            }
            #expect(a.text == b.text && b.text == c.text)
            let inner = String(a.text.dropFirst().dropLast())
            let runs = ["hello", "world", "12345"]
            let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]].map { $0.map { runs[$0] }.joined() }
            #expect(orders.contains(inner), "interleaved: \(a.text)")
        }
    }

    @Test func heldBackOperationsApplyWhenDependenciesArrive() throws {
        let a = Replica(agent: "a"), b = Replica(agent: "b")
        let u1 = a.insert("abc", at: 0)
        let u2 = a.insert("X", at: 1)
        let u3 = a.delete(at: 0, count: 2)
        #expect(try b.apply(u3).isEmpty)
        #expect(try b.apply(u2).isEmpty)
        #expect(b.pendingCount == 2)
        let changes = try b.apply(u1)
        #expect(b.pendingCount == 0)
        #expect(b.text == a.text)
        #expect(b.text == "bc")
        var view = Array("".unicodeScalars)
        for change in changes { apply(change, to: &view) }
        #expect(String(String.UnicodeScalarView(view)) == "bc")
        // Duplicates change nothing.
        #expect(try b.apply(u1).isEmpty && b.apply(u2).isEmpty && b.apply(u3).isEmpty)
        #expect(b.text == "bc")
    }

    @Test func updatesSinceSendsExactlyTheMissingOperations() throws {
        let a = Replica(agent: "a"), b = Replica(agent: "b")
        try b.apply(a.insert("hello", at: 0))
        let before = b.version
        a.insert(" world", at: 5)
        a.delete(at: 0, count: 1)
        let missing = a.updates(since: before)
        #expect(missing.operationCount == 7)
        try b.apply(missing)
        #expect(b.text == "ello world")
        #expect(a.updates(since: b.version).isEmpty)
        #expect(b.version == a.version)
    }
}

func apply(_ change: TextChange, to view: inout [Unicode.Scalar]) {
    view.replaceSubrange(change.offset..<(change.offset + change.deleted), with: Array(change.inserted.unicodeScalars))
}

/// One fuzz run: replicas, a message pool, and views kept in step through the returned `TextChange`s.
struct Fuzz {
    let seed: UInt64
    let steps: Int
    var rng: SeededGenerator
    var replicas: [Replica] = []
    var views: [[Unicode.Scalar]] = []
    var pool: [Update] = []
    var group: [Int] = []

    static let pieces: [String] = [
        "a", "b", "c", "hello", "xyz", " ", "\n", "\r\n", "\t", "é", "e\u{301}", "n\u{303}\u{308}", "中", "文字", "日本語",
        "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\u{200D}", "\u{301}", "Ω", "z",
    ]

    init(seed: UInt64, steps: Int) {
        self.seed = seed
        self.steps = steps
        rng = SeededGenerator(seed: seed)
    }

    mutating func run() throws {
        let count = Int.random(in: 3...5, using: &rng)
        replicas = (0..<count).map { Replica(agent: "r\($0)-\(seed)") }
        views = Array(repeating: [], count: count)
        group = Array(repeating: 0, count: count)
        for step in 0..<steps {
            let r = Int.random(in: 0..<count, using: &rng)
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<35: localInsert(r)
            case 35..<55: localDelete(r)
            case 55..<60: undoRedo(r)
            case 60..<80: try deliverRandom(to: r)
            case 80..<90: try syncPair(r, Int.random(in: 0..<count, using: &rng))
            case 90..<95: repartition()
            case 95..<98: try reload(r)
            default: replicas[r].closeUndoGroup()
            }
            try checkViews(step: step)
        }
        // Heal: everyone syncs with everyone, twice around.
        group = Array(repeating: 0, count: count)
        for _ in 0..<2 {
            for a in 0..<count {
                for b in 0..<count where a != b { try syncPair(a, b) }
            }
        }
        try checkViews(step: steps)
        let text = replicas[0].text
        for (index, replica) in replicas.enumerated() {
            #expect(replica.text == text, "seed \(seed): replica \(index) diverged")
            #expect(replica.version == replicas[0].version, "seed \(seed): versions differ")
            #expect(replica.pendingCount == 0, "seed \(seed): replica \(index) still holds operations")
            let copy = try Replica(agent: "copy", state: replica.encodeState())
            #expect(copy.text == text && copy.version == replica.version, "seed \(seed): state round trip")
            #expect(copy.encodeState() == replica.encodeState(), "seed \(seed): re-encoding differs")
        }
    }

    mutating func randomText() -> String {
        var text = ""
        for _ in 0..<Int.random(in: 1...3, using: &rng) { text += Fuzz.pieces.randomElement(using: &rng) ?? "?" }
        return text
    }

    mutating func localInsert(_ r: Int) {
        let text = randomText()
        let offset = Int.random(in: 0...replicas[r].scalarCount, using: &rng)
        pool.append(replicas[r].insert(text, at: offset))
        views[r].insert(contentsOf: text.unicodeScalars, at: offset)
    }

    mutating func localDelete(_ r: Int) {
        let length = replicas[r].scalarCount
        guard length > 0 else { return }
        let offset = Int.random(in: 0..<length, using: &rng)
        let count = Int.random(in: 1...min(8, length - offset), using: &rng)
        pool.append(replicas[r].delete(at: offset, count: count))
        views[r].removeSubrange(offset..<(offset + count))
    }

    mutating func undoRedo(_ r: Int) {
        let result = Bool.random(using: &rng) ? replicas[r].undo() : replicas[r].redo()
        guard let result else { return }
        pool.append(result.update)
        for change in result.changes { apply(change, to: &views[r]) }
    }

    /// Delivers a random handful of pooled updates (any age, so duplicates and reordering), possibly via JSON.
    mutating func deliverRandom(to r: Int) throws {
        guard !pool.isEmpty else { return }
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            var update = pool[Int.random(in: 0..<pool.count, using: &rng)]
            if !reachable(update, r) { continue }
            if Bool.random(using: &rng) {
                update = try JSONDecoder().decode(Update.self, from: JSONEncoder().encode(update))
            }
            for change in try replicas[r].apply(update) { apply(change, to: &views[r]) }
        }
    }

    /// Updates written by replicas in another partition cannot arrive.
    func reachable(_ update: Update, _ r: Int) -> Bool {
        guard let data = try? JSONEncoder().encode(update), let json = String(data: data, encoding: .utf8) else { return true }
        for (index, replica) in replicas.enumerated() where group[index] != group[r] {
            if json.contains("\"\(replica.agent)\"") { return false }
        }
        return true
    }

    mutating func syncPair(_ a: Int, _ b: Int) throws {
        guard a != b, group[a] == group[b] else { return }
        let missing = replicas[a].updates(since: replicas[b].version)
        for change in try replicas[b].apply(missing) { apply(change, to: &views[b]) }
    }

    mutating func repartition() {
        for index in group.indices { group[index] = Int.random(in: 0..<2, using: &rng) }
    }

    /// Replaces a replica by one decoded from its own state (a host restarting from its journal).
    mutating func reload(_ r: Int) throws {
        let state = replicas[r].encodeState()
        replicas[r] = try Replica(agent: replicas[r].agent, state: state)
    }

    func checkViews(step: Int) throws {
        for (index, replica) in replicas.enumerated() {
            let text = replica.text
            guard String(String.UnicodeScalarView(views[index])) == text else {
                Issue.record("seed \(seed) step \(step): replica \(index)'s changes do not reproduce its text")
                throw FuzzFailure()
            }
            #expect(text.unicodeScalars.count == replica.scalarCount)
        }
        // Replicas that know the same operations show the same text.
        for a in replicas.indices {
            for b in replicas.indices where a < b && replicas[a].version == replicas[b].version {
                guard replicas[a].text == replicas[b].text else {
                    Issue.record("seed \(seed) step \(step): replicas \(a) and \(b) know the same operations but differ")
                    throw FuzzFailure()
                }
            }
        }
    }
}

struct FuzzFailure: Error {}
