import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `codesync attach`: the box's end of `codesync join ssh://…`. Writes the preamble on standard
/// output, then copies bytes between its standard input/output (the SSH channel) and the session's
/// unix socket until either side ends. It reads nothing it forwards: the joiner and the host speak
/// the secure channel end to end through it.
public enum LocalAttach {
    /// Runs the attach for `path` (nil: the only session); returns the process exit status.
    /// Errors are thrown before anything is written on standard output.
    public static func run(path: String?) throws -> Int32 {
        // The directory is checked first: one made by another account (say, in /tmp before us) could
        // hold a descriptor that sends this joiner to someone else's socket.
        let session = try LocalSessions.find(path, in: LocalSessions.prepare())
        let socket = try connectUnix(session.socket)
        let name = URL(fileURLWithPath: session.file).lastPathComponent
        var line = try JSONEncoder().encode(LocalSessions.Preamble(secret: session.secret, file: name))
        line.append(0x0A)
        guard writeAll(1, Array(line)) else {
            close(socket)
            return 1
        }
        let done = DispatchSemaphore(value: 0)
        // Box → joiner: when the host closes, the joiner's stdout ends (ssh then ends the channel).
        let toJoiner = Thread {
            pump(from: socket, to: 1)
            close(1)
            done.signal()
        }
        // Joiner → box: when ssh's stdin ends, half-close so the host sees the end of the stream.
        let toHost = Thread {
            pump(from: 0, to: socket)
            shutdown(socket, Int32(SHUT_WR))
        }
        toJoiner.start()
        toHost.start()
        done.wait()
        return 0
    }

    static func connectUnix(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SessionError.file("cannot make a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw SessionError.file("the session socket path is too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SessionError.file("cannot reach the session's socket \(path): \(reason) (is its host still running?)")
        }
        return fd
    }

    /// Copies until end of input or a write error.
    static func pump(from input: Int32, to output: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            guard writeAll(output, Array(buffer[0..<count])) else { return }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
