/// The standard-library table of the C-family front ends: every library call of Java, JavaScript,
/// Go, C and C++ that the cost model should price is lowered here to one neutral operation the
/// model already prices (sort → `sorted`, ordered-map operation → `bisect`/`heappush` at log n,
/// hashed operation → O(1), linear scan → `list`/`index`, input read → `input()`). Keeping one
/// table means one place to read and one cost model, whatever the language.
enum LibraryCalls {
    /// What a declared variable holds; decides how its method calls are priced.
    enum Container: Sendable, Equatable {
        /// Array list, vector, JavaScript array, Go slice: indexed, O(n) search and front insertion.
        case sequence
        /// Hash map or set: O(1) look-up and insertion.
        case hashed
        /// Balanced tree (TreeMap, std::map, std::set): O(log n) operations.
        case ordered
        /// Priority queue: O(log n) push and pop.
        case heap
        /// Double-ended queue, stack, linked list: O(1) at both ends.
        case deque
        /// A string (immutable in Java and JavaScript: `+=` copies).
        case string
        /// A string builder: O(1) amortised appends.
        case builder
        /// An instance of a class of the program: its methods are the program's functions.
        case object
    }

    /// The kind named by a declared type (`TreeMap<K, V>`, `std::priority_queue<int>`, `[]int`, ...).
    static func container(forType type: String, dialect: CFamily) -> Container? {
        if dialect == .go {
            if type.hasPrefix("map[") { return .hashed }
            if type.hasPrefix("[") { return .sequence }
            if type == "string" { return .string }
            return nil
        }
        return kinds[baseTypeName(type)]
    }

    /// Library types by base name (one hashed look-up instead of a String `switch`, which compares
    /// the name against every case in turn).
    private static let kinds: [String: Container] = {
        var table: [String: Container] = [:]
        let groups: [(Container, [String])] = [
            (.sequence, ["ArrayList", "List", "Vector", "vector", "array", "Array", "CopyOnWriteArrayList", "basic_string_view"]),
            (.hashed, [
                "HashMap", "HashSet", "Map", "Set", "LinkedHashMap", "LinkedHashSet", "unordered_map", "unordered_set",
                "unordered_multimap", "unordered_multiset", "Hashtable", "IdentityHashMap", "EnumMap", "BitSet", "bitset",
                "WeakMap", "WeakSet",
            ]),
            (.ordered, [
                "TreeMap", "TreeSet", "SortedMap", "SortedSet", "NavigableMap", "NavigableSet", "map", "set", "multimap",
                "multiset", "ConcurrentSkipListMap", "ConcurrentSkipListSet",
            ]),
            (.heap, ["PriorityQueue", "priority_queue", "PriorityBlockingQueue"]),
            (.deque, ["ArrayDeque", "Deque", "Queue", "LinkedList", "Stack", "deque", "queue", "stack", "list", "forward_list"]),
            (.string, ["String", "string", "wstring", "char*"]),
            (.builder, ["StringBuilder", "StringBuffer", "stringstream", "ostringstream"]),
        ]
        for (kind, names) in groups { for name in names { table[name] = kind } }
        return table
    }()

    /// `std::vector<int>` → `vector`, `java.util.TreeMap<K, V>` → `TreeMap`, `int[]` → `int`.
    static func baseTypeName(_ type: String) -> String {
        var text = type
        // On the UTF-8 bytes: Character-by-Character scans of every declared type were a hot spot.
        return text.withUTF8 { u in
            var lo = 0, hi = u.count
            if let lt = u.firstIndex(of: UInt8(ascii: "<")) { hi = lt }
            var k = hi
            while k > lo {
                if u[k - 1] == UInt8(ascii: ".") || u[k - 1] == UInt8(ascii: ":") { lo = k; break }
                k -= 1
            }
            for word in typePrefixes where hi - lo > word.count && word.indices.allSatisfy({ u[lo + $0] == word[$0] }) {
                lo += word.count
            }
            while hi > lo, u[hi - 1] == UInt8(ascii: "[") || u[hi - 1] == UInt8(ascii: "]") || u[hi - 1] == UInt8(ascii: "*")
                || u[hi - 1] == UInt8(ascii: "&")
            {
                hi -= 1
            }
            return String(decoding: UnsafeBufferPointer(rebasing: u[lo..<hi]), as: UTF8.self)
        }
    }

