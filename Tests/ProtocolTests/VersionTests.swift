import CodeSyncProtocol
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct VersionTests {
    @Test func versionIsSemantic() {
        let parts = CodeSyncVersion.current.split(separator: ".")
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { Int($0) != nil })
    }
}
