import CodeSyncRunner
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct RunLimitsTests {
    @Test func defaultsMatchTheProductPromise() {
        let limits = RunLimits.standard
        #expect(limits.memoryBytes == 134_217_728)
        #expect(limits.cpuQuota == 50_000)
        #expect(limits.timeoutSeconds == 10)
    }
}