    private static let typePrefixes: [[UInt8]] = ["const", "final", "static", "unsigned", "volatile", "struct"].map { Array($0.utf8) }

    /// The value a declared-but-uninitialised variable starts with (C++ containers and strings,
    /// Go's zero values); nil when nothing useful is known.
    static func defaultValue(forType type: String, dialect: CFamily) -> Expr? {
        guard dialect == .cpp || dialect == .go else { return nil }
        switch container(forType: type, dialect: dialect) {
        case .sequence?, .ordered?, .heap?, .deque?, .builder?: return .list([])
        case .hashed?: return .dict([])
        case .string?: return .string("")
        case .object?, nil: return nil
        }
    }

    /// The value of `new Type(args)` in Java, JavaScript or C++ when the type is a library one.
    static func constructed(_ type: String, args: [Argument], dialect: CFamily) -> Expr? {
        let base = baseTypeName(type)
        let first = args.first?.value
        switch base {
        case "Scanner", "BufferedReader", "InputStreamReader", "StreamTokenizer", "PrintWriter", "BufferedWriter",
            "OutputStreamWriter", "DataInputStream", "BufferedInputStream", "StringTokenizer", "Random", "PrintStream":
            if base == "StringTokenizer", let first { return .call(.attribute(first, "split"), [], line: 0) }
            return .constant("None")
        case "Array" where dialect == .javascript:
            if args.count == 1, let first { return .binary("*", .list([.number("0")]), first) }
            return .list(args.map(\.value))
        case "String":
            return first.map { .call(.name("str"), [Argument(keyword: nil, value: $0)], line: 0) } ?? .string("")
        default:
            break
        }
        guard let kind = container(forType: base, dialect: dialect) else { return nil }
        // A copy constructor (`new ArrayList<>(other)`, `new Set(arr)`) costs the copied collection.
        if let first, isCollectionLike(first) {
            switch kind {
            case .hashed: return .call(.name("set"), [Argument(keyword: nil, value: first)], line: 0)
            case .sequence, .deque, .ordered, .heap, .builder: return .call(.name("list"), [Argument(keyword: nil, value: first)], line: 0)
            case .string: return .call(.name("str"), [Argument(keyword: nil, value: first)], line: 0)
            case .object: return nil
            }
        }
        switch kind {
        case .hashed: return .dict([])
        case .string: return .string("")
        default: return .list([])
        }
    }

    private static func isCollectionLike(_ e: Expr) -> Bool {
        switch e {
        case .name(let n): return !n.isEmpty && n.first?.isLowercase == true
        case .list, .call(.attribute(_, "keys"), _, _), .call(.attribute(_, "values"), _, _): return true
        default: return false
        }
    }

    /// The kind a freshly assigned value gives its variable (for `Map<K, V> m = new TreeMap<>()`).
    static func containerKind(ofValue value: Expr) -> Container? { nil }

    /// A value read from the input: `int(input())`, a number as large as the input.
    static let readValue: Expr = .call(
        .name("int"), [Argument(keyword: nil, value: .call(.name("input"), [], line: 0))], line: 0)

    private static let input: Expr = .call(.name("input"), [], line: 0)

    /// Methods that read one token or line from the input in competitive-programming readers.
    private static let readerMethods: Set<String> = [
        "nextInt", "nextLong", "nextDouble", "nextFloat", "nextShort", "nextByte", "nextBigInteger", "nextBoolean",
        "ni", "nl", "nd", "ns", "nextToken", "readInt", "readLong", "readDouble", "readString", "scanInt", "scanLong",
        "nextString", "fastInt", "readLine", "nextLine", "next", "ReadString", "ReadLine", "Text", "readline", "read",
    ]
    /// Methods that read a whole array of values.
    private static let arrayReaderMethods: Set<String> = [
        "nextIntArray", "nextLongArray", "readIntArray", "readLongArray", "readArray", "na", "nextArray", "readInts",
        "readLongs",
    ]

