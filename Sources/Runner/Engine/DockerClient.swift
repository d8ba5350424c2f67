import CodeSyncBase
import Foundation
import NIOCore
import NIOPosix

/// A response from the engine: status and body.
struct EngineResponse: Sendable {
    var status: Int
    var body: [UInt8]

    /// The body as a JSON object, or nil.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// The engine's error message (`{"message": ...}`) or the raw body.
    var message: String {
        if let text = json?["message"] as? String { return text }
        return String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// What `inspect` tells about a container's end.
struct ContainerState: Sendable, Equatable {
    var running: Bool
    var exitCode: Int32
    var oomKilled: Bool
}

/// A container summary from `list`.
struct ContainerSummary: Sendable, Equatable {
    var id: String
    var labels: [String: String]
    var state: String
}

/// A client for the Docker Engine API over its unix socket (no docker CLI involved).
///
/// Each request uses its own connection with `Connection: close`: connecting to a unix socket
/// costs tens of microseconds, and it keeps the client free of keep-alive bookkeeping.
public final class DockerClient: Sendable {
    /// The unix socket path of the engine.
    public let socketPath: String
    private let connector: SocketConnector
    private let apiPrefix = Locked<String?>(nil)
    /// Oldest API version we speak; Docker 20.10 offers up to 1.41, newer engines accept it or tell us their minimum.
    static let preferredAPIVersion = "1.41"

    /// A client for the engine at `socketPath`.
    public init(socketPath: String) {
        self.socketPath = socketPath
        self.connector = SocketConnector(socketPath: socketPath)
    }

    /// The socket from `DOCKER_HOST` (unix:// only) or /var/run/docker.sock.
    public static func defaultSocketPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let host = environment["DOCKER_HOST"], host.hasPrefix("unix://") {
            return String(host.dropFirst("unix://".count))
        }
        return "/var/run/docker.sock"
    }

    // MARK: Requests

    /// Sends one request and reads the whole response; fails after `timeout` seconds.
    func send(_ method: String, _ path: String, json: Any? = nil, timeout: Double = 30, versioned: Bool = true) async throws -> EngineResponse {
        let fullPath = versioned ? try await prefix() + path : path
        var body: [UInt8] = []
        if let json {
            body = [UInt8](try JSONSerialization.data(withJSONObject: json))
        }
        var head = "\(method) \(fullPath) HTTP/1.1\r\nHost: docker\r\nUser-Agent: codesync\r\nConnection: close\r\n"
        if json != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        let request = Array(head.utf8) + body

        let socket = socketPath
        let operation = "\(method) \(path.split(separator: "?").first ?? "")"
        let state = Locked<(parser: HTTPResponseParser, continuation: CheckedContinuation<EngineResponse, any Error>?)>(
            (HTTPResponseParser(), nil))
        @Sendable func complete(_ result: Result<EngineResponse, any Error>) {
            let continuation = state.withLock { value -> CheckedContinuation<EngineResponse, any Error>? in
                defer { value.continuation = nil }
                return value.continuation
            }
            continuation?.resume(with: result)
        }
        return try await withCheckedThrowingContinuation { continuation in
            state.withLock { $0.continuation = continuation }
            Task {
                do {
                    let channel = try await connector.connect(
                        onBytes: { bytes in
                            let outcome: Result<EngineResponse, any Error>? = state.withLock { value in
                                do {
                                    try value.parser.feed(bytes)
                                } catch {
                                    return .failure(RunnerError.engineLost(socket: socket, detail: "bad HTTP response: \(error)"))
                                }
                                guard value.parser.isComplete, let head = value.parser.head else { return nil }
                                return .success(EngineResponse(status: head.status, body: value.parser.body))
                            }
                            if let outcome { complete(outcome) }
                        },
                        onEnd: { error in
                            let outcome: Result<EngineResponse, any Error> = state.withLock { value in
                                if value.parser.isComplete, let head = value.parser.head {
                                    return .success(EngineResponse(status: head.status, body: value.parser.body))
                                }
                                do {
                                    try value.parser.finish()
                                    if let head = value.parser.head {
                                        return .success(EngineResponse(status: head.status, body: value.parser.body))
                                    }
                                } catch {}
                                let detail = error.map { "\($0)" } ?? "connection closed during \(operation)"
                                return .failure(RunnerError.engineLost(socket: socket, detail: detail))
                            }
                            complete(outcome)
                        })
                    let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
                        complete(.failure(RunnerError.engineTimeout(socket: socket, operation: operation)))
                        channel.close(promise: nil)
                    }
                    channel.closeFuture.whenComplete { _ in timer.cancel() }
                    var buffer = channel.allocator.buffer(capacity: request.count)
                    buffer.writeBytes(request)
                    try await channel.writeAndFlush(buffer)
                } catch let error as RunnerError {
                    complete(.failure(error))
                } catch {
                    complete(.failure(RunnerError.engineLost(socket: socket, detail: "\(error)")))
                }
            }
        }
    }

