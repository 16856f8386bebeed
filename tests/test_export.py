"""Holdings in, trade lists out: the workbook read back, the basket, injection, a pair that lands
whole (read-only folder, full disk, failing basket, SIGINT, SIGTERM), printing in LibreOffice."""

from __future__ import annotations

import csv
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import ROOT, run_cli

from optimizer import ConstraintSettings, RotationOptimizer
from screener import load_screen, run_screen
from screener.rate_cuts import portfolio_rate_sensitivity
from screener.screens import screen_to_toml
from tui.export import (
    BASKET_COLUMNS,
    ExportError,
    basket_csv,
    basket_path,
    export_context,
    export_rotation,
)
from tui.themes import dataset_theme_tags
from universes import DataFileError, load_universe, open_dataset
from universes.holdings import read_holdings

SHEETS = ["Summary", "Trades", "Portfolio", "Themes", "Styles", "Screen", "Constraints", "Sources"]


@pytest.fixture(scope="module")
def solved():
    universe = load_universe("us-small-manufacturing")
    screen = run_screen(universe, load_screen(), tags=dataset_theme_tags(universe.dataset))
    result = RotationOptimizer(universe, screen, capital=1_000_000).solve(ConstraintSettings())
    ctx = export_context(universe, screen.screen.name, "all cash", "shipped defaults")
    return universe, screen, result, ctx


@pytest.fixture(scope="module")
def known():
    return open_dataset("snapshot").companies


def summary_figures(xlsx: Path) -> dict[str, object]:
    summary = pd.read_excel(xlsx, sheet_name="Summary", header=None)
    return {str(k): v for k, v in zip(summary[0], summary[1], strict=True) if isinstance(k, str)}


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
    # a reader that does not recalculate sees the formula's value, not NaN
    assert trades["Notional"].to_numpy() == pytest.approx((expected["shares"] * expected["price"]).to_numpy(), rel=1e-12)
    assert trades["Est. cost"].to_numpy() == pytest.approx(expected["est_cost"].to_numpy(), rel=1e-12)
    assert trades["Weight after trades"].to_numpy() == pytest.approx(expected["weight_after"].to_numpy(), rel=1e-12)
    target = result.weights.loc[expected["ticker"], "weight_after"].to_numpy()
    assert trades["Target weight"].to_numpy() == pytest.approx(target, rel=1e-12)

    wb = openpyxl.load_workbook(xlsx)
    ws = wb["Trades"]
    assert ws["F1"].value == "Notional" and ws["F2"].value == "=D2*E2"  # an Excel formula, shares x price
    assert ws.freeze_panes == "B2"
    for name in SHEETS:
        assert wb[name].tables, f"{name} has no native table"
    assert wb["Summary"]._charts, "the Summary sheet has the sector bar chart"
    assert wb["Screen"].conditional_formatting, "price / fair value is colour-coded"

    portfolio = pd.read_excel(xlsx, sheet_name="Portfolio").set_index("Ticker")
    held = result.positions()
    assert list(portfolio.index) == list(held.index)
    assert portfolio["Target weight"].to_numpy() == pytest.approx(held["weight_after"].to_numpy(), rel=1e-12)
    assert portfolio["Weight before"].to_numpy() == pytest.approx(held["weight_before"].to_numpy(), rel=1e-12)

    ranked = pd.read_excel(xlsx, sheet_name="Screen")
    assert list(ranked["Ticker"]) == list(screen.ranked.index)
    assert ranked["Score"].to_numpy() == pytest.approx(screen.ranked["composite"].to_numpy(), rel=1e-12)
    assert ranked["Market cap"].to_numpy() == pytest.approx(screen.ranked["market_cap"].to_numpy(), rel=1e-12)

    # the evidence for each rank: every fair-value method and the points each factor gave
    contributions = [c for c in screen.ranked.columns if c.startswith("contrib_")]
    assert {"Fair value: EPV", "Fair value: DCF", "Red flags", "Interest coverage"} <= set(ranked.columns)
    assert sum(h.startswith("Points: ") for h in ranked.columns) == len(contributions) > 0
    points = ranked[[h for h in ranked.columns if h.startswith("Points: ")]].fillna(0).sum(axis=1)
    assert (points - ranked["Penalty for red flags"]).to_numpy() == pytest.approx(ranked["Score"].to_numpy(), abs=1e-9)

    cons = pd.read_excel(xlsx, sheet_name="Constraints")
    assert list(cons["Constraint"]) == list(result.constraints["label"])
    assert list(cons["Key"]) == list(result.constraints["name"])
    assert list(cons["Binding"]) == list(result.constraints["binding"])

    figures = summary_figures(xlsx)
    assert figures["As of"] == "2024-03-08" and figures["Universe"] == "us-small-manufacturing"
    assert figures["Number of trades"] == len(expected)
    sources = pd.read_excel(xlsx, sheet_name="Sources")
    assert "SimFin" in " ".join(str(v) for v in sources["Value"])
    screen_note = sources.set_index("Item").loc["Screen sheet", "Value"]
    assert f"of the {len(screen.top(1).columns) - 1} columns" in screen_note and "rotation screen --universe us-small-manufacturing --format csv" in screen_note

    with basket.open() as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == BASKET_COLUMNS
    assert [(r[0], int(r[1]), r[2]) for r in rows[1:]] == [
        (t.side, int(t.shares), t.ticker.replace("-", " ")) for t in expected.itertuples()
    ]


