import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The secure channel against an independent Noise implementation (PyPI's `noiseprotocol`,
/// driven by Tests/Interop/noise_peer.py) over real TCP on 127.0.0.1, in both roles.
@Suite(.ownThreads, .serialized) struct SecureChannelInteropTests {
    static let script = TestEnvironment.packageRoot().appendingPathComponent("Tests/Interop/noise_peer.py").path
    static let pingCount = 5

    /// python3 with `noiseprotocol`, or nil (with a notice) outside CI; under CI a missing one fails.
    static func pythonAvailable() throws -> Bool {
        let probe = try? Command.run(["python3", "-c", "import noise.connection"], timeout: 60)
        if probe?.status == 0 { return true }
        let none: Bool? = try TestEnvironment.missing(
            "python3 with PyPI's noiseprotocol package (the independent Noise peer)",
            fix: "pip install noiseprotocol")
        return none ?? false
    }

    @Test func independentImplementationPrintsTheSpecVector() throws {
        guard try Self.pythonAvailable() else { return }
        let result = try Command.run(["python3", Self.script, "vectors"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let printed = result.stdout.split(separator: "\n").map(String.init)
        let documented = try SecureTestSupport.vectorLines().map { "\($0.name) = \($0.value)" }
        #expect(printed == documented)
    }

    @Test func swiftJoinerWithPythonHost() throws {
        guard try Self.pythonAvailable() else { return }
        let secret = Auth.generateSecret()
        let peer = try PythonPeer(role: "responder", secret: secret)
        let socket = try LoopbackSocket(port: peer.port)
        var records = RecordStream(socket: socket)

        var initiator = try SecureInitiator(psk: SecureChannel.psk(secret: secret), session: SecureTestSupport.session)
        try socket.send(SecureRecordReader.wire([try initiator.start()]))
        var transport = try initiator.finish(reply: try records.next())

        let big = String(repeating: "y", count: 150_000) + "é end"
        var outgoing = (1...Self.pingCount).flatMap { SecureTestSupport.frame(#"{"id":\#($0),"type":"ping"}"#) }
        outgoing += SecureTestSupport.frame(try Self.json(["text": big, "type": "echo"]))
        try socket.send(SecureRecordReader.wire(try transport.seal(outgoing)))

        var frames = InnerFrames()
        var replies: [[String: Any]] = []
        while replies.count < Self.pingCount + 1 {
            guard case .data(let bytes) = try transport.open(try records.next()) else {
                Issue.record("closed before all replies"); return
            }
            replies += try frames.feed(bytes)
        }
        #expect(replies.prefix(Self.pingCount).map { $0["id"] as? Int } == Array(1...Self.pingCount))
        #expect(replies.prefix(Self.pingCount).allSatisfy { $0["type"] as? String == "pong" })
        #expect(replies.last?["text"] as? String == big)

        try socket.send(SecureRecordReader.wire([try transport.sealClose()]))
        #expect(try transport.open(try records.next()) == .close)
        try transport.checkEnd()
        let summary = try peer.finish()
        #expect(summary == "ok hash=\(Auth.hex(transport.handshakeHash)) frames=\(Self.pingCount + 1)")
    }

    @Test func swiftHostWithPythonJoinerHoldingTheWatchOnlySecret() throws {
        guard try Self.pythonAvailable() else { return }
        let secret = Auth.generateSecret()
        let peer = try PythonPeer(role: "initiator", secret: Auth.viewSecret(for: secret))
        let socket = try LoopbackSocket(port: peer.port)
        var records = RecordStream(socket: socket)

        let candidates = [SecureChannel.psk(secret: secret), SecureChannel.psk(secret: Auth.viewSecret(for: secret))]
        let outcome = try SecureResponder.respond(to: try records.next(), psks: candidates, session: SecureTestSupport.session)
        #expect(outcome.matched == 1, "the joiner holds the watch-only secret")
        try socket.send(SecureRecordReader.wire([outcome.reply]))
        var transport = outcome.transport

        var frames = InnerFrames()
        var answered = 0
        serving: while true {
            switch try transport.open(try records.next()) {
            case .close:
                try socket.send(SecureRecordReader.wire([try transport.sealClose()]))
                break serving
            case .data(let bytes):
                for frame in try frames.feed(bytes) {
                    let reply: [String: Any] = frame["type"] as? String == "ping" ? ["id": frame["id"] ?? 0, "type": "pong"] : frame
                    try socket.send(SecureRecordReader.wire(try transport.seal(SecureTestSupport.frame(try Self.json(reply)))))
                    answered += 1
                }
            }
        }
        #expect(transport.peerConfirmed)
        try transport.checkEnd()
        #expect(answered == Self.pingCount + 1)
        let summary = try peer.finish()
        #expect(summary == "ok hash=\(Auth.hex(transport.handshakeHash)) frames=\(Self.pingCount + 1)")
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// The Python peer process: listens on a loopback port it prints, then runs one connection.
private final class PythonPeer {
    let process = Process()
    let output = Pipe()
    let port: UInt16

    init(role: String, secret: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SecureChannelInteropTests.script, "peer", role, secret,
                             SecureTestSupport.session, "\(SecureChannelInteropTests.pingCount)"]
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(10) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("port "), let port = UInt16(text.dropFirst(5)) else {
            process.terminate()
            throw InteropFailure("the Python peer did not print its port: \(text)")
        }
        self.port = port
    }

    /// Its last line (`ok ...` or `failed: ...`) once it exited; it stops by itself (30 s socket timeouts).
    func finish() throws -> String {
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let last = String(decoding: rest, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        #expect(process.terminationStatus == 0, "python peer: \(last)")
        return last
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// A blocking TCP client on 127.0.0.1 with a receive timeout, so a silent peer fails the test.
private final class LoopbackSocket {
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw InteropFailure("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw InteropFailure("send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Bytes that arrived; empty at the end of the stream.
    func receive() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw InteropFailure("receive: \(String(cString: strerror(errno)))") }
        return Array(buffer.prefix(count))
    }

    deinit { close(fd) }
}

/// Records from a socket, cut by `SecureRecordReader`.
private struct RecordStream {
    let socket: LoopbackSocket
    var reader = SecureRecordReader()

    mutating func next() throws -> [UInt8] {
        while true {
            if let record = try reader.next() { return record }
            let bytes = try socket.receive()
            if bytes.isEmpty {
                try reader.finish()
                throw SecureChannelError.endedWithoutClose
            }
            reader.append(bytes)
        }
    }
}

/// The version-2 frames inside the decrypted stream, as JSON objects.
private struct InnerFrames {
    var buffer: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) throws -> [[String: Any]] {
        buffer += bytes
        var frames: [[String: Any]] = []
        while buffer.count >= 4 {
            let length = buffer[0..<4].reduce(0) { $0 << 8 | Int($1) }
            guard buffer.count >= 4 + length else { break }
            let object = try JSONSerialization.jsonObject(with: Data(buffer[4..<4 + length]))
            frames.append(try #require(object as? [String: Any]))
            buffer.removeFirst(4 + length)
        }
        return frames
    }
}

/// A step of the interop harness itself failed (not the channel).
private struct InteropFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