    /// Every function name the `(dialect, name)` switch of `call` prices.
    private static let libraryFunctions: Set<String> = [
        "BigInt", "Number", "__gcd", "accumulate", "all_of", "any_of", "append", "binary_search", "copy", "count",
        "count_if", "equal_range", "fill", "fill_n", "find", "find_if", "fprintf", "gcd", "getchar", "inplace_merge",
        "iota", "lcm", "lower_bound", "make", "max_element", "memcpy", "memset", "merge", "min_element",
        "next_permutation", "nth_element", "parseFloat", "parseInt", "partial_sort", "prev_permutation", "print",
        "printf", "println", "prompt", "putchar", "puts", "qsort", "readline", "reverse", "rotate", "sort",
        "stable_sort", "strcat", "strchr", "strcmp", "strcpy", "strlen", "strstr", "unique", "upper_bound",
    ]
    /// Every class or package whose static functions `methodCall` prices (`Arrays.sort`, `sort.Ints`, ...),
    /// and the receivers whose `print…` methods print.
    private static let libraryClasses: Set<String> = [
        "console", "fmt", "out", "pw", "writer",
        "Array", "Arrays", "Collections", "Double", "Integer", "Long", "Math", "Number", "Object", "String",
        "System", "math", "os", "process", "slices", "sort", "strconv", "strings",
    ]
    /// Every method name `methodCall` prices after its static-function cases.
    private static let pricedMethods: Set<String> = [
        "Store", "add", "addAll", "addFirst", "addLast", "ceiling", "ceilingEntry", "ceilingKey", "chars", "clone",
        "compareTo", "compute", "computeIfAbsent", "concat", "contains", "containsKey", "copy", "count", "delete",
        "deleteCharAt", "descendingKeySet", "descendingMap", "emplace", "emplace_back", "emplace_front",
        "emplace_hint", "empty", "endsWith", "entries", "entrySet", "equal_range", "equalsIgnoreCase", "erase",
        "every", "fill", "filter", "find", "findIndex", "flat", "floor", "floorEntry", "floorKey", "forEach", "get",
        "getOrDefault", "headMap", "headSet", "higher", "higherEntry", "higherKey", "includes", "indexOf", "insert",
        "isEmpty", "join", "keySet", "keys", "lastIndexOf", "len", "length", "lower", "lowerEntry", "lowerKey",
        "lower_bound", "map", "merge", "navigableKeySet", "offer", "offerFirst", "offerLast", "poll", "pollFirst",
        "pollFirstEntry", "pollLast", "pollLastEntry", "pop", "pop_back", "pop_front", "push", "push_back",
        "push_front", "put", "putIfAbsent", "reduce", "reduceRight", "remove", "removeAll", "removeFirst",
        "removeLast", "repeat", "replace", "replaceAll", "retainAll", "reverse", "rfind", "set", "shift", "size",
        "slice", "some", "sort", "splice", "split", "startsWith", "str", "stream", "subList", "subMap", "subSet",
        "substr", "substring", "tailMap", "tailSet", "toArray", "toCharArray", "toLowerCase", "toString",
        "toUpperCase", "trim", "unshift", "upper_bound", "values",
    ]

    private static func arg(_ e: Expr) -> Argument { Argument(keyword: nil, value: e) }
    private static func call(_ f: String, _ args: [Expr], _ line: Int) -> Expr { .call(.name(f), args.map(arg), line: line) }
    private static func method(_ r: Expr, _ m: String, _ args: [Expr], _ line: Int) -> Expr {
        .call(.attribute(r, m), args.map(arg), line: line)
    }

    /// What `[first, last)` ranges over: `v.begin(), v.end()` → v; `a, a + n` → a range of n values.
    private static func iteratorRange(_ first: Expr?, _ last: Expr?, line: Int) -> Expr {
        if case .call(.attribute(let c, let m), _, _)? = last, m == "end" || m == "rend" || m == "cend" { return c }
        if case .call(.name("end"), let a, _)? = last, let c = a.first?.value { return c }
        if case .binary("+", _, let n)? = last { return call("range", [n], line) }
        if case .call(.attribute(let c, let m), _, _)? = first, m == "begin" || m == "rbegin" { return c }
        return first ?? .list([])
    }

