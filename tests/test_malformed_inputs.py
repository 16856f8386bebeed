"""The malformed-input suite: every kind of file a user gives the tool, broken in many ways.

Each case writes one bad file into a folder of its own and runs the real `rotation` command on
it (``tui.cli.main``, many cases per process: see ``cli_batch``; a few cases of each kind also
in a fresh process with ``run_cli``). Every case must exit with status 2, print one message
that names the file and the place in it (row and column, or table and key), print no
traceback and nothing on stdout, and write nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from cli_batch import Invocation, Outcome, run_cli_batch
from conftest import run_cli

Content = str | bytes | Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One malformed input.

    Attributes
    ----------
    id : str
        Test id.
    file : str
        Name of the bad file (written into the case's folder), named in the message.
    content : str, bytes or callable
        What the file holds (a callable writes it, for workbooks and folders).
    place : tuple of str
        Texts the message must contain: where in the file, and what is wrong.
    args : tuple of str
        Extra arguments.
    """

    id: str
    file: str
    content: Content
    place: tuple[str, ...]
    args: tuple[str, ...] = ()
    extra: dict[str, Content] = field(default_factory=dict)


def workbook(rows: list[list[object]], sheet: str = "Positions") -> Callable[[Path], None]:
    """A writer of a one-sheet .xlsx file with these rows (cells keep their Python types)."""

    def write(path: Path) -> None:
        book = openpyxl.Workbook()
        ws = book.active
        assert ws is not None
        ws.title = sheet
        for row in rows:
            ws.append(row)
        book.save(path)

    return write


def folder(path: Path) -> None:
    path.mkdir()


def unreadable(path: Path) -> None:
    """A file whose read fails with an I/O error even for root (a link to /proc/self/mem)."""
    path.symlink_to("/proc/self/mem")


NO_PROC = not Path("/proc/self/mem").exists()


def params(cases: list[Case]) -> list[object]:
    """The cases as test parameters (a case that needs /proc is skipped where there is none)."""
    return [
        pytest.param(c, id=c.id, marks=pytest.mark.skipif(c.content is unreadable and NO_PROC, reason="needs Linux /proc to make a file unreadable"))
        for c in cases
    ]


NOT_UTF8 = "caf\xe9".encode("latin-1")

# ----------------------------------------------------------------------------- holdings
H = "holdings.csv"
HOLDINGS = [
    Case("shares-inf", H, "ticker,shares\nMCFT,inf\n", ("row 2", "column 'shares'", "not a finite number")),
    Case("shares-1e400", H, "ticker,shares\nMCFT,1e400\n", ("row 2", "column 'shares'", "not a finite number")),
    Case("shares-1e300", H, "ticker,shares\nMCFT,1e300\n", ("row 2", "column 'shares'", "below 1e+15")),
    Case("shares-1e15", H, "ticker,shares\nMCFT,1000000000000000\n", ("row 2", "column 'shares'", "below 1e+15")),
    Case("shares-negative", H, "ticker,shares\nMCFT,100\nPLAB,-5\n", ("row 3", "column 'shares'", "negative")),
    Case("shares-dollar-negative", H, "ticker,shares\nMCFT,$-5\n", ("row 2", "column 'shares'", "negative")),
    Case("shares-nan", H, "ticker,shares\nMCFT,nan\n", ("row 2", "column 'shares'", "not a number")),
    Case("shares-text", H, "ticker,shares\nMCFT,ten\n", ("row 2", "column 'shares'", "'ten' is not a number")),
    Case("shares-blank", H, "ticker,shares\nMCFT,100\nPLAB,\n", ("row 3", "column 'shares'", "blank")),
    Case("shares-two-dots", H, "ticker,shares\nMCFT,1.5.5\n", ("row 2", "column 'shares'", "not a number")),
    Case("cash-inf", H, "ticker,shares\nMCFT,10\nCASH,inf\n", ("row 3", "column 'shares'", "not a finite number")),
    Case("cash-negative", H, "ticker,shares\nCASH,-100\n", ("row 2", "column 'shares'", "negative")),
    Case("cash-huge", H, "ticker,shares\nCASH,1e20\n", ("row 2", "column 'shares'", "below 1e+15")),
    Case("cash-amount-inf", H, "ticker,shares,market_value\nCASH,0,inf\n", ("row 2", "column 'market_value'", "finite")),
    Case("basis-inf", H, "ticker,shares,cost_basis\nMCFT,10,inf\n", ("row 2", "column 'cost_basis'", "finite")),
    Case("basis-negative", H, "ticker,shares,cost_basis\nMCFT,10,-3\n", ("row 2", "column 'cost_basis'", "negative")),
    Case("ticker-blank", H, "ticker,shares\nMCFT,10\n,5\n", ("row 3", "column 'ticker'", "blank")),
    Case("ticker-unknown", H, "ticker,shares\nMCFT,10\nMCFTT,5\n", ("row 3", "column 'ticker'", "MCFT")),
    Case("no-shares-column", H, "ticker,amount\nMCFT,10\n", ("column 'shares'", "missing")),
    Case("no-ticker-column", H, "name,shares\nMasterCraft,10\n", ("column 'ticker'", "missing")),
    Case("semicolons", H, "ticker;shares\nMCFT;5\n", ("row 1", ";-separated", "commas")),
    Case("semicolons-decimal-comma", H, "symbol;qty;cost_basis\nMCFT;5;21,20\n", ("row 1", ";-separated")),
    Case("tabs", H, "ticker\tshares\nMCFT\t5\n", ("row 1", "tab-separated")),
    Case("not-utf8", H, b"ticker,shares,account\nMCFT,5," + NOT_UTF8 + b"\n", ("row 2", "not UTF-8")),
    Case("empty-file", H, "", ("cannot be read as CSV",)),
    Case("a-folder", H, folder, ("is a folder",)),
    Case("unreadable", H, unreadable, ("cannot be read", "Input/output error")),
    Case("wrong-type", "holdings.txt", "ticker,shares\nMCFT,5\n", ("unsupported file type .txt",)),
    Case("xlsx-no-such-sheet", "holdings.xlsx", workbook([["ticker", "shares"], ["MCFT", 5]]), ("sheet 'Nope'", "no sheet"), ("--sheet", "Nope")),
    Case("xlsx-shares-text", "holdings.xlsx", workbook([["ticker", "shares"], ["MCFT", "abc"]]), ("sheet 'Positions'", "row 2", "column 'shares'")),
    Case("xlsx-shares-negative", "holdings.xlsx", workbook([["ticker", "shares"], ["MCFT", 10], ["PLAB", -1]]), ("row 3", "column 'shares'", "negative")),
    Case("xlsx-shares-inf-text", "holdings.xlsx", workbook([["ticker", "shares"], ["MCFT", "inf"]]), ("row 2", "column 'shares'", "finite")),
    Case("xlsx-missing-column", "holdings.xlsx", workbook([["ticker", "qty_held"], ["MCFT", 5]]), ("column 'shares'", "missing")),
    Case("xlsx-not-a-workbook", "holdings.xlsx", "ticker,shares\nMCFT,5\n", ("cannot be read as XLSX",)),
]

