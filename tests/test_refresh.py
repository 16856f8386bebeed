"""`rotation refresh`: the OpenBB mapping through OpenBB's own provider code, the write path,
the real offline failure, and (marked online) a real refresh where the providers answer.

The provider payloads below are shaped like Yahoo Finance's and SEC's responses (the dicts
OpenBB's fetchers pass to ``transform_data``) and filled with the snapshot's real figures for
real companies, so that every mapped field can be checked against the value it came from.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from universes import load_universe, open_dataset
from universes.refresh import (
    RefreshError,
    TickerData,
    check_reachable,
    prices_from_history,
    refresh,
    statements_to_fundamentals,
)
from universes.schema import PRICE_FIELDS

TICKERS = ("MCFT", "MED", "PLAB")
AS_OF = pd.Timestamp("2024-03-08")


def snapshot_rows(ticker: str) -> pd.DataFrame:
    f = open_dataset().fundamentals
    return f[(f["ticker"] == ticker) & (f["publish_date"] <= AS_OF)].sort_values("fiscal_year")


def stamp(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")  # how OpenBB's yfinance extractor writes periods


def yahoo_payloads(ticker: str) -> tuple[list[dict], list[dict], list[dict]]:
    """Income, balance and cash-flow records as Yahoo reports them (costs positive, outflows negative)."""
    income, balance, cash = [], [], []
    for r in snapshot_rows(ticker).itertuples():
        end = stamp(r.period_end)
        income.append({
            "period_ending": end, "total_revenue": r.revenue, "cost_of_revenue": r.cogs, "gross_profit": r.gross_profit,
            "selling_general_and_administration": r.sga, "research_and_development": r.rnd,
            "reconciled_depreciation": r.da, "operating_income": r.operating_income, "interest_expense": r.interest_expense,
            "pretax_income": r.pretax_income, "tax_provision": r.income_tax, "net_income": r.net_income,
            "basic_average_shares": r.shares_basic, "diluted_average_shares": r.shares_diluted,
            "other_non_operating_income_expenses": r.non_operating_income, "total_unusual_items": r.abnormal_gains,
            "net_income_continuous_operations": r.income_continuing_ops,
            "net_income_discontinuous_operations": r.extraordinary_gains,
            "net_income_common_stockholders": r.net_income_common,
        })
        balance.append({
            "period_ending": end, "cash_cash_equivalents_and_short_term_investments": r.cash, "receivables": r.receivables,
            "inventory": r.inventory, "current_assets": r.current_assets, "net_ppe": r.ppe_net,
            "investments_and_advances": r.long_term_investments, "total_assets": r.total_assets,
            "payables_and_accrued_expenses": r.payables, "current_liabilities": r.current_liabilities,
            "current_debt": r.short_term_debt, "long_term_debt": r.long_term_debt,
            "total_liabilities_net_minority_interest": r.total_liabilities, "retained_earnings": r.retained_earnings,
            "stockholders_equity": r.total_equity, "capital_stock": r.paid_in_capital,
            "additional_paid_in_capital": 0.0, "treasury_stock": r.treasury_stock,
        })
        cash.append({
            "period_ending": end, "operating_cash_flow": r.operating_cash_flow, "capital_expenditure": -r.capex,
            "cash_dividends_paid": -r.dividends_paid, "depreciation_and_amortization": r.da,
            "change_in_working_capital": r.working_capital_change, "net_business_purchase_and_sale": -r.acquisitions,
            "net_issuance_payments_of_debt": r.net_debt_issued, "net_common_stock_issuance": r.net_equity_issued,
        })
    return income, balance, cash


def yahoo_history(ticker: str) -> pd.DataFrame:
    """Daily history as OpenBB's yfinance download returns it: split-adjusted close and dividends."""
    h = open_dataset().prices
    close = h.close[:, h.tickers.get_loc(ticker)]
    adj = h.adj_close[:, h.tickers.get_loc(ticker)]
    vol = h.volume[:, h.tickers.get_loc(ticker)]
    ok = ~np.isnan(close) & (h.dates <= np.datetime64(AS_OF))
    close, adj, vol, dates = close[ok], adj[ok], vol[ok], h.dates[ok]
    factor = adj / close
    dividend = np.zeros(len(close))
    dividend[1:] = np.where(factor[:-1] / factor[1:] < 1 - 1e-6, close[:-1] * (1 - factor[:-1] / factor[1:]), 0.0)
    return pd.DataFrame({"date": dates, "open": close, "high": close, "low": close, "close": close, "volume": vol, "dividends": dividend})