    /// Lowers a call `callee(args)` into the neutral model.
    static func call(_ callee: Expr, _ args: [Argument], line: Int, containers: [String: Container], dialect: CFamily) -> Expr {
        let values = args.map(\.value)
        let plain = Expr.call(callee, args, line: line)
        switch callee {
        case .name(let f):
            if readerMethods.contains(f), values.isEmpty, f != "next" || dialect == .java { return readValue }
            if arrayReaderMethods.contains(f) { return method(input, "split", [], line) }
            // One hashed look-up rules out most calls; the `switch` below compares Strings case by case.
            guard libraryFunctions.contains(f) else { return plain }
            switch (dialect, f) {
            case (.c, "sort"), (.cpp, "sort"), (.cpp, "stable_sort"), (.cpp, "partial_sort"):
                return call("sorted", [iteratorRange(values.first, values.dropFirst().first, line: line)], line)
            case (.c, "qsort"), (.cpp, "qsort"):
                return call("sorted", [values.count >= 2 ? call("range", [values[1]], line) : (values.first ?? .list([]))], line)
            case (.cpp, "reverse"), (.cpp, "fill"), (.cpp, "accumulate"), (.cpp, "count"), (.cpp, "find"), (.cpp, "max_element"),
                (.cpp, "min_element"), (.cpp, "unique"), (.cpp, "iota"), (.cpp, "next_permutation"), (.cpp, "prev_permutation"),
                (.cpp, "copy"), (.cpp, "count_if"), (.cpp, "find_if"), (.cpp, "all_of"), (.cpp, "any_of"), (.cpp, "rotate"),
                (.cpp, "fill_n"), (.cpp, "inplace_merge"), (.cpp, "merge"), (.cpp, "nth_element"), (.cpp, "memset"), (.c, "memset"), (.cpp, "memcpy"), (.c, "memcpy"):
                if f == "memset" || f == "memcpy" || f == "fill_n" {
                    // The byte count is what is touched; `sizeof a` (a fixed array) stays constant.
                    return call("list", [values.count >= 3 ? call("range", [values[2]], line) : (values.first ?? .list([]))], line)
                }
                if f == "inplace_merge", values.count >= 3 { return call("list", [iteratorRange(values[0], values[2], line: line)], line) }
                return call("list", [iteratorRange(values.first, values.dropFirst().first, line: line)], line)
            case (.cpp, "lower_bound"), (.cpp, "upper_bound"), (.cpp, "binary_search"), (.cpp, "equal_range"):
                return call("bisect_left", [iteratorRange(values.first, values.dropFirst().first, line: line)], line)
            case (.c, "strlen"), (.cpp, "strlen"), (.c, "strcmp"), (.cpp, "strcmp"), (.c, "strcpy"), (.cpp, "strcpy"),
                (.c, "strcat"), (.c, "strchr"), (.c, "strstr"), (.cpp, "strchr"), (.cpp, "strstr"):
                return call("list", [values.first ?? .list([])], line)
            case (.c, "__gcd"), (.cpp, "__gcd"), (.cpp, "gcd"), (.c, "gcd"), (.cpp, "lcm"):
                return call("gcd", values, line)
            case (_, "printf"), (_, "puts"), (_, "putchar"), (_, "getchar"), (_, "fprintf"), (_, "print"), (_, "println"):
                // scanf is left whole: a statement `scanf("%d", &n)` becomes reads into its targets.
                // Printing keeps its arguments: `printf("%d", solve(n))` costs solve.
                return f == "getchar" ? call("input", [], line) : call("print", values, line)
            case (.javascript, "parseInt"), (.javascript, "Number"), (.javascript, "parseFloat"), (.javascript, "BigInt"):
                return call("int", values, line)
            case (.javascript, "readline"), (.javascript, "prompt"):
                return input
            case (.go, "append"):
                return plain
            case (.go, "make"):
                if let t = values.first, case .dict = t { return .dict([]) }
                if values.count >= 2 { return .binary("*", .list([.number("0")]), values[1]) }
                return .list([])
            case (.go, "copy"):
                return call("list", [values.dropFirst().first ?? .list([])], line)
            default:
                return plain
            }
        case .attribute(let receiver, let m):
            return methodCall(receiver, m, values, line: line, plain: plain, containers: containers, dialect: dialect)
        default:
            return plain
        }
    }

