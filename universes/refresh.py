"""``rotation refresh``: live data through OpenBB into a new dated dataset, same schema as the snapshot.

OpenBB is imported here and nowhere else, and only after the provider has been found
reachable (importing it takes several seconds). The pieces:

* :data:`FIELD_MAPS` - per provider, which OpenBB statement field fills each snapshot field
  (the one place this mapping lives; fields a provider lacks are reported per ticker, never
  invented);
* :func:`statements_to_fundamentals`, :func:`prices_from_history`, :func:`company_row` - turn
  OpenBB's provider data models (``model_dump()`` of its ``Data`` objects) into snapshot rows;
* :func:`write_dataset` - writes the three parquet files and the manifest into a temporary
  folder and renames it into place, so an interrupted refresh leaves nothing half-written;
* :func:`prepare_refresh`, :func:`check_reachable`, :func:`import_openbb`, :func:`refresh` - the
  steps of ``rotation refresh`` (the command itself, with its progress lines, is
  ``tui/cli/refresh.py``: nothing here prints): reachability check, per-ticker fetch, failures
  with their reasons (:func:`failure_reason`) while the rest still land.

What each provider gives (see the README):

``yfinance``
    profile (name, sector, industry, exchange; no SIC code), four to five annual statements,
    daily prices with dividends. No filing dates: a fiscal year counts as published 90 days
    after its period end (the latest SEC 10-K deadline), stated in the manifest.
``sec``
    annual statements from SEC XBRL company facts (no API key). Identity (name, sector, SIC)
    comes from the embedded snapshot where the ticker is known; prices come from yfinance,
    the installed provider that has them.

Signs follow :mod:`universes.schema`: costs, capex, dividends and taxes become positive
magnitudes whatever sign the provider reports them with; acquisitions become cash spent.

A refreshed dataset is checked like the snapshot when it is loaded (:mod:`universes.integrity`:
unit slips, share counts, minority interest, capex, identity where the columns exist); its
manifest carries no ``prices_collected`` date, so no corporate action is applied (its prices
and statements are collected on the same day).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from universes.datasets import SNAPSHOT, refreshed_datasets_dir
from universes.errors import UniverseError
from universes.paths import check_dataset_name
from universes.schema import COMPANY_FIELDS, FUNDAMENTAL_FIELDS, PRICE_FIELDS, coerce
from universes.tickers import normalize_ticker

#: Hosts each provider needs, checked before anything is fetched.
PROVIDER_HOSTS: dict[str, tuple[str, ...]] = {
    "yfinance": ("query2.finance.yahoo.com", "fc.yahoo.com"),
    "sec": ("data.sec.gov", "www.sec.gov"),
}
#: The provider of daily prices for each statement provider.
PRICE_PROVIDER = {"yfinance": "yfinance", "sec": "yfinance"}
#: A fiscal year without a filing date counts as published this long after its period end.
PUBLISH_LAG_DAYS = 90
PRICE_YEARS = 3
STATEMENT_YEARS = 5
REQUIRED = tuple(f.name for f in FUNDAMENTAL_FIELDS if f.required and f.name not in ("ticker", "fiscal_year", "period_end", "publish_date"))
#: Snapshot fields that are costs or outflows: stored as positive magnitudes.
MAGNITUDES = (
    "cogs", "sga", "rnd", "da", "interest_expense", "capex", "dividends_paid", "treasury_stock"
)
#: Snapshot fields stored as cash spent that providers report with their cash-flow sign
#: (negative = spent; a net inflow from divestitures stays an inflow): negated.
CASH_SPENT = ("acquisitions",)

#: Provider -> statement -> snapshot field -> OpenBB field names to try, first present wins;
#: ``a+b`` is the sum of two fields, used when both are present. Snapshot fields no provider
#: gives (see each provider's ``missing`` report) stay missing, never invented.
FIELD_MAPS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "yfinance": {
        "income": {
            "revenue": ("total_revenue", "operating_revenue"),
            "cogs": ("cost_of_revenue", "reconciled_cost_of_revenue"),
            "gross_profit": ("gross_profit",),
            "sga": ("selling_general_and_admin_expense", "selling_general_and_administration"),
            "rnd": ("research_and_development_expense", "research_and_development"),
            "da": ("reconciled_depreciation", "depreciation_and_amortization_in_income_statement"),
            "operating_income": ("operating_income", "total_operating_income_as_reported"),
            "interest_expense": ("interest_expense", "interest_expense_non_operating"),
            "pretax_income": ("total_pre_tax_income", "pretax_income"),
            "income_tax": ("tax_provision",),
            "net_income": ("net_income", "net_income_common_stockholders", "net_income_attributable_to_common_shareholders"),
            "shares_basic": ("weighted_average_basic_shares_outstanding", "basic_average_shares"),
            "shares_diluted": ("weighted_average_diluted_shares_outstanding", "diluted_average_shares"),
            "non_operating_income": ("other_non_operating_income_expenses", "other_income_expense"),
            "abnormal_gains": ("total_unusual_items",),
            "income_continuing_ops": ("net_income_continuous_operations",),
            "extraordinary_gains": ("net_income_discontinuous_operations",),
            "net_income_common": ("net_income_common_stockholders", "net_income_attributable_to_common_shareholders"),
        },
        "balance": {
            "cash": ("cash_cash_equivalents_and_short_term_investments", "cash_and_cash_equivalents"),
            "receivables": ("net_receivables", "receivables", "accounts_receivable"),
            "inventory": ("inventories", "inventory"),
            "current_assets": ("total_current_assets", "current_assets"),
            "ppe_net": ("plant_property_equipment_net", "net_ppe"),
            "long_term_investments": ("investments_and_advances", "long_term_equity_investment"),
            "total_assets": ("total_assets",),
            "payables": ("payables_and_accrued_expenses", "accounts_payable"),
            "current_liabilities": ("current_liabilities", "total_current_liabilities"),
            "short_term_debt": ("current_debt", "current_debt_and_capital_lease_obligation"),
            "long_term_debt": ("long_term_debt", "long_term_debt_and_capital_lease_obligation"),
            "total_liabilities": ("total_liabilities_net_minority_interest",),
            "retained_earnings": ("retained_earnings",),
            "total_equity": ("total_common_equity", "stockholders_equity", "total_equity_non_controlling_interests"),
            "paid_in_capital": ("capital_stock+additional_paid_in_capital", "capital_stock"),
            "treasury_stock": ("treasury_stock",),
        },
        "cash": {
            "operating_cash_flow": ("operating_cash_flow", "cash_flow_from_continuing_operating_activities"),
            "capex": ("capital_expenditure", "investments_in_property_plant_and_equipment", "purchase_of_ppe"),
            "dividends_paid": ("cash_dividends_paid", "payment_of_dividends", "common_stock_dividend_paid"),
            "da": ("depreciation_and_amortization", "depreciation_amortization_depletion"),
            "working_capital_change": ("change_in_working_capital",),
            "acquisitions": ("net_business_purchase_and_sale", "purchase_of_business"),
            "net_debt_issued": ("net_issuance_payments_of_debt",),
            "net_equity_issued": ("net_common_stock_issuance",),
        },
    },
    "sec": {
        "income": {
            "revenue": ("total_revenue", "operating_revenue"),
            "cogs": ("total_cost_of_revenue", "operating_cost_of_revenue"),
            "gross_profit": ("total_gross_profit",),
            "sga": ("sga_expense",),
            "rnd": ("rd_expense",),
            "da": ("depreciation_and_amortization",),
            "operating_income": ("total_operating_income",),
            "interest_expense": ("total_interest_expense",),
            "pretax_income": ("total_pretax_income",),
            "income_tax": ("income_tax_expense",),
            "net_income": ("net_income", "net_income_to_common"),
            "shares_basic": ("weighted_ave_basic_shares_os",),
            "shares_diluted": ("weighted_ave_diluted_shares_os",),
            "non_operating_income": ("total_other_income", "non_operating_income"),
            "income_continuing_ops": ("net_income_continuing",),
            "extraordinary_gains": ("net_income_discontinued",),
            "net_income_common": ("net_income_to_common",),
        },
        "balance": {
            "cash": ("cash_and_equivalents",),
            "receivables": ("accounts_receivable", "customer_and_other_receivables"),
            "inventory": ("net_inventory",),
            "current_assets": ("total_current_assets",),
            "ppe_net": ("net_ppe",),
            "long_term_investments": ("long_term_investments",),
            "total_assets": ("total_assets",),
            "payables": ("accounts_payable",),
            "current_liabilities": ("total_current_liabilities",),
            "short_term_debt": ("short_term_debt", "current_portion_of_long_term_debt"),
            "long_term_debt": ("long_term_debt",),
            "total_liabilities": ("total_liabilities",),
            "retained_earnings": ("retained_earnings",),
            "total_equity": ("total_common_equity", "total_equity"),
            "treasury_stock": ("treasury_stock",),
        },
        "cash": {
            "operating_cash_flow": ("net_cash_from_operating_activities", "net_cash_from_continuing_operating_activities"),
            "capex": ("purchase_of_plant_property_and_equipment",),
            "dividends_paid": ("payment_of_dividends",),
            "da": ("depreciation_and_amortization",),
            "acquisitions": ("acquisitions",),
        },
    },
}


class RefreshError(UniverseError):
    """The refresh cannot run (provider unreachable, unknown provider, bad name)."""


@dataclass
class TickerData:
    """What one ticker's fetch produced, as OpenBB data models dumped to dicts."""

    ticker: str
    profile: dict[str, Any] = field(default_factory=dict)
    income: list[dict[str, Any]] = field(default_factory=list)
    balance: list[dict[str, Any]] = field(default_factory=list)
    cash: list[dict[str, Any]] = field(default_factory=list)
    prices: list[dict[str, Any]] = field(default_factory=list)