# ----------------------------------------------------------------------------- ticker lists and fundamentals
L = "tickers.csv"
F = "fundamentals.csv"
HEAD = "ticker,fiscal_year,period_end,publish_date,revenue,operating_income,net_income,total_assets,total_equity,shares_basic"
PLAB = "892076000,253050000,125485000,1526221000,1275609000,61000000"


def fundamentals(*rows: str, head: str = HEAD) -> str:
    return head + "\n" + "\n".join(rows) + "\n"


TABLES = [
    Case("list-unknown-ticker", L, "ticker\nAAPL\nMSFTT\n", ("row 3", "column 'ticker'", "MSFT")),
    Case("list-blank-ticker", L, "ticker,note\nAAPL,x\n,y\n", ("row 3", "column 'ticker'", "blank")),
    Case("list-no-ticker-column", L, "name,weight\nApple,1\n", ("no 'ticker' column",)),
    Case("list-semicolons", L, "ticker;name\nAAPL;Apple\n", ("row 1", ";-separated")),
    Case("list-not-utf8", L, b"ticker,name\nAAPL," + NOT_UTF8 + b"\n", ("row 2", "not UTF-8")),
    Case("list-folder", L, folder, ("is a folder",)),
    Case("list-unreadable", L, unreadable, ("cannot be read",)),
    Case("list-xlsx-unknown", "tickers.xlsx", workbook([["symbol"], ["AAPL"], ["APPL"]], "Sheet1"), ("row 3", "column 'symbol'", "AAPL")),
    Case("list-left-out-by-checks", L, "ticker\nAAPL\nALTM\n", ("ALTM", "cannot be used")),
]
TABLES = [Case(c.id, c.file, c.content, c.place, ("--universe", "{file}")) for c in TABLES]
FUNDAMENTALS = [
    Case("fy-not-whole", F, fundamentals(f"PLAB,2023.5,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'fiscal_year'", "not a whole number")),
    Case("fy-overflow", F, fundamentals(f"PLAB,1e30,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'fiscal_year'", "1e+30 is not a fiscal year")),
    Case("fy-huge", F, fundamentals(f"PLAB,99999999999,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'fiscal_year'", "1900-2100")),
    Case("fy-negative", F, fundamentals(f"PLAB,-2023,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'fiscal_year'", "1900-2100")),
    Case("fy-mismatch", F, fundamentals(f"PLAB,2021,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'fiscal_year'", "does not match period_end 2023-10-31")),
    Case("fy-blank", F, fundamentals(f"PLAB,,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'fiscal_year'", "blank")),
    Case("fy-inf", F, fundamentals(f"PLAB,inf,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'fiscal_year'", "finite")),
    Case("date-year-9999", F, fundamentals(f"PLAB,2023,9999-10-31,9999-12-26,{PLAB}"), ("row 2", "column 'period_end'", "outside the dates")),
    Case("date-year-1500", F, fundamentals(f"PLAB,2023,2023-10-31,1500-12-26,{PLAB}"), ("row 2", "column 'publish_date'", "outside the dates")),
    Case("date-not-a-date", F, fundamentals(f"PLAB,2023,2023-10-31,yesterday,{PLAB}"), ("row 2", "column 'publish_date'", "not a date")),
    Case("date-published-early", F, fundamentals(f"PLAB,2023,2023-10-31,2023-09-01,{PLAB}"), ("row 2", "column 'publish_date'", "before the period end")),
    Case("revenue-negative", F, fundamentals("PLAB,2023,2023-10-31,2023-12-26,-892076000,253050000,125485000,1526221000,1275609000,61000000"), ("row 2", "column 'revenue'", "negative")),
    Case("revenue-1e400", F, fundamentals("PLAB,2023,2023-10-31,2023-12-26,1e400,253050000,125485000,1526221000,1275609000,61000000"), ("row 2", "column 'revenue'", "finite")),
    Case("shares-negative", F, fundamentals("PLAB,2023,2023-10-31,2023-12-26,892076000,253050000,125485000,1526221000,1275609000,-61000000"), ("row 2", "column 'shares_basic'", "negative")),
    Case("shares-inf", F, fundamentals("PLAB,2023,2023-10-31,2023-12-26,892076000,253050000,125485000,1526221000,1275609000,inf"), ("row 2", "column 'shares_basic'", "finite")),
    Case("shares-missing-new-year", F, fundamentals("PLAB,2023,2023-10-31,2023-12-26," + PLAB, "PLAB,2024,2024-01-31,2024-02-26,892076000,253050000,125485000,1526221000,1275609000,"), ("row 3", "column 'shares_basic'", "FY2024")),
    Case("revenue-missing-new-year", F, fundamentals("PLAB,2024,2024-01-31,2024-02-26,,253050000,125485000,1526221000,1275609000,61000000"), ("row 2", "column 'revenue'", "FY2024")),
    Case("cogs-negative", F, fundamentals(f"PLAB,2023,2023-10-31,2023-12-26,{PLAB},-555914000", head=HEAD + ",cogs"), ("row 2", "column 'cogs'", "flip the sign")),
    Case("net-income-text", F, fundamentals("PLAB,2023,2023-10-31,2023-12-26,892076000,253050000,lots,1526221000,1275609000,61000000"), ("row 2", "column 'net_income'", "'lots' is not a number")),
    Case("unknown-column", F, fundamentals(f"PLAB,2023,2023-10-31,2023-12-26,{PLAB},1", head=HEAD + ",ebitda_guess"), ("column 'ebitda_guess'", "unknown column")),
    Case("missing-column", F, "ticker,fiscal_year,period_end\nPLAB,2023,2023-10-31\n", ("column 'publish_date'", "missing")),
    Case("unknown-ticker", F, fundamentals(f"PLABB,2023,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'ticker'", "PLAB")),
    Case("blank-ticker", F, fundamentals(f",2023,2023-10-31,2023-12-26,{PLAB}"), ("row 2", "column 'ticker'", "blank")),
    Case("duplicate-row", F, fundamentals(f"PLAB,2023,2023-10-31,2023-12-26,{PLAB}", f"PLAB,2023,2023-10-31,2023-12-26,{PLAB}"), ("row 3", "column 'fiscal_year'", "twice")),
    Case("semicolons", F, HEAD.replace(",", ";") + "\nPLAB;2023\n", ("row 1", ";-separated")),
    Case("not-utf8", F, HEAD.encode() + b"\nPLAB,2023,2023-10-31,2023-12-26," + NOT_UTF8 + b"\n", ("row 2", "not UTF-8")),
    Case("xlsx-date-9999", "fundamentals.xlsx", workbook([HEAD.split(","), ["PLAB", 2023, dt.datetime(9999, 10, 31), dt.datetime(9999, 12, 26), 892076000, 253050000, 125485000, 1526221000, 1275609000, 61000000]], "FY"), ("sheet 'FY'", "row 2", "column 'period_end'", "outside the dates")),
    Case("xlsx-fy-fraction", "fundamentals.xlsx", workbook([HEAD.split(","), ["PLAB", 2023.25, dt.datetime(2023, 10, 31), dt.datetime(2023, 12, 26), 892076000, 253050000, 125485000, 1526221000, 1275609000, 61000000]], "FY"), ("row 2", "column 'fiscal_year'", "whole")),
    Case("xlsx-revenue-negative", "fundamentals.xlsx", workbook([HEAD.split(","), ["PLAB", 2023, dt.datetime(2023, 10, 31), dt.datetime(2023, 12, 26), -1, 253050000, 125485000, 1526221000, 1275609000, 61000000]], "FY"), ("row 2", "column 'revenue'", "negative")),
]
TABLES += [Case(c.id, c.file, c.content, c.place, ("--fundamentals", "{file}")) for c in FUNDAMENTALS]