    private static func methodCall(
        _ receiver: Expr, _ m: String, _ values: [Expr], line: Int, plain: Expr, containers: [String: Container], dialect: CFamily
    ) -> Expr {
        let first = values.first
        // Static library functions: Arrays.sort, Collections.sort, sort.Ints, strings.X, Math.X ...
        if case .name(let cls) = receiver, libraryClasses.contains(cls) {
            switch (cls, m) {
            case ("Arrays", "sort"), ("Arrays", "parallelSort"), ("Collections", "sort"), ("sort", "Ints"), ("sort", "Slice"),
                ("sort", "SliceStable"), ("sort", "Strings"), ("sort", "Float64s"), ("sort", "Sort"), ("sort", "Stable"),
                ("slices", "Sort"), ("slices", "SortFunc"), ("slices", "SortStableFunc"):
                if cls == "Arrays", values.count >= 3 { return call("sorted", [call("range", [values[2]], line)], line) }
                return call("sorted", [first ?? .list([])], line)
            case ("Arrays", "fill"), ("Arrays", "asList"), ("Arrays", "copyOf"), ("Arrays", "copyOfRange"), ("Arrays", "stream"),
                ("Arrays", "toString"), ("Arrays", "equals"), ("Arrays", "hashCode"), ("Arrays", "deepToString"),
                ("Collections", "reverse"), ("Collections", "max"), ("Collections", "min"), ("Collections", "frequency"),
                ("Collections", "shuffle"), ("Array", "from"), ("Object", "keys"),
                ("Object", "values"), ("Object", "entries"), ("strings", "Contains"), ("strings", "Index"), ("strings", "Split"),
                ("strings", "Fields"), ("strings", "Join"), ("strings", "Repeat"), ("strings", "Count"), ("strings", "Replace"),
                ("strings", "ReplaceAll"), ("strings", "ToUpper"), ("strings", "ToLower"), ("strings", "TrimSpace"),
                ("strings", "Trim"), ("slices", "Contains"), ("slices", "Index"),
                ("slices", "Reverse"), ("slices", "Max"), ("slices", "Min"), ("String", "join"):
                if cls == "Array", m == "from", case .dict = first ?? .list([]) { return .binary("*", .list([.number("0")]), .name("n")) }
                if cls == "Arrays", m == "copyOfRange", values.count >= 3 { return call("list", [call("range", [values[2]], line)], line) }
                if cls == "strings", m == "Repeat", values.count >= 2 { return call("list", [call("range", [values[1]], line)], line) }
                return call("list", [first ?? .list([])], line)
            case ("Arrays", "binarySearch"), ("Collections", "binarySearch"), ("sort", "Search"), ("sort", "SearchInts"),
                ("slices", "BinarySearch"):
                return call("bisect_left", [first ?? .name("n")], line)
            case ("Math", "floor"), ("Math", "ceil"), ("Math", "round"), ("Math", "trunc"), ("Math", "abs"):
                // Rounding keeps the value's magnitude: `n = Math.floor(n / 2)` halves n.
                if let first { return first }
            case ("Integer", "parseInt"), ("Long", "parseLong"), ("Double", "parseDouble"), ("Integer", "valueOf"),
                ("Long", "valueOf"), ("strconv", "Atoi"), ("strconv", "ParseInt"), ("Number", "parseInt"):
                return call("int", values.prefix(1).map { $0 }, line)
            case ("Integer", "toBinaryString"), ("Long", "toBinaryString"), ("Integer", "toString"), ("Long", "toString"),
                ("String", "valueOf"), ("strconv", "Itoa"), ("strconv", "FormatInt"):
                return call("str", values.prefix(1).map { $0 }, line)
            case ("Math", "sqrt"), ("Math", "cbrt"), ("math", "Sqrt"):
                return call("isqrt", values, line)
            case ("System", "exit"), ("os", "Exit"), ("process", "exit"):
                return plain
            default:
                break
            }
            if cls == "console" || cls == "fmt" || cls == "System" || cls == "out" || cls == "pw" || cls == "writer" {
                if m.hasPrefix("print") || m.hasPrefix("Print") || m.hasPrefix("Fprint") || m == "log" || m == "write" { return call("print", values, line) }
            }
        }
        if case .attribute(.name("System"), "out") = receiver { return call("print", values, line) }
        if case .attribute(.name("System"), "in") = receiver, m == "read" { return readValue }
        if readerMethods.contains(m), values.isEmpty || m == "ReadString" {
            return m == "nextLine" || m == "readLine" || m == "next" || m == "ReadString" || m == "ReadLine" || m == "readline"
                || m == "Text" ? input : readValue
        }
        if arrayReaderMethods.contains(m) { return method(input, "split", [], line) }
        if m == "readFileSync" { return input }
        if m == "split" || m == "trim" || m == "toString", case .call(.name("input"), _, _) = receiver { return method(receiver, m, values, line) }
        if m == "StringTokenizer" { return method(input, "split", [], line) }
        // A Java thread runs its `run()` when started (`new Thread(new Solution()).start()`).
        if dialect == .java, m == "start", values.isEmpty, case .call = receiver { return .call(.name("run"), [], line: line) }
        // `new Solver().solve()`: a method of a freshly made object of the program's own class.
        if case .call(.name(let cls), _, _) = receiver, cls.first?.isUppercase == true, container(forType: cls, dialect: dialect) == nil {
            return .call(.name(m), values.map(arg), line: line)
        }
        let name = CFamilyParser.rootName(receiver)
        let kind: Container? = name.flatMap { containers[$0] }
        // Every method priced below is in `pricedMethods`; any other is a plain call (unless the
        // receiver is an object of the program's own class).
        if kind != .object, !pricedMethods.contains(m) { return plain }
        // Lengths: `a.length()`, `v.size()`, `s.length`.
        if values.isEmpty, ["size", "length", "count"].contains(m) || (m == "len"), kind != .ordered || m != "count" {
            return call("len", [receiver], line)
        }
        if values.isEmpty, m == "isEmpty" || m == "empty" {
            return .compare(call("len", [receiver], line), [("==", .number("0"))])
        }
        switch kind {
        case .ordered?:
            switch m {
            case "put", "add", "insert", "emplace", "merge", "putIfAbsent", "compute", "computeIfAbsent", "emplace_hint":
                return call("heappush", [receiver] + values.prefix(1), line)
            case "get", "containsKey", "contains", "find", "count", "floorKey", "ceilingKey", "lowerKey", "higherKey", "floor",
                "ceiling", "lower", "higher", "floorEntry", "ceilingEntry", "lowerEntry", "higherEntry", "remove", "erase",
                "lower_bound", "upper_bound", "getOrDefault", "pollFirst", "pollLast", "pollFirstEntry", "pollLastEntry",
                "equal_range", "headMap", "tailMap", "headSet", "tailSet", "subMap", "subSet":
                return call("bisect_left", [receiver], line)
            case "keySet", "values", "entrySet", "navigableKeySet", "descendingMap", "descendingKeySet":
                return method(receiver, "keys", [], line)
            default:
                return plain
            }
        case .heap?:
            switch m {
            case "add", "offer", "push", "emplace": return call("heappush", [receiver] + values.prefix(1), line)
            case "poll", "pop": return call("heappop", [receiver], line)
            case "remove" where values.isEmpty: return call("heappop", [receiver], line)
            case "remove", "contains": return call("list", [receiver], line)
            default: return plain
            }
        case .hashed?:
            switch m {
            case "put", "add", "insert", "emplace", "merge", "putIfAbsent", "set", "compute", "computeIfAbsent", "Store":
                return method(receiver, "add", values, line)
            case "keySet", "values", "entrySet", "keys", "entries":
                return method(receiver, "keys", [], line)
            case "remove", "erase", "delete":
                return method(receiver, "discard", values, line)
            default:
                return plain
            }
        case .deque?:
            switch m {
            case "add", "offer", "push", "push_back", "push_front", "addFirst", "addLast", "offerFirst", "offerLast", "emplace",
                "emplace_back", "emplace_front":
                return method(receiver, "append", values, line)
            case "poll", "pop", "pop_front", "pop_back", "removeFirst", "removeLast", "pollFirst", "pollLast":
                return method(receiver, "popleft", [], line)
            case "remove" where values.isEmpty:
                return method(receiver, "popleft", [], line)
            case "contains", "indexOf", "remove":
                return method(receiver, "index", values, line)
            default:
                return plain
            }
        case .object?:
            return .call(.name(m), values.map(arg), line: line)
        case .builder?:
            switch m {
            case "reverse", "toString", "insert", "indexOf", "deleteCharAt", "str", "substring":
                if m == "insert" || m == "deleteCharAt" { return method(receiver, "insert", values, line) }
                return call("list", [receiver], line)
            default:
                return plain
            }
        default:
            break
        }
        // Sequences and strings (declared, or unknown receivers with a telling method name).
        switch m {
        case "add", "push", "push_back", "emplace_back", "addLast":
            if values.count == 2, m == "add", dialect == .java { return method(receiver, "insert", values, line) }
            return method(receiver, "append", values, line)
        case "insert" where dialect == .cpp:
            return method(receiver, "insert", values, line)
        case "unshift", "splice", "addFirst":
            return method(receiver, "insert", [.number("0")] + values, line)
        case "shift", "removeFirst":
            return method(receiver, "pop", [.number("0")], line)
        case "remove" where dialect == .java && kind == .sequence:
            if case .number(let z)? = first, z == "0" { return method(receiver, "pop", [.number("0")], line) }
            return method(receiver, "remove", values, line)
        case "erase" where dialect == .cpp:
            return method(receiver, "insert", values, line)
                case "contains", "indexOf", "includes", "lastIndexOf", "find", "rfind", "startsWith", "endsWith", "compareTo", "equalsIgnoreCase":
            if kind == .string { return call("list", [receiver], line) }
            // JavaScript's indexOf/includes are always scans (a Set has `has`).
            if kind == .sequence || (dialect == .javascript && ["indexOf", "includes", "lastIndexOf"].contains(m)) {
                return method(receiver, "index", values, line)
            }
            return plain
        case "slice", "subList", "substring", "substr":
            // A part of the receiver, as a slice: costs its length, and recursion on it shrinks.
            let lo: Expr? = values.first
            var hi: Expr? = values.count > 1 ? values[1] : nil
            if m == "substr", let l = lo, let count = hi { hi = .binary("+", l, count) }
            if kind == nil, dialect != .javascript, m != "subList" { return plain }
            return .index(receiver, [.slice(lo, hi, nil)])
        case "sort" where dialect == .javascript || dialect == .java:
            return method(receiver, "sort", [], line)
        case "reverse", "concat", "join", "toCharArray", "split", "map", "filter",
            "reduce", "reduceRight", "forEach", "some", "every", "findIndex", "fill", "clone", "toArray", "stream", "addAll", "chars",
            "toUpperCase", "toLowerCase", "replace", "replaceAll", "repeat", "trim", "removeAll", "retainAll", "flat", "copy":
            if m == "join", dialect == .javascript || dialect == .java { return call("list", [receiver], line) }
            if m == "repeat", let n = first { return call("list", [call("range", [n], line)], line) }
            if m == "trim" || m == "replace" || m == "toUpperCase" || m == "toLowerCase", kind != .string { return plain }
            return call("list", [receiver], line)
        default:
            return plain
        }
    }