    /// The versioned path prefix, negotiated once from `/version`.
    private func prefix() async throws -> String {
        if let known = apiPrefix.withLock({ $0 }) { return known }
        let response = try await send("GET", "/version", timeout: 10, versioned: false)
        guard response.status == 200, let info = response.json else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
        var version = Self.preferredAPIVersion
        if let maximum = info["ApiVersion"] as? String, Self.compare(maximum, version) < 0 { version = maximum }
        if let minimum = info["MinAPIVersion"] as? String, Self.compare(minimum, version) > 0 { version = minimum }
        let chosen = "/v\(version)"
        apiPrefix.withLock { $0 = chosen }
        return chosen
    }

    static func compare(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }, right = b.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : 0, y = index < right.count ? right[index] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    // MARK: Endpoints

    /// Checks that the engine answers (`GET /_ping`).
    public func ping() async throws {
        let response = try await send("GET", "/_ping", timeout: 10, versioned: false)
        guard response.status == 200 else { throw RunnerError.engine(status: response.status, message: response.message) }
    }

    /// True when the image is in the engine's local store.
    func imageExists(_ image: String) async throws -> Bool {
        let response = try await send("GET", "/images/\(Self.escape(image))/json")
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw RunnerError.engine(status: response.status, message: response.message)
        }
    }

    /// Creates a container and returns its id.
    func create(_ config: [String: Any], image: String) async throws -> String {
        let response = try await send("POST", "/containers/create", json: config, timeout: 60)
        switch response.status {
        case 201:
            guard let id = response.json?["Id"] as? String else {
                throw RunnerError.engine(status: 201, message: "create returned no container id")
            }
            return id
        case 404:
            throw RunnerError.imageMissing(image)
        default:
            throw RunnerError.engine(status: response.status, message: response.message)
        }
    }

    /// Starts a created container.
    func start(_ id: String) async throws {
        let response = try await send("POST", "/containers/\(id)/start", timeout: 60)
        guard response.status == 204 || response.status == 304 else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
    }

    /// Sends SIGKILL; a container that already stopped or vanished is not an error.
    func kill(_ id: String) async throws {
        let response = try await send("POST", "/containers/\(id)/kill?signal=KILL", timeout: 15)
        guard response.status == 204 || response.status == 404 || response.status == 409 else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
    }

    /// Waits for the container to stop and returns its exit code.
    func wait(_ id: String, timeout: Double) async throws -> Int32 {
        let response = try await send("POST", "/containers/\(id)/wait", timeout: timeout)
        guard response.status == 200, let code = response.json?["StatusCode"] as? Int else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
        return Int32(truncatingIfNeeded: code)
    }

    /// The container's state (running, exit code, OOMKilled).
    func inspect(_ id: String) async throws -> ContainerState {
        let response = try await send("GET", "/containers/\(id)/json", timeout: 15)
        guard response.status == 200, let state = response.json?["State"] as? [String: Any] else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
        return ContainerState(
            running: state["Running"] as? Bool ?? false,
            exitCode: Int32(truncatingIfNeeded: state["ExitCode"] as? Int ?? -1),
            oomKilled: state["OOMKilled"] as? Bool ?? false)
    }

    /// Removes a container, killing it first if needed; a missing container is not an error.
    func remove(_ id: String) async throws {
        let response = try await send("DELETE", "/containers/\(id)?force=1&v=1", timeout: 30)
        guard response.status == 204 || response.status == 404 || response.status == 409 else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
    }

    /// Containers (running or not) carrying `label` (`key` or `key=value`).
    func list(label: String) async throws -> [ContainerSummary] {
        let filters = "{\"label\":[\"\(label)\"]}"
        let query = filters.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let response = try await send("GET", "/containers/json?all=1&filters=\(query)", timeout: 15)
        guard response.status == 200,
              let list = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [[String: Any]]
        else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
        return list.compactMap { item in
            guard let id = item["Id"] as? String else { return nil }
            return ContainerSummary(id: id, labels: item["Labels"] as? [String: String] ?? [:], state: item["State"] as? String ?? "")
        }
    }

    /// Ids of containers carrying `label`, for tests and cleanup.
    public func containerIDs(label: String) async throws -> [String] {
        try await list(label: label).map(\.id)
    }

    /// Force-removes every container carrying `label`; returns how many were removed.
    @discardableResult
    public func removeAll(label: String) async throws -> Int {
        let ids = try await containerIDs(label: label)
        for id in ids { try await remove(id) }
        return ids.count
    }

    /// Opens the attach stream (stdin, stdout, stderr) of a created container.
    func attach(_ id: String) async throws -> AttachConnection {
        let path = try await prefix() + "/containers/\(id)/attach?stream=1&stdin=1&stdout=1&stderr=1"
        let request = Array("POST \(path) HTTP/1.1\r\nHost: docker\r\nUser-Agent: codesync\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n".utf8)
        let connection = AttachConnection(socketPath: socketPath)
        let channel = try await connector.connect(
            onBytes: { bytes in connection.received(bytes) },
            onEnd: { error in connection.ended(error) })
        connection.channel = channel
        var buffer = channel.allocator.buffer(capacity: request.count)
        buffer.writeBytes(request)
        // An engine that never answers the upgrade must not hang the run: close, which fails the wait.
        let timer = channel.eventLoop.scheduleTask(in: .seconds(30)) {
            if !connection.isAttached { channel.close(promise: nil) }
        }
        try await channel.writeAndFlush(buffer)
        do {
            try await connection.waitUntilAttached()
        } catch {
            timer.cancel()
            throw error
        }
        timer.cancel()
        return connection
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._:/@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
