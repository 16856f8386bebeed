"""Typed validation of the files a user writes: the one message format, the schemas of screens,
universe definitions and workspaces, and the rules for dataset names and ``base``.

The malformed-input suite (``test_malformed_inputs.py``) runs the command line on many broken
files; these tests check the library behind it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, ClassVar

import pytest
from conftest import ROOT, run_cli
from pydantic import AfterValidator, Field

from screener.screens import Screen, ScreenError, available_screens, load_screen, screen_from_dict
from tui.session import Session, WorkspaceError
from universes import load_universe, open_dataset
from universes.catalog import (
    BUILTIN_FILE,
    SECTORS,
    catalog_warnings,
    read_catalog,
    universe_definitions,
)
from universes.errors import UniverseError, UserError
from universes.paths import SNAPSHOT_DIR, check_dataset_name, dataset_path, refreshed_datasets_dir
from universes.validation import Schema, one_of, validate


# ----------------------------------------------------------------------------- the formatter
class ThemeError(UserError):
    """Another package's own user error (as a themes file would raise)."""


class _Rule(Schema):
    noun: ClassVar[str] = "rule"
    weight: Annotated[float, Field(ge=0, le=1)] = Field(default=1.0, description="share of the score, 0-1")
    kind: Annotated[str, AfterValidator(one_of(("sic", "industry", "phrase"), "rule kind"))] = "sic"
    codes: list[int] = Field(default_factory=list, description="SIC codes, e.g. [3711, 3714]")


class _ThemesFile(Schema):
    noun: ClassVar[str] = "theme"
    automation: _Rule | None = None


def test_one_formatter_names_file_table_key_value_expected_and_close_matches(tmp_path: Path) -> None:
    where = tmp_path / "themes.toml"
    with pytest.raises(ThemeError) as err:
        validate(_ThemesFile, {"automation": {"weight": "0.5"}}, ThemeError, where)
    assert str(err.value) == (
        f"{where}: [automation] weight: found '0.5'; expected a number (share of the score, 0-1)."
    )
    with pytest.raises(ThemeError, match=r"\[automation\] weight: found 2; expected a number of at most 1"):
        validate(_ThemesFile, {"automation": {"weight": 2}}, ThemeError, where)
    with pytest.raises(ThemeError, match=r"\[automation\] unknown rule 'wieght'\. Did you mean 'weight'\? Valid rules: weight, kind, codes\."):
        validate(_ThemesFile, {"automation": {"wieght": 1}}, ThemeError, where)
    with pytest.raises(ThemeError, match=r"\[automation\] kind: unknown rule kind 'industy'\. Did you mean 'industry'\?"):
        validate(_ThemesFile, {"automation": {"kind": "industy"}}, ThemeError, where)
    with pytest.raises(ThemeError, match=r"^[^:]+: unknown theme 'automaton'\. Did you mean 'automation'\?"):
        validate(_ThemesFile, {"automaton": {}}, ThemeError, where)
    with pytest.raises(ThemeError, match=r"\[automation\] codes, item 2: found 3711\.5; expected a whole number"):
        validate(_ThemesFile, {"automation": {"codes": [3711, 3711.5]}}, ThemeError, where)
    with pytest.raises(ThemeError, match=r"automation: found true; expected a table"):
        validate(_ThemesFile, {"automation": True}, ThemeError, where)


def test_several_problems_are_listed_one_per_line(tmp_path: Path) -> None:
    with pytest.raises(ThemeError) as err:
        validate(_ThemesFile, {"automation": {"weight": float("nan"), "kind": 3}}, ThemeError, tmp_path / "t.toml")
    lines = str(err.value).splitlines()
    assert lines[0].endswith("t.toml: 2 problems:")
    assert lines[1] == "  [automation] weight: found nan; expected a finite number (not nan or inf) (share of the score, 0-1)."
    assert lines[2] == "  [automation] kind: found 3; expected text in quotes."


def test_a_table_inside_a_bigger_file_is_named_by_its_place(tmp_path: Path) -> None:
    with pytest.raises(ScreenError, match=r"ws\.toml: \[screen\.filters\] sectors, item 1: unknown sector 'Industrial'\. Did you mean 'Industrials'\?"):
        screen_from_dict({"weights": {"piotroski_f": 1}, "filters": {"sectors": ["Industrial"]}}, tmp_path / "ws.toml", table="screen")


# ----------------------------------------------------------------------------- screens
def test_a_screen_without_weights_is_refused_not_ranked_alphabetically(tmp_path: Path) -> None:
    for text in ("", 'name = "only filters"\n[filters]\nmanufacturing = true\n'):
        path = tmp_path / "s.toml"
        path.write_text(text)
        with pytest.raises(ScreenError, match=r"the \[weights\] table is missing; a screen needs one"):
            load_screen(path)


