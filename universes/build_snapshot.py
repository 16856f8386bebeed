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
4. **Companies.** SimFin companies joined to the prices by ticker (the price file was collected
   for SimFin's tickers). A company is in the snapshot when it has at least one published fiscal
   year and a price in the last 10 sessions before the as-of date.
   Sector and industry come from SimFin's ``IndustryId``. The SIC code is taken by CIK from the
   SEC 2021Q1 file, else from Rank & Filed (they agree for 94% of CIKs in both); companies
   listed after 2021 often have neither and keep a missing SIC (``sic_source`` = ``none``), so
   they are never flagged as manufacturers. Exchange: SEC's ticker file by CIK, else by ticker,
   else Rank & Filed.
5. **Prices.** Sessions from 2021-03-01 to the as-of date, for snapshot companies only. Rows with
   a missing or non-positive ``close`` or ``adj_close`` are dropped (Yahoo artefacts). To keep the
   snapshot small, ``adj_close`` is stored as ``close x adj_factor`` where ``adj_factor`` is the
   dividend adjustment, made piecewise constant: consecutive sessions whose ratio differs by less
   than 1e-5 (float32 noise) share the mean ratio of their run. The relative error of the
   reconstructed ``adj_close`` is below 1e-5. Large daily moves (a few hundred exceed 50%,
   reverse splits and genuine news alike) are kept as they are; the risk model winsorises returns.
6. **Outputs** (``universes/data``): ``companies.parquet``, ``fundamentals.parquet``,
   ``prices.parquet`` and ``manifest.json`` (as-of date, sources with input checksums, row
   counts, exclusions, output checksums).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from universes.schema import (
    COMPANY_FIELDS,
    FUNDAMENTAL_FIELDS,
    PRICE_FIELDS,
    coerce,
)

AS_OF = pd.Timestamp("2024-03-08")
PRICE_START = pd.Timestamp("2021-03-01")
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
    stats["restated_after_as_of"] = int((f["restated"] > AS_OF).sum())

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


def build_companies(
    src: Path, fundamentals: pd.DataFrame, prices: pd.DataFrame, stats: dict[str, int]
) -> pd.DataFrame:
    """Step 4: companies with published fundamentals and a recent price; SIC, exchange, sector."""
    co = read_simfin(src / "simfin/us-companies.csv.gz")
    industries = pd.read_csv(src / "simfin/industries.csv", sep=";")
    sub = pd.read_csv(src / "sec/sec_submissions_2021q1_by_cik.csv.gz")
    rnf = pd.read_csv(src / "sec/rankandfiled_cik_ticker.csv.gz")
    edgar = pd.read_csv(src / "sec/edgar_company_tickers.csv.gz")

    co = co.dropna(subset=["Ticker"])
    stats["simfin_companies_with_ticker"] = len(co)
    sessions = np.sort(prices["date"].unique())
    recent = sessions[-MAX_PRICE_STALENESS_SESSIONS:]
    priced = set(prices.loc[prices["date"].isin(recent), "ticker"])
    has_fundamentals = set(fundamentals["SimFinId"])
    co = co[co["SimFinId"].isin(has_fundamentals)]
    stats["companies_with_published_fundamentals"] = len(co)
    co = co[co["Ticker"].isin(priced)]
    stats["companies_in_snapshot"] = len(co)

    co = co.merge(industries, on="IndustryId", how="left")
    cik = co["CIK"].astype("Int64")
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

    edgar_cik = (
        edgar.dropna(subset=["exchange"]).drop_duplicates("cik").set_index("cik")["exchange"]
    )
    edgar_tk = (
        edgar.dropna(subset=["exchange"]).drop_duplicates("ticker").set_index("ticker")["exchange"]
    )
    rnf_ex = rnf.dropna(subset=["Exchange"]).drop_duplicates("CIK").set_index("CIK")["Exchange"]
    exchange = cik.map(edgar_cik).fillna(co["Ticker"].map(edgar_tk)).fillna(cik.map(rnf_ex))
    exchange = exchange.replace({"NASDAQ": "Nasdaq", "NYSE MKT": "NYSE American", "OTCBB": "OTC"})

    out = pd.DataFrame(
        {
            "ticker": co["Ticker"].str.upper().str.strip(),
            "name": co["Company Name"].str.strip(),
            "cik": cik,
            "exchange": exchange,
            "sector": co["Sector"],
            "industry": co["Industry"],
            "sic": sic.round().astype("Int64"),
            "sic_source": source,
            "simfin_id": co["SimFinId"].astype("int64"),
        }
    )
    return out.sort_values("ticker").reset_index(drop=True)


def piecewise_factor(ticker: np.ndarray, ratio: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    """Replace a noisy, piecewise-constant ratio by the mean of each constant run (per ticker)."""
    log_r = np.log(ratio)
    new_run = np.ones(len(ratio), dtype=bool)
    new_run[1:] = (ticker[1:] != ticker[:-1]) | (np.abs(np.diff(log_r)) > tol)
    run_id = np.cumsum(new_run) - 1
    means = np.bincount(run_id, weights=log_r) / np.bincount(run_id)
    return np.exp(means[run_id])


def build_prices(src: Path, stats: dict[str, int]) -> pd.DataFrame:
    """Step 5: the price window, cleaned, with a piecewise-constant dividend factor."""
    raw = pd.read_parquet(src / "prices/us_daily_2019-01-02_2024-03-08.parquet")
    raw["ticker"] = raw["ticker"].astype(str)
    raw = raw[(raw["date"] >= PRICE_START) & (raw["date"] <= AS_OF)]
    valid = (raw["close"] > 0) & (raw["adj_close"] > 0) & raw["volume"].notna()
    stats["price_rows_dropped_nonpositive_or_missing"] = int((~valid).sum())
    p = raw[valid].sort_values(["ticker", "date"]).reset_index(drop=True)
    ratio = p["adj_close"].to_numpy(np.float64) / p["close"].to_numpy(np.float64)
    p["adj_factor"] = piecewise_factor(p["ticker"].to_numpy(), ratio)
    rel_err = np.abs(p["close"].to_numpy(np.float64) * p["adj_factor"] / p["adj_close"] - 1)
    stats["adj_close_max_rel_error_e9"] = int(np.ceil(rel_err.max() * 1e9))
    p["date"] = p["date"].astype("datetime64[ns]")
    return p[["ticker", "date", "close", "adj_factor", "volume"]]


def write_parquet(frame: pd.DataFrame, path: Path, narrow: dict[str, pa.DataType]) -> None:
    """Write deterministically (no pandas metadata, fixed compression).

    ``narrow`` stores some columns in a smaller type that holds their values exactly (the raw
    close is float32, volumes are whole numbers).
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, dtype in narrow.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(name).cast(dtype))
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd", compression_level=19, write_statistics=False)


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
    companies = build_companies(src, fundamentals, prices, stats)

    id_to_ticker = companies.set_index("simfin_id")["ticker"]
    fundamentals = fundamentals[fundamentals["SimFinId"].isin(id_to_ticker.index)].copy()
    fundamentals["ticker"] = fundamentals["SimFinId"].map(id_to_ticker)
    fundamentals = coerce(fundamentals, FUNDAMENTAL_FIELDS)
    fundamentals = fundamentals.sort_values(["ticker", "fiscal_year"]).reset_index(drop=True)
    prices = prices[prices["ticker"].isin(set(companies["ticker"]))].reset_index(drop=True)
    companies = coerce(companies, COMPANY_FIELDS)

    stats["companies"] = len(companies)
    stats["fundamental_rows"] = len(fundamentals)
    stats["price_rows"] = len(prices)
    years = fundamentals.groupby("ticker")["fiscal_year"].count()
    stats["companies_with_3plus_fiscal_years"] = int((years >= 3).sum())

    files = {
        "companies.parquet": companies,
        "fundamentals.parquet": fundamentals,
        "prices.parquet": coerce(prices, PRICE_FIELDS),
    }
    outputs = {}
    for name, frame in files.items():
        path = out / name
        narrow = {"close": pa.float32(), "volume": pa.int64()} if name == "prices.parquet" else {}
        write_parquet(frame, path, narrow)
        outputs[name] = {"rows": len(frame), "bytes": path.stat().st_size, "sha256": sha256(path)}

    inputs = sorted(p for p in src.rglob("*") if p.is_file() and p.name != "README.md")
    manifest = {
        "name": "us-snapshot",
        "as_of": AS_OF.date().isoformat(),
        "price_window": [PRICE_START.date().isoformat(), AS_OF.date().isoformat()],
        "currency": "USD",
        "sources": {
            "fundamentals": "SimFin free bulk download, U.S. annual statements FY2019-FY2023",
            "sectors": "SimFin industry classification (12 sectors, 74 industries; not GICS)",
            "sic": "SEC Financial Statement Data Sets 2021Q1 sub.txt; Rank & Filed cik_ticker.csv",
            "exchange": "SEC company_tickers_exchange.json; Rank & Filed cik_ticker.csv",
            "prices": "Yahoo Finance daily history, collected 2024-03-09",
        },
        "inputs": {str(p.relative_to(src)): sha256(p) for p in inputs},
        "counts": stats,
        "files": outputs,
        "built_by": "universes/build_snapshot.py",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"counts": stats, "files": outputs}, indent=2))


if __name__ == "__main__":
    main()
