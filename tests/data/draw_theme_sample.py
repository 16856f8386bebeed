"""Draw the companies of ``theme_labels.csv`` (run once; the labels were then written by hand).

Strata, seed 15, from the snapshot's companies with a business summary:

* ``manufacturer``: 50 at random among SIC 2000-3999 (as the source gives SIC);
* ``<theme id>``: 25 at random per theme among the companies with at least one kind of
  evidence for it (SIC, industry, an include phrase, or a summary similarity at or above the
  theme's threshold) under the shipped themes, not drawn before;
* ``issue``: the three companies issue 15 names (PLAB, TNC, ARRY) not drawn before;
* 20 more ``automation`` from its pool (it has the fewest members).

Every company gets a ``split`` (``dev`` or ``test``, half each at random): rules were only ever
revised by looking at the ``dev`` half's errors.

    python tests/data/draw_theme_sample.py > sample.csv
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from screener.themes import tag_themes
from universes import open_dataset
from universes.themes import load_themes

SEED = 15


def draw() -> pd.DataFrame:
    data = open_dataset()
    summaries = data.profiles["business_summary"]
    companies = data.companies[data.companies.index.isin(summaries.dropna().index)]
    rng = np.random.default_rng(SEED)
    rows: list[tuple[str, str]] = []
    sic = companies["sic"].astype("float64")
    manufacturers = companies.index[(sic >= 2000) & (sic <= 3999)].sort_values()
    rows += [(t, "manufacturer") for t in rng.choice(manufacturers, 50, replace=False)]
    themes = load_themes(include_user=False)
    evidence = tag_themes(companies, summaries, themes).evidence
    for theme in themes:
        e = evidence[evidence["theme"] == theme.id]
        any_kind = e[e["kinds"] > 0]["ticker"].sort_values()
        pool = any_kind[~any_kind.isin([t for t, _ in rows])].to_numpy()
        rows += [(t, theme.id) for t in rng.choice(pool, 25, replace=False)]
    rows += [(t, "issue") for t in ("PLAB", "TNC", "ARRY") if t not in {r for r, _ in rows}]
    # Automation has the fewest members: 20 more from its pool, so that its figures rest on
    # more than a handful of positives.
    e = evidence[(evidence["theme"] == "automation") & (evidence["kinds"] > 0)]["ticker"].sort_values()
    pool = e[~e.isin([t for t, _ in rows])].to_numpy()
    rows += [(t, "automation") for t in rng.choice(pool, 20, replace=False)]
    out = pd.DataFrame(rows, columns=["ticker", "stratum"])
    out["split"] = np.where(rng.permutation(len(out)) % 2 == 0, "dev", "test")
    return out


if __name__ == "__main__":
    draw().to_csv(sys.stdout, index=False)