def yahoo_ticker(ticker: str) -> TickerData:
    """One ticker through OpenBB's real yfinance fetchers' transform steps."""
    from openbb_yfinance.models.balance_sheet import YFinanceBalanceSheetFetcher
    from openbb_yfinance.models.cash_flow import YFinanceCashFlowStatementFetcher
    from openbb_yfinance.models.equity_historical import YFinanceEquityHistoricalFetcher
    from openbb_yfinance.models.equity_profile import YFinanceEquityProfileFetcher
    from openbb_yfinance.models.income_statement import YFinanceIncomeStatementFetcher

    income, balance, cash = yahoo_payloads(ticker)
    company = open_dataset().companies.loc[ticker]

    def run(fetcher, payload, **params):
        query = fetcher.transform_query({"symbol": ticker, **params})
        return [m.model_dump() for m in fetcher.transform_data(query, payload)]

    profile = run(YFinanceEquityProfileFetcher, [{"symbol": ticker, "longName": company["name"], "sector": company["sector"], "industry": company["industry"], "exchange": "NMS"}])
    return TickerData(
        ticker,
        profile=profile[0],
        income=run(YFinanceIncomeStatementFetcher, income, period="annual"),
        balance=run(YFinanceBalanceSheetFetcher, balance, period="annual"),
        cash=run(YFinanceCashFlowStatementFetcher, cash, period="annual"),
        prices=run(YFinanceEquityHistoricalFetcher, yahoo_history(ticker), start_date="2021-03-01"),
    )


@pytest.mark.parametrize("ticker", TICKERS)
def test_yfinance_statements_map_back_to_the_snapshot_figures(ticker: str) -> None:
    data = yahoo_ticker(ticker)
    got, missing = statements_to_fundamentals("yfinance", data, AS_OF + pd.Timedelta(days=400))
    want = snapshot_rows(ticker)
    assert list(got["period_end"]) == list(want["period_end"])
    for column in ("revenue", "cogs", "gross_profit", "sga", "operating_income", "interest_expense", "pretax_income",
                   "income_tax", "net_income", "shares_basic", "cash", "receivables", "inventory", "current_assets",
                   "ppe_net", "total_assets", "current_liabilities", "short_term_debt", "long_term_debt",
                   "total_liabilities", "retained_earnings", "total_equity", "operating_cash_flow", "capex", "dividends_paid", "da",
                   "non_operating_income", "abnormal_gains", "income_continuing_ops", "extraordinary_gains",
                   "net_income_common", "paid_in_capital", "treasury_stock", "working_capital_change",
                   "acquisitions", "net_debt_issued", "net_equity_issued"):
        a, b = got[column].to_numpy(float), want[column].to_numpy(float)
        both = ~np.isnan(b)
        assert np.allclose(np.abs(a[both]), np.abs(b[both]), rtol=1e-9), column
    for column in ("acquisitions", "net_debt_issued", "net_equity_issued", "working_capital_change"):
        a, b = got[column].to_numpy(float), want[column].to_numpy(float)
        assert np.allclose(a, b, rtol=1e-9, equal_nan=True), column  # signs kept, not just magnitudes
    assert (got["capex"].dropna() >= 0).all() and (got["dividends_paid"].dropna() >= 0).all()
    assert (got["publish_date"] == got["period_end"] + pd.Timedelta(days=90)).all()
    assert "rnd" not in missing and "revenue" not in missing


def test_yfinance_prices_keep_closes_and_dividend_adjustment() -> None:
    data = yahoo_ticker("MED")  # pays dividends
    prices = prices_from_history("MED", data.prices)
    assert list(prices.columns) == [f.name for f in PRICE_FIELDS]
    h = yahoo_history("MED")
    assert np.allclose(prices["close"], h["close"]) and len(prices) == len(h)
    mine = prices["close"].to_numpy() * prices["adj_factor"].to_numpy()
    snap = open_dataset().prices.series("MED").loc[:AS_OF].to_numpy()
    assert np.allclose(mine[1:] / mine[:-1], snap[1:] / snap[:-1], rtol=1e-6)
    assert (prices["adj_factor"].diff().dropna() >= -1e-12).all()  # factor grows towards today


