"""Maintainer script: build the embedded U.S. universe snapshot from the raw public data.

Run it from the project root when the raw data change::

    .venv/bin/python -m universes.build_snapshot --source ../shared/data

Nothing else in the project reads the raw data: the tool and its tests only read what this
script writes to ``universes/data/``. Every step below is deterministic; re-running on the same
inputs gives byte-identical files and the same checksums in ``manifest.json``.

Inputs (see the raw data's README)
----------------------------------
* SimFin annual income, balance and cash-flow statements (``;``-separated), the SimFin company
  table and SimFin's industry/sector table.
* SEC Financial Statement Data Sets 2021Q1 ``sub.txt`` (SIC code by CIK), Rank & Filed's
  ``cik_ticker.csv`` (SIC and exchange by CIK, about 2020) and SEC's ``company_tickers_exchange``
  (exchange by CIK / ticker).
* Yahoo Finance daily prices to 2024-03-08 (``close`` traded price, ``adj_close`` adjusted for
  splits and dividends, ``volume``).

Steps, joins and decisions
--------------------------
1. **Statements.** Income, balance and cash-flow rows are joined on ``SimFinId`` + ``Fiscal
   Year`` (inner join: a fiscal year needs all three statements). A fiscal year counts as
   published on the **latest** of its three ``Publish Date`` values (they differ for a few
   hundred rows). ``period_end`` is the income statement's ``Report Date``. Fiscal years whose
   publish date is *before* their period end (a few dozen SimFin rows with mislabelled years)
   cannot be placed in time and are dropped.
2. **Point in time.** Only fiscal years published on or before the as-of date (2024-03-08) are
   kept, so nothing after the as-of date can leak in. SimFin ships the latest *restated*
   figures; rows restated after the as-of date are kept (the original figures are not in the
   source) and counted in the manifest as ``restated_after_as_of``.
3. **Signs and blanks** (see :mod:`universes.schema` for the one sign convention). SimFin stores
   costs, capex, dividends, interest and taxes as negative numbers; they are negated so that
   expenses and outflows are positive. Blank cells:

   * zero: interest expense (no interest line), income tax, R&D, dividends paid, capex, cash,
     receivables, inventories, long-term investments, short- and long-term debt, PP&E,
     non-operating income, abnormal and extraordinary gains, treasury stock, non-cash items,
     working-capital change, acquisitions, debt and equity issued (each is blank when the
     company reports no such line);
   * revenue: blank becomes 0 when cost of revenue and gross profit are blank too (pre-revenue
     companies: SPACs, clinical-stage biotechs); otherwise gross profit + cost of revenue;
   * gross profit: revenue - cost of revenue when both exist, otherwise left missing (service
     templates report no cost of revenue, and revenue is not gross profit);
   * cost of revenue: revenue - gross profit when only those two exist, otherwise missing;
   * D&A: the cash-flow statement's add-back (blank in 5% of rows), else the income statement's
     line (blank in 60%), else missing;
   * every other field: left missing. The screener decides what a missing value means.
4. **Companies.** Every SimFin company with at least one fiscal year published by the as-of
   date, whether or not it still trades: ``listed`` is true when the price file has it in the
   last 10 sessions before the as-of date. The price file holds only companies listed at its end
   (2024-03-08), so companies that were delisted or renamed earlier keep their last figures in
   the fundamentals but have no prices (the manifest says so: a backtest over earlier dates
   must account for them). Sector and industry come from SimFin's ``IndustryId``; employees,
   the fiscal-year-end month and the business summary (``profiles.parquet``) from SimFin's
   company table. The SIC code is taken by CIK from the SEC 2021Q1 file, else from Rank &
   Filed (they agree for 94% of CIKs in both); companies listed after 2021 often have neither
   and keep a missing SIC here (``sic_source`` = ``none``): the integrity layer fills it from
   the industry at load time, marked as inferred. Exchange: SEC's ticker file by CIK, else by
   ticker, else Rank & Filed. ``country``: the business-address country of the SEC 2021Q1 file,
   else ``US`` when Rank & Filed gives a U.S. state as the business address, else missing.
5. **Identity evidence** (for the integrity layer's ticker-collision check): the tickers the
   SEC's ticker file lists for the company's CIK (``sec_tickers``), the CIK and name it gives
   the company's ticker (``sec_ticker_cik``, ``sec_ticker_name``) and SimFin's other tickers for
   the same CIK (``other_tickers``). ``security_type`` says what the priced line is: Nasdaq's
   fifth-letter convention for five-letter tickers (P preferred, U unit, W warrant, R right,
   Y ADR), ``-P`` class suffixes (preferred), SIC 6770 (blank check), SIC 6726 (fund), a name
   in the SEC's ticker file (else SimFin's) ending in "L.P." / "LP" (partnership); otherwise
   ``common``.
6. **Prices.** Sessions from 2019-01-02 to the as-of date, for listed companies only. Rows with
   a missing or non-positive ``close`` or ``adj_close`` are dropped (Yahoo artefacts). To keep the
   snapshot small, ``adj_close`` is stored as ``close x adj_factor`` where ``adj_factor`` is the
   dividend adjustment, made piecewise constant: consecutive sessions whose ratio differs by less
   than 1e-5 (float32 noise) share the mean ratio of their run. The relative error of the
   reconstructed ``adj_close`` is below 1e-5. ``close`` and ``adj_factor`` are float32 (the
   source's precision), ``volume`` a 64-bit integer, tickers dictionary-encoded, the file sorted
   by ticker and date and compressed with zstd. Large daily moves (a few hundred exceed 50%,
   reverse splits and genuine news alike) are kept as they are; the risk model winsorises
   returns.
7. **Outputs** (``universes/data``): ``companies.parquet``, ``profiles.parquet``,
   ``fundamentals.parquet``, ``prices.parquet`` and ``manifest.json`` (as-of date, sources with
   input checksums, row counts, exclusions, notes on restatements and survivorship, the
   universes' sizes and the integrity report's counts on the as-of date, output checksums).
   The sizes and counts are computed by loading the written files through the loader, so
   ``rotation universes`` can print them without loading prices.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from universes.schema import (
    COMPANY_FIELDS,
    FUNDAMENTAL_FIELDS,
    PRICE_FIELDS,
    PROFILE_FIELDS,
    coerce,
)

AS_OF = pd.Timestamp("2024-03-08")
PRICE_START = pd.Timestamp("2019-01-02")
#: The day Yahoo Finance's prices were collected: they are split-adjusted to this day only.
PRICES_COLLECTED = pd.Timestamp("2024-03-09")
MAX_PRICE_STALENESS_SESSIONS = 10
OUT_DIR = Path(__file__).resolve().parent / "data"

KEY = ["SimFinId", "Fiscal Year"]

# SimFin column -> (snapshot field, sign, blank policy). sign -1 turns SimFin's negative costs
# into positive magnitudes. Blank policy: "zero" or "missing" (the special cases are in code).
INCOME_MAP = {
    "Shares (Basic)": ("shares_basic", 1, "missing"),
    "Shares (Diluted)": ("shares_diluted", 1, "missing"),
    "Revenue": ("revenue", 1, "special"),
    "Cost of Revenue": ("cogs", -1, "special"),
    "Gross Profit": ("gross_profit", 1, "special"),
    "Selling, General & Administrative": ("sga", -1, "missing"),
    "Research & Development": ("rnd", -1, "zero"),
    "Depreciation & Amortization": ("da_income", -1, "special"),
    "Operating Income (Loss)": ("operating_income", 1, "missing"),
    "Interest Expense, Net": ("interest_expense", -1, "zero"),
    "Non-Operating Income (Loss)": ("non_operating_income", 1, "zero"),
    "Abnormal Gains (Losses)": ("abnormal_gains", 1, "zero"),
    "Pretax Income (Loss)": ("pretax_income", 1, "missing"),
    "Income Tax (Expense) Benefit, Net": ("income_tax", -1, "zero"),
    "Income (Loss) from Continuing Operations": ("income_continuing_ops", 1, "missing"),
    "Net Extraordinary Gains (Losses)": ("extraordinary_gains", 1, "zero"),
    "Net Income": ("net_income", 1, "missing"),
    "Net Income (Common)": ("net_income_common", 1, "missing"),
}
BALANCE_MAP = {
    "Cash, Cash Equivalents & Short Term Investments": ("cash", 1, "zero"),
    "Accounts & Notes Receivable": ("receivables", 1, "zero"),
    "Inventories": ("inventory", 1, "zero"),
    "Total Current Assets": ("current_assets", 1, "missing"),
    "Property, Plant & Equipment, Net": ("ppe_net", 1, "zero"),
    "Long Term Investments & Receivables": ("long_term_investments", 1, "zero"),
    "Total Assets": ("total_assets", 1, "missing"),
    "Payables & Accruals": ("payables", 1, "missing"),
    "Short Term Debt": ("short_term_debt", 1, "zero"),
    "Total Current Liabilities": ("current_liabilities", 1, "missing"),
    "Long Term Debt": ("long_term_debt", 1, "zero"),
    "Total Liabilities": ("total_liabilities", 1, "missing"),
    "Share Capital & Additional Paid-In Capital": ("paid_in_capital", 1, "missing"),
    "Treasury Stock": ("treasury_stock", -1, "zero"),
    "Retained Earnings": ("retained_earnings", 1, "missing"),
    "Total Equity": ("total_equity", 1, "missing"),
}
CASHFLOW_MAP = {
    "Depreciation & Amortization": ("da_cashflow", 1, "special"),
    "Non-Cash Items": ("non_cash_items", 1, "zero"),
    "Change in Working Capital": ("working_capital_change", 1, "zero"),
    "Net Cash from Operating Activities": ("operating_cash_flow", 1, "missing"),
    "Change in Fixed Assets & Intangibles": ("capex", -1, "zero"),
    "Net Cash from Acquisitions & Divestitures": ("acquisitions", -1, "zero"),
    "Dividends Paid": ("dividends_paid", -1, "zero"),
    "Cash from (Repayment of) Debt": ("net_debt_issued", 1, "zero"),
    "Cash from (Repurchase of) Equity": ("net_equity_issued", 1, "zero"),
}


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_simfin(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";")


def map_statement(raw: pd.DataFrame, mapping: dict[str, tuple[str, int, str]]) -> pd.DataFrame:
    """Rename, re-sign and fill blanks of one SimFin statement."""
    out = raw[[*KEY, "Publish Date"]].copy()
    for source, (field, sign, blank) in mapping.items():
        values = pd.to_numeric(raw[source], errors="coerce") * sign
        out[field] = values.fillna(0.0) if blank == "zero" else values
    return out


def build_fundamentals(src: Path, stats: dict[str, int]) -> pd.DataFrame:
    """Steps 1-3: join the three statements, keep what was public at the as-of date."""
    inc_raw = read_simfin(src / "simfin/us-income-annual.csv.gz")
    bal_raw = read_simfin(src / "simfin/us-balance-annual.csv.gz")
    cf_raw = read_simfin(src / "simfin/us-cashflow-annual.csv.gz")
    stats["simfin_income_rows"] = len(inc_raw)

    inc = map_statement(inc_raw, INCOME_MAP)
    inc["period_end"] = pd.to_datetime(inc_raw["Report Date"])
    inc["restated"] = pd.to_datetime(inc_raw["Restated Date"])
    bal = map_statement(bal_raw, BALANCE_MAP)
    cf = map_statement(cf_raw, CASHFLOW_MAP)
    f = inc.merge(bal, on=KEY, suffixes=("", "_bal")).merge(cf, on=KEY, suffixes=("", "_cf"))
    stats["fiscal_years_with_all_three_statements"] = len(f)

    published = pd.concat(
        [pd.to_datetime(f[c]) for c in ("Publish Date", "Publish Date_bal", "Publish Date_cf")],
        axis=1,
    ).max(axis=1)
    f["publish_date"] = published
    stats["fiscal_years_published_after_as_of"] = int((published > AS_OF).sum())
    impossible = published < f["period_end"]
    stats["fiscal_years_dropped_published_before_period_end"] = int(
        (impossible & (published <= AS_OF)).sum()
    )
    f = f[(published <= AS_OF) & ~impossible].copy()

    # Revenue, cost of revenue and gross profit: fill one from the other two where possible.
    rev, cogs, gp = f["revenue"], f["cogs"], f["gross_profit"]
    none_reported = rev.isna() & cogs.isna() & gp.isna()
    f["revenue"] = rev.fillna(gp + cogs).where(~none_reported, 0.0)
    f["gross_profit"] = gp.fillna(f["revenue"] - cogs)
    f["cogs"] = cogs.fillna(f["revenue"] - f["gross_profit"])
    stats["revenue_blank_set_to_zero"] = int(none_reported.sum())
    f["da"] = f["da_cashflow"].fillna(f["da_income"])
    f = f.rename(columns={"Fiscal Year": "fiscal_year"})
    return f


#: Nasdaq's fifth-letter codes for five-letter tickers that are not common stock.
FIFTH_LETTER_TYPES = {"P": "preferred", "U": "unit", "W": "warrant", "R": "right", "Y": "adr"}
#: SIC codes that name a security type rather than a business.
SIC_TYPES = {6770: "blank check", 6726: "fund"}
US_STATES = frozenset(
    ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR"]
)


def security_type(ticker: str, sic: float, name: str) -> str:
    """What a listed line is (step 5): ``common`` unless the ticker, SIC or name says otherwise."""
    if len(ticker) == 5 and "-" not in ticker and ticker[-1] in FIFTH_LETTER_TYPES:
        return FIFTH_LETTER_TYPES[ticker[-1]]
    if "-P" in ticker:
        return "preferred"
    if not np.isnan(sic) and int(sic) in SIC_TYPES:
        return SIC_TYPES[int(sic)]
    if name.upper().rstrip(" .").endswith((" L.P", " LP")):
        return "partnership"
    return "common"


def joined(values: list[object]) -> str:
    """Tickers as one ';'-joined string, blanks dropped."""
    return ";".join(sorted(str(v) for v in values if isinstance(v, str) and v))


def build_companies(
    src: Path, fundamentals: pd.DataFrame, prices: pd.DataFrame, stats: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Steps 4-5: every company with published fundamentals, its identity and profile."""
    co = read_simfin(src / "simfin/us-companies.csv.gz")
    industries = pd.read_csv(src / "simfin/industries.csv", sep=";")
    sub = pd.read_csv(src / "sec/sec_submissions_2021q1_by_cik.csv.gz")
    rnf = pd.read_csv(src / "sec/rankandfiled_cik_ticker.csv.gz")
    edgar = pd.read_csv(src / "sec/edgar_company_tickers.csv.gz").dropna(subset=["ticker"])

    co = co.dropna(subset=["Ticker"])
    stats["simfin_companies_with_ticker"] = len(co)
    sessions = np.sort(prices["date"].unique())
    recent = sessions[-MAX_PRICE_STALENESS_SESSIONS:]
    priced = set(prices.loc[prices["date"].isin(recent), "ticker"])
    has_fundamentals = set(fundamentals["SimFinId"])
    simfin_by_cik = co.dropna(subset=["CIK"]).groupby("CIK")["Ticker"].apply(list)
    co = co[co["SimFinId"].isin(has_fundamentals)]
    stats["companies_with_published_fundamentals"] = len(co)
    listed = co["Ticker"].isin(priced)
    stats["companies_listed"] = int(listed.sum())
    stats["companies_not_listed"] = int((~listed).sum())

    co = co.merge(industries, on="IndustryId", how="left")
    listed = co["Ticker"].isin(priced)
    cik = co["CIK"].astype("Int64")
    sub_one = sub.drop_duplicates("cik").set_index("cik")
    sub_sic = sub.dropna(subset=["sic"]).drop_duplicates("cik").set_index("cik")["sic"]
    rnf_sic = rnf.dropna(subset=["SIC"]).drop_duplicates("CIK").set_index("CIK")["SIC"]
    sic_sec = cik.map(sub_sic)
    sic_rnf = cik.map(rnf_sic)
    sic = sic_sec.fillna(sic_rnf)
    source = np.where(
        sic_sec.notna(), "sec-fsds-2021q1", np.where(sic_rnf.notna(), "rankandfiled", "none")
    )
    stats["sic_from_sec"] = int(sic_sec.notna().sum())
    stats["sic_from_rankandfiled"] = int((sic_sec.isna() & sic_rnf.notna()).sum())
    stats["sic_unknown"] = int(sic.isna().sum())

    rnf_state = rnf.dropna(subset=["Business"]).drop_duplicates("CIK").set_index("CIK")["Business"]
    country = cik.map(sub_one["countryba"]).astype("string")
    us_state = cik.map(rnf_state).isin(US_STATES)
    country = country.mask(country.isna() & us_state, "US")

    edgar_cik = (
        edgar.dropna(subset=["exchange"]).drop_duplicates("cik").set_index("cik")["exchange"]
    )
    edgar_tk = (
        edgar.dropna(subset=["exchange"]).drop_duplicates("ticker").set_index("ticker")["exchange"]
    )
    rnf_ex = rnf.dropna(subset=["Exchange"]).drop_duplicates("CIK").set_index("CIK")["Exchange"]
    exchange = cik.map(edgar_cik).fillna(co["Ticker"].map(edgar_tk)).fillna(cik.map(rnf_ex))
    exchange = exchange.replace({"NASDAQ": "Nasdaq", "NYSE MKT": "NYSE American", "OTCBB": "OTC"})

    sec_tickers = edgar.groupby("cik")["ticker"].apply(lambda t: joined(list(t)))
    sec_by_ticker = edgar.drop_duplicates("ticker").set_index("ticker")
    sec_name_by_cik = edgar.drop_duplicates("cik").set_index("cik")["name"]
    tickers = co["Ticker"].str.upper().str.strip()
    names = co["Company Name"].str.strip()
    other = [
        joined([t for t in simfin_by_cik.get(c, []) if t != tk]) if pd.notna(c) else ""
        for c, tk in zip(co["CIK"], co["Ticker"], strict=True)
    ]
    legal_name = cik.map(sec_name_by_cik).fillna(names)
    kinds = [
        security_type(t, float(s) if pd.notna(s) else np.nan, str(n))
        for t, s, n in zip(tickers, sic, legal_name, strict=True)
    ]
    out = pd.DataFrame(
        {
            "ticker": tickers,
            "name": names,
            "cik": cik,
            "exchange": exchange,
            "sector": co["Sector"],
            "industry": co["Industry"],
            "sic": sic.round().astype("Int64"),
            "sic_source": source,
            "country": country,
            "security_type": kinds,
            "employees": co["Number Employees"].round().astype("Int64"),
            "fiscal_year_end_month": co["End of financial year (month)"].round().astype("Int64"),
            "listed": listed.to_numpy(),
            "sec_tickers": cik.map(sec_tickers).fillna(""),
            "sec_ticker_cik": tickers.map(sec_by_ticker["cik"]).astype("Int64"),
            "sec_ticker_name": tickers.map(sec_by_ticker["name"]),
            "other_tickers": other,
            "simfin_id": co["SimFinId"].astype("int64"),
        }
    )
    for kind, n in pd.Series(kinds)[listed.to_numpy()].value_counts().items():
        stats[f"listed_security_type_{kind.replace(' ', '_')}"] = int(n)
    profiles = pd.DataFrame({"ticker": tickers, "business_summary": co["Business Summary"]})
    order = out["ticker"].argsort(kind="stable").to_numpy()
    return (
        out.iloc[order].reset_index(drop=True),
        profiles.iloc[order].reset_index(drop=True),
    )


