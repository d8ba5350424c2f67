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

    /// Template parameters and arguments from libstdc++ that the C++ fidelity corpus rejected: a
    /// comparison on an earlier non-type parameter in a default, constant expressions (`&&`, `==`,
    /// `?:`, a leading parenthesis) inside arguments that can only be template arguments, and
    /// template-ids used as values before `:`, `/` and `<=`.
    @Test func cppTemplateArgumentsWithConstantExpressions() {
        accepts(
            """
            template<typename _UIntType, size_t __w, bool = __w < static_cast<size_t>(numeric_limits<_UIntType>::digits)>
              struct _Shift { static const _UIntType __value = 0; };
            template<typename _Tp>
              enable_if_t<!is_floating_point_v<_Tp> && is_signed_v<_Tp>, simd<_Tp>>
              abs(const simd<_Tp>& __x) { return __x; }
            template<typename _Type, size_t _Extent>
              span<const byte, _Extent == dynamic_extent ? dynamic_extent : _Extent * sizeof(_Type)>
              as_bytes(span<_Type, _Extent> __sp) { return {}; }
            template<typename _Tuple>
              _Safe_tuple_element_t<(is_placeholder<_Arg>::value - 1), _Tuple>&&
              pick(_Tuple& __tuple) { return get<0>(__tuple); }
            int g(int n) {
              auto a = std::integral_constant < bool, std::is_trivial<A>::value && std::is_trivial<B>::value > ();
              auto b = make_index_sequence<(sizeof...(xs) == 1 ? 2 : 3)>();
              auto c = __convert_all<__vector_type16_t<conditional_t<is_signed_v<F> || is_floating_point_v<T>, int, unsigned int>>>(v);
              constexpr size_t parts = _S_full_size<_Tp> / n;
              constexpr size_t bytes = n < __min_vector_size<_Tp> ? __min_vector_size<_Tp> : n;
              if constexpr (_S_size<_Tp> <= 16) return parts;
              return subrange<_Iter, _Iter, subrange_kind::sized>
                {a, b, c};
            }
            """, "cpp", functions: ["abs", "as_bytes", "pick", "g"])
        // Inside a function body, `a < b && c > d` is still a comparison, not template arguments.
        let r = Analyzer.analyze(source: "int f(int a, int b, int c, int d) { return a < b && c > d; }\n", language: "cpp")
        #expect(r.errors.isEmpty, "\(r.errors)")
    }

    /// Declarations and statements from libstdc++ that the C++ fidelity corpus rejected.
    @Test func cppDeclarationsFromTheStandardLibrary() {
        accepts(
            """
            struct S {
              friend void ::_txnal_c_str(const void* that);
              friend streamsize __copy_streambufs_eof<>(basic_streambuf*, basic_streambuf*, bool&);
              __extension__ union { struct { void* _M_file; } _M_a; };
              _NFA(const typename _TraitsT::locale_type& __loc, _FlagT __flags)
              : _NFA_base(__flags)
              { _M_traits.imbue(__loc); }
            };
            __extension__ template<typename _Tp> concept __is_signed_int128 = true;
            template<typename Gn> void call(Gn& g) { g.template operator()<int>(); }
            void local(int n) {
              struct __cat : error_category { const char* name() const noexcept { return "stream"; } };
              constexpr struct { int a; } table = {1};
              const size_t n2 [[maybe_unused]] = n;
              for (size_t i = 0; i < n2 and i != 7; ++i) { if (not (i or n)) break; }
              asm volatile ("" : "+m"(n));
            }
            struct It {
              PB_DS_TREE_CONST_NODE_ITERATOR_CLASS_C_DEC
              get_l_child() const
              { return PB_DS_TREE_CONST_NODE_ITERATOR_CLASS_C_DEC(m_p_nd->m_p_left); }
            };
            """, "cpp", functions: ["call", "local", "get_l_child", "name"])
        // The alternative spellings are operators: a loop bounded with `and` is still counted.
        let loop = Analyzer.analyze(source: "int f(int n) { int s = 0; for (int i = 0; i < n and s >= 0; i++) s += i; return s; }\n", language: "cpp")
        #expect(loop.errors.isEmpty, "\(loop.errors)")
        #expect(loop.functions.first { $0.name == "f" }?.class == .linear)
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