def test_sec_statements_map_through_secs_data_models() -> None:
    from openbb_sec.models.balance_sheet import SecBalanceSheetData
    from openbb_sec.models.cash_flow import SecCashFlowStatementData
    from openbb_sec.models.income_statement import SecIncomeStatementData

    rows = snapshot_rows("PLAB")
    income = [SecIncomeStatementData.model_validate({
        "period_ending": r.period_end.date(), "fiscal_year": r.fiscal_year, "total_revenue": r.revenue,
        "total_cost_of_revenue": r.cogs, "sga_expense": r.sga, "rd_expense": r.rnd, "total_operating_income": r.operating_income,
        "total_interest_expense": r.interest_expense, "total_pretax_income": r.pretax_income, "income_tax_expense": r.income_tax,
        "net_income": r.net_income, "weighted_ave_basic_shares_os": r.shares_basic}).model_dump() for r in rows.itertuples()]
    balance = [SecBalanceSheetData.model_validate({
        "period_ending": r.period_end.date(), "cash_and_equivalents": r.cash, "total_current_assets": r.current_assets,
        "total_assets": r.total_assets, "total_current_liabilities": r.current_liabilities, "long_term_debt": r.long_term_debt,
        "total_liabilities": r.total_liabilities, "retained_earnings": r.retained_earnings, "total_common_equity": r.total_equity}).model_dump()
        for r in rows.itertuples()]
    cash = [SecCashFlowStatementData.model_validate({
        "period_ending": r.period_end.date(), "net_cash_from_operating_activities": r.operating_cash_flow,
        "purchase_of_plant_property_and_equipment": -r.capex, "payment_of_dividends": -r.dividends_paid}).model_dump()
        for r in rows.itertuples()]
    got, missing = statements_to_fundamentals("sec", TickerData("PLAB", income=income, balance=balance, cash=cash), AS_OF + pd.Timedelta(days=400))
    assert list(got["fiscal_year"]) == list(rows["fiscal_year"])
    for column in ("revenue", "operating_income", "net_income", "total_assets", "total_equity", "capex", "cash"):
        assert np.allclose(got[column].to_numpy(float), rows[column].to_numpy(float), rtol=1e-9), column
    assert np.allclose(got["gross_profit"], rows["revenue"] - rows["cogs"])
    assert {"inventory", "receivables", "ppe_net"} <= set(missing)  # not in this payload: reported, not invented


def test_refresh_writes_a_universe_every_command_can_use(rotation_home: Path) -> None:
    known = open_dataset().companies

    def fetch(ticker: str) -> TickerData:
        if ticker == "NOPE":
            raise ValueError("Symbol NOPE not found")
        return yahoo_ticker(ticker)

    path, failures, _ = refresh("yfinance", [*TICKERS, "NOPE"], "live-test", fetch, known, AS_OF)
    assert path == rotation_home / "datasets" / "live-test"
    assert failures == {"NOPE": "ValueError: Symbol NOPE not found"}
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["provider"] == "yfinance" and manifest["as_of"] == "2024-03-08"
    assert manifest["failures"] == failures
    u = load_universe("live-test")
    assert sorted(u.tickers) == sorted(TICKERS)
    # A refreshed dataset passes the same integrity layer: PLAB's minority holders are found in
    # the statements Yahoo gives, as in the snapshot's.
    assert "minority interest 37% of profit" in u.companies.loc["PLAB", "data_flags"]
    plab = u.fundamentals[u.fundamentals["ticker"] == "PLAB"].set_index("fiscal_year")
    assert plab.loc[2023, "parent_share"] == pytest.approx(125_485_000 / 199_634_000)
    snap = load_universe("us-all")
    for t in TICKERS:  # same price and, where SimFin's share count is the same, the same market cap
        assert u.companies.loc[t, "price"] == pytest.approx(snap.companies.loc[t, "price"])
        assert u.companies.loc[t, "sic"] == snap.companies.loc[t, "sic"]
    listed = json.loads(run_cli("universes", "--format", "json", env={"ROTATION_HOME": str(rotation_home)}).stdout)
    row = next(r for r in listed if r["name"] == "live-test")
    assert row["as_of"] == "2024-03-08" and row["count"] == len(TICKERS) and row["provider"] == "yfinance"
    done = run_cli("screen", "--universe", "live-test", "--format", "json", env={"ROTATION_HOME": str(rotation_home)})
    assert done.returncode == 0, done.stderr

    with pytest.raises(RefreshError, match="exists"):
        refresh("yfinance", list(TICKERS), "live-test", fetch, known, AS_OF)


