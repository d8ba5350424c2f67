import CodeSyncProtocol
import Foundation

/// Random typing for the latency benchmark.
public struct Typing: Sendable {
    public var rate: Double
    public var duration: Double
    public var seed: UInt64
    /// Also share the cursor after each edit (what the editor does on every keystroke).
    public var presence = false

    public init(rate: Double, duration: Double, seed: UInt64, presence: Bool = false) {
        self.rate = rate
        self.duration = duration
        self.seed = seed
        self.presence = presence
    }
}

/// Reads stdin lines on a thread of its own and hands them to the async loop.
final class LineReader: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var ended = false

    init(wake: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            while let line = Swift.readLine(strippingNewline: true) {
                lock.lock(); lines.append(line); lock.unlock()
                wake()
            }
            lock.lock(); ended = true; lock.unlock()
            wake()
        }
        thread.start()
    }

    /// Lines read so far, and whether stdin has ended.
    func take() -> (lines: [String], ended: Bool) {
        lock.lock()
        defer { lines = []; lock.unlock() }
        return (lines, ended)
    }
}

/// Drives a peer from stdin commands (and optional random typing), printing answers on stdout.
public struct HeadlessPeer {
    public let peer: CollaborationPeer
    public let typing: Typing?

    public init(peer: CollaborationPeer, typing: Typing?) {
        self.peer = peer
        self.typing = typing
    }

    /// Runs until `quit`, end of input (after typing), or SIGINT/SIGTERM; then prints the text.
    public func run() async throws {
        let stop = StopSignal()
        let peer = self.peer
        stop.whenStopped { peer.interruptWait() }
        let reader = LineReader { peer.interruptWait() }
        say("joined \(peer.id)")
        var generator = SplitMix(seed: typing?.seed ?? 1)
        var start: Date?
        var sent = 0
        var typingDone = typing == nil
        var quit = false
        while !quit && !stop.isStopped {
            var wait = Duration.milliseconds(200)
            if let typing, let start, !typingDone {
                // Edits are due at fixed times from the start, so a late wake-up catches up.
                let now = Date()
                while !typingDone && start.addingTimeInterval(Double(sent) / typing.rate) <= now {
                    typeOne(&generator)
                    sent += 1
                    if Double(sent) >= typing.rate * typing.duration {
                        typingDone = true
                        say("typed \(sent)")
                    }
                }
                let due = start.addingTimeInterval(Double(sent) / typing.rate)
                wait = .microseconds(max(0, Int64(due.timeIntervalSinceNow * 1_000_000)))
            }
            for event in await peer.nextEvents(timeout: wait) {
                if case .connection(let state) = event, let line = describe(.connection(state)) { note(line) }
                if case .error(let text) = event { note("error: \(text)") }
                if case .membership = event, let line = describe(event) { note(line) }
            }
            let (lines, ended) = reader.take()
            for line in lines {
                switch try await handle(line, sent: sent) {
                case .next: break
                case .go: if start == nil { start = Date() }
                case .quit: quit = true
                }
                if quit { break }
            }
            if ended && typingDone { quit = true }
            if ended && start == nil && typing != nil { quit = true }
        }
        _ = await waitSynced(timeout: 10)
        _ = peer.poll()
        say("text \(jsonString(peer.text))")
        await peer.close()
    }

    private func typeOne(_ generator: inout SplitMix) {
        let length = peer.scalarCount
        let cursor: Int
        if length > 0 && generator.next() % 10 == 0 {
            cursor = Int(generator.next() % UInt64(length))
            peer.delete(at: cursor, count: 1)
        } else {
            let letters = Array("abcdefghijklmnopqrstuvwxyz ")
            let letter = letters[Int(generator.next() % UInt64(letters.count))]
            let offset = Int(generator.next() % UInt64(length + 1))
            peer.insert(String(letter), at: offset)
            cursor = offset + 1
        }
        if typing?.presence == true { peer.setPresence(cursor: cursor, selection: nil) }
    }

    private func waitSynced(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            _ = peer.poll()
            if peer.isSynced { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    enum Action { case next, go, quit }

    /// Runs one command.
    private func handle(_ line: String, sent: Int) async throws -> Action {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard let command = parts.first else { return .next }
        func int(_ index: Int) -> Int? { index < parts.count ? Int(parts[index]) : nil }
        func textArgument(from index: Int) -> String {
            let raw = line.split(separator: " ", maxSplits: index, omittingEmptySubsequences: true).dropFirst(index).first.map(String.init) ?? ""
            if raw.hasPrefix("\""), let data = raw.data(using: .utf8), let decoded = try? JSONDecoder().decode(String.self, from: data) {
                return decoded
            }
            return raw
        }
        switch command {
        case "insert":
            guard let offset = int(1) else { say("error: usage: insert OFFSET TEXT"); return .next }
            _ = peer.poll()
            peer.insert(textArgument(from: 2), at: offset)
        case "append":
            _ = peer.poll()
            peer.insert(textArgument(from: 1), at: peer.scalarCount)
        case "delete":
            guard let offset = int(1), let count = int(2) else { say("error: usage: delete OFFSET COUNT"); return .next }
            _ = peer.poll()
            peer.delete(at: offset, count: count)
        case "cursor":
            guard let offset = int(1) else { say("error: usage: cursor OFFSET [FROM TO]"); return .next }
            let extra = line.split(separator: " ").dropFirst(2).compactMap { Int($0) }
            peer.setPresence(cursor: offset, selection: extra.count == 2 ? extra[0]..<extra[1] : nil)
        case "undo": peer.undo()
        case "redo": peer.redo()
        case "text":
            _ = peer.poll()
            say("text \(jsonString(peer.text))")
        case "peers":
            _ = peer.poll()
            let list = peer.presences.map { "{\"id\":\(jsonString($0.id)),\"name\":\(jsonString($0.name)),\"colour\":\($0.colour),\"cursor\":\($0.cursor)}" }
            say("peers [\(list.joined(separator: ","))]")
        case "sync":
            say(await waitSynced(timeout: 10) ? "synced" : "not synced")
        case "stats":
            _ = peer.poll()
            let latencies = peer.takeLatencies().map { String(format: "%.3f", $0) }.joined(separator: ",")
            say("stats {\"sent\":\(sent),\"latencies\":[\(latencies)]}")
        case "go":
            return .go
        case "drop":
            peer.simulateNetworkDrop()
        case "quit":
            return .quit
        default:
            say("error: unknown command '\(command)'")
        }
        return .next
    }
}

/// A small deterministic generator (SplitMix64) so benchmark runs can be replayed.
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
