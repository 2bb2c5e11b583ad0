"""ingest.clean: one test per rule, then the composed clean_text."""

from __future__ import annotations

import pytest

from pubgraph.ingest.clean import (
    clean_text,
    normalise_whitespace,
    remove_citation_markers,
    remove_figure_refs,
    remove_markup,
    remove_urls_emails,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cells grew (Fig. 2A) fast.", "Cells grew fast."),
        ("Cells grew (Figure 3).", "Cells grew."),
        ("Rates rose (Table 1) sharply.", "Rates rose sharply."),
        ("See Supplementary Fig. S1 for details.", "See for details."),
        ("Results (see Figs. 2 and 3) held.", "Results held."),
        ("Both (Table 2; Fig. 4B) agree.", "Both agree."),
        ("Panels (Fig. 2A, B) and (Figure 3a-c) differ.", "Panels and differ."),
        ("Shown in Figure 1A–C and Table S2.", "Shown in."),
        ("Patients (n = 5; Fig. 2) improved.", "Patients (n = 5) improved."),
    ],
)
def test_figure_and_table_references(text: str, expected: str) -> None:
    assert normalise_whitespace(remove_figure_refs(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "In Figure 2, B cells grew.",  # keeps "B cells"
        "The figure shows a trend.",
        "A table of contents.",
    ],
)
def test_figure_refs_do_not_eat_words(text: str) -> None:
    out = normalise_whitespace(remove_figure_refs(text))
    for word in ("cells grew", "shows a trend", "of contents"):
        if word in text:
            assert word in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IL-6 is raised [1].", "IL-6 is raised."),
        ("In RA [2,3] and OA [4–7].", "In RA and OA."),
        ("Known [1, 3-5; 8].", "Known."),
        (
            "Odds 1.2 [95% CI] and [CI 1.0 to 1.3] stay.",
            "Odds 1.2 [95% CI] and [CI 1.0 to 1.3] stay.",
        ),
    ],
)
def test_citation_markers(text: str, expected: str) -> None:
    assert normalise_whitespace(remove_citation_markers(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Data at https://example.org/a?b=1. Next.", "Data at. Next."),
        ("See www.example.org/x and http://x.y/z).", "See and)."),
        ("Via doi.org/10.1000/xyz today.", "Via today."),
        ("Mail jane.doe+lab@uni-x.edu now.", "Mail now."),
    ],
)
def test_urls_and_emails(text: str, expected: str) -> None:
    assert normalise_whitespace(remove_urls_emails(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<i>E. coli</i> in Ca<sup>2+</sup>", "E. coli in Ca2+"),
        ('<mml:math display="block"><mml:mi>x</mml:mi></mml:math> = 1', "x = 1"),
        ("<p>One.</p><p>Two.</p>", "One. Two."),
        ("p<0.05 and a<b and c>d &amp; e", "p<0.05 and a<b and c>d & e"),
    ],
)
def test_markup(text: str, expected: str) -> None:
    assert normalise_whitespace(remove_markup(text)) == expected


def test_whitespace() -> None:
    assert normalise_whitespace("  a \n\t b  ( c ) , d ; . () e ") == "a b (c), d. e"


def test_clean_text_all_rules_together() -> None:
    raw = (
        "<i>IL-6</i> rises in RA [1,2] (Fig. 1B), see https://x.org/y or "
        "mail a@b.org.  Supplementary Table S3 lists   all."
    )
    assert clean_text(raw) == "IL-6 rises in RA, see or mail. lists all."


def test_clean_text_is_pure_and_idempotent() -> None:
    raw = "Cells (Fig. 2) grew [3]."
    once = clean_text(raw)
    assert raw == "Cells (Fig. 2) grew [3]."
    assert clean_text(once) == once == "Cells grew."
    assert clean_text("") == ""
