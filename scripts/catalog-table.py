#!/usr/bin/env python3
"""Markdown tables of the catalog protocol from results/catalog/<dataset>/<method>-split<N>.json
(scripts/catalog.sh): mean over the splits found, in percent.

    python3 scripts/catalog-table.py [results/catalog/ml-1m]
"""
import json
import statistics
import sys
from pathlib import Path

METHODS = [
    ("popularity", "Popularity"),
    ("item-knn", "Item-kNN"),
    ("ease", "EASE"),
    ("mult-dae", "Mult-DAE"),
    ("tanp-rating", "TaNP, the paper's rating objective (shipped first)"),
    ("tanp-mlp", "TaNP catalog recipe, the paper's decoder (shipped before)"),
    ("tanp", "TaNP catalog recipe, dot head, widths 192 (shipped)"),
    ("tanp-dot256", "TaNP catalog recipe, dot head, widths 256, every item field (probe)"),
]


def load(folder):
    out = {}
    for method, name in METHODS:
        files = sorted(folder.glob(f"{method}-split*.json"))
        if files:
            out[method] = (name, [json.loads(f.read_text()) for f in files])
    return out


def cell(runs, n_s, min_ratings, swapped, key):
    values = []
    for r in runs:
        for row in r["catalog"]["rows"]:
            if (row["n_s"], row["min_ratings"], row["swapped_support"]) == (n_s, min_ratings, swapped):
                values.append(row[key])
    return statistics.mean(values) if values else None


def pct(v):
    return "–" if v is None else f"{100 * v:.2f}"


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/catalog/ml-1m")
    methods = load(folder)
    if not methods:
        sys.exit(f"no results in {folder}")
    sizes = sorted({row["n_s"] for _, runs in methods.values() for row in runs[0]["catalog"]["rows"]})
    filters = sorted({row["min_ratings"] for _, runs in methods.values() for row in runs[0]["catalog"]["rows"]}, reverse=True)
    for min_ratings in filters:
        what = f"well-known films (>= {min_ratings} training ratings)" if min_ratings else "the whole catalog"
        print(f"\n{what}: Recall@10 / NDCG@10, %, mean over splits\n")
        print("| method | splits | " + " | ".join(f"N_S = {n}" for n in sizes)
              + " | N_S = 10 swapped support | Jaccard@10 | coverage@10 |")
        print("|---|---|" + "---|" * (len(sizes) + 3))
        for _, (name, runs) in methods.items():
            splits = ", ".join(str(r["split_seed"]) for r in runs)
            cells = [f"{pct(cell(runs, n, min_ratings, False, 'recall_10'))} / {pct(cell(runs, n, min_ratings, False, 'ndcg_10'))}" for n in sizes]
            swapped = pct(cell(runs, 10, min_ratings, True, "recall_10"))
            jaccard = cell(runs, 10, min_ratings, False, "jaccard_10")
            coverage = pct(cell(runs, 10, min_ratings, False, "coverage_10"))
            print(f"| {name} | {splits} | " + " | ".join(cells)
                  + f" | {swapped} | {'–' if jaccard is None else f'{jaccard:.3f}'} | {coverage} |")


if __name__ == "__main__":
    main()
