"""What a company card shows, as rows of text: one source for ``rotation show`` and step 3.

Each function takes the card of :meth:`tui.session.Session.company_card` (or its evidence) and
returns plain strings, so the command line lays them out as a text table and the app as a
DataTable, and both say the same thing in the same words.
"""

from __future__ import annotations

from typing import Any

from tui.output import fmt_money, fmt_num, fmt_pct, fmt_short

#: Fiscal-year rows of the fundamentals table, with their labels.
FUNDAMENTAL_ROWS = (
    ("revenue", "Revenue"),
    ("gross_profit", "Gross profit"),
    ("operating_income", "Operating income (EBIT)"),
    ("net_income", "Net income"),
    ("operating_cash_flow", "Operating cash flow"),
    ("capex", "Capex (net)"),
    ("cash", "Cash and short-term investments"),
    ("total_assets", "Total assets"),
    ("total_liabilities", "Total liabilities"),
    ("short_term_debt", "Short-term debt"),
    ("long_term_debt", "Long-term debt"),
    ("total_equity", "Total equity"),
    ("shares_basic", "Shares, basic (weighted)"),
    ("shares_diluted", "Shares, diluted (weighted)"),
)
ALTMAN_LABELS = {
    "x1": "Working capital / assets",
    "x2": "Retained earnings / assets",
    "x3": "EBIT / assets",
    "x4": "Equity value / liabilities",
    "x5": "Sales / assets",
}


def label(key: str) -> str:
    """A field name as words (``op_margin_avg`` -> ``op margin avg``)."""
    return key.replace("_", " ")


def identity_lines(card: dict[str, Any]) -> list[str]:
    """Who the company is and what it costs, in three lines."""
    sic = card.get("sic")
    age = card.get("fundamentals_age_months")
    flags = " (manufacturing)" if card.get("manufacturing") else ""
    flags += " (life sciences)" if card.get("life_sciences") else ""
    lines = [
        f"{card['ticker']} - {card['name']}",
        f"{card.get('exchange') or '?'} | {card.get('sector')} / {card.get('industry')} | "
        f"SIC {sic if sic is not None and sic == sic else 'unknown'}{flags}",
        f"Price {fmt_num(card.get('price'))} on {str(card.get('price_date'))[:10]} | market cap {fmt_money(card.get('market_cap'))} | "
        f"shares {fmt_money(card.get('shares'))} | ADV {fmt_money(card.get('adv_usd'))}/day",
        f"As of {card['as_of']} | latest fiscal year {card.get('fiscal_year')}"
        + (f", {age:.0f} months old" if isinstance(age, int | float) and age == age else ""),
    ]
    for key, prefix in (("excluded_reason", "Left out of every universe"), ("data_flags", "Data")):
        text = card.get(key)
        if isinstance(text, str) and text:
            lines.append(f"{prefix}: {text}")
    return lines


def integrity_rows(card: dict[str, Any]) -> list[list[str]]:
    """Each data correction or flag: fiscal year, field, what was done, raw -> corrected, why."""
    rows = []
    for r in card.get("integrity") or []:
        year = "" if r.get("fiscal_year") is None else str(r["fiscal_year"])
        change = f"{fmt_short(r.get('raw'))} -> {fmt_short(r.get('corrected'))}" if r.get("action") == "corrected" else fmt_short(r.get("raw"))
        rows.append([year, label(str(r.get("field") or "")), f"{r.get('check')}: {r.get('action')}", change, str(r.get("evidence") or "")])
    return rows


def fundamentals_table(card: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the fundamentals-by-year table (amounts in compact USD)."""
    years = card["fundamentals"]
    records = years.to_dict("records") if hasattr(years, "to_dict") else list(years)
    headers = ["USD", *[str(y["fiscal_year"]) for y in records]]
    rows = [[text, *[fmt_money(y.get(key)) for y in records]] for key, text in FUNDAMENTAL_ROWS]
    return headers, rows


def fair_value_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """One row per fair-value method: label, value per share, every input named."""
    fv = evidence["fair_value"]
    rows = []
    for key in fv["method_order"]:
        m = fv["methods"][key]
        inputs = ", ".join(f"{label(k)} {fmt_short(v)}" for k, v in m["inputs"].items())
        rows.append([m["label"], fmt_num(m["value"]), inputs])
    return rows


def fair_value_headline(evidence: dict[str, Any]) -> str:
    """The blended fair value and what the price implies, in one sentence."""
    fv = evidence["fair_value"]
    n = fv["methods_used"]
    return (
        f"Fair value {fmt_num(fv['blend'])} per share ({n} method{'' if n == 1 else 's'}, uncertainty {fv['uncertainty']}); "
        f"price / fair value {fmt_num(fv['price_to_fair_value'])}, discount {fmt_pct(fv['discount'])}; "
        f"growth the price implies {fmt_pct(fv['implied_growth'])} {fv['implied_growth_note'] or ''}"
    ).rstrip()


def altman_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """Altman Z components: name, value, weight, points."""
    rows = []
    for x in evidence["altman"]["components"]:
        points = None if x["value"] is None else x["value"] * x["weight"]
        rows.append([f"{ALTMAN_LABELS.get(x['component'], x['component'])} ({x['component']})", fmt_num(x["value"], 3), fmt_num(x["weight"], 3), fmt_num(points, 3)])
    return rows


def piotroski_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """The nine Piotroski signals: pass or fail, and what each tests."""
    return [["pass" if s["pass"] else "fail", s["label"]] for s in evidence["piotroski"]["signals"]]


def factor_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """How each weighted factor contributes to the composite score."""
    return [
        [f["label"], fmt_num(f["value"]), fmt_num(f["weight"], 1), fmt_pct(f["percentile"], 0), fmt_num(f["contribution"], 1)]
        for f in evidence["score"]["factors"]
    ]


def score_line(card: dict[str, Any]) -> str:
    """Composite, rank, and the filters a filtered-out company fails."""
    s = card["evidence"]["score"]
    rank = s["rank"] if s["rank"] is not None else "- (filtered out)"
    line = (
        f"Composite {fmt_num(s['composite'], 1)} (quality {fmt_num(s['quality'], 1)}, value {fmt_num(s['value'], 1)}); "
        f"rank {rank} in {card['universe']}"
    )
    if card.get("failed_filters"):
        line += ". Fails the screen's filters: " + "; ".join(card["failed_filters"])
    return line