# ----------------------------------------------------------------------------- screens
S = "screen.toml"
W = "[weights]\npiotroski_f = 1.0\n"
SCREENS = [
    Case("filters-scalar", S, "filters = 3\n" + W, ("filters: found 3; expected a table",)),
    Case("filters-list", S, "filters = []\n" + W, ("filters: found []; expected a table",)),
    Case("weights-list", S, "weights = [1, 2]\n", ("weights: found [1, 2]; expected a table",)),
    Case("sectors-scalar", S, "[filters]\nsectors = 5\n" + W, ("[filters] sectors: found 5",)),
    Case("sectors-unknown", S, '[filters]\nsectors = ["Tech"]\n' + W, ("[filters] sectors, item 1", "unknown sector 'Tech'", "Did you mean 'Technology'")),
    Case("sectors-number-item", S, "[filters]\nsectors = [5]\n" + W, ("[filters] sectors, item 1: found 5",)),
    Case("sic-ranges-flat", S, "[filters]\nsic_ranges = [2000, 3999]\n" + W, ("[filters] sic_ranges, item 1: found 2000", "[[2000, 3999]]")),
    Case("sic-ranges-reversed", S, "[filters]\nsic_ranges = [[3999, 2000]]\n" + W, ("[filters] sic_ranges, item 1", "must not exceed")),
    Case("min-market-cap-text", S, '[filters]\nmin_market_cap = "1"\n' + W, ("[filters] min_market_cap: found '1'; expected a number",)),
    Case("min-market-cap-inf", S, "[filters]\nmin_market_cap = 1e400\n" + W, ("[filters] min_market_cap: found inf", "finite")),
    Case("min-market-cap-negative", S, "[filters]\nmin_market_cap = -1\n" + W, ("[filters] min_market_cap: found -1", "at least 0")),
    Case("manufacturing-text", S, '[filters]\nmanufacturing = "false"\n' + W, ("[filters] manufacturing: found 'false'; expected true or false",)),
    Case("manufacturing-one", S, "[filters]\nmanufacturing = 1\n" + W, ("[filters] manufacturing: found 1; expected true or false",)),
    Case("only-cheap-text", S, '[filters]\nonly_cheap = "yes"\n' + W, ("[filters] only_cheap: found 'yes'",)),
    Case("piotroski-above-9", S, "[filters]\nmin_piotroski = 12\n" + W, ("[filters] min_piotroski: found 12", "at most 9")),
    Case("quality-negative", S, "[filters]\nmin_quality = -5\n" + W, ("[filters] min_quality: found -5",)),
    Case("z-zones-scalar", S, '[filters]\nz_zones = "safe"\n' + W, ("[filters] z_zones: found 'safe'; expected a list",)),
    Case("z-zones-typo", S, '[filters]\nz_zones = ["sfae"]\n' + W, ("[filters] z_zones, item 1", "Did you mean 'safe'")),
    Case("exclude-flags-unknown", S, '[filters]\nexclude_flags = ["nope"]\n' + W, ("[filters] exclude_flags, item 1", "unknown red flag 'nope'", "data_integrity")),
    Case("uncertainty-unknown", S, '[filters]\nmax_uncertainty = "huge"\n' + W, ("[filters] max_uncertainty", "unknown uncertainty rating 'huge'")),
    Case("filter-unknown", S, "[filters]\nmin_mcap = 1e8\n" + W, ("[filters] unknown filter 'min_mcap'", "Did you mean 'min_market_cap'")),
    Case("no-weights", S, 'name = "x"\n', ("the [weights] table is missing",)),
    Case("empty-file", S, "", ("the [weights] table is missing",)),
    Case("weights-1e308", S, "[weights]\npiotroski_f = 1e308\nprice_to_fair_value = 1e308\n", ("[weights] piotroski_f: found 1e+308", "at most 100")),
    Case("weights-true", S, "[weights]\npiotroski_f = true\n", ("[weights] piotroski_f: found true; expected a number",)),
    Case("weights-nan", S, "[weights]\npiotroski_f = nan\n", ("[weights] piotroski_f: found nan", "finite")),
    Case("weights-negative", S, "[weights]\npiotroski_f = -1\n", ("[weights] piotroski_f: found -1",)),
    Case("weights-all-zero", S, "[weights]\npiotroski_f = 0\n", ("weights: at least one factor weight must be above 0",)),
    Case("weights-unknown", S, "[weights]\nmomentum = 1.0\n", ("[weights] unknown factor 'momentum'", "price_to_fair_value")),
    Case("ranking-scalar", S, 'ranking = "sector"\n' + W, ("ranking: found 'sector'; expected a table",)),
    Case("ranking-typo", S, '[ranking]\npeer_group = "sectr"\n' + W, ("[ranking] peer_group", "Did you mean 'sector'")),
    Case("ranking-unknown", S, "[ranking]\ncolour = 1\n" + W, ("[ranking] unknown ranking option 'colour'",)),
    Case("penalties-scalar", S, "penalties = 5\n" + W, ("penalties: found 5; expected a table",)),
    Case("penalties-over-100", S, W + "[penalties]\npeak_margin = 500\n", ("[penalties] peak_margin: found 500", "at most 100")),
    Case("penalties-unknown", S, W + "[penalties]\ncheap_look = 5.0\n", ("[penalties] unknown red flag 'cheap_look'",)),
    Case("assumption-unknown", S, W + "[assumptions]\nwacc = 0.08\n", ("[assumptions] unknown assumption 'wacc'", "risk_free_rate")),
    Case("assumption-retired", S, W + "[assumptions]\ndiscount_rate = 0.09\n", ("assumptions:", "'discount_rate' is no longer used")),
    Case("assumption-text", S, W + '[assumptions]\nrisk_free_rate = "4%"\n', ("[assumptions] risk_free_rate: found '4%'; expected a number",)),
    Case("assumption-fraction-years", S, W + "[assumptions]\ndcf_years = 10.5\n", ("[assumptions] dcf_years: found 10.5; expected a whole number",)),
    Case("assumption-inconsistent", S, W + "[assumptions]\nterminal_growth = 0.2\n", ("assumptions:", "terminal_growth must be at least -0.05 and below risk_free_rate")),
    Case("assumption-bool-text", S, W + '[assumptions]\ngraham_ceiling = "true"\n', ("[assumptions] graham_ceiling: found 'true'; expected true or false",)),
    Case("name-number", S, "name = 5\n" + W, ("name: found 5; expected text",)),
    Case("top-unknown", S, 'colour = "red"\n' + W, ("unknown setting 'colour'",)),
    Case("not-utf8", S, b'name = "' + NOT_UTF8 + b'"\n' + W.encode(), ("not UTF-8",)),
    Case("not-toml", S, "[filters\n", ("not valid TOML", "line 1")),
    Case("a-folder", S, folder, ("is a folder",)),
    Case("unreadable", S, unreadable, ("cannot read", "Input/output error")),
]
SCREENS = [Case(c.id, c.file, c.content, c.place, ("--screen", "{file}")) for c in SCREENS]

