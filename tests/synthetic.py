"""SYNTHETIC test fixtures: small hand-made companies for checking formulas by hand.

None of these numbers stand for a real company; they exist so that each formula's result can
be computed on paper.
"""

from __future__ import annotations

import pandas as pd

from universes.schema import FUNDAMENTAL_FIELDS, coerce

BASE_YEAR = {
    "shares_basic": 10.0,
    "shares_diluted": 10.0,
    "revenue": 150.0,
    "cogs": 90.0,
    "gross_profit": 60.0,
    "sga": 30.0,
    "rnd": 0.0,
    "da": 5.0,
    "operating_income": 10.0,
    "interest_expense": 2.0,
    "pretax_income": 8.0,
    "income_tax": 2.0,
    "net_income": 6.0,
    "operating_cash_flow": 12.0,
    "capex": 4.0,
    "dividends_paid": 0.0,
    "cash": 10.0,
    "receivables": 15.0,
    "inventory": 20.0,
    "current_assets": 50.0,
    "ppe_net": 40.0,
    "long_term_investments": 0.0,
    "total_assets": 100.0,
    "payables": 10.0,
    "current_liabilities": 20.0,
    "short_term_debt": 5.0,
    "long_term_debt": 15.0,
    "total_liabilities": 40.0,
    "retained_earnings": 30.0,
    "total_equity": 60.0,
}


def fundamentals(*rows: dict) -> pd.DataFrame:
    """Rows of ticker/fiscal_year/overrides on top of ``BASE_YEAR``."""
    out = []
    for r in rows:
        year = int(r["fiscal_year"])
        out.append(
            {
                **BASE_YEAR,
                "period_end": f"{year}-12-31",
                "publish_date": f"{year + 1}-02-15",
                **r,
            }
        )
    return coerce(pd.DataFrame(out), FUNDAMENTAL_FIELDS)


def companies(spec: dict[str, dict]) -> pd.DataFrame:
    """Company rows: ticker -> overrides of sector, SIC, price, shares..."""
    rows = []
    for ticker, s in spec.items():
        sic = s.get("sic", 3500)
        row = {
            "ticker": ticker,
            "name": f"Synthetic {ticker}",
            "sector": s.get("sector", "Industrials"),
            "industry": s.get("industry", "Machinery"),
            "sic": sic,
            "manufacturing": 2000 <= sic <= 3999,
            "life_sciences": 2833 <= sic <= 2836,
            "exchange": "NYSE",
            "price": s.get("price", 8.0),
            "shares": s.get("shares", 10.0),
            "adv_usd": s.get("adv_usd", 1e7),
            "fiscal_year": 2023,
        }
        row["market_cap"] = row["price"] * row["shares"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("ticker", drop=False).rename_axis(None)
