#!/usr/bin/env python3
"""Issue 17's tables: the ML-1M protocol audit and the validation search, in percent (the
official scorer's `paper` definitions), mean over the splits, with the paper's Table 3 row and
each row's difference to it, and the shape the audit looks at (P@10 - P@5).

    python3 scripts/audit-table.py [results/audit/ml-1m results/search/ml-1m ...]

Then the paper's row as one more split: the paper reports one split ("the average results for
all users in the test set", section 5.2.1), so for each TaNP audit variant with 3 or more splits
it prints, per column, how far the paper's figure is from our mean in units of what one split
varies by, z = (paper - mean) / (s.d. * sqrt(1 + 1/n)), and the same z for each of our own
splits against the mean of the others (leave one out, for variants with 5 or more splits): is
the paper's row more unusual than one of ours?
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


def z_scores(target, runs):
    """z of `target` (9 columns, %) against `runs` (results files) as one more split."""
    out = []
    for k, t in zip(KEYS, target):
        v = [100 * r["metrics"]["paper"][k] for r in runs]
        out.append((t - statistics.mean(v)) / (statistics.stdev(v) * (1 + 1 / len(v)) ** 0.5))
    return out


def as_split(folder):
    gf = PAPER["TaNP (Gating-FiLM)"]
    groups = collections.OrderedDict()
    for path in sorted(glob.glob(os.path.join(folder, "*tanp*-seed*.json"))):
        name = re.sub(r"-seed\d+$", "", os.path.basename(path)[:-5])
        groups.setdefault(name, []).append(json.load(open(path)))
    print(f"\n{folder}: Table 3's Gating-FiLM row as one more split (z per column; max |z|)\n")
    print("| row | against | " + " | ".join(KEYS) + " | max abs z |")
    print("|---" * (len(KEYS) + 3) + "|")
    for name, runs in groups.items():
        if len(runs) < 3:
            continue
        z = z_scores(gf, runs)
        print(f"| paper | {name} ({len(runs)} splits) | " + " | ".join(f"{x:+.2f}" for x in z) + f" | {max(map(abs, z)):.2f} |")
        # With fewer than 4 others the spread of the others says little: no leave-one-out rows.
        for i, run in enumerate(runs if len(runs) >= 5 else []):
            own = [100 * run["metrics"]["paper"][k] for k in KEYS]
            z = z_scores(own, runs[:i] + runs[i + 1:])
            print(f"| split {run['split_seed']} | the other {len(runs) - 1} | " + " | ".join(f"{x:+.2f}" for x in z) + f" | {max(map(abs, z)):.2f} |")


if __name__ == "__main__":
    folders = sys.argv[1:] or ["results/audit/ml-1m", "results/search/ml-1m"]
    main(folders)
    for folder in folders:
        if "audit" in folder:
            as_split(folder)