# ----------------------------------------------------------------------------- mapping
def _number(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return x if np.isfinite(x) else float("nan")


def _field(record: dict[str, Any], key: str) -> float:
    """A provider field as a number; ``a+b`` is the sum of two fields (NaN unless both exist)."""
    return float(sum(_number(record.get(part)) for part in key.split("+")))


def _period(record: dict[str, Any]) -> pd.Timestamp:
    return pd.Timestamp(record["period_ending"]).normalize()


def statements_to_fundamentals(
    provider: str, data: TickerData, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, list[str]]:
    """Snapshot fundamentals rows from one ticker's statements.

    Returns
    -------
    fundamentals : pandas.DataFrame
        One row per fiscal year that has every required field, published by ``as_of``.
    missing : list of str
        Snapshot fields this provider gave no value for in any year (reported, not invented).
    """
    maps = FIELD_MAPS[provider]
    years: dict[pd.Timestamp, dict[str, Any]] = {}
    for statement in ("income", "balance", "cash"):
        for record in getattr(data, statement):
            row = years.setdefault(_period(record), {})
            if record.get("fiscal_year") and "fiscal_year" not in row:
                row["fiscal_year"] = int(record["fiscal_year"])
            for target, sources in maps[statement].items():
                if target in row and np.isfinite(row[target]):
                    continue
                for key in sources:
                    value = _field(record, key)
                    if np.isfinite(value):
                        if target in MAGNITUDES:
                            value = abs(value)
                        elif target in CASH_SPENT:
                            value = -value
                        row[target] = value
                        break
    rows = []
    for end, row in sorted(years.items()):
        if "income_tax" not in row and np.isfinite(row.get("pretax_income", np.nan)) and np.isfinite(row.get("net_income", np.nan)):
            row["income_tax"] = row["pretax_income"] - row["net_income"]
        if "gross_profit" not in row and "revenue" in row and "cogs" in row:
            row["gross_profit"] = row["revenue"] - row["cogs"]
        rows.append(
            {
                **row,
                "ticker": data.ticker,
                "fiscal_year": row.get("fiscal_year", end.year),
                "period_end": end,
                "publish_date": end + pd.Timedelta(days=PUBLISH_LAG_DAYS),
            }
        )
    frame = pd.DataFrame(rows)
    every = [f for m in maps.values() for f in m]
    missing = sorted({f for f in every if frame.empty or f not in frame or frame[f].isna().all()})
    if frame.empty:
        return coerce(frame, FUNDAMENTAL_FIELDS), missing
    complete = frame[[c for c in REQUIRED if c in frame]].notna().all(axis=1) & all(c in frame for c in REQUIRED)
    frame = frame[complete & (frame["publish_date"] <= as_of)]
    return coerce(frame.reset_index(drop=True), FUNDAMENTAL_FIELDS), missing


def prices_from_history(ticker: str, records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Snapshot price rows from OpenBB daily history (split-adjusted close, volume, dividends).

    ``adj_factor`` is the dividend adjustment Yahoo applies: before each ex-date with dividend
    ``D``, prices are multiplied by ``1 - D / previous close``.
    """
    frame = pd.DataFrame(list(records))
    if frame.empty:
        return coerce(frame, PRICE_FIELDS)
    frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize(None).dt.normalize()
    frame = frame.sort_values("date").drop_duplicates("date")
    frame = frame[(pd.to_numeric(frame["close"], errors="coerce") > 0) & frame["volume"].notna()]
    close = frame["close"].to_numpy(float)
    dividend = pd.to_numeric(frame.get("dividend", pd.Series(0.0, index=frame.index)), errors="coerce").fillna(0.0).to_numpy(float)
    step = np.ones(len(frame))
    paid = np.flatnonzero(dividend[1:] > 0) + 1
    step[paid] = 1 - dividend[paid] / close[paid - 1]
    # factor[t] = product of the steps of the ex-dates after t
    after = np.cumprod(step[::-1])[::-1]
    factor = np.append(after[1:], 1.0)
    return coerce(
        pd.DataFrame({"ticker": ticker, "date": frame["date"].to_numpy(), "close": close, "adj_factor": factor, "volume": frame["volume"].to_numpy(float)}),
        PRICE_FIELDS,
    )


def company_row(data: TickerData, known: pd.DataFrame) -> dict[str, Any]:
    """The company's identity: the provider's profile, SIC from the snapshot where known."""
    p = data.profile
    snap = known.loc[data.ticker] if data.ticker in known.index else pd.Series(dtype=object)

    def pick(*values: Any) -> Any:
        return next((v for v in values if v is not None and pd.notna(v) and v != ""), None)

    sic = pick(snap.get("sic"))
    return {
        "ticker": data.ticker,
        "name": pick(p.get("name"), snap.get("name"), data.ticker),
        "cik": pick(p.get("cik"), snap.get("cik")),
        "exchange": pick(p.get("stock_exchange"), snap.get("exchange")),
        "sector": pick(p.get("sector"), snap.get("sector")),
        "industry": pick(p.get("industry_category"), snap.get("industry")),
        "sic": sic,
        "sic_source": "snapshot (SEC 2021Q1 / Rank & Filed)" if sic is not None else "none",
    }


# ----------------------------------------------------------------------------- writing
def write_dataset(
    name: str,
    companies: pd.DataFrame,
    fundamentals: pd.DataFrame,
    prices: pd.DataFrame,
    manifest: dict[str, Any],
    overwrite: bool = False,
) -> Path:
    """Write a dataset folder atomically (temporary folder, then one rename).

    Raises
    ------
    RefreshError
        The name is taken (and ``overwrite`` is false) or not a plain folder name.
    """
    _check_new_name(name)
    root = refreshed_datasets_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    if final.exists() and not overwrite:
        raise RefreshError(f"A dataset called {name!r} exists at {final}; choose another --name or pass --force.")
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        coerce(companies, COMPANY_FIELDS).to_parquet(tmp / "companies.parquet", index=False)
        coerce(fundamentals, FUNDAMENTAL_FIELDS).to_parquet(tmp / "fundamentals.parquet", index=False)
        coerce(prices, PRICE_FIELDS).to_parquet(tmp / "prices.parquet", index=False)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old.", dir=root))
            os.replace(final, old / name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def build_dataset(
    provider: str, fetched: list[TickerData], known: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, str], dict[str, list[str]]]:
    """Frames of a dataset from fetched tickers; tickers without usable data are failures.

    Returns
    -------
    companies, fundamentals, prices : pandas.DataFrame
    failures : dict
        ticker -> why it was left out.
    missing : dict
        ticker -> snapshot fields the provider did not give.
    """
    companies, fundamentals, prices = [], [], []
    failures: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    for data in fetched:
        f, lacks = statements_to_fundamentals(provider, data, as_of)
        p = prices_from_history(data.ticker, data.prices)
        if f.empty:
            failures[data.ticker] = "no fiscal year with revenue, operating income, net income, total assets and equity"
            continue
        if p.empty:
            failures[data.ticker] = "no daily prices"
            continue
        companies.append(company_row(data, known))
        fundamentals.append(f)
        prices.append(p)
        if lacks:
            missing[data.ticker] = lacks
    return (
        pd.DataFrame(companies, columns=[f.name for f in COMPANY_FIELDS]),
        pd.concat(fundamentals, ignore_index=True) if fundamentals else coerce(pd.DataFrame(), FUNDAMENTAL_FIELDS),
        pd.concat(prices, ignore_index=True) if prices else coerce(pd.DataFrame(), PRICE_FIELDS),
        failures,
        missing,
    )


# ----------------------------------------------------------------------------- live
def installed_providers() -> list[str]:
    """OpenBB provider extensions installed (read from package metadata; OpenBB not imported)."""
    from importlib.metadata import entry_points

    return sorted(e.name for e in entry_points(group="openbb_provider_extension"))


def check_reachable(provider: str, timeout: float) -> None:
    """Fail fast, before importing OpenBB, when the provider's hosts cannot be reached."""
    problems = []
    for host in PROVIDER_HOSTS[provider]:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                return
        except OSError as exc:
            problems.append(f"{host}: {exc.strerror or exc}")
    raise RefreshError(
        f"The {provider} provider cannot be reached from this machine ({'; '.join(problems)}). "
        "`rotation refresh` needs internet access to the provider: run it where the provider can be "
        "reached (nothing was written here), or keep using the embedded snapshot."
    )


def fetch_ticker(obb: Any, provider: str, ticker: str, start: date) -> TickerData:
    """Everything for one ticker through OpenBB (raises on provider errors)."""
    out = TickerData(ticker)

    def dump(result: Any) -> list[dict[str, Any]]:
        return [r.model_dump() for r in (result.results or [])]

    if provider == "yfinance":
        profile = dump(obb.equity.profile(symbol=ticker, provider="yfinance"))
        out.profile = profile[0] if profile else {}
    kwargs = {"period": "annual", "limit": STATEMENT_YEARS}
    out.income = dump(obb.equity.fundamental.income(symbol=ticker, provider=provider, **kwargs))
    out.balance = dump(obb.equity.fundamental.balance(symbol=ticker, provider=provider, **kwargs))
    out.cash = dump(obb.equity.fundamental.cash(symbol=ticker, provider=provider, **kwargs))
    out.prices = dump(
        obb.equity.price.historical(symbol=ticker, provider=PRICE_PROVIDER[provider], start_date=start, adjustment="splits_only")
    )
    return out


def failure_reason(exc: BaseException) -> str:
    """Why a provider call failed, in one line: the exception's own message, or the first
    non-empty message down its chain of causes (OpenBB wraps the provider's error in an
    ``OpenBBError`` whose own text can be empty)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).strip()
        if text:
            first = text.splitlines()[0][:200]
            return f"{type(exc).__name__}: {first}"
        current = current.__cause__ or current.__context__
    return f"{type(exc).__name__} (the provider gave no reason; the ticker may be unknown to it)"


#: ``progress(i, n, ticker, status)`` after each ticker; the command line prints it.
Progress = Callable[[int, int, str, str], None]


def refresh(
    provider: str,
    tickers: list[str],
    name: str,
    fetch: Callable[[str], TickerData],
    known: pd.DataFrame,
    as_of: pd.Timestamp,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> tuple[Path | None, dict[str, str], dict[str, list[str]]]:
    """Fetch every ticker (one failure does not stop the rest) and write the dataset.

    Returns the dataset's folder (None when nothing was usable), the failures (ticker ->
    reason) and the fields each ticker's provider did not give.
    """
    fetched: list[TickerData] = []
    failures: dict[str, str] = {}
    for i, ticker in enumerate(tickers, start=1):
        try:
            data = fetch(ticker)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a provider error for one ticker: report it, go on
            failures[ticker] = failure_reason(exc)
            if progress is not None:
                progress(i, len(tickers), ticker, f"failed ({failures[ticker]})")
            continue
        fetched.append(data)
        if progress is not None:
            progress(i, len(tickers), ticker, f"{len(data.income)} years, {len(data.prices)} sessions")
    companies, fundamentals, prices, left_out, missing = build_dataset(provider, fetched, known, as_of)
    failures.update(left_out)
    if companies.empty:
        return None, failures, missing
    last = pd.Timestamp(prices["date"].max()).normalize()
    manifest = {
        "name": name,
        "provider": provider,
        "price_provider": PRICE_PROVIDER[provider],
        "as_of": min(last, as_of).date().isoformat(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "currency": "USD",
        "publish_date": f"estimated: period end + {PUBLISH_LAG_DAYS} days (the provider gives no filing dates)",
        "sources": {"statements": f"OpenBB {provider}", "prices": f"OpenBB {PRICE_PROVIDER[provider]}", "sic": "embedded snapshot where known"},
        "counts": {"companies": len(companies), "fundamental_rows": len(fundamentals), "price_rows": len(prices), "failed": len(failures)},
        "failures": failures,
        "fields_not_given": missing,
    }
    path = write_dataset(name, companies, fundamentals, prices, manifest, overwrite=overwrite)
    return path, failures, missing


def prepare_refresh(provider: str, tickers_text: str | None, universe: str | None, name: str | None, force: bool) -> tuple[str, list[str], pd.DataFrame, pd.Timestamp]:
    """Check the request before anything is fetched: the provider, the name, the tickers.

    Returns
    -------
    name, tickers, known companies of the snapshot, today

    Raises
    ------
    RefreshError
        Unknown provider, a name already taken (without ``force``), no tickers.
    """
    installed = installed_providers()
    if provider not in FIELD_MAPS or provider not in installed:
        usable = [p for p in installed if p in FIELD_MAPS]
        raise RefreshError(f"Unknown provider {provider!r}. Installed providers that refresh can use: {', '.join(usable)}.")
    today = pd.Timestamp(date.today())
    name = name or f"live-{provider}-{today.date().isoformat()}"
    _check_new_name(name)
    if (refreshed_datasets_dir() / name).exists() and not force:
        raise RefreshError(f"A dataset called {name!r} exists; choose another --name or pass --force.")
    from universes.datasets import open_dataset

    known = open_dataset(SNAPSHOT).companies
    if tickers_text:
        tickers = list(dict.fromkeys(normalize_ticker(t) for t in tickers_text.split(",") if t.strip()))
    else:
        from universes.loader import load_universe

        tickers = list(load_universe(str(universe)).tickers)
    if not tickers:
        raise RefreshError("No tickers to refresh: pass --tickers T1,T2 or --universe NAME.")
    return name, tickers, known, today


def _check_new_name(name: str) -> None:
    """A refreshed dataset's name is a plain folder name, and not the embedded snapshot's."""
    if name == SNAPSHOT:
        raise RefreshError(f"{name!r} is the embedded data's name; choose another --name.")
    try:
        check_dataset_name(name)
    except UniverseError as exc:
        raise RefreshError(f"--name: {exc}") from None


def import_openbb() -> Any:
    """OpenBB's ``obb`` object, or a RefreshError a person can act on.

    OpenBB builds its Python interface into its own installed package on first import; on a
    read-only installation that fails with a permission error deep inside OpenBB.
    """
    try:
        from openbb import obb
    except (PermissionError, OSError) as exc:
        raise RefreshError(
            f"OpenBB could not start: it writes its build files into its own package folder, which is "
            f"read-only here ({exc}). Run `python -c \"import openbb; openbb.build()\"` once with write "
            "access to that environment, or install rotation into a writable one. Nothing was written."
        ) from exc
    return obb


def fetch_start(today: pd.Timestamp) -> date:
    """The first date of price history a refresh asks for."""
    return (today - pd.DateOffset(years=PRICE_YEARS) - timedelta(days=10)).date()
