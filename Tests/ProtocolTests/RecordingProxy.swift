import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 that records every byte it forwards, both ways, and can tamper with
/// one length-prefixed unit (every unit on a CodeSync connection is one: prelude frames, the
/// handshake messages, encrypted records, a relay's routing frames).
final class RecordingProxy: @unchecked Sendable {
    /// What to do to the next unit after the handshake in the armed direction.
    enum Tamper: String, Sendable, CaseIterable {
        case flipBit, replay, drop, truncate
    }

    let port: Int
    private let target: Int
    private let listenFD: Int32
    private let lock = NSLock()
    private var captured: [UInt8] = []
    private var armed: (tamper: Tamper, toClient: Bool)?
    private var done: [Tamper] = []
    private var sockets: [Int32] = []
    private var stopped = false

    init(target: Int) throws {
        self.target = target
        (listenFD, port) = try loopbackListener(backlog: 64)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Every byte forwarded so far, both directions.
    var bytes: [UInt8] { lock.withLock { captured } }

    /// Tampering done so far.
    var tampered: [Tamper] { lock.withLock { done } }

    /// Tampers once with the next unit sent towards the client (or the server) after the handshake.
    func arm(_ tamper: Tamper, toClient: Bool = true) { lock.withLock { armed = (tamper, toClient) } }

    func stop() {
        // Under the lock, so that no socket is closed (and its number handed to another test's
        // socket) between listing it and shutting it down.
        lock.withLock {
            stopped = true
            for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        // Shut down, not closed: only the accept loop closes the listener, when it leaves. Closed
        // here, its number could go to another test's NIO listener while the loop was between two
        // `accept` calls, and the loop would take that listener's connections (NIO then asserts).
        shutdown(listenFD, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        defer { close(listenFD) }
        while true {
            let client = accept(listenFD, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(target).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else {
                close(client)
                close(server)
                continue
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(server, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let keep = lock.withLock { () -> Bool in
                guard !stopped else { return false }
                sockets += [client, server]
                return true
            }
            guard keep else {
                close(client)
                close(server)
                return
            }
            let finished = DispatchGroup()
            for (from, to, toClient) in [(client, server, false), (server, client, true)] {
                finished.enter()
                let thread = Thread { [self] in
                    pump(from: from, to: to, toClient: toClient)
                    finished.leave()
                }
                thread.start()
            }
            finished.notify(queue: .global()) { [self] in
                // Forgotten as it is closed: `stop` must never shut down a number since reused.
                lock.withLock {
                    sockets.removeAll { $0 == client || $0 == server }
                    close(client)
                    close(server)
                }
            }
        }
    }

    /// Forwards unit by unit; the first two units each way are the prelude and handshake.
    private func pump(from: Int32, to: Int32, toClient: Bool) {
        var index = 0
        while let prefix = receiveExactly(from, 4) {
            let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
            guard length <= 1 << 24, let body = receiveExactly(from, length) else { break }
            index += 1
            var unit = prefix + body
            let tamper: Tamper? = lock.withLock {
                captured += unit
                guard index > 2, let armed, armed.toClient == toClient else { return nil }
                self.armed = nil
                done.append(armed.tamper)
                return armed.tamper
            }
            switch tamper {
            case .flipBit:
                unit[4 + body.count / 2] ^= 0x10
                sendAll(to, unit)
            case .replay:
                sendAll(to, unit)
                sendAll(to, unit)
            case .drop:
                continue
            case .truncate:
                sendAll(to, Array(unit.prefix(4 + body.count / 2)))
                shutdown(to, Int32(SHUT_RDWR))
                shutdown(from, Int32(SHUT_RDWR))
                return
            case nil:
                sendAll(to, unit)
            }
        }
        shutdown(to, Int32(SHUT_WR))
    }
}
