"""The thesis monitor, headless: the figures on one date, the same figures month by month, and
the monitor as text (``rotation valuation`` prints it; the app's Thesis step shows it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SMALL, LARGE = "us-small", "us-large"
#: The snapshot's history starts here: its universes fill with the 2019 annual reports, and
#: us-small first holds several hundred companies at the end of March 2020 (README, Data).
SNAPSHOT_HISTORY_START = "2020-03-31"
#: The rows of the small-vs-large table: label, measure, how to print it.
MEASURES = (
    ("P/E, aggregate (losses included)", "aggregate_pe", "num"),
    ("P/E, aggregate (profitable only)", "aggregate_pe_ex_losses", "num"),
    ("P/E, median (losses included)", "median_pe_with_losses", "num"),
    ("P/E, median (profitable only)", "median_pe_ex_losses", "num"),
    ("Earnings yield, aggregate", "aggregate_earnings_yield", "pct"),
    ("Earnings yield, median", "median_earnings_yield", "pct"),
    ("P/B, aggregate", "aggregate_pb", "num"),
    ("P/B, median", "median_pb", "num"),
    ("EBIT / EV, aggregate", "aggregate_ebit_to_ev", "pct"),
    ("EBIT / EV, median", "median_ebit_to_ev", "pct"),
    ("EPS growth, trailing, aggregate", "aggregate_eps_growth", "pct"),
    ("EPS growth, trailing, median", "median_eps_growth", "pct"),
    ("Price / fair value, median", "median_price_to_fair_value", "num"),
    ("Price / fair value, cap-weighted", "capweighted_price_to_fair_value", "num"),
)


def monitor_for(
    universe: str = "us-all", as_of: Any = None, fundamentals: str | None = None
) -> dict[str, Any]:
    """:func:`screener.valuation.thesis_monitor` for a universe on a date, with the universe
    rules used (``universes``: name -> description and notes) and its size.

    The fair value is the shipped screen's; small and large caps are ``us-small`` and
    ``us-large`` on the same date (only for the snapshot's universes).
    """
    from screener import load_screen, run_screen
    from screener.valuation import thesis_monitor
    from universes import load_universe, universe_definitions, universe_notes

    u = load_universe(universe, as_of=as_of, fundamentals_file=fundamentals)
    result = run_screen(u, load_screen(None))
    small = large = None
    names = [u.name]
    if u.dataset == "snapshot" and fundamentals is None:
        small = load_universe(SMALL, as_of=u.as_of).tickers
        large = load_universe(LARGE, as_of=u.as_of).tickers
        names += [SMALL, LARGE]
    doc = thesis_monitor(result.table, u.fundamentals, u.as_of, small, large)
    definitions = universe_definitions()
    doc["universe"] = u.name
    doc["count"] = len(u)
    doc["universes"] = {
        n: {"description": definitions[n].description if n in definitions else n, "notes": list(universe_notes(n)) if n in definitions else []}
        for n in names
    }
    return doc


def month_ends(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """Calendar month ends from ``first`` to ``last``, and ``last`` itself (the data's last date)."""
    import pandas as pd

    ends = list(pd.date_range(first, last, freq="ME"))
    if not ends or ends[-1] != last:
        ends.append(last)
    return ends


def monthly_history(
    universe: str = "us-all",
    start: str | None = None,
    progress: Callable[[pd.Timestamp], None] | None = None,
) -> pd.DataFrame:
    """The thesis monitor at every month end of the snapshot, point in time.

    Each point loads the universes as they were on that date (``load_universe(as_of=...)``)
    and screens them: about a second a month on one core.

    Parameters
    ----------
    universe : str
        The universe whose groups are compared (default ``us-all``).
    start : str, optional
        First month (``YYYY-MM``); default :data:`SNAPSHOT_HISTORY_START` for the snapshot,
        else the first date the data allow.
    progress : callable, optional
        Called with each date before it is computed.

    Returns
    -------
    pandas.DataFrame
        One row per date, the columns of :data:`screener.valuation.HISTORY_COLUMNS`.
    """
    import pandas as pd

    from screener.valuation import history_point
    from universes import load_universe, open_dataset
    from universes.errors import UniverseError
    from universes.loader import MIN_HISTORY_SESSIONS

    data = open_dataset(load_universe(universe).dataset)
    first = pd.Timestamp(data.prices.dates[MIN_HISTORY_SESSIONS])
    if start is None and data.name == "snapshot":
        start = SNAPSHOT_HISTORY_START
    if start is not None:
        try:
            first = max(first, pd.Timestamp(start))
        except ValueError as exc:
            raise UniverseError(f"--start {start!r} is not a month; use YYYY-MM.") from exc
    rows = []
    for when in month_ends(first, data.as_of):
        if progress is not None:
            progress(when)
        rows.append(history_point(monitor_for(universe, when)))
    return pd.DataFrame(rows)


def _fmt(kind: str) -> Callable[[Any], str]:
    from tui.output import fmt_num, fmt_pct

    return fmt_pct if kind == "pct" else fmt_num


def render_monitor(doc: dict[str, Any]) -> str:
    """The monitor as text: small vs large (latest and aligned), fiscal years, groups, sectors,
    disclosures and the universe rules used."""
    from tui.output import fmt_pct, table

    as_of = doc["as_of"].date().isoformat()
    lines = [f"The thesis, from the data: universe {doc['universe']} ({doc['count']:,} companies) as of {as_of}", ""]
    svl = doc["small_vs_large"]
    if svl is not None:
        latest, aligned = svl["latest"], svl["aligned"]
        start, end = (d.date().isoformat() for d in aligned["window"])
        lines.append(
            f"Small ({SMALL}, {latest['small']['count']:,}) vs large ({LARGE}, {latest['large']['count']:,}): "
            f"latest fiscal year, and aligned (fiscal years ending {start} to {end})"
        )
        rows = []
        for label, key, kind in MEASURES:
            f = _fmt(kind)
            rows.append(
                [label, f(latest["small"][key]), f(latest["large"][key]), fmt_pct(latest["small_discount"][key]),
                 f(aligned["small"][key]), f(aligned["large"][key])]
            )
        lines.append(table(rows, ["measure", "small", "large", "small vs large", "small, aligned", "large, aligned"], "lrrrrr"))
        loss = (latest["small"]["loss_maker_share"], latest["large"]["loss_maker_share"])
        lines.append(
            "small vs large = small / large - 1 where both are positive: below 0 small caps are cheaper on "
            "P/E, P/B and P/FV, above 0 on the yields (earnings yield, EBIT / EV)."
        )
        lines.append(f"Loss-makers: {fmt_pct(loss[0])} of small caps, {fmt_pct(loss[1])} of large caps.")
        mix = doc["fiscal_years"].pivot_table(index="fiscal_year", columns="group", values="share", fill_value=0.0)
        lines += ["", "Where the figures come from: share of each group whose latest published fiscal year is"]
        lines.append(
            table(
                [[f"FY{y}", fmt_pct(r.get("small", 0.0), 0), fmt_pct(r.get("large", 0.0), 0)] for y, r in mix.iterrows()],
                ["fiscal year", "small", "large"],
                "lrr",
            )
        )
        lines.append(
            "Small caps file later (90 days after the year end, 60 for large accelerated filers), so on a "
            "date in the filing season fewer of them show the newest year: the aligned columns put every "
            "company on its fiscal year ending in the same 12 months."
        )
    groups = doc["groups"]
    lines += ["", "Manufacturers vs utilities vs everything else (price / fair value beside model-free yields)"]
    lines.append(_group_table(groups, "group"))
    lines += ["", "By sector, cheapest cap-weighted price / fair value first"]
    lines.append(_group_table(doc["sectors"], "sector"))
    lines += ["", "Disclosures"] + [f"  - {d}" for d in doc["disclosures"]]
    lines += ["", "Universe rules used"]
    said: set[str] = set()
    for name, info in doc["universes"].items():
        lines.append(f"  {name}: {info['description']}")
        lines += [f"    - {n}" for n in info["notes"] if n not in said]
        said.update(info["notes"])
    return "\n".join(lines)


def _group_table(frame: Any, key: str) -> str:
    from tui.output import fmt_money, fmt_num, fmt_pct, table

    rows = [
        [r[key], f"{r['count']:,}", fmt_num(r["median_price_to_fair_value"]), fmt_num(r["capweighted_price_to_fair_value"]),
         fmt_pct(r["aggregate_ebit_to_ev"]), fmt_pct(r["median_ebit_to_ev"]), fmt_pct(r["aggregate_earnings_yield"]),
         fmt_pct(r["median_earnings_yield"]), fmt_money(r["market_cap"])]
        for r in frame.to_dict("records")
    ]
    headers = [key, "count", "P/FV med", "P/FV cap-wtd", "EBIT/EV agg", "EBIT/EV med", "E/P agg", "E/P med", "market cap"]
    return table(rows, headers, "lrrrrrrrr")
