import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real OpenSSH server on a loopback port, with a throw-away host key and a throw-away client
/// key in `authorized_keys`, for tests that join over `ssh://`. It runs in the foreground (`-D`) as
/// a child of the test and is killed by `stop()` (also on deinit): nothing outlives the test.
public final class SSHDFixture: @unchecked Sendable {
    public let port: Int
    /// The `ssh` command line (for CODESYNC_SSH) that reaches this server with the client key.
    public let sshCommand: String
    private let directory: URL
    private let pid: pid_t

    /// Starts sshd, or returns nil (skip notice; under CI an error) when OpenSSH or root is missing.
    public static func start() throws -> SSHDFixture? {
        for tool in ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return try TestEnvironment.missing(tool, fix: "apt-get install openssh-server openssh-client")
        }
        guard getuid() == 0 else { return try TestEnvironment.missing("root (sshd's privilege separation needs it)") }
        return try SSHDFixture()
    }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-sshd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let hostKey = directory.appendingPathComponent("host_key").path
        let clientKey = directory.appendingPathComponent("client_key").path
        for key in [hostKey, clientKey] {
            let made = try Command.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], timeout: 30)
            guard made.status == 0 else { throw FixtureError("ssh-keygen failed: \(made.stderr)") }
        }
        let authorized = directory.appendingPathComponent("authorized_keys")
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: authorized.path)
        // sshd's privilege separation directory; Debian's package makes it at boot, not at install.
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var started: (pid_t, Int)?
        var lastError = ""
        for _ in 0..<5 where started == nil {
            let port = try Self.freePort()
            let config = directory.appendingPathComponent("sshd_config")
            try """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(hostKey)
                AuthorizedKeysFile \(authorized.path)
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                StrictModes no
                UsePAM no
                LogLevel ERROR
                """.write(to: config, atomically: true, encoding: .utf8)
            let logPath = directory.appendingPathComponent("sshd.log").path
            var child: pid_t = 0
            let configPath: String = config.path
            let arguments: [String] = ["/usr/sbin/sshd", "-D", "-f", configPath, "-E", logPath]
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&child, "/usr/sbin/sshd", nil, nil, argv, environ) == 0 else { throw FixtureError("cannot start sshd") }
            if Self.waitForListener(port: port, pid: child) {
                started = (child, port)
            } else {
                kill(child, SIGKILL)
                waitForDeath(of: child)
                var status: Int32 = 0
                waitpid(child, &status, 0)
                lastError = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            }
        }
        guard let (pid, port) = started else { throw FixtureError("sshd did not start: \(lastError)") }
        self.pid = pid
        self.port = port
        sshCommand = "/usr/bin/ssh -i \(clientKey) -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR"
    }

    /// Kills sshd (and with it nothing else: sessions' own processes end when their channels close).
    public func stop() {
        kill(pid, SIGKILL)
        waitForDeath(of: pid)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { if kill(pid, 0) == 0 { stop() } }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw FixtureError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func waitForListener(port: Int, pid: pid_t) -> Bool {
        for _ in 0..<200 {
            if kill(pid, 0) != 0 { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return true }
            usleep(25_000)
        }
        return false
    }
}

/// A fixture could not be set up.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
