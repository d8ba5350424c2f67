import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// What a peer or a program chose never reaches a terminal as an escape sequence: checked at the
/// bytes `codesync run HOST:PORT` writes and at the headless host's log lines.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(5))) struct TerminalSinkTests {
    private let work: URL
    private let environment: [String: String]
    /// Title change (OSC 0), clipboard write (OSC 52), clear screen, colour, and a bare BEL.
    static let hostile = "\u{1B}]0;pwned\u{07}\u{1B}]52;c;ZXZpbA==\u{07}\u{1B}[2J\u{1B}[31mred\u{1B}[0m\u{07}"

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-sink-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("config"), withIntermediateDirectories: true)
        environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path,
                       "XDG_CONFIG_HOME": work.appendingPathComponent("config").path, "CODESYNC_NAME": "tester",
                       "CODESYNC_IMAGE_PYTHON": DockerFixture.testImageName("python")]
    }

    private func binary() throws -> URL? {
        do { return try TestEnvironment.codesyncBinary() } catch { return try TestEnvironment.missing("\(error)") }
    }

    @Test func remoteRunOutputReachesTheTerminalWithoutEscapes() async throws {
        guard try DockerFixture.withImage("python") != nil, let binary = try binary() else { return }
        let file = work.appendingPathComponent("main.py")
        // The escapes are split over two writes, as a program may well do.
        try """
            import sys
            sys.stdout.write('\\x1b]0;pwned\\x07\\x1b[2Jout-\\x1b'); sys.stdout.flush()
            sys.stdout.write('[31mred\\x1b[0m\\n')
            sys.stderr.write('\\x1b]52;c;ZXZpbA==\\x07err\\n')
            """.write(to: file, atomically: true, encoding: .utf8)
        let host = try await SharedRunHostProcess(binary, file: file, environment: environment)
        defer { host.kill9() }
        let environment = self.environment.merging(["CODESYNC_SECRET": host.secret]) { $1 }
        let address = host.address
        let result = try await offPool { try Command.run([binary.path, "run", address], timeout: 120, environment: environment) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.unicodeScalars.contains("\u{1B}") && !result.stderr.unicodeScalars.contains("\u{1B}"),
                "escape reached the terminal: \(result.stdout.debugDescription) \(result.stderr.debugDescription)")
        #expect(!result.stdout.unicodeScalars.contains("\u{07}"))
        #expect(result.stdout == "out-red\n", "\(result.stdout.debugDescription)")
        #expect(result.stderr == "err\n", "\(result.stderr.debugDescription)")
    }

    @Test func aPeerNamedWithEscapesIsNeutralisedInTheHeadlessHostsLog() async throws {
        guard let binary = try binary() else { return }
        let file = work.appendingPathComponent("notes.txt")
        try "x\n".write(to: file, atomically: true, encoding: .utf8)
        let host = try CodesyncProcess(binary, ["host", file.path, "--headless", "--port", "0"], environment: environment)
        defer { host.kill9() }
        guard let line = await host.line(prefix: "CODESYNC_SECRET="), let (address, secret) = HostSession.parseJoinLine(line) else {
            Issue.record("no join line: \(host.stderr)")
            return
        }
        var options = CollaborationPeer.Options(name: "mal" + Self.hostile + "lory", secret: secret)
        options.reconnect = false
        let peer = try? await CollaborationPeer.join(try SessionAddress(parsing: address), options: options)
        // Whether the host accepts such a name (others may refuse it outright), nothing raw reaches its log.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && !host.stderr.contains("peers:") { try await Task.sleep(for: .milliseconds(50)) }
        await peer?.close()
        try await Task.sleep(for: .milliseconds(300))
        let log = host.stderr
        #expect(!log.unicodeScalars.contains("\u{1B}") && !log.unicodeScalars.contains("\u{07}"), "\(log.debugDescription)")
        if peer != nil { #expect(log.contains("mal") && log.contains("lory"), "\(log)") }
    }
}