    /// `cin >> a >> b` → the names read, in order; nil for any other expression.
    static func streamReads(_ e: Expr) -> [Expr]? {
        guard case .binary(">>", let lhs, let rhs) = e else { return nil }
        if case .name("cin") = lhs { return [rhs] }
        if case .name(let s) = lhs, s == "in" || s == "fin" { return [rhs] }
        guard let before = streamReads(lhs) else { return nil }
        return before + [rhs]
    }

    /// Statement-level rewrites: `scanf("%d", &n)` / `fmt.Scan(&n)` assign input values to their
    /// targets, `m[k] = v` on an ordered map is an insertion, `a = append(a, x)` appends in place.
    static func rewriteStatement(_ e: Expr, containers: [String: Container], dialect: CFamily) -> [StmtKind]? {
        guard case .call(let callee, let args, _) = e else { return nil }
        var targets: [Expr] = []
        switch callee {
        case .name(let f) where f == "scanf" || f == "scanf_s" || f == "fscanf" || f == "sscanf":
            targets = args.dropFirst(f.hasPrefix("scanf") ? 1 : 2).map(\.value)
        case .attribute(.name("fmt"), let m) where m.hasPrefix("Scan") || m.hasPrefix("Fscan") || m.hasPrefix("Sscan"):
            var rest = args.map(\.value)
            if m.hasPrefix("F") || m.hasPrefix("Ss") { rest = Array(rest.dropFirst()) }
            if m.hasSuffix("f") { rest = Array(rest.dropFirst()) }
            targets = rest
        default:
            return nil
        }
        return targets.map { .assign(targets: [$0], value: readValue) }
    }

    /// `a = append(a, x)` → `a.append(x)`; `m[k] = v` on an ordered map → an O(log n) insertion.
    static func rewriteAssignment(target: Expr, value: Expr, containers: [String: Container], dialect: CFamily) -> StmtKind? {
        if dialect == .go, case .call(.name("append"), let args, let line) = value, let first = args.first?.value,
            case .name(let a) = first, case .name(let t) = target, a == t
        {
            return .expr(.call(.attribute(first, "append"), Array(args.dropFirst()), line: line))
        }
        if case .index(.name(let m), let keys) = target, containers[m] == .ordered {
            return .expr(call("heappush", [.name(m)] + keys.prefix(1), 0))
        }
        return nil
    }
}
