import CodeSyncRunner
import Foundation
import Testing

@testable import CodeSyncApp

/// The doctor's checks that need no engine or terminal, called directly (DoctorTests runs the binary).
@Suite struct DoctorCheckTests {
    @Test func imageFixOffersPullThenTheLocalBuildThenOnlyTheVariableWhenBuilt() throws {
        let python = try SandboxConfig(socketPath: "/nonexistent").catalog.named("python")
        let absent = DoctorChecks.imageFix(python)
        #expect(absent.hasPrefix("docker pull \(python.image), or without a registry: scripts/build-test-images python && "))
        #expect(absent.hasSuffix("export CODESYNC_IMAGE_PYTHON=codesync-test/python:latest"))
        let built = DoctorChecks.imageFix(python, localImagePresent: true)
        #expect(built.contains("use the one built here from Debian packages: export CODESYNC_IMAGE_PYTHON=codesync-test/python:latest"))
        let cpp = try SandboxConfig(socketPath: "/nonexistent").catalog.named("cpp")
        #expect(DoctorChecks.localImage(cpp) == "codesync-test/c:latest", "C++ runs in the C image")
    }

    @Test func clockBeforeThisCodeExistedOrFarFromTheEngineFails() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(!DoctorChecks.clock(engineClock: nil, now: Date(timeIntervalSince1970: 0)).ok)
        #expect(!DoctorChecks.clock(engineClock: now.addingTimeInterval(30), now: now).ok)
        #expect(DoctorChecks.clock(engineClock: now.addingTimeInterval(2), now: now).ok)
    }

    @Test func directoriesMustBeYoursAndClosed() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-dir-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        #expect(DoctorChecks.directory("d", base, createdBy: "t").ok, "a missing directory is made later")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let open = DoctorChecks.directory("d", base, createdBy: "t")
        #expect(!open.ok && open.fix == "chmod 700 \(base.path)")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: base.path)
        #expect(DoctorChecks.directory("d", base, createdBy: "t").ok)
    }
}
