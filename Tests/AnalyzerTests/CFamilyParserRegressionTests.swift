import CodeSyncAnalyzer
import Foundation
import Testing
import CodeSyncTestSupport

/// Constructs of real code that the C-family front end once rejected, looped on or nested too
/// deeply on (found by running it over the JDK, Go's standard library, npm, libxcrypt and
/// libstdc++); each source must parse without a syntax error and keep its functions.
@Suite(.ownThreads) struct CFamilyParserRegressionTests {
    private func accepts(_ source: String, _ language: String, functions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        let report = Analyzer.analyze(source: source, language: language)
        #expect(report.errors.isEmpty, "\(language): \(report.errors)", sourceLocation: sourceLocation)
        for f in functions {
            #expect(report.functions.contains { $0.name == f }, "\(language): no function \(f)", sourceLocation: sourceLocation)
        }
    }

    /// `@interface` (an annotation type) used to loop for ever in the modifier loop.
    @Test func javaAnnotationTypesTerminate() {
        accepts("@Documented\n@Retention(RetentionPolicy.RUNTIME)\npublic @interface Target {\n    ElementType[] value();\n}\nclass A { int f(int n) { return n; } }\n", "java", functions: ["f"])
        let stray = Analyzer.analyze(source: "class A { @ int x; void f() { int y = @; } }", language: "java")
        #expect(stray.analysed)
        #expect(!stray.errors.isEmpty)
    }

    /// A generated switch of thousands of cases was a chain of nested `if`s as deep as the cases
    /// (a stack overflow in every pass over the tree); it is one flat statement of alternatives now.
    @Test func hugeSwitchesStayFlat() {
        let cases = (0..<20_000).map { "case \($0): return \($0);" }.joined(separator: "\n")
        accepts("int f(int x) {\nswitch (x) {\n\(cases)\n}\nreturn 0;\n}\n", "c", functions: ["f"])
        let goCases = (0..<20_000).map { "case \($0):\n\treturn \($0)" }.joined(separator: "\n")
        accepts("package p\nfunc f(x int) int {\n\tswitch x {\n\(goCases)\n\t}\n\treturn 0\n}\n", "go", functions: ["f"])
        // The switch still costs its dearest case.
        let java = """
            class A {
                static int g(int[] a, int k) {
                    switch (k) {
                    case 0: return 0;
                    case 1: int s = 0; for (int x : a) s += x; return s;
                    default: return -1;
                    }
                }
            }
            """
        #expect(Analyzer.analyze(source: java, language: "java").functions.first { $0.name == "g" }?.class == .linear)
    }

    @Test func goCompositesConversionsAndAssignments() {
        accepts(
            """
            package p

            type block [512]byte

            func (b *block) reset() { *b = block{} }

            func f(hdr *header, v string, done chan bool, s []byte, m int) (err error) {
            \thdr.AccessTime, err = parsePAXTime(v)
            \tdst := append(dst, sparseEntry{Offset: 1, Length: 2})
            \tfor _, p := range []string{"a", "b"} {
            \t\t_ = p
            \t}
            \tif _, err := w.Write([]byte(v)); err != nil {
            \t\treturn err
            \t}
            \tdone <- true
            \tt := s[: m : m]
            \tc := make([]<-chan []error, m)
            \tdo := func(n int) bool { return n > 0 }
            \tx := m & ^(m - 1)
            \t_, _, _, _ = t, c, do, x
            \treturn nil
            }
            """, "go", functions: ["reset", "f"])
    }

    @Test func javaScriptObjectsExportsAndCommas() {
        accepts(
            """
            const TAGS = {
              CONFIG: '<!-- config -->',
              USAGE: '<!-- usage -->',
            }
            export { TAGS as tags }
            export * from './other.js'
            class Matcher {
              set;
              #target;
              make() { return new this.#target.constructor({}) }
              async init() { await this.template() }
            }
            function step(f, y) {
              if (f = 1, y && f) { return y }
              return f
            }
            """, "javascript", functions: ["make", "init", "step"])
    }

    @Test func cppTemplatesMacrosAndQualifiedDefinitions() {
        accepts(
            """
            _GLIBCXX_BEGIN_NAMESPACE_VERSION
            namespace std {
              inline namespace v1 {
                template<class _Key, class _Tp, class _HashFn = hash<_Key>,
                         class _Alloc = allocator<_Tp> >
                  class hash_map { public: operator bool() const { return true; } };
              }
              template<typename _Tp>
                _GLIBCXX14_CONSTEXPR inline const _Tp&
                clamp(const _Tp& __a) { return static_cast<const _Tp&&>(__a); }
              constexpr int
              operator|(int __m, int __mod) { return __m | __mod; }
              struct P { int a, b; };
              P make(int x) { __try { throw P{x, x}; } __catch(...) { } return P{x, 1}; }
              template<typename... _Args> void emplace(_Args&&... __args) { f(std::forward<_Args>(__args)...); }
              Foo::Foo(int n) : size(n) { }
              Foo::~Foo() { }
            }
            _GLIBCXX_END_NAMESPACE_VERSION
            """, "cpp", functions: ["clamp", "make", "emplace", "Foo"])
    }

    /// Token soups built from each dialect's keywords and punctuation (including `@interface`,
    /// `template<`, `export {`, macros): the parser must finish and report lines that exist.
    @Test func keywordSoupsTerminate() {
        let words = [
            "@interface", "@", "class", "interface", "enum", "template", "<", ">", ">>", "export", "{", "}", "(", ")", "[", "]", ";",
            ",", ":", "::", "=", "=>", "->", "<-", ":=", "func", "go", "switch", "case", "default", "if", "else", "for", "range",
            "while", "do", "try", "__try", "catch", "__catch", "operator", "namespace", "inline", "MACRO", "_IMPL_MACRO", "x", "y",
            "1", "\"s\"", "'c'", "struct", "return", "new", "static_cast", "...", "?", ".", "#", "*", "&", "\n",
        ]
        var rng = SystemRandomNumberGenerator()
        for lang in ["java", "javascript", "go", "c", "cpp"] {
            for _ in 0..<200 {
                let source = (0..<Int.random(in: 1..<120, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
                let lines = source.split(separator: "\n", omittingEmptySubsequences: false).count
                let report = Analyzer.analyze(source: source, language: lang)
                #expect(report.analysed)
                for issue in report.errors { #expect(issue.line >= 1 && issue.line <= lines, "\(lang): \(issue) in \(source)") }
            }
        }
    }
}
