"""Theme tags: which companies belong to which theme, and the evidence for each tag.

The rule
--------
For every company and theme (a :class:`universes.themes.Theme`) four kinds of evidence are
looked at:

* ``sic``: the company's SEC SIC code is in the theme's codes;
* ``industry``: its source industry is one of the theme's industries;
* ``phrases``: the theme's include phrases found in its business summary (lower case, any
  character other than a letter or digit read as a space, so "lithium-ion" matches
  "lithium ion"; whole words; a phrase ending in ``*`` matches any ending);
* ``similarity``: the cosine similarity of the summary's TF-IDF vector to the theme
  description's, counted as evidence from the theme's ``min_similarity`` up. The vectors are
  scikit-learn's ``TfidfVectorizer`` over words and word pairs (English stop words removed,
  sublinear term frequency, words in at least two documents), fitted on the summaries given
  plus the descriptions: give every summary of the dataset, and a company's score does not
  depend on the universe screened.

A company is **tagged** when at least two kinds agree and at least one of them comes from the
summary (a phrase or the similarity), and no exclude phrase is in the summary. So a SIC code
and an industry (two classifications) never tag on their own, and neither does a phrase alone;
a pin tags whatever the evidence says, an unpin removes the tag. Why each rule: SIC 3674
holds photomask makers (Photronics) as well as solar-cell makers; "hospitals" is in a
floor-cleaning maker's summary (Tennant); a solar-tracker maker is filed under SIC 3990
(Array Technologies) and SimFin's "Semiconductors" industry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from universes.themes import Theme

#: The columns of :attr:`ThemeTags.evidence`.
EVIDENCE_COLUMNS = (
    "ticker",
    "theme",
    "label",
    "tagged",
    "sic_match",
    "industry_match",
    "phrases",
    "excluded_by",
    "similarity",
    "similar",
    "kinds",
    "pin",
    "reason",
)
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalize_text(text: str) -> str:
    """Lower case, ``\\'`` unescaped, every run of other characters one space, padded."""
    return " " + _NOT_WORD.sub(" ", text.replace("\\'", "'").lower()).strip() + " "


def phrase_needle(phrase: str) -> str:
    """What a normalised text must contain for a phrase to match (see :func:`normalize_text`):
    ``" lithium ion "``; a phrase ending in ``*`` leaves the end open (``" robot"``)."""
    words = normalize_text(phrase.rstrip("*")).strip()
    return f" {words}" if phrase.endswith("*") else f" {words} "


def find_phrases(texts: pd.Series, phrases: Sequence[str], words: pd.Series | None = None) -> pd.Series:
    """The phrases found in each normalised text, in the theme's order, ``'; '``-joined.

    ``words`` (each text's set of words) may be passed when several phrase lists are searched
    in the same texts: a phrase is only looked for where its first word is.
    """
    if words is None:
        words = texts.str.split().map(set)
    needles = []
    for phrase in phrases:
        needle = phrase_needle(phrase)
        first = needle.split()[0] if not phrase.endswith("*") or " " in needle.strip() else None
        needles.append((phrase, needle, first))
    out = [
        "; ".join(p for p, needle, first in needles if (first is None or first in seen) and needle in text)
        for text, seen in zip(texts, words, strict=True)
    ]
    return pd.Series(out, index=texts.index, dtype=object)


