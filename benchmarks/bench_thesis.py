"""Benchmark: the thesis in the tool. Theme tagging, rate figures, the thesis monitor and its
monthly history.

Goals (issue 15): tagging every company of the dataset (TF-IDF over 4,337 summaries) and the
rate figures cheap enough to run once per session; ``rotation valuation`` for one date in a
few seconds; the monthly history (``rotation valuation --history``) at about a second or two
a month, so that its 49 months from 2020-03 take under two minutes. The history's figure is
measured over ``--months`` month ends (default 6) and multiplied out.
"""

from __future__ import annotations

import time

from _common import machine, parser, report, summary, time_ms


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--months", type=int, default=6)
    args = p.parse_args()

    t = time.perf_counter()
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: F401

    import_s = time.perf_counter() - t
    import pandas as pd

    from screener.rate_cuts import rate_metrics
    from screener.themes import summary_similarity, tag_themes
    from tui.thesis import monitor_for, monthly_history
    from universes import load_universe, open_dataset
    from universes.themes import load_themes

    data = open_dataset()
    summaries = data.profiles["business_summary"]
    themes = load_themes(include_user=False)
    documents = {t.id: t.description for t in themes}
    similarity = time_ms(lambda: summary_similarity(summaries, documents), args.repeat)
    tagging = time_ms(lambda: tag_themes(data.companies, summaries, themes), args.repeat)
    universe = load_universe("us-all")
    rates = time_ms(lambda: rate_metrics(universe.fundamentals, universe.companies), args.repeat)
    monitor = time_ms(lambda: monitor_for("us-all"), args.repeat)
    first = (data.as_of - pd.DateOffset(months=args.months)).strftime("%Y-%m")
    start = time.perf_counter()
    history = monthly_history("us-all", start=first)
    per_month = (time.perf_counter() - start) / len(history)
    result = {
        "machine": machine(),
        "sklearn_import_s": import_s,
        "similarity_ms": summary(similarity),
        "tag_themes_ms": summary(tagging),
        "rate_metrics_us_all_ms": summary(rates),
        "monitor_us_all_ms": summary(monitor),
        "history_months": len(history),
        "history_s_per_month": per_month,
        "history_49_months_s": 49 * per_month,
    }
    lines = [
        f"import scikit-learn's TF-IDF         {import_s:.2f} s (once per process)",
        f"TF-IDF similarity, {len(summaries):,} summaries   {result['similarity_ms']['median']:.0f} ms (median of {args.repeat})",
        f"tag every company, 3 themes          {result['tag_themes_ms']['median']:.0f} ms (similarity included)",
        f"rate figures, us-all                 {result['rate_metrics_us_all_ms']['median']:.0f} ms",
        f"thesis monitor, us-all, one date     {result['monitor_us_all_ms']['median']:.0f} ms (data cached: universes, screen, measures)",
        f"history                              {per_month:.2f} s a month over {len(history)} months; 49 months ~ {49 * per_month:.0f} s",
    ]
    report(result, args.json, lines)


if __name__ == "__main__":
    main()
