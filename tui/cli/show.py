"""``rotation show TICKER``: one company's card: identity, market data, fundamentals, evidence."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.common import add_command, emit, format_arg, open_session, screen_arg, universe_args


def add_parser(sub: Any) -> None:
    p = add_command(sub, "show", "a company card: identity, market data, fundamentals and the screen's evidence", run)
    p.add_argument("ticker")
    universe_args(p)
    screen_arg(p)
    format_arg(p)


def run(args: argparse.Namespace) -> int:
    from tui.output import dumps, records

    card = open_session(args).company_card(args.ticker)
    if args.format == "json":
        from tui.session import CARD_FIELDS

        doc = {k: card.get(k) for k in (*CARD_FIELDS, "as_of", "universe", "business_summary", "themes")}
        doc["fundamentals"] = records(card["fundamentals"])
        doc["raw_fundamentals"] = records(card["raw_fundamentals"])
        doc["integrity"] = card["integrity"]
        doc["evidence"] = card["evidence"]
        doc["evidence_universe"] = card["universe"] if card["evidence"] is not None else None
        doc["evidence_note"] = card["evidence_note"]
        doc["failed_filters"] = card["failed_filters"]
        emit(dumps(doc))
    else:
        emit(render_card(card))
    return 0


def render_card(card: dict[str, Any]) -> str:
    """The company card as text."""
    from tui import card as c
    from tui.output import fmt_num, fmt_pct, table

    lines = c.identity_lines(card)
    headers, rows = c.fundamentals_table(card)
    if rows and len(headers) > 1:
        lines += ["", "Fundamentals as the screen uses them (corrected where the data showed an error):"]
        lines += [table(rows, headers, "l" + "r" * (len(headers) - 1))]
    themes = c.theme_rows(card)
    if themes:
        lines += ["", "Themes: " + (c.tagged_themes(card) or "none"), table(themes, ["", "theme", "why", "similarity"], "lllr")]
    fixes = c.integrity_rows(card)
    if fixes:
        lines += ["", "Data corrections and flags (raw -> corrected, and why):"]
        lines.append(table(fixes, ["FY", "field", "check", "raw -> corrected", "evidence"], "lllrl"))
    ev = card.get("evidence")
    if ev is None:
        lines += ["", card.get("evidence_note") or ""]
        return "\n".join(lines)
    lines += ["", c.fair_value_headline(ev), "", table(c.fair_value_rows(ev), ["method and its inputs", "per share / value"], "lr")]
    if ev["fair_value"].get("range"):
        lines += ["", table(c.range_rows(ev), ["range", "bear", "base", "bull"], "lrrr")]
    if ev.get("rates"):
        lines += ["", "Cost of capital: " + ev["rates"].get("formula", ""), table(c.rate_rows(ev), ["input", "value"], "lr")]
    if ev.get("uncertainty"):
        u = ev["uncertainty"]
        lines += ["", f"Uncertainty {u['rating']} (score {u['score']}): the margin of safety it requires is {fmt_pct(u['margin_required'], 0)}"]
        lines.append(table(c.uncertainty_rows(ev), ["component", "measure", "points", "thresholds"], "lrrr"))
    if ev.get("rate_cuts"):
        lines += ["", "Rate-cut diligence:", table(c.rate_cut_rows(ev), ["measure", "value"], "lr")]
    if ev.get("flags"):
        lines += ["", "Red flags: " + (c.raised_flags(ev) or "none raised"), table(c.flag_rows(ev), ["", "flag", "evidence", "rule"], "llll")]
    p = ev["piotroski"]
    lines += ["", f"Piotroski F = {p.get('display', p['score'])} ({p['available']} of 9 signals computable)", table(c.piotroski_rows(ev), ["", "signal"])]
    a = ev["altman"]
    lines += ["", f"Altman {a['model']} = {fmt_num(a['z'])} ({a['zone']})", table(c.altman_rows(ev), ["component", "value", "weight", "points"], "lrrr")]
    b = ev["beneish"]
    lines += ["", f"Beneish M = {fmt_num(b['m_score'])} ({b['flag']})"]
    lines.append("Ratios: " + ", ".join(f"{c.label(k)} {fmt_num(v)}" for k, v in ev["ratios"].items()))
    s = ev["score"]
    lines += ["", c.score_line(card), table(c.factor_rows(ev), ["factor", "value", "weight", f"pct ({s['peer_group']})", "points"], "lrrrr")]
    return "\n".join(lines)