# ----------------------------------------------------------------------------- universe definitions
U = "universes.toml"
X = '[x]\nbase = "us-all"\n'
UNIVERSES = [
    Case("sectors-scalar", U, X + "sectors = 5\n", ("[x] sectors: found 5",)),
    Case("sectors-unknown", U, X + 'sectors = ["Tech"]\n', ("[x] sectors, item 1", "Did you mean 'Technology'")),
    Case("sic-ranges-flat", U, X + "sic_ranges = [2000, 3999]\n", ("[x] sic_ranges, item 1: found 2000",)),
    Case("sic-ranges-out-of-range", U, X + "sic_ranges = [[2000, 39999]]\n", ("[x] sic_ranges, item 1, item 2: found 39999", "at most 9999")),
    Case("min-price-text", U, X + 'min_price = "1"\n', ("[x] min_price: found '1'; expected a number",)),
    Case("min-price-nan", U, X + "min_price = nan\n", ("[x] min_price: found nan", "finite")),
    Case("min-market-cap-inf", U, X + "min_market_cap = inf\n", ("[x] min_market_cap: found inf",)),
    Case("max-age-negative", U, X + "max_fundamentals_age_months = -1\n", ("[x] max_fundamentals_age_months: found -1",)),
    Case("manufacturing-text", U, X + 'manufacturing = "false"\n', ("[x] manufacturing: found 'false'; expected true or false",)),
    Case("life-sciences-one", U, X + "exclude_life_sciences = 1\n", ("[x] exclude_life_sciences: found 1",)),
    Case("base-itself", U, '[x]\nbase = "x"\n', ("[x] base", "cannot start from itself")),
    Case("base-cycle", U, '[x]\nbase = "y"\n[y]\nbase = "x"\n', ("[x] base", "refers to itself")),
    Case("base-unknown", U, '[x]\nbase = "us-smal"\n', ("[x] base", "Unknown universe 'us-smal'")),
    Case("base-number", U, "[x]\nbase = 5\n", ("[x] base: found 5; expected text",)),
    Case("dataset-parent", U, '[x]\ndataset = "../../etc"\n', ("[x] dataset", "not a plain folder name")),
    Case("dataset-absolute", U, '[x]\ndataset = "/etc"\n', ("[x] dataset", "not a plain folder name")),
    Case("dataset-dotdot", U, '[x]\ndataset = ".."\n', ("[x] dataset", "not a plain folder name")),
    Case("dataset-and-base", U, '[x]\ndataset = "snapshot"\nbase = "us-all"\n', ("x:", "both `dataset` and `base`")),
    Case("no-source", U, '[x]\ndescription = "mine"\n', ("x:", "exactly one of `dataset`, `base` or `tickers_file`")),
    Case("tickers-file-number", U, "[x]\ntickers_file = 3\n", ("[x] tickers_file: found 3; expected text",)),
    Case("table-scalar", U, "x = 3\n", ("x: found 3; expected a table",)),
    Case("rank-inf", U, X + "rank = [1, 1e400]\n", ("[x] rank, item 2: found inf",)),
    Case("rank-zero", U, X + "rank = [0, 10]\n", ("[x] rank, item 1: found 0", "at least 1")),
    Case("rank-reversed", U, X + "rank = [10, 1]\n", ("[x] rank", "the first rank must not exceed the last")),
    Case("rank-scalar", U, X + "rank = 5\n", ("[x] rank: found 5; expected a list",)),
    Case("rank-by-unknown", U, X + 'rank_by = "size"\nrank = [1, 10]\n', ("[x] rank_by", "unknown ranking column 'size'", "market_cap")),
    Case("unknown-setting", U, X + "max_mcap = 1\n", ("[x] unknown setting 'max_mcap'", "Did you mean 'max_market_cap'")),
    Case("security-type-typo", U, X + 'security_types = ["comon"]\n', ("[x] security_types, item 1", "Did you mean 'common'")),
    Case("countries-scalar", U, X + 'countries = "US"\n', ("[x] countries: found 'US'; expected a list",)),
    Case("countries-lower", U, X + 'countries = ["usa"]\n', ("[x] countries, item 1: 'usa' is not a country code",)),
    Case("exchanges-scalar", U, X + 'exchanges = "OTC"\n', ("[x] exchanges: found 'OTC'",)),
    Case("notes-scalar", U, X + 'notes = "text"\n', ("[x] notes: found 'text'; expected a list",)),
    Case("description-number", U, X + "description = 5\n", ("[x] description: found 5",)),
    Case("shipped-name-reused", U, '[us-small]\nbase = "us-all"\n[x]\nbase = "us-smal"\n', ("[x] base", "Unknown universe 'us-smal'")),
    Case("not-utf8", U, b'[x]\ndescription = "' + NOT_UTF8 + b'"\nbase = "us-all"\n', ("Unknown universe 'x'", "not UTF-8")),
    Case("not-toml", U, "[x\n", ("Unknown universe 'x'", "not valid TOML")),
    Case("a-folder", U, folder, ("Unknown universe 'x'", "is a folder")),
    Case("unreadable", U, unreadable, ("Unknown universe 'x'", "cannot read")),
]
UNIVERSES = [Case(c.id, c.file, c.content, c.place, ("--universe", "x")) for c in UNIVERSES]