def summary_similarity(summaries: pd.Series, documents: dict[str, str]) -> pd.DataFrame:
    """TF-IDF cosine similarity of every summary to every document (see the module docstring).

    Parameters
    ----------
    summaries : pandas.Series
        Business summaries by ticker (missing ones score 0).
    documents : dict of str to str
        Theme id -> description.

    Returns
    -------
    pandas.DataFrame
        Tickers x theme ids, 0-1.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = summaries.fillna("").astype(str).map(normalize_text)
    docs = [normalize_text(d) for d in documents.values()]
    vectorizer = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, ngram_range=(1, 2), min_df=2, dtype=np.float64
    )
    matrix = vectorizer.fit_transform([*texts.tolist(), *docs])
    n = len(texts)
    scores = (matrix[:n] @ matrix[n:].T).toarray()
    return pd.DataFrame(scores, index=summaries.index, columns=list(documents))


def _in_ranges(sic: pd.Series, ranges: Sequence[tuple[int, int]]) -> pd.Series:
    code = pd.to_numeric(sic, errors="coerce").astype("float64")
    hit = pd.Series(False, index=sic.index)
    for lo, hi in ranges:
        hit |= (code >= lo) & (code <= hi)
    return hit


@dataclass(frozen=True)
class ThemeTags:
    """Theme tags of a set of companies, with the evidence behind each.

    Attributes
    ----------
    table : pandas.DataFrame
        By ticker: one boolean column per theme (``theme_<id>``) and ``themes`` (the labels of
        the company's themes, ``', '``-joined; '' for none). Join it to a screen table.
    evidence : pandas.DataFrame
        One row per company and theme (``EVIDENCE_COLUMNS``): ``tagged``, ``sic_match``,
        ``industry_match``, ``phrases`` (found, ``'; '``-joined), ``excluded_by`` (the exclude
        phrases found), ``similarity`` (0-1), ``similar`` (at or above the theme's threshold),
        ``kinds`` (how many of the four kinds of evidence agree), ``pin`` (``"pinned"``,
        ``"unpinned"`` or '') and ``reason`` (one sentence).
    themes : tuple of Theme
    """

    table: pd.DataFrame
    evidence: pd.DataFrame
    themes: tuple[Theme, ...]

    def why(self, ticker: str) -> list[dict[str, Any]]:
        """Every theme's evidence for one company, as plain values (for ``show`` and the app).

        Returns
        -------
        list of dict
            One per theme, the keys of ``EVIDENCE_COLUMNS`` but ``ticker``.
        """
        rows = self.evidence[self.evidence["ticker"] == ticker]
        out = []
        for row in rows.to_dict("records"):
            row.pop("ticker")
            row["similarity"] = round(float(row["similarity"]), 4)
            out.append({k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()})
        return out


def _reasons(frame: pd.DataFrame, theme: Theme, sic: pd.Series, industry: pd.Series) -> list[str]:
    """One sentence per row of a theme's evidence frame: the verdict and what it rests on."""
    out = []
    columns = ("tagged", "sic_match", "industry_match", "phrases", "excluded_by", "similarity", "similar", "kinds", "pin")
    for values, code, ind in zip(zip(*(frame[c] for c in columns), strict=True), sic, industry, strict=True):
        tagged, sic_match, industry_match, phrases, excluded_by, score, similar, kinds, pin = values
        if pin:
            out.append(f"{pin} by the user")
            continue
        seen = []
        if sic_match:
            seen.append(f"SIC {code}")
        if industry_match:
            seen.append(f"industry {ind}")
        if phrases:
            seen.append(f"summary says {phrases}")
        if similar:
            seen.append(f"summary similar to the theme ({score:.3f} >= {theme.min_similarity:g})")
        evidence = ", ".join(seen) if seen else "no evidence"
        if excluded_by:
            out.append(f"not tagged: summary says {excluded_by} (excluded); {evidence}")
        elif tagged:
            out.append(f"tagged: {evidence}")
        elif kinds >= 2:
            out.append(f"not tagged: {evidence}, but nothing from the summary")
        elif kinds == 1:
            out.append(f"not tagged: only {evidence}")
        else:
            out.append("not tagged: no evidence")
    return out


def tag_themes(
    companies: pd.DataFrame,
    summaries: pd.Series,
    themes: Sequence[Theme],
    similarity: pd.DataFrame | None = None,
) -> ThemeTags:
    """Tag companies with themes (the rule is in the module docstring).

    Parameters
    ----------
    companies : pandas.DataFrame
        Indexed by ticker, with ``sic`` and ``industry``.
    summaries : pandas.Series
        Business summaries by ticker (``universes.open_dataset().profiles``); a company without
        one has no summary evidence and is tagged only by a pin. Pass every summary of the
        dataset (only ``companies`` are tagged) so that the similarity does not depend on which
        companies are tagged.
    themes : sequence of Theme
        From :func:`universes.themes.load_themes`.
    similarity : pandas.DataFrame, optional
        Precomputed :func:`summary_similarity` (tickers x theme ids).

    Returns
    -------
    ThemeTags
    """
    themes = tuple(themes)
    tickers = companies.index
    if similarity is None:
        similarity = summary_similarity(summaries, {t.id: t.description for t in themes})
    text = summaries.reindex(tickers)
    has_summary = text.notna() & (text.astype(str).str.strip() != "")
    normalized = text.fillna("").astype(str).map(normalize_text)
    words = normalized.str.split().map(set)
    table = pd.DataFrame(index=tickers)
    frames = []
    for theme in themes:
        sic_match = _in_ranges(companies["sic"], theme.sic)
        industry_match = companies["industry"].isin(theme.industries).fillna(False).astype(bool)
        phrases = find_phrases(normalized, theme.include, words)
        excluded_by = find_phrases(normalized, theme.exclude, words)
        score = similarity[theme.id].reindex(tickers).fillna(0.0).where(has_summary, 0.0)
        similar = score >= theme.min_similarity
        said = (phrases != "") | similar
        kinds = (
            sic_match.astype(int) + industry_match.astype(int) + (phrases != "").astype(int) + similar.astype(int)
        )
        tagged = (kinds >= 2) & said & (excluded_by == "")
        pin = pd.Series("", index=tickers, dtype=object)
        pin[tickers.isin(theme.pins)] = "pinned"
        pin[tickers.isin(theme.unpins)] = "unpinned"
        tagged = (tagged | (pin == "pinned")) & (pin != "unpinned")
        frame = pd.DataFrame(
            {
                "ticker": tickers,
                "theme": theme.id,
                "label": theme.label,
                "tagged": tagged.to_numpy(),
                "sic_match": sic_match.to_numpy(),
                "industry_match": industry_match.to_numpy(),
                "phrases": phrases.to_numpy(),
                "excluded_by": excluded_by.to_numpy(),
                "similarity": score.to_numpy(),
                "similar": similar.to_numpy(),
                "kinds": kinds.to_numpy(),
                "pin": pin.to_numpy(),
            }
        )
        frame["reason"] = _reasons(frame, theme, companies["sic"], companies["industry"])
        frames.append(frame)
        table[theme.column] = tagged.to_numpy()
    flags = [table[t.column].to_numpy() for t in themes]
    table["themes"] = [
        ", ".join(t.label for t, on in zip(themes, row, strict=True) if on)
        for row in zip(*flags, strict=True)
    ] if themes else ""
    evidence = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    return ThemeTags(table=table, evidence=evidence[list(EVIDENCE_COLUMNS)], themes=themes)
