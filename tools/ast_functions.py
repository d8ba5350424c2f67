"""Print, for each Python file named on stdin (one path per line), the (name, line) pairs of every
function definition that CPython's own `ast` module finds, as one JSON object:
{path: [[name, line], ...]} for files that parse, {path: null} for files CPython rejects.
The analyzer's stdlib fidelity test compares its own parser against this output."""
import ast
import json
import sys
import warnings


def functions(path):
    with open(path, "rb") as f:
        source = f.read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source, filename=path)
    found = [
        (node.name, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return sorted(found, key=lambda p: (p[1], p[0]))


def main():
    result = {}
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        try:
            result[path] = functions(path)
        except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError):
            result[path] = None
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