# ----------------------------------------------------------------------------- constraints
C = "constraints.toml"
CONSTRAINTS = [
    Case("long-only-scalar", C, "long_only = true\n", ("long_only: found true; expected a table",)),
    Case("max-weight-scalar", C, "max_weight = 0.05\n", ("max_weight: found 0.05; expected a table",)),
    Case("sectors-scalar", C, "sectors = 5\n", ("sectors: found 5; expected a table",)),
    Case("enabled-text", C, '[max_weight]\nenabled = "false"\nvalue = 0.05\n', ("[max_weight] enabled: found 'false'; expected true or false",)),
    Case("value-bool", C, "[max_weight]\nvalue = true\n", ("[max_weight] value: found true; expected a number",)),
    Case("value-text", C, '[max_weight]\nvalue = "5%"\n', ("[max_weight] value: found '5%'",)),
    Case("value-percent", C, "[max_weight]\nvalue = 5\n", ("[max_weight] value: found 5", "at most 1")),
    Case("value-zero", C, "[max_weight]\nvalue = 0\n", ("[max_weight] value: found 0",)),
    Case("tickers-text", C, "[no_buy]\ntickers = 'MCFT'\n", ("[no_buy] tickers: found 'MCFT'; expected a list",)),
    Case("tickers-number", C, "[no_sell]\ntickers = [5]\n", ("[no_sell] tickers, item 1: found 5",)),
    Case("tickers-unknown", C, '[no_buy]\ntickers = ["MCTF"]\n', ("[no_buy] tickers", "Unknown ticker 'MCTF'", "MCFT")),
    Case("no-sell-unknown", C, '[no_sell]\ntickers = ["PLABX"]\n', ("[no_sell] tickers", "Unknown ticker 'PLABX'")),
    Case("commission-nan", C, "[costs]\ncommission_bps = nan\n", ("[costs] commission_bps: found nan", "finite")),
    Case("impact-inf", C, "[costs]\nimpact_coefficient = inf\n", ("[costs] impact_coefficient: found inf", "finite")),
    Case("impact-text", C, '[costs]\nimpact = "yes"\n', ("[costs] impact: found 'yes'; expected true or false",)),
    Case("costs-unknown", C, "[costs]\nfee = 1\n", ("[costs] unknown",)),
    Case("holding-years-zero", C, "[costs]\nholding_years = 0\n", ("[costs] holding_years: found 0",)),
    Case("sector-unknown", C, "[sectors.Tech]\nmax = 0.2\n", ("[sectors] Tech", "Did you mean 'Technology'")),
    Case("sector-scalar", C, "[sectors]\nUtilities = 0.05\n", ("[sectors] Utilities: found 0.05; expected a table",)),
    Case("sector-max-above-1", C, "[sectors.Utilities]\nmax = 5\n", ("[sectors.Utilities] max: found 5", "at most 1")),
    Case("theme-unknown", C, "[themes.solar]\nmax = 0.2\n", ("[themes] solar", "unknown theme 'solar'")),
    Case("min-above-max", C, "[manufacturing]\nmin = 0.6\nmax = 0.5\n", ("manufacturing min (0.6) is above its max (0.5)",)),
    Case("beta-out-of-range", C, "[beta]\nmin = -9\n", ("[beta] min: found -9",)),
    Case("risk-aversion-text", C, 'risk_aversion = "high"\n', ("risk_aversion: found 'high'; expected a number",)),
    Case("risk-aversion-negative", C, "risk_aversion = -1\n", ("risk_aversion: found -1",)),
    Case("risk-mode-unknown", C, 'risk_mode = "activ"\n', ("risk_mode", "unknown risk mode 'activ'", "active")),
    Case("risk-model-unknown", C, 'risk_model = "pca"\n', ("risk_model", "unknown risk model 'pca'",)),
    Case("cash-buffer-one", C, "cash_buffer = 1.0\n", ("cash_buffer: found 1",)),
    Case("lookback-fraction", C, "lookback_days = 252.5\n", ("lookback_days: found 252.5",)),
    Case("max-names-fraction", C, "[max_names]\nenabled = true\nvalue = 2.5\n", ("[max_names] value: found 2.5",)),
    Case("lot-size-zero", C, "[trades]\nlot_size = 0\n", ("[trades] lot_size: found 0",)),
    Case("min-trade-text", C, '[trades]\nmin_trade_usd = "500"\n', ("[trades] min_trade_usd: found '500'",)),
    Case("unknown-setting", C, "colour = 1\n", ("unknown setting 'colour'",)),
    Case("unknown-in-table", C, "[turnover]\nmaximum = 0.5\n", ("[turnover] unknown", "maximum")),
    Case("not-toml", C, "[max_weight\n", ("not valid TOML",)),
    Case("not-utf8", C, b"risk_aversion = 2\n# \xff\xfe\n", ("UTF-8",)),
    Case("a-folder", C, folder, ("folder",)),
]
CONSTRAINTS = [Case(c.id, c.file, c.content, c.place, ("--constraints", "{file}")) for c in CONSTRAINTS]


