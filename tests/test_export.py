"""Holdings in, trade lists out: the workbook read back, the basket, injection, atomic writes."""

from __future__ import annotations

import csv
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import run_cli

from optimizer import ConstraintSettings, RotationOptimizer
from screener import load_screen, run_screen
from tui.export import BASKET_COLUMNS, ExportError, basket_path, export_context, export_rotation
from universes import DataFileError, load_universe, open_dataset
from universes.holdings import read_holdings

SHEETS = ["Summary", "Trades", "Portfolio", "Screen", "Constraints", "Sources"]


@pytest.fixture(scope="module")
def solved():
    universe = load_universe("us-small-manufacturing")
    screen = run_screen(universe, load_screen())
    result = RotationOptimizer(universe, screen, capital=1_000_000).solve(ConstraintSettings())
    ctx = export_context(universe, screen.screen.name, "all cash", "shipped defaults")
    return universe, screen, result, ctx


@pytest.fixture(scope="module")
def known():
    return open_dataset("snapshot").companies


def test_every_sheet_reads_back_with_the_optimizers_numbers(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    xlsx, basket = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    book = pd.ExcelFile(xlsx)
    assert book.sheet_names == SHEETS

    trades = pd.read_excel(xlsx, sheet_name="Trades")
    expected = result.trades.trades
    assert list(trades["Ticker"]) == list(expected["ticker"])
    assert list(trades["Side"]) == list(expected["side"])
    assert trades["Shares"].tolist() == expected["shares"].tolist()
    assert trades["Price"].to_numpy() == pytest.approx(expected["price"].to_numpy(), rel=1e-12)
    assert trades["Est. cost"].to_numpy() == pytest.approx(expected["est_cost"].to_numpy(), rel=1e-12)
    assert trades["Weight after"].to_numpy() == pytest.approx(expected["weight_after"].to_numpy(), rel=1e-12)

    wb = openpyxl.load_workbook(xlsx)
    ws = wb["Trades"]
    assert ws["F2"].value == "=D2*E2"  # notional is an Excel formula, shares x price
    assert ws.freeze_panes == "A2"
    for name in SHEETS:
        assert wb[name].tables, f"{name} has no native table"
    assert wb["Summary"]._charts, "the Summary sheet has the sector bar chart"
    assert wb["Screen"].conditional_formatting, "price / fair value is colour-coded"

    portfolio = pd.read_excel(xlsx, sheet_name="Portfolio")
    held = result.weights[result.weights["weight_after"].abs() > 1e-9]
    got = portfolio.set_index(portfolio.columns[0])
    weight_col = "Weight after"
    assert set(got.index) == set(held.index)
    assert got.loc[held.index, weight_col].to_numpy() == pytest.approx(held["weight_after"].to_numpy(), rel=1e-12)

    ranked = pd.read_excel(xlsx, sheet_name="Screen")
    assert list(ranked["ticker"]) == list(screen.ranked.index)
    assert ranked["composite"].to_numpy() == pytest.approx(screen.ranked["composite"].to_numpy(), rel=1e-12)

    cons = pd.read_excel(xlsx, sheet_name="Constraints")
    assert list(cons["Constraint"]) == list(result.constraints["name"])
    assert list(cons["Binding"]) == list(result.constraints["binding"])

    summary = pd.read_excel(xlsx, sheet_name="Summary", header=None)
    text = " ".join(str(v) for v in summary.to_numpy().ravel())
    assert "2024-03-08" in text and "us-small-manufacturing" in text
    sources = pd.read_excel(xlsx, sheet_name="Sources")
    assert "SimFin" in " ".join(str(v) for v in sources["Value"])

    with basket.open() as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == BASKET_COLUMNS
    assert [(r[0], int(r[1]), r[2]) for r in rows[1:]] == [
        (t.side, int(t.shares), t.ticker.replace("-", " ")) for t in expected.itertuples()
    ]


def test_outside_text_never_becomes_a_formula(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    first = screen.ranked.index[0]
    table = screen.table.copy()
    table.loc[first, "name"] = '=HYPERLINK("http://evil.example","click")'
    table.loc[first, "industry"] = "@SUM(A1)"
    evil = replace(screen, table=table)
    weights = result.weights.copy()
    weights["name"] = weights["name"].astype(object)
    weights.iloc[0, weights.columns.get_loc("name")] = "+cmd|' /C calc'!A0"
    trades = result.trades.trades.copy()
    trades.loc[trades.index[0], "name"] = "-2+3"
    bad = replace(result, weights=weights, trades=replace(result.trades, trades=trades), notes=("=1+1",))
    xlsx, _ = export_rotation(tmp_path / "evil.xlsx", bad, evil, replace(ctx, holdings="=cmd()"))
    wb = openpyxl.load_workbook(xlsx)
    formulas = [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f" and not (ws.title == "Trades" and c.column_letter == "F")
    ]
    assert formulas == []
    values = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in values
    assert "'-2+3" in values and "'=1+1" in values and "'=cmd()" in values


def test_existing_files_are_kept_unless_overwrite(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    target = tmp_path / "t.xlsx"
    target.write_bytes(b"old workbook")
    with pytest.raises(ExportError, match="already exists"):
        export_rotation(target, result, screen, ctx)
    assert target.read_bytes() == b"old workbook"
    assert not basket_path(target).exists()
    export_rotation(target, result, screen, ctx, overwrite=True)
    assert pd.ExcelFile(target).sheet_names == SHEETS


def test_an_interrupted_write_leaves_the_old_file(solved, tmp_path: Path, monkeypatch) -> None:
    _, screen, result, ctx = solved
    target = tmp_path / "t.xlsx"
    export_rotation(target, result, screen, ctx)
    before = target.read_bytes()

    from openpyxl.writer import excel

    real = excel.ExcelWriter.write_data

    def half_then_fail(self):  # the disk fills up half-way through the archive
        real(self)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(excel.ExcelWriter, "write_data", half_then_fail)
    with pytest.raises(ExportError, match="No space left"):
        export_rotation(target, result, screen, ctx, overwrite=True)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.basket.csv", "t.xlsx"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
def test_workbook_opens_cleanly_in_libreoffice(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    xlsx, _ = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2", "--outdir", str(tmp_path / "out"), str(xlsx)],
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    trades = tmp_path / "out" / "t-Trades.csv"
    assert trades.exists(), sorted(p.name for p in (tmp_path / "out").iterdir())
    frame = pd.read_csv(trades)
    expected = result.trades.trades
    notional = frame["Notional"].astype(str).str.replace(r"[$,]", "", regex=True).astype(float)
    assert notional.to_numpy() == pytest.approx((expected["shares"] * expected["price"]).to_numpy(), abs=0.01)


# ----------------------------------------------------------------------------- holdings in
def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_holdings_are_normalised_merged_and_cash_read(tmp_path: Path, known) -> None:
    # (class-share punctuation, BRK.B -> BRK-B, is covered by test_ticker_normalisation: the
    # snapshot has no class shares)
    p = write(tmp_path, "h.csv", "Symbol,Quantity,cost_basis\n mcft ,100,20\nMCFT,50,26\nmed,3,\nCASH,2500.5,\n")
    h = read_holdings(p, known)
    assert h.shares["MCFT"] == 150 and h.shares["MED"] == 3
    assert h.cost_basis["MCFT"] == pytest.approx((100 * 20 + 50 * 26) / 150)
    assert h.cash == pytest.approx(2500.5)
    assert any("MCFT appears on 2 rows" in w for w in h.warnings)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("ticker,qty_wrong\nMCFT,1\n", "column 'shares'", "required column 'shares' is missing"),
        ("ticker,shares\nMCFT,ten\n", "row 2, column 'shares'", "number"),
        ("ticker,shares\nMCFT,5\nMED,-3\n", "row 3, column 'shares'", "negative"),
        ("ticker,shares\nMCFT,5\n,3\n", "row 3, column 'ticker'", "blank"),
        ("ticker,shares\nMCFT,5\nMCFTT,3\n", "row 3, column 'ticker'", "MCFT"),
    ],
)
def test_bad_holdings_name_file_row_and_column(tmp_path: Path, known, text: str, where: str, what: str) -> None:
    p = write(tmp_path, "h.csv", text)
    with pytest.raises(DataFileError) as err:
        read_holdings(p, known)
    message = str(err.value)
    assert str(p) in message and where in message and what in message


def test_wrong_sheet_and_unknown_tickers_kept_when_asked(tmp_path: Path, known) -> None:
    p = tmp_path / "h.xlsx"
    pd.DataFrame({"ticker": ["MCFT", "ZZZZQ"], "shares": [10, 5]}).to_excel(p, sheet_name="Positions", index=False)
    with pytest.raises(DataFileError, match="Positions"):
        read_holdings(p, known, sheet="Holdings")
    with pytest.raises(DataFileError, match="ZZZZQ"):
        read_holdings(p, known, sheet="Positions")
    h = read_holdings(p, known, sheet="Positions", ignore_unknown=True)
    assert list(h.untradeable.index) == ["ZZZZQ"] and h.shares["MCFT"] == 10


def test_cli_bad_holdings_and_existing_out_write_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path, "h.csv", "ticker,shares\nMCFT,-1\n")
    out = tmp_path / "t.xlsx"
    done = run_cli("optimize", "--holdings", str(bad), "--out", str(out))
    assert done.returncode == 2 and "row 2" in done.stderr and "shares" in done.stderr
    assert not out.exists()
    out.write_bytes(b"mine")
    done = run_cli("optimize", "--out", str(out))
    assert done.returncode == 2 and "--force" in done.stderr
    assert out.read_bytes() == b"mine" and not basket_path(out).exists()
    done = run_cli("optimize", "--out", str(out), "--force", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert pd.ExcelFile(out).sheet_names == SHEETS


def test_exported_files_get_ordinary_permissions(solved, tmp_path: Path) -> None:
    import os
    import stat

    _, screen, result, ctx = solved
    umask = os.umask(0o022)
    try:
        xlsx, basket = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(xlsx.stat().st_mode) == 0o644
    assert stat.S_IMODE(basket.stat().st_mode) == 0o644
