"""Replays editing traces through pycrdt (Yrs, the Rust port of Yjs) and prints one JSON object per trace
with the same fields as `codesync bench trace`, so both can be compared on this machine.

Yrs counts text positions in UTF-8 bytes by default, so traces with non-ASCII inserts must be given in
their ascii_only form (e.g. ascii_only/seph-blog1.json.gz). Concurrent traces are replayed with one
document per agent, delivering each transaction's causal closure first (as ../shared/traces/README.md
describes). Peak RSS is ru_maxrss of a fresh child process per trace.
"""

import argparse
import gzip
import json
import resource
import statistics
import subprocess
import sys
import time

import pycrdt


def load(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def apply_patches(doc, text, patches):
    """One trace transaction as one Yrs transaction."""
    with doc.transaction():
        for pos, delete, insert in patches:
            if delete:
                del text[pos : pos + delete]
            if insert:
                text.insert(pos, insert)


def replay_local(trace):
    doc = pycrdt.Doc()
    text = doc.get("text", type=pycrdt.Text)
    for txn in trace["txns"]:
        apply_patches(doc, text, txn["patches"])
    return doc, text


def replay_concurrent(trace):
    txns = trace["txns"]
    agents = trace["numAgents"]
    # Fixed client ids: Yjs breaks ties between concurrent inserts by client id, so random ids would
    # make the result vary from run to run.
    docs = [pycrdt.Doc(client_id=a + 1) for a in range(agents)]
    texts = [d.get("text", type=pycrdt.Text) for d in docs]
    seen = [[False] * len(txns) for _ in range(agents)]
    updates = []

    def deliver(roots, agent):
        stack = list(roots)
        missing = []
        while stack:
            t = stack.pop()
            if seen[agent][t]:
                continue
            seen[agent][t] = True
            missing.append(t)
            stack.extend(txns[t]["parents"])
        for t in sorted(missing):
            docs[agent].apply_update(updates[t])

    for t, txn in enumerate(txns):
        agent = txn["agent"]
        deliver(txn["parents"], agent)
        doc, text = docs[agent], texts[agent]
        before = doc.get_state()
        apply_patches(doc, text, txn["patches"])
        seen[agent][t] = True
        updates.append(doc.get_update(before))
    for agent in range(agents):
        deliver(range(len(txns)), agent)
    return docs, texts, updates


def measure(path, runs):
    trace = load(path)
    ops = sum(len(t["patches"]) for t in trace["txns"])
    concurrent = trace.get("kind") == "concurrent"
    local, remote, merge = [], [], []
    ok = True
    encoded = b""
    for _ in range(runs):
        start = time.perf_counter()
        if concurrent:
            docs, texts, updates = replay_concurrent(trace)
            local.append((time.perf_counter() - start) * 1000)
            ok = ok and all(str(t) == trace["endContent"] for t in texts)
            start = time.perf_counter()
            merged = pycrdt.Doc()
            merged_text = merged.get("text", type=pycrdt.Text)
            for update in updates:
                merged.apply_update(update)
            merge.append((time.perf_counter() - start) * 1000)
            ok = ok and str(merged_text) == trace["endContent"]
            encoded = docs[0].get_update()
        else:
            doc, text = replay_local(trace)
            local.append((time.perf_counter() - start) * 1000)
            ok = ok and str(text) == trace["endContent"]
            encoded = doc.get_update()
        start = time.perf_counter()
        fresh = pycrdt.Doc()
        fresh_text = fresh.get("text", type=pycrdt.Text)
        fresh.apply_update(encoded)
        loaded = str(fresh_text)
        remote.append((time.perf_counter() - start) * 1000)
        ok = ok and loaded == trace["endContent"]
    result = {
        "trace": path,
        "peer": "pycrdt " + getattr(pycrdt, "__version__", "?"),
        "ops": ops,
        "localMs": round(statistics.median(local), 3),
        "remoteMs": round(statistics.median(remote), 3),
        "mergeMs": round(statistics.median(merge), 3) if merge else None,
        "encodedBytes": len(encoded),
        "peakRSSBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "ok": ok,
        "runs": runs,
    }
    print(json.dumps(result), flush=True)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.in_process:
        sys.exit(0 if all(measure(f, args.runs) for f in args.files) else 1)
    failed = False
    for f in args.files:
        child = subprocess.run([sys.executable, __file__, "--in-process", "--runs", str(args.runs), f])
        failed = failed or child.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
