"""Themes: the files and their validation, the tagging rule on real companies, and its quality on
the hand-labelled sample (tests/data/theme_labels.csv)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from screener.themes import find_phrases, normalize_text, tag_themes
from universes import open_dataset
from universes.themes import ThemeError, find_theme, load_themes, theme_id

LABELS = Path(__file__).parent / "data" / "theme_labels.csv"
THEMES = ("automation", "energy_transition", "medical_devices")
#: Precision and recall on the labelled sample must not fall below these (README, "Tagging
#: quality", gives the measured figures).
FLOORS = {
    "automation": (0.6, 0.5),
    "energy_transition": (0.75, 0.75),
    "medical_devices": (0.95, 0.9),
}


@pytest.fixture(scope="module")
def tags():
    data = open_dataset()
    return tag_themes(data.companies, data.profiles["business_summary"], load_themes(include_user=False))


def _why(tags, ticker: str, theme: str) -> dict:
    return next(r for r in tags.why(ticker) if r["theme"] == theme)


# ----------------------------------------------------------------------------- the rule
def test_sic_3674_alone_does_not_make_a_photomask_maker_energy_transition(tags) -> None:
    plab = _why(tags, "PLAB", "energy_transition")
    assert plab["sic_match"] and not plab["phrases"] and not plab["similar"]
    assert not plab["tagged"] and plab["reason"] == "not tagged: only SIC 3674"
    fslr = _why(tags, "FSLR", "energy_transition")  # same SIC, a solar maker
    assert fslr["tagged"] and fslr["sic_match"] and "solar" in fslr["phrases"]


def test_hospitals_in_a_summary_do_not_make_a_floor_cleaner_medical(tags) -> None:
    tnc = _why(tags, "TNC", "medical_devices")
    assert tnc["phrases"] == "hospitals" and not tnc["tagged"]
    assert not tnc["sic_match"] and not tnc["industry_match"] and not tnc["similar"]


def test_a_solar_tracker_maker_under_sic_3990_is_energy_transition(tags) -> None:
    arry = _why(tags, "ARRY", "energy_transition")
    assert not arry["sic_match"] and not arry["industry_match"]  # SIC 3990, "Semiconductors"
    assert arry["tagged"] and arry["phrases"] == "solar" and arry["similar"]
    assert arry["similarity"] >= 0.06
    assert "Energy transition" in tags.table.at["ARRY", "themes"]


def test_two_classifications_without_the_summary_do_not_tag(tags) -> None:
    lake = _why(tags, "LAKE", "medical_devices")  # protective clothing under SIC 3842
    assert lake["sic_match"] and lake["industry_match"] and lake["kinds"] == 2
    assert not lake["tagged"] and "nothing from the summary" in lake["reason"]


def test_an_exclude_phrase_vetoes(tags) -> None:
    path = _why(tags, "PATH", "automation")  # robotic process automation: software
    assert path["excluded_by"] == "robotic process automation" and not path["tagged"]


def test_every_company_and_theme_has_evidence_and_a_boolean_column(tags) -> None:
    data = open_dataset()
    assert len(tags.evidence) == 3 * len(data.companies)
    assert [c for c in tags.table.columns if c.startswith("theme_")] == [f"theme_{t}" for t in THEMES]
    assert tags.table["theme_medical_devices"].dtype == bool
    for theme in THEMES:
        e = tags.evidence[tags.evidence["theme"] == theme].set_index("ticker")
        assert e["tagged"].equals(tags.table[f"theme_{theme}"].rename("tagged"))
        assert e["similarity"].between(0, 1).all()
    assert 15 <= tags.table["theme_automation"].sum() <= 80


def test_phrases_match_whole_words_hyphens_and_prefixes() -> None:
    texts = pd.Series([normalize_text("Lithium-ion cells; robotics."), normalize_text("A robotaxi, not solaris")])
    found = find_phrases(texts, ["lithium ion", "robot*", "solar", "cells"])
    assert found.tolist() == ["lithium ion; robot*; cells", "robot*"]


# ----------------------------------------------------------------------------- files
def _write(home: Path, text: str) -> Path:
    path = home / "themes.toml"
    path.write_text(text)
    return path


def test_user_file_pins_unpins_and_adds_a_theme(rotation_home: Path) -> None:
    _write(
        rotation_home,
        '[themes.energy_transition]\npins = ["SHLS"]\nunpins = ["ARRY"]\n\n'
        '[themes.water]\nlabel = "Water"\ndescription = "Water pumps, meters and treatment."\n'
        'include = ["water", "pumps"]\nsic = [3561]\n',
    )
    themes = load_themes(known=open_dataset().companies.index)
    assert [t.id for t in themes] == [*THEMES, "water"]
    energy = find_theme("Energy transition", themes)
    assert energy.pins == ("SHLS",) and energy.unpins == ("ARRY",)
    assert energy.include == load_themes(include_user=False)[1].include  # shipped keys kept
    data = open_dataset()
    picked = data.companies.loc[["SHLS", "ARRY", "XYL"]]
    tagged = tag_themes(picked, data.profiles["business_summary"], themes)
    assert tagged.table.at["SHLS", "theme_energy_transition"]
    assert not tagged.table.at["ARRY", "theme_energy_transition"]
    assert _why(tagged, "ARRY", "energy_transition")["reason"] == "unpinned by the user"
    assert tagged.table.at["XYL", "theme_water"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[themes.automation]\nlabel = "A"\ndescription = "x"\ninclude = ["robot"]\ncolour = "red"\n', "[themes.automation] key 'colour' is unknown"),
        ('[themes.automation]\nlabel = "A"\ndescription = "x"\nsic = [36740]\n', "[themes.automation] key 'sic': 36740 is not a SIC code"),
        ('[themes.new_one]\ndescription = "x"\ninclude = ["a"]\n', "[themes.new_one] key 'label' is missing"),
        ('[themes.automation]\nmin_similarity = 2\n', "key 'min_similarity' must be a number above 0 and at most 1"),
        ('[themes.automation]\npins = ["MCFT"]\nunpins = ["MCFT"]\n', "MCFT both pinned and unpinned"),
        ('[themes.automation]\npins = ["NOPE1"]\n', "[themes.automation] key 'pins': NOPE1 not in the dataset"),
        ('[themes.automation]\ninclude = ["ro*bot"]\n', "'ro*bot' is not a phrase"),
        ('[themes."Energy Transition"]\nlabel = "E"\ndescription = "x"\ninclude = ["a"]\n', "write [themes.energy_transition]"),
        ('[themes.nothing]\nlabel = "N"\ndescription = "x"\n', "no evidence"),
        ("[themes.automation\n", "not valid TOML"),
    ],
)
def test_a_bad_user_file_names_file_table_and_key(rotation_home: Path, text: str, expected: str) -> None:
    path = _write(rotation_home, text)
    with pytest.raises(ThemeError) as err:
        load_themes(known=open_dataset().companies.index)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_theme_names_resolve_by_id_or_label() -> None:
    themes = load_themes(include_user=False)
    assert theme_id("Medical-devices ") == "medical_devices"
    assert find_theme("energy transition", themes).id == "energy_transition"
    with pytest.raises(ThemeError, match="Valid themes: automation"):
        find_theme("biotech", themes)


# ----------------------------------------------------------------------------- quality
def quality(labels: pd.DataFrame, table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Precision and recall per theme of ``table``'s tags against ``labels``."""
    out = {}
    for theme in THEMES:
        predicted = table.loc[labels.index, f"theme_{theme}"]
        truth = labels[theme].astype(bool)
        tp = int((predicted & truth).sum())
        fp = int((predicted & ~truth).sum())
        fn = int((~predicted & truth).sum())
        out[theme] = {"tp": tp, "fp": fp, "fn": fn, "precision": tp / (tp + fp), "recall": tp / (tp + fn)}
    return out


def test_labels_are_a_real_sample_with_a_note_per_company() -> None:
    labels = pd.read_csv(LABELS)
    data = open_dataset()
    assert len(labels) >= 100 and labels["ticker"].is_unique
    assert labels["ticker"].isin(data.companies.index).all()
    assert labels["note"].str.len().min() >= 7
    assert set(labels["split"]) == {"dev", "test"}
    for theme in THEMES:
        assert set(labels[theme]) <= {0, 1} and labels[theme].sum() >= 9


def test_tagging_quality_on_the_labelled_sample(tags) -> None:
    labels = pd.read_csv(LABELS).set_index("ticker")
    measured = quality(labels, tags.table)
    for theme, (precision, recall) in FLOORS.items():
        m = measured[theme]
        assert m["precision"] >= precision and m["recall"] >= recall, (theme, m)