# ----------------------------------------------------------------------------- running them
def _write(path: Path, content: Content) -> None:
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def _listing(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if "cache" not in p.relative_to(folder).parts
    )


@dataclass(frozen=True)
class Ran:
    case: Case
    path: Path
    folder: Path
    before: list[str]
    outcome: Outcome


def _invocation(kind: str, case: Case, root: Path, home: Path) -> tuple[Invocation, Path, Path]:
    folder = root / case.id
    folder.mkdir()
    if kind == "universes":
        path = folder / case.file
        env = {"ROTATION_HOME": str(folder)}
    else:
        path = folder / case.file
        env = {"ROTATION_HOME": str(home)}
    _write(path, case.content)
    args = [a.replace("{file}", str(path)) for a in case.args]
    command = {
        "holdings": ["optimize", "--holdings", str(path), "--out", str(folder / "out.xlsx"), *args],
        "tables": ["screen", "--top", "1", *args],
        "screens": ["screen", "--top", "1", *args],
        "universes": ["screen", "--top", "1", *args],
        "constraints": ["optimize", "--out", str(folder / "out.xlsx"), *args],
    }[kind]
    return Invocation(command, str(folder), env), path, folder


def _run_kind(kind: str, cases: list[Case], root: Path, home: Path) -> dict[str, Ran]:
    cases = [c for c in cases if not (c.content is unreadable and NO_PROC)]
    prepared = [(c, *_invocation(kind, c, root, home)) for c in cases]
    before = {c.id: _listing(folder) for c, _, _, folder in prepared}
    outcomes = run_cli_batch([inv for _, inv, _, _ in prepared])
    return {
        c.id: Ran(c, path, folder, before[c.id], outcome)
        for (c, _, path, folder), outcome in zip(prepared, outcomes, strict=True)
    }


