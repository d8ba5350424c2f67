/// Why the sandbox could not run a program, each with a one-line message that names the fix.
public enum RunnerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Nothing listens at the engine's socket.
    case engineUnreachable(socket: String)
    /// The socket exists but this user may not open it.
    case permissionDenied(socket: String)
    /// The engine went away in the middle of a request or run.
    case engineLost(socket: String, detail: String)
    /// The engine answered with an error we cannot act on.
    case engine(status: Int, message: String)
    /// The engine did not answer in time.
    case engineTimeout(socket: String, operation: String)
    /// The image is not in the engine's local store.
    case imageMissing(String)
    /// No language of that name.
    case unknownLanguage(String, known: [String])
    /// The file's extension does not name a language and none was given.
    case languageNotInferred(file: String)
    /// A limit or config value is unusable.
    case invalidConfiguration(String)
    /// The sandbox has been shut down.
    case shutDown

    public var description: String {
        switch self {
        case .engineUnreachable(let socket):
            return "no Docker engine at \(socket) — start one with `sudo systemctl start docker` (or `sudo dockerd &`), or set DOCKER_HOST=unix:///path/to/docker.sock"
        case .permissionDenied(let socket):
            return "permission denied on \(socket) — add yourself to the docker group (`sudo usermod -aG docker $USER`, then log in again) or run as root"
        case .engineLost(let socket, let detail):
            return "lost the Docker engine at \(socket) (\(detail)) — check that dockerd is still running"
        case .engine(let status, let message):
            return "Docker engine error \(status): \(message)"
        case .engineTimeout(let socket, let operation):
            return "the Docker engine at \(socket) did not answer \(operation) in time — check `docker info` and the engine's load"
        case .imageMissing(let image):
            return "image \(image) is not present — fetch it with `docker pull \(image)`, or choose another with --image or CODESYNC_IMAGE_<LANG>"
        case .unknownLanguage(let name, let known):
            return "unknown language '\(name)' — use one of: \(known.joined(separator: ", "))"
        case .languageNotInferred(let file):
            return "cannot tell the language of \(file) from its extension — pass --lang (python, node, go, c, cpp)"
        case .invalidConfiguration(let message):
            return "invalid runner configuration: \(message)"
        case .shutDown:
            return "the sandbox has shut down"
        }
    }
}
