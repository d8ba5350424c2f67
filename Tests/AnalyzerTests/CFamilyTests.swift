import CodeSyncAnalyzer
import CodeSyncTestSupport
import Foundation
import Testing

/// The C-family front ends (Java, JavaScript, Go, C, C++): textbook sets, syntax errors, and
/// CodeComplex Java.
@Suite struct CFamilyTests {
    private func score(_ language: String, _ programs: [CanonicalCFamily.Program]) -> AccuracyTable {
        let table = AccuracyTable(CanonicalCFamily.samples(language, programs))
        print(table.text(title: "canonical \(language), per function, exact class"))
        for miss in table.misses { print("  miss \(miss.id): expected \(miss.expected), got \(miss.got)") }
        return table
    }

    @Test func canonicalJava() {
        let table = score("java", CanonicalCFamily.javaPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalC() {
        let table = score("c", CanonicalCFamily.cPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalCpp() {
        let table = score("cpp", CanonicalCFamily.cppPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalGo() {
        let table = score("go", CanonicalCFamily.goPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalJavaScript() {
        let table = score("javascript", CanonicalCFamily.jsPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }
}