def test_true_is_not_a_weight_and_a_string_is_not_a_bool(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[weights]\npiotroski_f = true\n")
    with pytest.raises(ScreenError, match="found true; expected a number"):
        load_screen(path)
    path.write_text('[weights]\npiotroski_f = 1\n[filters]\nonly_cheap = "false"\n')
    with pytest.raises(ScreenError, match="found 'false'; expected true or false"):
        load_screen(path)


def test_screens_built_in_code_pass_the_same_schema() -> None:
    with pytest.raises(ScreenError, match="at least one factor weight must be above 0"):
        Screen(weights={})
    with pytest.raises(ScreenError, match="unknown sector 'Tech'"):
        Screen().with_filters(sectors=["Tech"])
    with pytest.raises(ScreenError, match="found 1e\\+308; expected a number of at most 100"):
        Screen().with_weights(piotroski_f=1e308)
    assert Screen().with_filters(sectors=["Technology"], sic_ranges=[[2000, 3999]]).filters["sectors"] == ["Technology"]


def test_every_shipped_screen_passes_and_whole_numbers_are_numbers(tmp_path: Path) -> None:
    for name in available_screens():
        assert load_screen(name).weights
    path = tmp_path / "s.toml"
    path.write_text("[weights]\npiotroski_f = 2\n[filters]\nmin_market_cap = 300000000\n")
    assert load_screen(path).weights == {"piotroski_f": 2.0}


def test_the_schemas_name_every_filter_the_code_applies() -> None:
    from screener.screens import FILTERS, ScreenFilters
    from universes.catalog import FILTER_KEYS, UniverseTable

    assert list(ScreenFilters.model_fields) == list(FILTERS)
    assert set(FILTER_KEYS) < set(UniverseTable.model_fields)


def test_every_sector_of_the_snapshot_is_a_known_sector_name() -> None:
    sectors = set(open_dataset().companies["sector"].dropna())
    assert sectors <= set(SECTORS), sectors - set(SECTORS)


# ----------------------------------------------------------------------------- universe definitions
def test_a_broken_user_universes_file_leaves_the_shipped_universes_working(rotation_home: Path) -> None:
    user_file = rotation_home / "universes.toml"
    user_file.write_bytes(b'[mine]\ndescription = "caf\xe9"\nbase = "us-all"\n')
    assert set(universe_definitions()) == set(universe_definitions(include_user=False))
    warnings = catalog_warnings()
    assert len(warnings) == 1 and str(user_file) in warnings[0] and "not UTF-8" in warnings[0]
    assert "shipped universes are used without it" in warnings[0]
    with pytest.raises(UniverseError, match=r"Unknown universe 'mine'.*not UTF-8"):
        load_universe("mine")


def test_one_bad_user_definition_is_left_out_and_named_the_others_load(rotation_home: Path) -> None:
    user_file = rotation_home / "universes.toml"
    user_file.write_text(
        '[good]\nbase = "us-small"\nsectors = ["Industrials"]\n'
        '[bad]\nbase = "us-all"\nsic_ranges = [2000, 3999]\n'
        '[loop]\nbase = "loop"\n'
    )
    catalog = read_catalog()
    assert "good" in catalog.definitions and "bad" not in catalog.definitions
    assert set(catalog.problems) == {"bad", "loop"}
    assert any("[bad] sic_ranges, item 1: found 2000" in w for w in catalog.warnings)
    with pytest.raises(UniverseError, match=r"\[loop\] base: the universe cannot start from itself"):
        load_universe("loop")
    good = load_universe("good")
    assert len(good) > 0 and set(good.companies["sector"]) == {"Industrials"}


def test_a_user_universe_that_cannot_load_is_listed_without_a_size(rotation_home: Path) -> None:
    from universes import list_universes

    (rotation_home / "universes.toml").write_text(
        '[gone]\ntickers_file = "no-such-list.csv"\n[old]\ndataset = "live-yfinance-1999-01-01"\n'
    )
    rows = {r["name"]: r for r in list_universes()}
    assert rows["gone"]["count"] is None and rows["old"]["count"] is None
    assert rows["us-large"]["count"] == 1000
    with pytest.raises(UniverseError, match="No dataset called 'live-yfinance-1999-01-01'"):
        load_universe("old")


def test_the_shipped_definitions_pass_the_schema() -> None:
    catalog = read_catalog(include_user=False)
    assert not catalog.problems and catalog.file_problem is None
    assert all(d.origin == str(BUILTIN_FILE) for d in catalog.definitions.values())


def test_a_dataset_name_cannot_leave_the_data_folder(rotation_home: Path) -> None:
    escape = os.path.relpath(SNAPSHOT_DIR, refreshed_datasets_dir())  # ../../.../universes/data
    assert (refreshed_datasets_dir() / escape / "manifest.json").resolve().is_file()
    for name in (escape, "..", "../x", "/etc", "a/b", ".hidden", "x/../../y", ""):
        with pytest.raises(UniverseError, match="not a plain folder name"):
            dataset_path(name)
    assert check_dataset_name("live-yfinance-2024-03-08") == "live-yfinance-2024-03-08"
    (rotation_home / "universes.toml").write_text(f'[escape]\ndataset = "{escape}"\n')
    with pytest.raises(UniverseError, match=r"universes\.toml: \[escape\] dataset: dataset name .* is not a plain folder name"):
        load_universe("escape")


def test_refresh_refuses_a_new_dataset_name_outside_the_data_folder() -> None:
    from universes.refresh import RefreshError, installed_providers, prepare_refresh

    provider = next(iter(installed_providers()), "yfinance")
    with pytest.raises(RefreshError, match="not a plain folder name"):
        prepare_refresh(provider, "MCFT", None, "../escaped", False)


def test_rotation_universes_still_lists_the_shipped_universes_with_a_broken_user_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "universes.toml").write_text("[mine\n")
    done = run_cli("universes", "--format", "json", env={"ROTATION_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    assert {r["name"] for r in json.loads(done.stdout)} >= {"us-all", "us-small-manufacturing"}


# ----------------------------------------------------------------------------- workspaces
BAD_WORKSPACES = [
    ("workspace = 3\n", "workspace: found 3; expected a table"),
    ("screen = 3\n", "screen: found 3; expected a table"),
    ("constraints = 3\n", "constraints: found 3; expected a table"),
    ("[workspace]\nuniverse = 5\n", r"\[workspace\] universe: found 5; expected text"),
    ('[workspace]\nignore_unknown = "false"\n', r"\[workspace\] ignore_unknown: found 'false'; expected true or false"),
    ("[workspace]\ncapital = nan\n", r"\[workspace\] capital: found nan"),
    ('[workspace]\ncapital = "250000"\n', r"\[workspace\] capital: found '250000'; expected a number"),
    ("[workspace]\ncapital = 1e300\n", r"\[workspace\] capital: found 1e\+300; expected a number below 1e\+15"),
    ("[workspace]\nholdings = 5\n", r"\[workspace\] holdings: found 5; expected text"),
    ("[screen]\nfilters = 3\n", r"\[screen\] filters: found 3; expected a table"),
    ('[screen.weights]\npiotroski_f = 1\n[screen.filters]\nsectors = ["Tech"]\n', r"\[screen\.filters\] sectors, item 1: unknown sector 'Tech'"),
    ("[constraints]\nmax_weight = 0.05\n", r"\[constraints\]"),
    ("[constraints]\nlong_only = true\n", r"\[constraints\]"),
    ("[constraints]\nsectors = 5\n", r"\[constraints\]"),
    ('[workspace]\nholdings = "no-such-holdings.csv"\n', "no-such-holdings.csv: no such file"),
    ('[workspace]\nuniverse = "us-tiny"\n', "Unknown universe 'us-tiny'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_WORKSPACES)
def test_a_malformed_workspace_is_a_workspace_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ws.toml"
    path.write_text(text)
    with pytest.raises(WorkspaceError, match=message) as err:
        Session.from_workspace(path)
    assert str(err.value).startswith(str(path)), str(err.value)


def test_an_unquoted_toml_date_is_a_workspace_date(tmp_path: Path) -> None:
    path = tmp_path / "ws.toml"
    path.write_text('[workspace]\nuniverse = "us-small-manufacturing"\nas_of = 2023-06-30\n')
    assert Session.from_workspace(path).as_of == "2023-06-30"


# ----------------------------------------------------------------------------- files the user cannot read
def _as_nobody() -> list[str] | None:
    """The command prefix that runs as an unprivileged user (None: not possible here)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def test_a_file_the_user_may_not_read_is_a_message_not_a_traceback() -> None:
    prefix = _as_nobody()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot drop privileges to make a file unreadable")
    probe = subprocess.run([*prefix, sys.executable, "-c", "import tui.cli"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    if probe.returncode != 0:  # e.g. a checkout inside a folder only root may enter (mktemp -d)
        pytest.skip(f"the unprivileged user cannot import the project from {ROOT}: {probe.stderr.strip().splitlines()[-1:]}")
    folder = Path(tempfile.mkdtemp(prefix="rotation-perm-"))
    try:
        folder.chmod(0o755)
        screen = folder / "secret.toml"
        screen.write_text("[weights]\npiotroski_f = 1\n")
        (folder / "universes.toml").write_text('[x]\nbase = "us-all"\n')
        for path in (screen, folder / "universes.toml"):
            path.chmod(0o000)
        env = {**os.environ, "ROTATION_HOME": str(folder), "PYTHONDONTWRITEBYTECODE": "1"}

        def rotation(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*prefix, sys.executable, "-m", "tui.cli", *args],
                capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
            )

        done = rotation("screen", "--screen", str(screen))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"{screen}: cannot read this screen file (Permission denied)" in done.stderr
        listed = rotation("universes", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        assert "us-small-manufacturing" in listed.stdout
        asked = rotation("screen", "--universe", "x")
        assert asked.returncode == 2 and "Permission denied" in asked.stderr and "universes.toml" in asked.stderr
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_cli_warns_about_a_broken_user_universes_file_and_goes_on(tmp_path) -> None:
    from conftest import run_cli

    (tmp_path / "universes.toml").write_text("[broken\n")
    done = run_cli("universes", env={"ROTATION_HOME": str(tmp_path)})
    assert done.returncode == 0
    assert f"rotation universes: warning: {tmp_path / 'universes.toml'}: not valid TOML" in done.stderr
    assert "us-small-manufacturing" in done.stdout
