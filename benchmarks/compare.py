"""Prints the ratio table from a pytest-benchmark JSON file.

    pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/compare.py bench.json > table.md

For every benchmark group, each entry's median and its time relative to the
fastnn entry of the same group (``x fastnn`` > 1 means fastnn is faster)."""
import json
import sys


def _lib(name):
    low = name.lower()
    for lib in ("torch", "numpy", "fastnn"):
        if lib in low:
            return lib
    return "fastnn" if "fnn" in low else "other"


def table(path):
    with open(path) as f:
        data = json.load(f)
    groups = {}
    for b in data["benchmarks"]:
        groups.setdefault(b.get("group") or b["name"], []).append(b)
    lines = ["| group | entry | median (ms) | time / fastnn's |", "|---|---|---|---|"]
    for g in sorted(groups):
        entries = groups[g]
        ref = [e for e in entries if _lib(e["name"]) == "fastnn"]
        base = ref[0]["stats"]["median"] if ref else None
        for e in sorted(entries, key=lambda e: e["stats"]["median"]):
            med = e["stats"]["median"]
            ratio = f"{med / base:.2f}" if base else "-"
            name = e["name"].split("::")[-1]
            lines.append(f"| {g} | {name} | {med * 1e3:.3f} | {ratio} |")
    mem = [b for b in data["benchmarks"] if "peak_rss_mb" in b.get("extra_info", {})]
    if mem:
        lines += ["", "| memory | entry | peak RSS (MB) | before training (MB) | added by training (MB) |",
                  "|---|---|---|---|---|"]
        for b in mem:
            x = b["extra_info"]
            lines.append(f"| {b.get('group') or ''} | {b['name'].split('::')[-1]} | "
                         f"{x['peak_rss_mb']} | {x.get('base_rss_mb', '-')} | "
                         f"{x.get('train_rss_mb', '-')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "bench.json"))
