import Foundation

/// Access to a real Docker engine for tests: the socket, and the locally built test images.
public struct DockerFixture: Sendable {
    /// Path of the engine's unix socket (`DOCKER_HOST=unix://...` or /var/run/docker.sock).
    public let socketPath: String

    /// The test image for a language (`python`, `node`, `go`, `c`): `CODESYNC_TEST_IMAGE_<LANG>`,
    /// else the name `scripts/build-test-images` gives it.
    public func image(for language: String) -> String {
        TestEnvironment.value("CODESYNC_TEST_IMAGE_\(language.uppercased())") ?? "codesync-test/\(language):latest"
    }

    /// The engine when it answers; nil with a notice outside CI; under CI a missing engine throws.
    public static func available() throws -> DockerFixture? {
        var socket = "/var/run/docker.sock"
        if let host = TestEnvironment.value("DOCKER_HOST"), host.hasPrefix("unix://") {
            socket = String(host.dropFirst("unix://".count))
        }
        guard Command.exists("docker") else {
            return try TestEnvironment.missing("the docker client", fix: "run scripts/test, which installs docker.io")
        }
        let probe = try Command.run(["docker", "version", "--format", "{{.Server.Version}}"], timeout: 20)
        guard probe.status == 0 else {
            return try TestEnvironment.missing(
                "a Docker engine at \(socket)", fix: "run scripts/test, which starts dockerd")
        }
        return DockerFixture(socketPath: socket)
    }

    /// True when `image` exists in the engine's local store.
    public func hasImage(_ image: String) -> Bool {
        (try? Command.run(["docker", "image", "inspect", image], timeout: 20).status) == 0
    }

    /// Like `available()`, and also requires the test image for `language`.
    public static func withImage(_ language: String) throws -> (DockerFixture, String)? {
        guard let docker = try available() else { return nil }
        let image = docker.image(for: language)
        guard docker.hasImage(image) else {
            return try TestEnvironment.missing(
                "the test image \(image)", fix: "run scripts/build-test-images")
        }
        return (docker, image)
    }
}
