#!/usr/bin/env python3
"""Issue 17's tables: the ML-1M protocol audit and the validation search, in percent (the
official scorer's `paper` definitions), mean over the splits, with the paper's Table 3 row and
each row's difference to it, and the shape the audit looks at (P@10 - P@5).

    python3 scripts/audit-table.py [results/audit/ml-1m results/search/ml-1m ...]
"""
import collections, glob, json, os, re, statistics, sys

KEYS = ["P@5", "NDCG@5", "MAP@5", "P@7", "NDCG@7", "MAP@7", "P@10", "NDCG@10", "MAP@10"]
PAPER = json.load(open("results/paper/tables.json"))["tables"]["ml-1m"]


def rows(folder):
    groups = collections.OrderedDict()
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        name = re.sub(r"-seed\d+$", "", os.path.basename(path)[:-5])
        groups.setdefault(name, []).append(json.load(open(path)))
    for name, runs in groups.items():
        yield name, len(runs), [100 * statistics.mean(r["metrics"]["paper"][k] for r in runs) for k in KEYS]


def line(name, n, v, paper=None):
    cells = [f"{x:.2f}" if paper is None else f"{x:.2f} ({x - p:+.2f})" for x, p in zip(v, paper or v)]
    return f"| {name} | {n} | " + " | ".join(cells) + f" | {v[6] - v[0]:+.2f} |"


def main(folders):
    gf = PAPER["TaNP (Gating-FiLM)"]
    for folder in folders:
        print(f"\n{folder}: `paper` metrics, %, mean over splits; TaNP rows: (difference to Table 3)\n")
        print("| run | splits | " + " | ".join(KEYS) + " | P@10 - P@5 |")
        print("|---" * (len(KEYS) + 3) + "|")
        for name, n, v in rows(folder):
            print(line(name, n, v, gf if "tanp" in name or folder.endswith("search/ml-1m") else None))
        print(line("paper: TaNP (Gating-FiLM)", "", gf))
        print(line("paper: MeLU", "", PAPER["MeLU"]))


if __name__ == "__main__":
    main(sys.argv[1:] or ["results/audit/ml-1m", "results/search/ml-1m"])
