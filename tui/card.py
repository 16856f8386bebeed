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


def _value(key: str, v: Any) -> str:
    """An input's value in few characters: rates and shares of a whole as percentages."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and any(w in key for w in ("rate", "margin", "growth", "wacc", "weight", "share", "premium", "spread", "cost_of")) and abs(v) < 2 and "shares" not in key:
        return fmt_pct(v, 1)
    return fmt_short(v)


def fair_value_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """Each fair-value method's value per share, then every input it used, one per row."""
    fv = evidence["fair_value"]
    rows: list[list[str]] = []
    for key in fv["method_order"]:
        m = fv["methods"][key]
        family = f" ({m['family']})" if m.get("family") else ""
        rows.append([f"{m['label']}{family}", fmt_num(m["value"])])
        parts = m.get("parts") or {}
        for part in parts.values():
            rows.append([f"  {part['label']}", fmt_num(part["value"])])
            rows += [[f"    {label(k)}", _value(k, v)] for k, v in part["inputs"].items()]
        if not parts:
            rows += [[f"  {label(k)}", _value(k, v)] for k, v in m["inputs"].items()]
    return rows


def fair_value_headline(evidence: dict[str, Any]) -> str:
    """The blended fair value, its range, what the price implies and whether it is cheap."""
    fv = evidence["fair_value"]
    n = fv["methods_used"]
    lines = [
        f"Fair value {fmt_num(fv['blend'])} per share ({n} method{'' if n == 1 else 's'}: {fv.get('blend_rule', 'blend')})",
    ]
    if "intrinsic_value" in fv:
        lines.append(
            f"Intrinsic {fmt_num(fv['intrinsic_value'])} (price / intrinsic {fmt_num(fv.get('price_to_intrinsic_value'))}), "
            f"relative {fmt_num(fv['relative_value'])} (price / relative {fmt_num(fv.get('price_to_relative_value'))})"
        )
    rng = fv.get("range")
    if rng:
        lines.append(f"Range: bear {fmt_num(rng['bear'])}, base {fmt_num(rng['base'])}, bull {fmt_num(rng['bull'])}")
    lines.append(
        f"Price {fmt_num(fv['price'])}: price / fair value {fmt_num(fv['price_to_fair_value'])}, discount {fmt_pct(fv['discount'])}; "
        f"growth the price implies {fmt_pct(fv['implied_growth'])} {fv['implied_growth_note'] or ''}".rstrip()
    )
    if "margin_required" in fv:
        verdict = "cheap" if fv.get("cheap") else "not cheap"
        lines.append(
            f"Uncertainty {fv['uncertainty']}: needs a {fmt_pct(fv['margin_required'], 0)} margin of safety, "
            f"buy below {fmt_num(fv.get('buy_below'))}: {verdict}"
        )
    return "\n".join(lines)


def range_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """Bear / base / bull values and what each case assumes."""
    rng = evidence["fair_value"].get("range") or {}
    rows = [["Fair value", fmt_num(rng.get("bear")), fmt_num(rng.get("base")), fmt_num(rng.get("bull"))]]
    for key, values in (rng.get("assumptions") or {}).items():
        rows.append([label(key), *[v if isinstance(v, str) else _value(key, v) for v in values]])
    return rows


def rate_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """The cost-of-capital build-up, one line per input."""
    rates = evidence.get("rates") or {}
    return [[label(k), _value(k, v)] for k, v in rates.items() if k != "formula"]


def uncertainty_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """What makes the uncertainty rating: each component's measure, points and thresholds."""
    u = evidence.get("uncertainty") or {}
    return [
        [c["label"], fmt_num(c["measure"], 3), str(c["points"]), " / ".join(fmt_short(float(t)) for t in c["thresholds"])]
        for c in u.get("components", [])
    ]


def flag_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """Every red flag, the raised ones first: whether raised, the rule and the evidence."""
    flags = sorted(evidence.get("flags") or [], key=lambda f: not f["raised"])
    return [["RAISED" if f["raised"] else "-", f["label"], f["evidence"], f["rule"]] for f in flags]


def raised_flags(evidence: dict[str, Any]) -> str:
    """The raised red flags in one line ('' when none)."""
    return "; ".join(f["label"] for f in evidence.get("flags") or [] if f["raised"])


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
    """Score, rank, and the filters a filtered-out company fails."""
    s = card["evidence"]["score"]
    rank = s["rank"] if s["rank"] is not None else "- (filtered out)"
    penalty = s.get("flag_penalty")
    line = (
        f"Score {fmt_num(s['composite'], 1)} (quality {fmt_num(s['quality'], 1)}, value {fmt_num(s['value'], 1)}); "
        f"rank {rank} in {card['universe']}"
        + (f"; red-flag penalty {fmt_num(penalty, 1)} points" if penalty else "")
    )
    if card.get("failed_filters"):
        line += ". Fails the screen's filters: " + "; ".join(card["failed_filters"])
    return line


def theme_rows(card: dict[str, Any]) -> list[list[str]]:
    """Each theme: tagged or not, and why (SIC, industry, phrases, similarity), tagged first."""
    rows = sorted(card.get("themes") or [], key=lambda t: not t["tagged"])
    return [["TAGGED" if t["tagged"] else "-", t["label"], t["reason"], f"{t['similarity']:.2f}"] for t in rows]


def tagged_themes(card: dict[str, Any]) -> str:
    """The company's themes in one line ('' for none)."""
    return ", ".join(t["label"] for t in card.get("themes") or [] if t["tagged"])


RATE_CUT_LABELS = {
    "net_debt": "Net debt (negative: net cash)",
    "implied_rate": "Implied interest rate (interest / average debt)",
    "implied_rate_prior": "Implied rate a year earlier",
    "implied_rate_change": "Change of the implied rate",
    "policy_rate_change": "Change of the Fed's target over the same years",
    "floating_share": "Floating share of the debt (proxy)",
    "floating_debt": "Floating debt",
    "debt_to_ebitda": "Debt / EBITDA",
    "eps_gain_100bp": "EPS gained from a 100 bp cut (USD)",
    "eps_gain_100bp_pct": "... as a share of EPS",
    "rate_cut_gain": "Earnings yield a 100 bp cut adds",
}


def rate_cut_rows(evidence: dict[str, Any]) -> list[list[str]]:
    """What a 100 bp cut is worth to the company, and the figures behind it."""
    cuts = evidence.get("rate_cuts") or {}
    rows = []
    for key, text in RATE_CUT_LABELS.items():
        if key in cuts:
            v = cuts[key]
            shown = fmt_pct(v, 2) if key in ("implied_rate", "implied_rate_prior", "implied_rate_change", "policy_rate_change", "floating_share", "eps_gain_100bp_pct", "rate_cut_gain") else fmt_num(v) if key in ("debt_to_ebitda", "eps_gain_100bp") else fmt_money(v)
            rows.append([text, shown])
    return rows
