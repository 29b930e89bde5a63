#!/usr/bin/env python3
"""Summarise results/*.json into markdown tables: mean and std over seeds, per metric family."""
import glob, json, os, re, statistics, sys, collections

KEYS = ["P@5", "NDCG@5", "MAP@5", "P@7", "NDCG@7", "MAP@7", "P@10", "NDCG@10", "MAP@10"]

def main(folder):
    groups = collections.OrderedDict()
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        name = re.sub(r"-seed\d+$", "", os.path.basename(path)[:-5])
        groups.setdefault(name, []).append(json.load(open(path)))
    for family in ("paper", "standard"):
        print(f"\n{folder}, `{family}` metrics, mean ± std over seeds\n")
        print("| run | seeds | " + " | ".join(KEYS) + " | train s |")
        print("|---" * (len(KEYS) + 3) + "|")
        for name, runs in groups.items():
            cells = []
            for k in KEYS:
                v = [r["metrics"][family][k] for r in runs]
                sd = statistics.stdev(v) if len(v) > 1 else 0.0
                cells.append(f"{statistics.mean(v):.4f} ± {sd:.4f}")
            secs = statistics.mean(r["wall_seconds"]["train"] for r in runs)
            print(f"| {name} | {len(runs)} | " + " | ".join(cells) + f" | {secs:.1f} |")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results")
