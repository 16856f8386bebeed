"""The universe schema: one definition of every column the snapshot and custom files carry.

Sign convention (one for every statement item, every source)
-------------------------------------------------------------
* Amounts are in U.S. dollars (no thousands or millions scaling).
* Expenses and cash outflows are **positive magnitudes**: ``cogs``, ``sga``, ``rnd``, ``da``,
  ``interest_expense``, ``income_tax``, ``capex``, ``dividends_paid``.
* Results keep their natural sign: ``operating_income``, ``pretax_income``, ``net_income``,
  ``operating_cash_flow`` and ``retained_earnings`` are negative for losses / outflows.
* ``interest_expense`` is *net*: negative means net interest income (a cash-rich company).
* ``capex`` is net investment in fixed assets and intangibles: negative when disposals exceed
  purchases; ``acquisitions`` likewise for businesses bought less businesses sold.
* Flows that can go either way keep the sign of their cash effect: ``working_capital_change``,
  ``net_debt_issued``, ``net_equity_issued`` (negative = cash out: working capital built up,
  debt repaid, shares bought back).
* Balance-sheet items are as reported at the fiscal year end (``period_end``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: First and last SEC SIC codes of Division D, Manufacturing.
MANUFACTURING_SIC = (2000, 3999)
#: SIC codes of drugs and biological products (pharma / biotech): manufacturing in SIC terms,
#: but cash-burning research businesses that value screens usually exclude.
LIFE_SCIENCES_SIC = (2833, 2836)


@dataclass(frozen=True)
class Field:
    """One column of a universe table.

    Attributes
    ----------
    name : str
        Column name.
    kind : str
        ``"usd"`` (float, dollars), ``"count"`` (float, e.g. shares), ``"int"``, ``"str"``,
        ``"date"`` or ``"bool"``.
    description : str
        What the column means, including its sign.
    required : bool
        Whether a row without a value is invalid.
    default : object, optional
        The value a missing cell (or column) takes when the table is read.
    """

    name: str
    kind: str
    description: str
    required: bool = False
    default: object = None


COMPANY_FIELDS: tuple[Field, ...] = (
    Field("ticker", "str", "Exchange ticker, upper case, class shares with '-' (BRK-B)", True),
    Field("name", "str", "Company name", True),
    Field("cik", "int", "SEC Central Index Key"),
    Field("exchange", "str", "Listing exchange (NYSE, Nasdaq, OTC, ...)"),
    Field("sector", "str", "Sector (SimFin classification for the snapshot)"),
    Field("industry", "str", "Industry (SimFin classification for the snapshot)"),
    Field("sic", "int", "SEC Standard Industrial Classification code; missing when unknown"),
    Field("sic_source", "str", "Where the SIC code came from"),
    Field("country", "str", "Business-address country (ISO 3166 alpha-2) where the SEC files give it"),
    Field(
        "security_type",
        "str",
        "What the listed line is: common, preferred, unit, warrant, right, adr, blank check, fund, partnership",
        default="common",
    ),
    Field("employees", "int", "Number of employees (latest the source gives)"),
    Field("fiscal_year_end_month", "int", "Month (1-12) the company's fiscal year ends"),
    Field(
        "listed",
        "bool",
        "Has a price in the last sessions before the dataset's as-of date (False: delisted or renamed)",
        default=True,
    ),
    Field("sec_tickers", "str", "Tickers the SEC's ticker file lists for this CIK, ';'-joined"),
    Field("sec_ticker_cik", "int", "CIK the SEC's ticker file gives this ticker (identity check)"),
    Field("sec_ticker_name", "str", "Name of the company the SEC's ticker file gives this ticker"),
    Field("other_tickers", "str", "Other tickers the source lists for the same CIK, ';'-joined"),
)

#: Columns derived at load time from prices and fundamentals as of the requested date.
MARKET_FIELDS: tuple[Field, ...] = (
    Field("manufacturing", "bool", "SIC 2000-3999 (SEC Division D)"),
    Field("life_sciences", "bool", "SIC 2833-2836 (drugs, biologicals)"),
    Field("price", "usd", "Traded close on the as-of date (last session on or before it)"),
    Field("price_date", "date", "Session the price is from"),
    Field("shares", "count", "Weighted basic shares of the latest published fiscal year"),
    Field("market_cap", "usd", "price x shares"),
    Field("adv_usd", "usd", "Average daily dollar volume (close x volume), last 63 sessions"),
    Field("adv_shares", "count", "Average daily share volume, last 63 sessions"),
    Field("fiscal_year", "int", "Latest fiscal year published on or before the as-of date"),
    Field("fundamentals_age_months", "count", "Months from the latest fiscal year's end to the as-of date"),
    Field("data_flags", "str", "Integrity corrections and flags, short phrases joined by '; ' ('' when clean)"),
    Field("excluded_reason", "str", "Why the company cannot be in any universe on this date ('' when usable)"),
)

#: Columns the integrity layer adds to the fundamentals (derived, never read from a file).
DERIVED_FUNDAMENTAL_FIELDS: tuple[Field, ...] = (
    Field(
        "parent_share",
        "count",
        "Share of the group's earnings that belongs to the company's shareholders: net income / "
        "(income from continuing operations + extraordinary items) when both are positive, else 1. "
        "Below 1 when minority (non-controlling) interests own part of subsidiaries",
    ),
)

FUNDAMENTAL_FIELDS: tuple[Field, ...] = (
    Field("ticker", "str", "Company ticker", True),
    Field("fiscal_year", "int", "Fiscal year", True),
    Field("period_end", "date", "Fiscal year end date", True),
    Field("publish_date", "date", "Date the figures became public", True),
    Field("shares_basic", "count", "Weighted average basic shares in the year"),
    Field("shares_diluted", "count", "Weighted average diluted shares in the year"),
    Field("revenue", "usd", "Revenue", True),
    Field("cogs", "usd", "Cost of revenue (positive = cost)"),
    Field("gross_profit", "usd", "Gross profit (revenue - cogs)"),
    Field("sga", "usd", "Selling, general and administrative expense (positive = cost)"),
    Field("rnd", "usd", "Research and development expense (positive = cost)"),
    Field("da", "usd", "Depreciation and amortisation (positive = expense)"),
    Field("operating_income", "usd", "Operating income (EBIT); negative = operating loss", True),
    Field("interest_expense", "usd", "Net interest expense; negative = net interest income"),
    Field("non_operating_income", "usd", "Non-operating income; negative = loss"),
    Field("abnormal_gains", "usd", "Unusual gains below operating income (impairments, disposals); negative = loss"),
    Field("pretax_income", "usd", "Pretax income; negative = loss"),
    Field("income_tax", "usd", "Income tax expense (positive = expense; negative = tax benefit)"),
    Field("income_continuing_ops", "usd", "Income from continuing operations (before minority interest); negative = loss"),
    Field("extraordinary_gains", "usd", "Discontinued operations and extraordinary items, net; negative = loss"),
    Field("net_income", "usd", "Net income attributable to the company's shareholders; negative = loss", True),
    Field("net_income_common", "usd", "Net income available to common shareholders (after preferred dividends)"),
    Field("non_cash_items", "usd", "Non-cash items added back in operating cash flow (stock compensation among them)"),
    Field("working_capital_change", "usd", "Cash effect of working-capital changes (negative = cash absorbed)"),
    Field("operating_cash_flow", "usd", "Net cash from operating activities"),
    Field("capex", "usd", "Net capital expenditure (positive = cash spent)"),
    Field("acquisitions", "usd", "Net cash spent on acquisitions less divestitures (positive = cash spent)"),
    Field("dividends_paid", "usd", "Dividends paid (positive = cash paid)"),
    Field("net_debt_issued", "usd", "Debt issued less repaid (negative = net repayment)"),
    Field("net_equity_issued", "usd", "Shares issued less repurchased (negative = net buybacks)"),
    Field("cash", "usd", "Cash, cash equivalents and short-term investments"),
    Field("receivables", "usd", "Accounts and notes receivable"),
    Field("inventory", "usd", "Inventories"),
    Field("current_assets", "usd", "Total current assets"),
    Field("ppe_net", "usd", "Property, plant and equipment, net"),
    Field("long_term_investments", "usd", "Long-term investments and receivables"),
    Field("total_assets", "usd", "Total assets", True),
    Field("payables", "usd", "Payables and accruals"),
    Field("current_liabilities", "usd", "Total current liabilities"),
    Field("short_term_debt", "usd", "Short-term debt"),
    Field("long_term_debt", "usd", "Long-term debt"),
    Field("total_liabilities", "usd", "Total liabilities"),
    Field("paid_in_capital", "usd", "Share capital and additional paid-in capital"),
    Field("treasury_stock", "usd", "Treasury stock at cost (positive = shares held back)"),
    Field("retained_earnings", "usd", "Retained earnings (accumulated deficit if negative)"),
    Field("total_equity", "usd", "Total equity; negative = liabilities exceed assets", True),
)

PRICE_FIELDS: tuple[Field, ...] = (
    Field("ticker", "str", "Company ticker", True),
    Field("date", "date", "Trading session", True),
    Field("close", "usd", "Traded close (split-adjusted to the collection date)", True),
    Field("adj_factor", "count", "close x adj_factor = close adjusted for dividends too", True),
    Field("volume", "count", "Shares traded", True),
)

FUNDAMENTAL_COLUMNS = tuple(f.name for f in FUNDAMENTAL_FIELDS)
COMPANY_COLUMNS = tuple(f.name for f in COMPANY_FIELDS)
PRICE_COLUMNS = tuple(f.name for f in PRICE_FIELDS)
PROFILE_FIELDS: tuple[Field, ...] = (
    Field("ticker", "str", "Company ticker", True),
    Field("business_summary", "str", "The source's description of the business"),
)
USD_FUNDAMENTALS = tuple(f.name for f in FUNDAMENTAL_FIELDS if f.kind in ("usd", "count"))


def sic_flags(sic: pd.Series) -> pd.DataFrame:
    """Manufacturing and life-sciences flags from SEC SIC codes.

    Parameters
    ----------
    sic : pandas.Series
        SIC codes (nullable integers). Unknown codes give ``False`` for both flags.

    Returns
    -------
    pandas.DataFrame
        Columns ``manufacturing`` and ``life_sciences`` (bool), same index as ``sic``.
    """
    code = pd.to_numeric(sic, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        manufacturing = (code >= MANUFACTURING_SIC[0]) & (code <= MANUFACTURING_SIC[1])
        life = (code >= LIFE_SCIENCES_SIC[0]) & (code <= LIFE_SCIENCES_SIC[1])
    return pd.DataFrame({"manufacturing": manufacturing, "life_sciences": life}, index=sic.index)


def coerce(frame: pd.DataFrame, fields: tuple[Field, ...]) -> pd.DataFrame:
    """Return ``frame`` with exactly the columns of ``fields``, in order, with their dtypes.

    Missing optional columns are added empty. Values that cannot be converted become missing;
    use :func:`universes.validate.check_frame` first when the caller needs to report them.
    """
    out = pd.DataFrame(index=frame.index)
    for f in fields:
        col = frame[f.name] if f.name in frame.columns else pd.Series(np.nan, index=frame.index)
        if f.kind in ("usd", "count"):
            out[f.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif f.kind == "int":
            out[f.name] = pd.to_numeric(col, errors="coerce").astype("Int64")
        elif f.kind == "date":
            out[f.name] = pd.to_datetime(col, errors="coerce").astype("datetime64[ns]")
        elif f.kind == "bool":
            default = bool(f.default) if f.default is not None else False
            out[f.name] = col.astype("boolean").fillna(default).astype(bool)
        else:
            out[f.name] = col.astype("string").str.strip()
            if f.default is not None:
                out[f.name] = out[f.name].fillna(str(f.default))
    return out