def check(ran: Ran) -> None:
    """Exit 2, one message naming the file and the place, no traceback, nothing written."""
    out = ran.outcome
    assert "Traceback" not in out.stderr, out.stderr
    assert out.code == 2, (out.code, out.stderr)
    assert out.stdout == "", out.stdout
    assert out.stderr.startswith("rotation "), out.stderr
    assert str(ran.path) in out.stderr, out.stderr
    for text in ran.case.place:
        assert text in out.stderr, f"{text!r} not in: {out.stderr}"
    assert _listing(ran.folder) == ran.before, "something was written"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("batch-home")


def _fixture(kind: str, cases: list[Case]) -> Callable[..., dict[str, Ran]]:
    @pytest.fixture(scope="module", name=f"{kind}_runs")
    def runs(tmp_path_factory: pytest.TempPathFactory, home: Path) -> dict[str, Ran]:
        return _run_kind(kind, cases, tmp_path_factory.mktemp(kind), home)

    return runs


holdings_runs = _fixture("holdings", HOLDINGS)
tables_runs = _fixture("tables", TABLES)
screens_runs = _fixture("screens", SCREENS)
universes_runs = _fixture("universes", UNIVERSES)
constraints_runs = _fixture("constraints", CONSTRAINTS)


@pytest.mark.parametrize("case", params(HOLDINGS))
def test_malformed_holdings_file(case: Case, holdings_runs: dict[str, Ran]) -> None:
    check(holdings_runs[case.id])