def piecewise_factor(ticker: np.ndarray, ratio: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    """Replace a noisy, piecewise-constant ratio by the mean of each constant run (per ticker)."""
    log_r = np.log(ratio)
    new_run = np.ones(len(ratio), dtype=bool)
    new_run[1:] = (ticker[1:] != ticker[:-1]) | (np.abs(np.diff(log_r)) > tol)
    run_id = np.cumsum(new_run) - 1
    means = np.bincount(run_id, weights=log_r) / np.bincount(run_id)
    return np.exp(means[run_id])


def build_prices(src: Path, stats: dict[str, int]) -> pd.DataFrame:
    """Step 6: the price window, cleaned, with a piecewise-constant dividend factor."""
    raw = pd.read_parquet(src / "prices/us_daily_2019-01-02_2024-03-08.parquet")
    raw["ticker"] = raw["ticker"].astype(str)
    raw = raw[(raw["date"] >= PRICE_START) & (raw["date"] <= AS_OF)]
    valid = (raw["close"] > 0) & (raw["adj_close"] > 0) & raw["volume"].notna()
    stats["price_rows_dropped_nonpositive_or_missing"] = int((~valid).sum())
    p = raw[valid].sort_values(["ticker", "date"]).reset_index(drop=True)
    ratio = p["adj_close"].to_numpy(np.float64) / p["close"].to_numpy(np.float64)
    p["adj_factor"] = piecewise_factor(p["ticker"].to_numpy(), ratio).astype(np.float32)
    stored = p["close"].to_numpy(np.float64) * p["adj_factor"].to_numpy(np.float64)
    rel_err = np.abs(stored / p["adj_close"].to_numpy(np.float64) - 1)
    stats["adj_close_max_rel_error_e9"] = int(np.ceil(rel_err.max() * 1e9))
    p["date"] = p["date"].astype("datetime64[ns]")
    return p[["ticker", "date", "close", "adj_factor", "volume"]]


#: Rows per parquet row group: small groups keep the memory a reader needs low (one group is
#: decompressed at a time) at a cost of about 10% in file size.
ROW_GROUP_ROWS = 131_072


def write_parquet(frame: pd.DataFrame, path: Path, narrow: dict[str, pa.DataType]) -> None:
    """Write deterministically (no pandas metadata, fixed compression).

    ``narrow`` stores some columns in a smaller type: the raw close is float32, the dividend
    factor needs no more than float32's 7 digits, volumes are whole numbers. Dates are stored as
    days (``date32``); every column is dictionary-encoded where that is smaller (the tickers).
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    dates = {f.name: pa.date32() for f in table.schema if pa.types.is_timestamp(f.type)}
    for name, dtype in {**dates, **narrow}.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(name).cast(dtype))
    table = table.replace_schema_metadata(None)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=19,
        write_statistics=False,
        row_group_size=ROW_GROUP_ROWS,
    )


def manifest_notes(stats: dict[str, Any]) -> dict[str, str]:
    """What a user of the snapshot must know, in words (the README repeats it)."""
    return {
        "restatements": (
            "SimFin ships the latest restated version of every fiscal year, not the figures as "
            f"first published: {stats['restated_after_as_of']:,} of the "
            f"{stats['fundamental_rows']:,} fiscal-year rows were restated after "
            f"{AS_OF.date()} (the original figures are not in the source). Publish dates are "
            "the first publication, so which years count as known on a date is point in time; "
            "their figures may carry later restatements."
        ),
        "survivorship": (
            f"The price file holds only companies listed on {AS_OF.date()}. "
            f"{stats['companies_not_listed']:,} companies with published fundamentals were "
            "delisted or renamed earlier: they stay in companies.parquet (listed = false) and "
            "fundamentals.parquet with their last figures, without prices, so a backtest over "
            "earlier dates can account for them but cannot trade them."
        ),
        "splits": (
            "SimFin restates share counts for splits up to its collection (restatements run to "
            f"{stats['latest_restatement']}); the prices are split-adjusted to "
            f"{PRICES_COLLECTED.date()}. The integrity layer corrects the difference for the "
            "splits in universes/corporate_actions.toml and flags or excludes the rest."
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    src: Path = args.source
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, int] = {}

    fundamentals = build_fundamentals(src, stats)
    prices = build_prices(src, stats)
    companies, profiles = build_companies(src, fundamentals, prices, stats)

    id_to_ticker = companies.set_index("simfin_id")["ticker"]
    fundamentals = fundamentals[fundamentals["SimFinId"].isin(id_to_ticker.index)].copy()
    fundamentals["ticker"] = fundamentals["SimFinId"].map(id_to_ticker)
    stats["restated_after_as_of"] = int((fundamentals["restated"] > AS_OF).sum())
    latest_restatement = str(fundamentals["restated"].max().date())
    fundamentals = coerce(fundamentals, FUNDAMENTAL_FIELDS)
    fundamentals = fundamentals.sort_values(["ticker", "fiscal_year"]).reset_index(drop=True)
    listed = set(companies.loc[companies["listed"], "ticker"])
    prices = prices[prices["ticker"].isin(listed)].reset_index(drop=True)
    companies = coerce(companies, COMPANY_FIELDS)

    stats["companies"] = len(companies)
    stats["fundamental_rows"] = len(fundamentals)
    stats["price_rows"] = len(prices)
    years = fundamentals.groupby("ticker")["fiscal_year"].count()
    stats["companies_with_3plus_fiscal_years"] = int((years >= 3).sum())

    files = {
        "companies.parquet": (companies, {}),
        "profiles.parquet": (coerce(profiles, PROFILE_FIELDS), {}),
        "fundamentals.parquet": (fundamentals, {}),
        "prices.parquet": (
            coerce(prices, PRICE_FIELDS),
            {"close": pa.float32(), "adj_factor": pa.float32(), "volume": pa.int64()},
        ),
    }
    outputs = {}
    for name, (frame, narrow) in files.items():
        path = out / name
        write_parquet(frame, path, narrow)
        outputs[name] = {"rows": len(frame), "bytes": path.stat().st_size, "sha256": sha256(path)}

    inputs = sorted(p for p in src.rglob("*") if p.is_file() and p.name != "README.md")
    stats_notes: dict[str, Any] = {**stats, "latest_restatement": latest_restatement}
    manifest = {
        "name": "us-snapshot",
        "as_of": AS_OF.date().isoformat(),
        "price_window": [PRICE_START.date().isoformat(), AS_OF.date().isoformat()],
        "prices_collected": PRICES_COLLECTED.date().isoformat(),
        "fundamentals_collected": latest_restatement,
        "currency": "USD",
        "sources": {
            "fundamentals": "SimFin free bulk download, U.S. annual statements FY2019-FY2023",
            "sectors": "SimFin industry classification (12 sectors, 74 industries; not GICS)",
            "sic": "SEC Financial Statement Data Sets 2021Q1 sub.txt; Rank & Filed cik_ticker.csv",
            "exchange": "SEC company_tickers_exchange.json; Rank & Filed cik_ticker.csv",
            "identity": "SEC company_tickers_exchange.json (as shipped in edgartools 5.62.1)",
            "prices": f"Yahoo Finance daily history, collected {PRICES_COLLECTED.date()}",
        },
        "notes": manifest_notes(stats_notes),
        "inputs": {str(p.relative_to(src)): sha256(p) for p in inputs},
        "counts": stats,
        "files": outputs,
        "built_by": "universes/build_snapshot.py",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    manifest["as_of_summary"] = as_of_summary(out)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"counts": stats, "files": outputs, **manifest["as_of_summary"]}, indent=2))


def as_of_summary(out: Path) -> dict[str, object]:
    """Universe sizes and integrity counts on the as-of date, from the files just written.

    ``rotation universes`` reads the sizes from here instead of loading prices; each carries a
    fingerprint of its definition so that a changed definition is recomputed, not misreported.
    """
    from universes.catalog import definition_fingerprint, universe_definitions
    from universes.datasets import read_dataset_files
    from universes.integrity import integrity_counts
    from universes.loader import universe_from_dataset

    data = read_dataset_files(out, "snapshot")
    sizes: dict[str, object] = {}
    checks: dict[str, dict[str, int]] = {}
    for name, d in universe_definitions(include_user=False).items():
        if (d.dataset or "snapshot") != "snapshot" and d.base is None:
            continue
        u = universe_from_dataset(data, name)
        sizes[name] = {"count": len(u), "definition": definition_fingerprint(name)}
        if name == "us-all":
            checks = integrity_counts(u.integrity)
    return {"universe_sizes": sizes, "integrity_counts": checks}


if __name__ == "__main__":
    main()
