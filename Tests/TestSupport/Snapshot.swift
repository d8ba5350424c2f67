import Foundation

/// Stored-output snapshots under `Tests/<Target>/Snapshots/`, rewritten only when `RECORD_SNAPSHOTS=1`.
public enum Snapshot {
    /// Compares `actual` with the stored snapshot `name` beside the calling test file; throws a
    /// `SnapshotMismatch` showing expected, got and the first differing line.
    public static func check(_ actual: String, named name: String, file: StaticString = #filePath) throws {
        let directory = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots")
        let url = directory.appendingPathComponent(name)
        if TestEnvironment.value("RECORD_SNAPSHOTS") == "1" {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            throw SnapshotMismatch(
                message: "no snapshot at \(url.path); run the test with RECORD_SNAPSHOTS=1 to record it")
        }
        if expected != actual {
            throw SnapshotMismatch(message: describeDifference(expected: expected, actual: actual, name: name))
        }
    }

    /// A readable expected / got / first-difference report for two multi-line texts.
    public static func describeDifference(expected: String, actual: String, name: String) -> String {
        let e = expected.components(separatedBy: "\n"), a = actual.components(separatedBy: "\n")
        var firstDiff = 0
        while firstDiff < min(e.count, a.count), e[firstDiff] == a[firstDiff] { firstDiff += 1 }
        let wanted = firstDiff < e.count ? e[firstDiff] : "<end>"
        let got = firstDiff < a.count ? a[firstDiff] : "<end>"
        return """
            snapshot \(name) differs at line \(firstDiff + 1)
              expected: \(wanted)
              got:      \(got)
            --- expected
            \(expected)
            --- got
            \(actual)
            (RECORD_SNAPSHOTS=1 rewrites the snapshot)
            """
    }
}

/// A stored snapshot did not match the output under test.
public struct SnapshotMismatch: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