@pytest.mark.parametrize("case", params(TABLES))
def test_malformed_ticker_list_or_fundamentals_file(case: Case, tables_runs: dict[str, Ran]) -> None:
    check(tables_runs[case.id])


@pytest.mark.parametrize("case", params(SCREENS))
def test_malformed_screen_file(case: Case, screens_runs: dict[str, Ran]) -> None:
    check(screens_runs[case.id])


@pytest.mark.parametrize("case", params(UNIVERSES))
def test_malformed_universe_definitions_file(case: Case, universes_runs: dict[str, Ran]) -> None:
    check(universes_runs[case.id])


@pytest.mark.parametrize("case", params(CONSTRAINTS))
def test_malformed_constraints_file(case: Case, constraints_runs: dict[str, Ran]) -> None:
    check(constraints_runs[case.id])


def test_the_suite_has_at_least_30_cases_of_each_kind() -> None:
    assert min(len(HOLDINGS), len(TABLES), len(SCREENS), len(UNIVERSES), len(CONSTRAINTS)) >= 30


REPRESENTATIVE = [
    ("holdings", HOLDINGS, "shares-inf"),
    ("holdings", HOLDINGS, "semicolons"),
    ("tables", TABLES, "fy-overflow"),
    ("tables", TABLES, "list-unknown-ticker"),
    ("screens", SCREENS, "filters-scalar"),
    ("screens", SCREENS, "weights-1e308"),
    ("universes", UNIVERSES, "sic-ranges-flat"),
    ("universes", UNIVERSES, "dataset-parent"),
    ("constraints", CONSTRAINTS, "enabled-text"),
    ("constraints", CONSTRAINTS, "tickers-unknown"),
]


@pytest.mark.parametrize(("kind", "cases", "case_id"), REPRESENTATIVE, ids=[f"{k}-{i}" for k, _, i in REPRESENTATIVE])
def test_malformed_input_in_a_fresh_process(kind: str, cases: list[Case], case_id: str, tmp_path: Path, home: Path) -> None:
    """The same checks through the installed command in its own process (``run_cli``)."""
    case = next(c for c in cases if c.id == case_id)
    invocation, path, folder = _invocation(kind, case, tmp_path, home)
    before = _listing(folder)
    done = run_cli(*invocation.argv, cwd=folder, env=invocation.env)
    check(Ran(case, path, folder, before, Outcome(done.returncode, done.stdout, done.stderr)))
