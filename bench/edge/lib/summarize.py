#!/usr/bin/env python3
"""bench/edge's raw files (raw.tsv, mix.tsv, meta.txt in RUN_DIR) to markdown tables."""
import statistics
import sys
from collections import defaultdict


def parse(line):
    # "label=https perch 1k requests=..." : the label runs up to the first field with '='
    first, _, rest = line.partition(" requests=")
    fields = dict(kv.split("=", 1) for kv in ("requests=" + rest).split())
    fields["label"] = first[len("label="):]
    return fields


def rate(f):
    return int(f["requests"]) / int(f["duration_us"]) * 1e6


def main():
    run = sys.argv[1]
    cells = defaultdict(list)
    for line in open(f"{run}/raw.tsv"):
        if line.strip():
            f = parse(line.strip())
            cells[f["label"]].append(f)
    med = lambda label, key: statistics.median(
        rate(f) if key == "rate" else int(f[key]) / 1000 for f in cells[label]) if cells[label] else None
    runs = lambda label: " / ".join(f"{rate(f):,.0f}" for f in cells[label])
    out = ["# bench/edge results", ""]
    out += [f"- {l.strip()}" for l in open(f"{run}/meta.txt")]
    for case, title, peer in (("https", "HTTPS cache hits (TLS 1.3)", "nginx"),
                              ("miss", "The miss path (every request to the origin)", "nginx")):
        if not any(k.startswith(case + " ") for k in cells):
            continue
        out += ["", f"## {title}, req/s (median of {len(cells[case + ' perch 1k'])}; every run)", "",
                "| | 1 KiB | 256 KiB | p99 ms 1 KiB | p99 ms 256 KiB | origin reqs |", "|---|---:|---:|---:|---:|---:|"]
        for who in ("perch", peer):
            row = [f"{case} {who} {s}" for s in ("1k", "256k")]
            out.append(f"| {who} | " + " | ".join(f"{med(r, 'rate'):,.0f} ({runs(r)})" for r in row) + " | "
                       + " | ".join(f"{med(r, 'p99_us'):.2f}" for r in row) + " | "
                       + str(sum(int(f["origin_reqs"]) for r in row for f in cells[r])) + " |")
        ratios = [med(f"{case} perch {s}", "rate") / med(f"{case} {peer} {s}", "rate") for s in ("1k", "256k")]
        out.append(f"| **perch / {peer}** | **{ratios[0]:.2f}×** | **{ratios[1]:.2f}×** | | | |")
        if case == "https" and cells["http perch 256k"]:
            h = med("http perch 256k", "rate")
            out += ["", f"perch over plain HTTP at 256 KiB, same run: {h:,.0f} req/s ({runs('http perch 256k')}); "
                        f"HTTPS / HTTP = {med('https perch 256k', 'rate') / h:.2f}"]
    mix = [parse(l.strip()) for l in open(f"{run}/mix.tsv") if l.strip()]
    if mix:
        out += ["", "## The realistic mix (Zipf 0.9, 100k URLs, caches of 10 % of the working set)", "",
                "| | req/s | hit ratio | p50 ms | p99 ms | origin GiB | RSS MiB |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for f in mix:
            reqs = int(f["requests"])
            hit = 1 - int(f["origin_reqs"]) / reqs if reqs else 0
            out.append(f"| {f['label'][4:]} | {rate(f):,.0f} | {hit:.1%} | {int(f['p50_us']) / 1000:.1f} | "
                       f"{int(f['p99_us']) / 1000:.1f} | {int(f['origin_bytes']) / 2**30:.2f} | "
                       f"{int(f.get('rss_kb') or 0) / 1024:,.0f} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