def test_interrupted_refresh_leaves_no_universe(rotation_home: Path) -> None:
    def fetch(ticker: str) -> TickerData:
        if ticker == "MED":
            raise KeyboardInterrupt
        return yahoo_ticker(ticker)

    with pytest.raises(KeyboardInterrupt):
        refresh("yfinance", list(TICKERS), "half", fetch, open_dataset().companies, AS_OF)
    datasets = rotation_home / "datasets"
    assert not datasets.exists() or list(datasets.iterdir()) == []


def _providers_reachable() -> bool:
    try:
        check_reachable("yfinance", 3.0)
    except RefreshError:
        return False
    return True


def test_offline_refresh_fails_fast_and_writes_nothing(rotation_home: Path) -> None:
    if _providers_reachable():
        pytest.skip("this machine can reach Yahoo Finance: the offline failure cannot be shown here")
    start = time.monotonic()
    done = run_cli("refresh", "--tickers", "MCFT,MED", "--timeout", "3", env={"ROTATION_HOME": str(rotation_home)})
    elapsed = time.monotonic() - start
    assert done.returncode == 2
    assert "cannot be reached" in done.stderr and "nothing was written" in done.stderr
    assert elapsed < 30
    assert not (rotation_home / "datasets").exists()


def test_unknown_provider_lists_the_installed_ones() -> None:
    done = run_cli("refresh", "--provider", "bloomberg", "--tickers", "MCFT")
    assert done.returncode == 2
    assert "sec" in done.stderr and "yfinance" in done.stderr


def test_other_commands_never_import_openbb() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tui.cli import main\n"
        "main(['universes', '--format', 'json'])\n"
        "main(['screen', '--top', '3'])\n"
        "main(['show', 'MCFT'])\n"
        "main(['valuation', '--universe', 'us-small'])\n"
        "main(['optimize', '--format', 'json'])\n"
        "assert not [m for m in sys.modules if m.startswith('openbb')], 'openbb imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.online
def test_online_refresh_of_a_few_tickers(rotation_home: Path) -> None:
    if not _providers_reachable():
        pytest.skip("Yahoo Finance cannot be reached from this machine")
    done = run_cli("refresh", "--tickers", "MCFT,PLAB", "--name", "online", env={"ROTATION_HOME": str(rotation_home)}, timeout=600)
    assert done.returncode == 0, done.stderr
    assert len(load_universe("online")) >= 1


def test_company_identity_when_the_snapshot_has_no_sic() -> None:
    from universes.refresh import company_row

    known = open_dataset().companies
    ticker = known.index[known["sic"].isna()][0]
    row = company_row(TickerData(ticker, profile={"name": "Live name", "sector": "Industrials"}), known)
    assert row["sic"] is None and row["sic_source"] == "none"
    assert row["name"] == "Live name" and row["sector"] == "Industrials"
    assert row["industry"] == known.loc[ticker, "industry"]
    fresh = company_row(TickerData("NOTINSNAPSHOT", profile={}), known)
    assert fresh["name"] == "NOTINSNAPSHOT" and fresh["sic"] is None


def test_a_failure_says_why_even_when_openbb_wraps_an_empty_error() -> None:
    from universes.refresh import failure_reason

    class OpenBBError(Exception):
        pass

    try:
        try:
            raise ValueError("No data found for symbol ZZZQ")
        except ValueError as inner:
            raise OpenBBError("") from inner
    except OpenBBError as exc:
        assert failure_reason(exc) == "OpenBBError: No data found for symbol ZZZQ"
    assert "gave no reason" in failure_reason(OpenBBError(""))
    assert failure_reason(ValueError("timeout")) == "ValueError: timeout"
