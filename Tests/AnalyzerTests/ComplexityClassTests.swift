import CodeSyncAnalyzer
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct ComplexityClassTests {
    @Test func classesAreOrderedByGrowth() {
        #expect(ComplexityClass.constant < .logarithmic)
        #expect(ComplexityClass.linearithmic < .quadratic)
        #expect(ComplexityClass.exponential < .factorial)
        #expect(ComplexityClass(rawValue: "O(n log n)") == .linearithmic)
    }
}
