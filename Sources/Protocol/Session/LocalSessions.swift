import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Sessions hosted on this machine by this account, reachable without a TCP port: each host keeps
/// a unix socket and a descriptor (which file, which secret) in a private runtime directory, and
/// `codesync attach` (started by `codesync join ssh://…` over the user's own SSH) connects to it.
///
/// The directory is `$XDG_RUNTIME_DIR/codesync`, or `/tmp/codesync-UID`, mode 0700 and owned by
/// this account: only this account can list it, read a descriptor or open a socket.
public enum LocalSessions {
    /// What `attach` needs to reach one hosted session.
    public struct Descriptor: Codable, Equatable, Sendable {
        /// The hosting process.
        public var pid: Int32
        /// The hosted file's real path.
        public var file: String
        /// The edit secret: it never leaves this directory except inside the SSH channel.
        public var secret: String
        /// The unix socket the host listens on.
        public var socket: String

        public init(pid: Int32, file: String, secret: String, socket: String) {
            self.pid = pid; self.file = file; self.secret = secret; self.socket = socket
        }
    }

    /// The runtime directory (not created).
    public static var directory: URL {
        let env = ProcessInfo.processInfo.environment
        if let runtime = env["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return URL(fileURLWithPath: runtime).appendingPathComponent("codesync")
        }
        return URL(fileURLWithPath: "/tmp/codesync-\(getuid())")
    }

    /// Creates the directory (0700) or checks that it is this account's and private. A directory
    /// under /tmp could have been made by someone else first: then it is refused, never used.
    public static func prepare() throws -> URL {
        let dir = directory
        if mkdir(dir.path, 0o700) != 0 && errno != EEXIST {
            if errno == ENOENT {
                try StateDirectory.prepare(dir)
            } else {
                throw SessionError.file("cannot create \(dir.path): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard lstat(dir.path, &info) == 0 else {
            throw SessionError.file("cannot use \(dir.path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else {
            throw SessionError.file("\(dir.path) is not a directory of yours (someone else may have made it): remove it, or set XDG_RUNTIME_DIR")
        }
        if info.st_mode & 0o077 != 0 && chmod(dir.path, 0o700) != 0 {
            throw SessionError.file("cannot make \(dir.path) private (chmod 700): \(String(cString: strerror(errno)))")
        }
        return dir
    }

    /// The socket path for a session (unix socket paths are limited to 107 bytes).
    public static func socketPath(session: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("\(session.prefix(16)).sock").path
        guard path.utf8.count < 104 else {
            throw SessionError.file("the runtime directory \(dir.path) is too long for a unix socket path; set XDG_RUNTIME_DIR to a shorter one")
        }
        return path
    }

    /// Writes `descriptor` as `NAME.json` (0600, replaced atomically); returns its path.
    @discardableResult
    public static func publish(_ descriptor: Descriptor, name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("\(name.prefix(16)).json")
        let data = try JSONEncoder().encode(descriptor)
        let temporary = dir.appendingPathComponent(".\(name.prefix(16)).\(getpid()).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SessionError.file("cannot write \(temporary.path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: data)
        guard rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw SessionError.file("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
        return url
    }

    /// The live sessions in `dir` (a descriptor whose process is gone is removed with its socket).
    public static func live(in dir: URL = directory) -> [Descriptor] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        var found: [Descriptor] = []
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let url = dir.appendingPathComponent(name)
            // A descriptor is small; anything else is not ours to parse.
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                  (attributes[.size] as? Int ?? 0) <= 64 * 1024,
                  let data = FileManager.default.contents(atPath: url.path),
                  let descriptor = try? JSONDecoder().decode(Descriptor.self, from: data)
            else { continue }
            // The socket is always NAME.sock beside NAME.json: a descriptor naming any other path
            // (say `dir/../../victim`) is not trusted, neither to connect to nor to delete.
            let socket = dir.appendingPathComponent(String(name.dropLast(".json".count)) + ".sock").path
            guard descriptor.socket == socket else { continue }
            if descriptor.pid > 0, kill(descriptor.pid, 0) == 0 || errno == EPERM {
                found.append(descriptor)
            } else {
                unlink(url.path)
                var info = stat()
                if lstat(socket, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(socket) }
            }
        }
        return found
    }

    /// The session `path` names (a hosted file, `~/`-relative or relative to the home directory),
    /// or the only one when `path` is nil; throws a message that says what to name instead.
    public static func find(_ path: String?, in dir: URL = directory) throws -> Descriptor {
        let sessions = live(in: dir)
        let who = ProcessInfo.processInfo.environment["USER"].map { " by \($0)" } ?? ""
        guard !sessions.isEmpty else {
            throw SessionError.file("no codesync session is hosted on this machine\(who) (looked in \(dir.path)); start one with `codesync host FILE`")
        }
        guard let path, !path.isEmpty else {
            if sessions.count == 1 { return sessions[0] }
            throw SessionError.file("\(sessions.count) sessions are hosted here; name one in the address (ssh://BOX/PATH): \(sessions.map(\.file).joined(separator: ", "))")
        }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        var expanded = path
        if expanded == "~" { expanded = home } else if expanded.hasPrefix("~/") { expanded = home + expanded.dropFirst(1) }
        if !expanded.hasPrefix("/") { expanded = home + "/" + expanded }
        let wanted = URL(fileURLWithPath: expanded).resolvingSymlinksInPath().standardizedFileURL.path
        if let match = sessions.first(where: { $0.file == wanted }) { return match }
        throw SessionError.file("no session hosts \(wanted); hosted here: \(sessions.map(\.file).joined(separator: ", "))")
    }

    /// The first line `attach` writes on its standard output, before the session's bytes: the
    /// secret the joiner keys its secure channel with, and the file's name for its status bar.
    public struct Preamble: Codable, Equatable, Sendable {
        public var codesyncAttach: Int
        public var secret: String
        public var file: String
        public init(secret: String, file: String) { codesyncAttach = 1; self.secret = secret; self.file = file }

        /// The longest preamble line a joiner reads.
        public static let maxBytes = 4096

        /// Parses a preamble line as hostile input (the other end may be anything `ssh` started).
        public static func parse(_ line: [UInt8]) throws -> Preamble {
            guard let preamble = try? JSONDecoder().decode(Preamble.self, from: Data(line)) else {
                let shown = TextPreview.of(line)
                throw SessionError.rejected("the remote end did not start a codesync session (it said: \(shown)); is `codesync attach` on the box's PATH? (set CODESYNC_REMOTE_COMMAND to its path)")
            }
            guard preamble.codesyncAttach == 1 else {
                throw SessionError.rejected("the box's codesync speaks attach version \(preamble.codesyncAttach), this one 1: upgrade the older one")
            }
            guard (16...128).contains(preamble.secret.utf8.count), preamble.secret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
                  preamble.file.utf8.count <= 255, !preamble.file.contains("/")
            else { throw SessionError.rejected("the box's codesync sent an unusable session description") }
            return preamble
        }
    }
}

/// A short printable rendering of bytes a peer sent, for error messages.
enum TextPreview {
    static func of(_ bytes: [UInt8], limit: Int = 80) -> String {
        let text = String(decoding: bytes.prefix(limit), as: UTF8.self)
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
        return "'" + printable + (bytes.count > limit ? "…" : "") + "'"
    }
}
