import CodeSyncTestSupport
import CodeSyncAnalyzer
import Foundation
import Testing

/// C and C++ are read without a preprocessor. These textbook cases pin down how the front end
/// copes (one branch of each `#if` group, macros joined to string literals, constructs a macro
/// could explain skipped and listed) and that real syntax errors are still reported.
@Suite(.ownThreads) struct CPreprocessorToleranceTests {
    private func report(_ source: String, _ language: String = "cpp") -> ComplexityReport {
        Analyzer.analyze(source: source, language: language)
    }

    private func classOf(_ name: String, _ r: ComplexityReport) -> ComplexityClass? {
        r.functions.first { $0.name == name }?.class
    }

    /// Reading both branches of `#if`/`#else` would join alternatives into one function body;
    /// the first branch is read (as ctags does), and `#if 0` is a comment whose `#else` is read.
    @Test func oneBranchOfEachConditionalGroup() {
        let src = """
            #ifdef FAST
            int f(int n) {
              int s = 0;
              for (int i = 0; i < n; i++) s += i;
              return s;
            #else
            int f(int n) {
              int s = 0;
              for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) s += j;
              return s;
            #endif
            }
            #if 0
            this is not C at all {
            #elif defined(X)
            int g(int n) { int c = 0; while (n > 1) { n /= 2; c++; } return c; }
            #else
            int g(int n) { return n; }
            #endif
            """
        let r = report(src, "c")
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(classOf("f", r) == .linear)
        #expect(classOf("g", r) == .logarithmic)
        // Continuation lines and comments inside directives do not leak tokens.
        let cont = report("#define SWAP(a, b) do { \\\n  int t = a; a = b; b = t; \\\n} while (0)\nint h(int n) { return n; }\n", "c")
        #expect(cont.errors.isEmpty, "\(cont.errors)")
        #expect(cont.functions.map(\.name) == ["h"])
    }

    /// `"%08" PRIx32 "\n"` is one literal after preprocessing; so is a string macro `#define`d here.
    @Test func stringMacrosJoinLiterals() {
        let src = """
            #include <inttypes.h>
            #define SEP ", "
            void show(uint32_t *t, int n) {
              for (int i = 0; i < n; i++) printf(" 0x%08" PRIx32 SEP "%" PRIu64 "\\n", t[i], (uint64_t)i);
            }
            """
        let r = report(src, "c")
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(classOf("show", r) == .linear)
        // An ordinary lower-case name between strings is still an error.
        #expect(!report("void f(void) { printf(\"a\" fmt \"b\"); }\n", "c").errors.isEmpty)
    }

    /// A macro where a declaration or statement needs something else is skipped and listed in
    /// `skipped`, and a function whose head holds one is still analysed.
    @Test func constructsAMacroCouldExplainAreSkippedAndListed() {
        let src = """
            template<typename T>
            class vec {
              T* data; int size;
            public:
              void clear() { PB_DS_ASSERT_VALID((*this)) }
              _GLIBCXX20_CONSTEXPR T sum() const {
                T s = T();
                for (int i = 0; i < size; i++) s += data[i];
                return s;
              }
            };
            int count(int* a, int n) {
              __glibcxx_requires_valid_range(a, a + n)
              int c = 0;
              for (int i = 0; i < n; i++) if (a[i] > 0) c++;
              return c;
            }
            int other(int n) {
              if _GLIBCXX17_CONSTEXPR (sizeof(int) == 4) return n;
              return 0;
            }
            """
        let r = report(src)
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(!r.skipped.isEmpty)
        #expect(classOf("sum", r) == .linear)
        #expect(classOf("count", r) == .linear)
        #expect(classOf("other", r) == .constant)
    }

    /// Tolerance has limits: a construct is skipped only at a name that may be a macro and only
    /// when its brackets balance, so ordinary mistakes in a buffer are still syntax errors.
    @Test func realSyntaxErrorsAreStillReported() {
        let cases = [
            "int main() { int x = ; return 0; }",
            "int f(int n) { return n n; }",
            "int f(int n) { return g(n, ; }",
            "int f(int n) { int a[MAXN; return 0; }",
            "int f(int n) { for (int i = 0; i < n; i++ { } return 0; }",
            "int f() { return 1 }",
        ]
        for src in cases {
            for language in ["c", "cpp"] {
                let r = report(src, language)
                #expect(!r.errors.isEmpty, "\(language): no error for \(src)")
            }
        }
        // The editor's usual partial buffer: an unclosed block.
        #expect(!report("int main() {\n  for (int i = 0; i < 3; i++) {\n").errors.isEmpty)
    }

    /// Braces that a branch not read would balance (`#if A ... #elif B namespace x { ... #endif`)
    /// are skipped, not errors; without such a branch an unmatched brace is still an error.
    @Test func bracesLeftOpenByAnUnreadBranch() {
        let src = """
            #if USE_STD
            # define NS std
            #elif defined(USE_TR1)
            namespace tr1 {
            #endif
            int f(int n) { return n; }
            #if !USE_STD
            }
            #endif
            """
        let r = report(src)
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(!r.skipped.isEmpty)
        #expect(classOf("f", r) == .constant)
        #expect(!report("int f(int n) { return n; }\n}\n").errors.isEmpty)
    }

