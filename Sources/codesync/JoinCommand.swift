import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `CODESYNC_SECRET=S codesync join ADDRESS`: joins a session (headless: driven by commands on stdin).
struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join a session: HOST:PORT, or RELAY-HOST:PORT/SESSION through a relay.",
        discussion: """
            With --headless, reads one command per line on stdin and answers on stdout: \
            `insert OFFSET TEXT`, `append TEXT`, `delete OFFSET COUNT`, `cursor OFFSET [FROM TO]`, \
            `undo`, `redo`, `text` (prints `text "<json>"`), `peers`, `sync` (waits until the host \
            stored every edit, prints `synced`), `drop` (cut the link as a network failure would), `quit`. TEXT may be a JSON string literal. \
            End of input means quit: it waits for the host to store every edit, then prints the text. \
            The secret comes from --secret-file, else CODESYNC_SECRET (as in the host's join line), else a prompt \
            on the terminal; --secret also works but shows it to every user of the machine in `ps`.
            """)

    @Argument(help: "HOST:PORT of a host, or RELAY-HOST:PORT/SESSION.")
    var address: String

    @OptionGroup var secrets: SecretOptions

    @Option(help: "Your name as others see it (default: $CODESYNC_NAME, $USER, else your account name).")
    var name: String?

    @Flag(help: "No editor: drive the peer with commands on stdin (scripts, tests, benchmarks).")
    var headless = false

    @Option(help: ArgumentHelp("Benchmark: type this many random edits per second.", visibility: .hidden))
    var typeRate: Double?

    @Option(help: ArgumentHelp("Benchmark: type for this many seconds.", visibility: .hidden))
    var typeDuration = 5.0

    @Option(help: ArgumentHelp("Benchmark: seed of the random edits.", visibility: .hidden))
    var seed: UInt64 = 1

    @Flag(help: ArgumentHelp("Benchmark: move the cursor after each edit, as the editor does.", visibility: .hidden))
    var typePresence = false

    func validate() throws {
        if (try? SessionAddress(parsing: address)) == nil {
            throw ValidationError("'\(address)' is not an address: use HOST:PORT or RELAY-HOST:PORT/SESSION")
        }
        if let typeRate, !(typeRate > 0 && typeRate <= 1000) { throw ValidationError("--type-rate must be in (0, 1000]") }
    }

    func run() async throws {
        let secret = try secrets.resolve()
        var options = CollaborationPeer.Options(name: name ?? defaultName(), secret: secret)
        options.recordLatency = typeRate != nil
        let peer = try await CollaborationPeer.join(try SessionAddress(parsing: address), options: options)
        if !headless && typeRate == nil { return try await SessionEditor.join(peer, address: address, userName: options.name) }
        let headlessPeer = HeadlessPeer(peer: peer, typing: typeRate.map { Typing(rate: $0, duration: typeDuration, seed: seed, presence: typePresence) })
        // On the peer's network thread: remote edits reach the loop, and its edits the socket, without a thread hop.
        try await withTaskExecutorPreference(peer.taskExecutor) { try await headlessPeer.run() }
    }
}

/// Random typing for the latency benchmark.
struct Typing {
    var rate: Double
    var duration: Double
    var seed: UInt64
    /// Also share the cursor after each edit (what the editor does on every keystroke).
    var presence = false
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
struct HeadlessPeer {
    let peer: CollaborationPeer
    let typing: Typing?

    func run() async throws {
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