def test_capped_names_show_the_target_and_the_weight_after_trades(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    xlsx, _ = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    cap = result.settings.max_weight.value
    for sheet, label in (("Trades", "Reason"), ("Portfolio", "Bound by")):
        frame = pd.read_excel(xlsx, sheet_name=sheet)
        capped = frame[frame[label].astype(str).str.contains(f"at the name cap {100 * cap:.3g}%", regex=False)]
        assert len(capped), f"the shipped settings cap some names on {sheet}"
        assert capped["Target weight"].to_numpy() == pytest.approx(cap, abs=1e-6)  # the label's figure
        assert (capped["Weight after trades"] != capped["Target weight"]).any()  # whole lots, costs: shown apart


def test_summary_counts_the_portfolio_sheets_rows(solved, tmp_path: Path) -> None:
    universe, screen, _, ctx = solved
    holdings = tmp_path / "h.csv"
    holdings.write_text("ticker,shares\nMCFT,400\nTR,300\nCASH,50000\n")
    h = read_holdings(holdings, universe.companies)
    result = RotationOptimizer(universe, screen, holdings=h).solve(ConstraintSettings())
    xlsx, _ = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    portfolio = pd.read_excel(xlsx, sheet_name="Portfolio")
    figures = summary_figures(xlsx)
    assert figures["Positions before"] == (portfolio["Weight before"] != 0).sum() == 2
    assert figures["Positions in the target"] == (portfolio["Target weight"] != 0).sum()
    assert figures["Positions after trades"] == (portfolio["Weight after trades"] != 0).sum()
    # positions after trades, the cash left and the costs paid make up the value before trading
    trades = result.trades
    after = portfolio["Weight after trades"].sum()
    assert after + (trades.cash_after + trades.costs) / trades.portfolio_value == pytest.approx(1.0, abs=1e-9)
    assert (portfolio["Shares after trades"] * portfolio["Price"] / trades.portfolio_value).to_numpy() == pytest.approx(portfolio["Weight after trades"].to_numpy(), abs=1e-12)


def test_themes_styles_and_rate_sensitivity_are_in_the_workbook(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    xlsx, _ = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    themes = pd.read_excel(xlsx, sheet_name="Themes")
    assert len(themes) == 3
    assert list(themes["Theme"]) == [str(t).replace("_", " ") for t in result.themes["theme"]]
    assert themes["After trades"].to_numpy() == pytest.approx(result.themes["sent"].astype(float).to_numpy())
    styles = pd.read_excel(xlsx, sheet_name="Styles")
    assert list(styles["Style"]) == ["size", "value", "momentum", "quality", "leverage"]
    assert styles["Target"].to_numpy() == pytest.approx(result.styles["after"].to_numpy())
    figures = summary_figures(xlsx)
    assert figures["Beta after trades"] == pytest.approx(result.stats["beta_sent"])
    rates = portfolio_rate_sensitivity(result.weights["weight_sent"], screen.table, screen.table)
    assert figures["Earnings a 100 bp cut adds (per $ invested)"] == pytest.approx(rates["earnings_yield_gain"])
    assert abs(rates["earnings_yield_gain"]) < 0.01 and 0.5 < rates["covered"] <= 1.0
    constraints = pd.read_excel(xlsx, sheet_name="Constraints")
    assert "Name cap" in set(constraints["Constraint"]) and "max_weight" in set(constraints["Key"])


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_on_each_page(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    xlsx, _ = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    wb = openpyxl.load_workbook(xlsx)
    for name in SHEETS:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0), name  # 1 is the default
        assert ws.print_area, name
        assert "&A" in ws.oddHeader.left.text and "&P" in ws.oddHeader.right.text, name
        if name != "Summary":
            assert ws.print_title_rows == "$1:$1", name
    screen_ws = wb["Screen"]
    headers = [c.value for c in screen_ws[1]]
    assert all("_" not in h for h in headers), [h for h in headers if "_" in h]
    assert screen_ws.print_area == f"'Screen'!$A$1:$P${len(screen.ranked) + 1}"  # the 16 headline columns
    unformatted = set()
    for column in screen_ws.iter_cols(min_row=2):
        for c in column:
            if isinstance(c.value, int | float) and not isinstance(c.value, bool) and c.number_format == "General":
                unformatted.add(headers[c.column - 1])
    assert unformatted == set(), "every number on the Screen sheet has a number format"


def test_outside_text_never_becomes_a_formula_a_link_or_a_number(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    first = screen.ranked.index[0]
    table = screen.table.copy()
    table.loc[first, "name"] = '=HYPERLINK("http://evil.example","click")'
    table.loc[first, "industry"] = "@SUM(A1)"
    table.loc[screen.ranked.index[1], "name"] = "http://evil.example/a"
    table.loc[screen.ranked.index[2], "name"] = "1e5"
    evil = replace(screen, table=table)
    weights = result.weights.copy()
    weights["name"] = weights["name"].astype(object)
    weights.iloc[0, weights.columns.get_loc("name")] = "+cmd|' /C calc'!A0"
    trades = result.trades.trades.copy()
    trades.loc[trades.index[0], "name"] = "-2+3"
    trades.loc[trades.index[1], "ticker"] = "=EVIL"
    bad = replace(result, weights=weights, trades=replace(result.trades, trades=trades), notes=("=1+1",))
    xlsx, basket = export_rotation(tmp_path / "evil.xlsx", bad, evil, replace(ctx, holdings="=cmd()"))
    wb = openpyxl.load_workbook(xlsx)
    formulas = [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f" and not (ws.title == "Trades" and c.column_letter == "F")
    ]
    assert formulas == []
    assert all(not ws._hyperlinks for ws in wb.worksheets), "a URL stays text"
    values = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in values
    assert "'-2+3" in values and "'=1+1" in values and "'=cmd()" in values and "'@SUM(A1)" in values
    assert "1e5" in values and "http://evil.example/a" in values
    with basket.open() as fh:
        symbols = [r[2] for r in csv.reader(fh)]
    assert "'=EVIL" in symbols
    assert basket_csv(bad, tag="=tag").splitlines()[1].endswith(",'=tag")


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


def test_an_export_from_a_worker_thread_keeps_the_process_signal_handlers(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    export_rotation(tmp_path / "main.xlsx", result, screen, ctx)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    errors: list[BaseException] = []

    def work() -> None:  # as the app does: signal handlers cannot be installed there
        try:
            export_rotation(tmp_path / "worker.xlsx", result, screen, ctx)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert errors == []
    assert pd.ExcelFile(tmp_path / "worker.xlsx").sheet_names == SHEETS


# ----------------------------------------------------------------------------- the pair lands whole
def old_pair(folder: Path) -> dict[str, bytes]:
    """An earlier export in ``folder``; returns every file's bytes (to compare after)."""
    (folder / "t.xlsx").write_bytes(b"old workbook")
    (folder / "t.basket.csv").write_bytes(b"old basket\n")
    return files_in(folder)


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (skips where mounting is not permitted)."""
    where.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("no mount command here: a full disk is tested where tmpfs can be mounted (as root)")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): a full disk is tested as root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` unwritable: a read-only remount as root (root ignores permissions), else chmod."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    done = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    yield


@contextmanager
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder holding an old pair that cannot be written to."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        old_pair(folder)
        with read_only(folder):
            yield folder
        return
    with small_disk(tmp_path / "ro", "1m") as folder:
        old_pair(folder)
        with read_only(folder):
            yield folder


def test_a_read_only_folder_is_a_clear_error_and_changes_nothing(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    with unwritable_folder(tmp_path) as folder:
        before = files_in(folder)
        with pytest.raises(ExportError) as err:
            export_rotation(folder / "t.xlsx", result, screen, ctx, overwrite=True)
        message = str(err.value)
        assert str(folder / "t.xlsx") in message and "cannot be written" in message and "Nothing was replaced" in message
        assert files_in(folder) == before


def test_a_full_disk_is_a_clear_error_and_changes_nothing(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    with small_disk(tmp_path / "disk", "16k") as folder:
        before = old_pair(folder)
        with pytest.raises(ExportError) as err:
            export_rotation(folder / "t.xlsx", result, screen, ctx, overwrite=True)
        assert "is full" in str(err.value) and str(folder / "t.xlsx") in str(err.value)
        assert files_in(folder) == before


def test_a_failing_basket_write_changes_neither_file(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    export_rotation(tmp_path / "size.xlsx", result, screen, ctx)
    pages = math.ceil((tmp_path / "size.xlsx").stat().st_size / 4096)
    # room for the old pair (a page each) and the new workbook, not for the new basket
    with small_disk(tmp_path / "disk", f"{(pages + 2) * 4}k") as folder:
        before = old_pair(folder)
        with pytest.raises(ExportError) as err:
            export_rotation(folder / "t.xlsx", result, screen, ctx, overwrite=True)
        assert f"Could not write {folder / 't.basket.csv'}" in str(err.value)
        assert files_in(folder) == before


def test_a_basket_that_cannot_be_replaced_puts_the_workbook_back(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    folder = tmp_path / "out"
    folder.mkdir()
    before = old_pair(folder)
    basket = folder / "t.basket.csv"
    done = subprocess.run(["chattr", "+i", str(basket)], capture_output=True, text=True) if shutil.which("chattr") else None
    if done is None or done.returncode != 0:
        pytest.skip("cannot make a file immutable here (chattr +i needs root on ext4/xfs)")
    try:  # the workbook is replaced first; replacing the immutable basket then fails
        with pytest.raises(ExportError, match="Nothing was replaced"):
            export_rotation(folder / "t.xlsx", result, screen, ctx, overwrite=True)
    finally:
        subprocess.run(["chattr", "-i", str(basket)], check=True)
    assert files_in(folder) == before


def test_a_failed_second_replace_puts_the_first_back(solved, tmp_path: Path, monkeypatch) -> None:
    _, screen, result, ctx = solved
    before = old_pair(tmp_path)
    real = os.replace

    def refuse_the_basket(src, dst):  # the operating system refuses the second rename
        if Path(dst).name == "t.basket.csv":
            raise PermissionError(13, "Permission denied", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", refuse_the_basket)
    with pytest.raises(ExportError, match=r"t\.basket\.csv"):
        export_rotation(tmp_path / "t.xlsx", result, screen, ctx, overwrite=True)
    monkeypatch.undo()
    assert files_in(tmp_path) == before
    (tmp_path / "t.xlsx").unlink()
    (tmp_path / "t.basket.csv").unlink()
    with monkeypatch.context() as m:  # with no old pair, nothing is left behind either
        m.setattr(os, "replace", refuse_the_basket)
        with pytest.raises(ExportError):
            export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    assert files_in(tmp_path) == {}


def test_cli_read_only_folder_and_full_disk_print_one_message(tmp_path: Path) -> None:
    with unwritable_folder(tmp_path) as folder:
        before = files_in(folder)
        done = run_cli("optimize", "--out", str(folder / "t.xlsx"), "--force")
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"rotation optimize: Could not write {folder / 't.xlsx'}")
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        assert files_in(folder) == before
    with small_disk(tmp_path / "disk", "16k") as folder:
        before = old_pair(folder)
        done = run_cli("optimize", "--out", str(folder / "t.xlsx"), "--force")
        assert done.returncode == 2 and "is full" in done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        assert files_in(folder) == before


def everyone_screen(tmp_path: Path) -> Path:
    """A screen that ranks every company: on us-all, a workbook that takes a while to write."""
    shipped = load_screen()
    screen = tmp_path / "everyone.toml"
    screen.write_text(screen_to_toml(shipped.with_filters(**dict.fromkeys(shipped.filters))))
    return screen


def signal_once_writing(command: list[str], folder: Path, signum: int) -> subprocess.CompletedProcess[str]:
    """Run ``command``, send ``signum`` once its workbook's temporary file appears, wait for the end."""
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(folder.glob(".t.xlsx.*.tmp")):  # the export has started writing
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the export never started"
        time.sleep(0.001)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_write_leaves_the_old_pair(tmp_path: Path, signum: int) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    before = old_pair(folder)
    command = [sys.executable, "-m", "tui.cli", "optimize", "--universe", "us-all", "--screen", str(everyone_screen(tmp_path)), "--out", str(folder / "t.xlsx"), "--force"]
    done = signal_once_writing(command, folder, signum)
    assert done.returncode == 128 + signum, done.stderr  # 130 for SIGINT, 143 for SIGTERM
    assert done.stderr == "rotation optimize: interrupted; nothing was written.\n"
    assert files_in(folder) == before


WORKER_EXPORT = """
import os, signal, sys, threading
from optimizer import ConstraintSettings, RotationOptimizer
from screener import load_screen, run_screen
from tui.export import discard_unfinished_exports, export_context, export_rotation
from universes import load_universe

universe = load_universe("us-all")
screen = run_screen(universe, load_screen(sys.argv[2]))
result = RotationOptimizer(universe, screen, capital=1_000_000).solve(ConstraintSettings())
ctx = export_context(universe, "everyone", "all cash", "shipped defaults")

def on_sigterm(signum, frame):  # a front end exporting in a worker thread, on its main thread
    discard_unfinished_exports()
    os._exit(128 + signum)

signal.signal(signal.SIGTERM, on_sigterm)
worker = threading.Thread(target=export_rotation, args=(sys.argv[1], result, screen, ctx), kwargs={"overwrite": True}, daemon=True)
worker.start()
while worker.is_alive():
    worker.join(0.05)
"""


def test_sigterm_during_a_worker_thread_export_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    before = old_pair(folder)
    command = [sys.executable, "-c", WORKER_EXPORT, str(folder / "t.xlsx"), str(everyone_screen(tmp_path))]
    done = signal_once_writing(command, folder, signal.SIGTERM)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert files_in(folder) == before


# ----------------------------------------------------------------------------- LibreOffice
NO_OFFICE = "LibreOffice and poppler-utils are not installed (soffice, pdftotext, pdfinfo); .ci/run installs them: apt-get install libreoffice-calc-nogui poppler-utils"
needs_office = pytest.mark.skipif(not all(shutil.which(t) for t in ("soffice", "pdftotext", "pdfinfo")), reason=NO_OFFICE)


def convert(xlsx: Path, to: str, tmp_path: Path) -> Path:
    out = tmp_path / "converted"
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", to, "--outdir", str(out), str(xlsx)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


@needs_office
def test_workbook_opens_cleanly_in_libreoffice(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    xlsx, _ = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    out = convert(xlsx, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2", tmp_path)
    trades = out / "t-Trades.csv"
    assert trades.exists(), sorted(p.name for p in out.iterdir())
    frame = pd.read_csv(trades)
    expected = result.trades.trades
    notional = frame["Notional"].astype(str).str.replace(r"[$,]", "", regex=True).astype(float)
    assert notional.to_numpy() == pytest.approx((expected["shares"] * expected["price"]).to_numpy(), abs=0.01)


@needs_office
def test_libreoffice_prints_each_table_one_page_wide(solved, tmp_path: Path) -> None:
    _, screen, result, ctx = solved
    xlsx, _ = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    pdf = convert(xlsx, "pdf", tmp_path) / "t.pdf"
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True).stdout
    sizes = [tuple(float(x) for x in line.split("size:")[1].split("pts")[0].split(" x ")) for line in info.splitlines() if line.startswith("Page") and "size:" in line]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(sizes) == len(pages) <= 12, "a short workbook prints on a few pages"
    assert all(w > h for w, h in sizes), "every page is landscape"
    by_sheet: dict[str, list[str]] = {}
    for page in pages:
        by_sheet.setdefault(page.split()[0], []).append(page)  # the page header names the sheet
    assert list(by_sheet) == SHEETS
    assert len(by_sheet["Summary"]) == 1 and "Sector exposure before / after" in by_sheet["Summary"][0], "the Summary and its chart on one page"
    first_and_last = {
        "Trades": ("Ticker", "Reason"),
        "Portfolio": ("Ticker", "Bound by"),
        "Screen": ("Rank", "Daily volume"),
        "Constraints": ("Constraint", "Level"),
        "Sources": ("Item", "Value"),
    }
    for sheet, (first, last) in first_and_last.items():
        for k, page in enumerate(by_sheet[sheet], start=1):
            head = "\n".join(page.splitlines()[:6])
            assert first in head and last in head, f"{sheet} page {k}: the table is cut at the page width or its header is not repeated"
    assert len(by_sheet["Screen"]) > 1
    assert not any("Beneish M-score" in page for page in by_sheet["Screen"]), "only the headline columns print"


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
    import stat

    _, screen, result, ctx = solved
    umask = os.umask(0o022)
    try:
        xlsx, basket = export_rotation(tmp_path / "t.xlsx", result, screen, ctx)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(xlsx.stat().st_mode) == 0o644
    assert stat.S_IMODE(basket.stat().st_mode) == 0o644