    /// Modern C++ that a textbook uses: each parses, and the loops in it are still priced.
    @Test func modernCppParses() {
        let src = """
            #include <bits/stdc++.h>
            template<typename T> concept Number = std::is_arithmetic_v<T> && requires(T a) { a + a; };
            template<class T> requires Number<T>
            struct Point {
              T x, y;
              unsigned flag : 1;
              auto operator<=>(const Point&) const = default;
              [[nodiscard]] T norm2() const noexcept { return x * x + y * y; }
            };
            template<class T> struct Vec {
              T* d; int n;
              void (*hook)(int);
              T total() const;
              explicit(false) Vec(int m) : d(::new T[m]), n(m) {}
            };
            template<class T> T Vec<T>::total() const {
              T s{};
              for (int i = 0; i < n; i++) s += d[i];
              return s;
            }
            template<typename... Ts> auto sum(Ts... ts) { return (ts + ... + 0); }
            int pairs(std::map<int, int>& m) {
              int c = 0;
              for (const auto& [k, v] : m) c += k * v;
              if (auto r = 1 <=> 2; r < 0) c++;
              try { c++; } catch (...) { throw; }
              return c;
            }
            """
        let r = report(src)
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(r.skipped.isEmpty, "\(r.skipped)")
        #expect(classOf("total", r) == .linear)
        #expect(classOf("pairs", r) == .linear)
    }

    /// C's own corner cases from real sources: `unsigned int byte` (a Java type word is a name in
    /// C), an anonymous struct array with an initializer, a typedef'd union inside a function,
    /// and a type passed to a macro.
    @Test func cCornerCases() {
        let src = """
            static const struct { const char *in; int out; } tests[] = { { "a", 1 }, { "b", 2 } };
            static int bit(const unsigned char *d, unsigned int n) {
              unsigned int byte = n / 8;
              typedef union { unsigned char c[64]; unsigned int l[16]; } block;
              block b;
              return (d[byte] >> (n % 8)) & 1;
            }
            int total(int n, ...) {
              va_list ap; va_start(ap, n);
              int s = 0;
              for (int i = 0; i < n; i++) s += va_arg(ap, int);
              void *p = va_arg(ap, void *);
              va_end(ap);
              return s;
            }
            """
        let r = report(src, "c")
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(classOf("bit", r) == .constant)
        #expect(classOf("total", r) == .linear)
    }

    /// Macro arguments may be operators or statements (`DEFINE_OP(==, Eq);`,
    /// `_GLIBCXX_DEBUG_ONLY(check(x);)`): a construct failing inside the arguments of a name that
    /// may be a macro is skipped and listed; the same inside an ordinary call is a syntax error.
    @Test func macroArgumentsMayBeOperatorsOrStatements() {
        let src = """
            _GLIBCXX_DEFINE_BINARY_PREDICATE_OP_CONSTRAINT(==, _EqualOpConcept);
            MERGE_3_CASE(0, 1, 2, <=, < );
            int f(int n) {
              _GLIBCXX_DEBUG_ONLY(debug_base::erase_existing(n);)
              {
                int s = 0;
                for (int i = 0; i < n; i++) s += i;
                return s;
              }
            }
            """
        let r = report(src)
        #expect(r.errors.isEmpty, "\(r.errors)")
        #expect(r.skipped.count == 3, "\(r.skipped)")
        #expect(classOf("f", r) == .linear)
        #expect(!report("int f(int n) { g(==, n); return n; }\n").errors.isEmpty)
        #expect(!report("int f(int n) { check(n;) return n; }\n").errors.isEmpty)
        #expect(!report("int f(int n) { return CHECK(n, ; }\n").errors.isEmpty)  // the list never closes
    }

    /// A file that opens with `#ifdef NAME` for a NAME it never defines is a fragment meant to be
    /// included (libstdc++'s pb_ds `*_imps.hpp`): it may end inside a declaration that the including
    /// file completes. Without that guard, or when the file defines NAME, the same end is an error.
    @Test func includedFragmentsMayEndInsideADeclaration() {
        let body = """
            PB_DS_CLASS_T_DEC
            inline typename PB_DS_CLASS_C_DEC::pointer
            PB_DS_CLASS_C_DEC::
            find_key_pointer(key_const_reference r_key, false_type)

            """
        let fragment = report("// a piece of gp_ht_map_\n#ifdef PB_DS_CLASS_C_DEC\n" + body)
        #expect(fragment.errors.isEmpty, "\(fragment.errors)")
        #expect(fragment.skipped.count == 1)
        #expect(!report(body).errors.isEmpty)
        #expect(!report("#ifdef PB_DS_CLASS_C_DEC\n#define PB_DS_CLASS_C_DEC x\n" + body).errors.isEmpty)
        #expect(!report("#ifndef PB_DS_CLASS_C_DEC\n" + body).errors.isEmpty)
        #expect(!report("int x;\n#ifdef PB_DS_CLASS_C_DEC\n" + body).errors.isEmpty)
        // An ordinary syntax error inside a fragment is still an error.
        #expect(!report("#ifdef PB_DS_CLASS_C_DEC\nint f(int n) { return n n; }\n").errors.isEmpty)
    }
}
