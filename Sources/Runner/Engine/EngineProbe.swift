import Foundation

/// What `codesync doctor` asks the engine: its version, its clock, and whether an image is present.
/// In its own file so the checks use exactly the client (socket, errors) that runs use.
extension DockerClient {
    /// The engine's own version and the newest API version it offers.
    public struct EngineVersion: Sendable, Equatable {
        public var version: String
        public var apiVersion: String
    }

    /// The oldest API version the runner is written against (see `preferredAPIVersion`).
    public static var oldestSupportedAPIVersion: String { preferredAPIVersion }

    /// True when API version `a` is older than `b` (dotted numbers).
    public static func isOlder(_ a: String, than b: String) -> Bool { compare(a, b) < 0 }

    /// `GET /version`: the engine's version and API version.
    public func engineVersion() async throws -> EngineVersion {
        let response = try await send("GET", "/version", timeout: 10, versioned: false)
        guard response.status == 200, let info = response.json else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
        return EngineVersion(version: info["Version"] as? String ?? "?", apiVersion: info["ApiVersion"] as? String ?? "?")
    }

    /// `GET /info`'s SystemTime: the engine's clock, or nil when the engine does not report it.
    public func engineClock() async throws -> Date? {
        let response = try await send("GET", "/info", timeout: 10)
        guard response.status == 200, let info = response.json else {
            throw RunnerError.engine(status: response.status, message: response.message)
        }
        guard let text = info["SystemTime"] as? String else { return nil }
        return Self.parseRFC3339(text)
    }

    /// True when `image` is in the engine's local store.
    public func hasImage(_ image: String) async throws -> Bool {
        try await imageExists(image)
    }

    /// Parses RFC 3339 with or without fractional seconds (the engine sends nanoseconds, which
    /// ISO8601DateFormatter refuses, so the fraction is cut to milliseconds first).
    static func parseRFC3339(_ text: String) -> Date? {
        var value = text
        if let dot = value.firstIndex(of: ".") {
            let zone = value[dot...].firstIndex { $0 == "Z" || $0 == "+" || $0 == "-" } ?? value.endIndex
            let digits = value[value.index(after: dot)..<zone].prefix(3)
            value = String(value[..<dot]) + "." + digits.padding(toLength: 3, withPad: "0", startingAt: 0) + value[zone...]
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: value) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: value)
    }
}
