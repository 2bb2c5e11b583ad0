"""Text cleaning for model input, as the reference PubMedBERT fine-tuning project did it.

Records keep the raw text; consumers (pair mining, training) call :func:`clean_text`.
Each rule is its own pure function so it can be tested and reused alone:

* :func:`remove_figure_refs` — ``(Fig. 2A)``, ``(Figure 3)``, ``(Table 1)``,
  ``Supplementary Fig. S1``, ``(see Figs. 2 and 3)``;
* :func:`remove_citation_markers` — ``[1]``, ``[2,3]``, ``[4–7]``;
* :func:`remove_urls_emails` — ``https://…``, ``www.…``, ``doi.org/…``, e-mail addresses;
* :func:`remove_markup` — HTML / JATS / MathML tags (their text is kept) and entities;
* :func:`normalise_whitespace` — one space, no space before punctuation, no empty ``()``.
"""

from __future__ import annotations

import html
import re

__all__ = [
    "clean_text",
    "normalise_whitespace",
    "remove_citation_markers",
    "remove_figure_refs",
    "remove_markup",
    "remove_urls_emails",
]

_DASH = r"[-‐‑‒–—]"
# "Fig. 2", "Figs 2A–C", "Figure S1", "Table 1", "Tables 2 and 3", "Supplementary Fig. S1b"
_PANEL = r"(?:S?\d+[A-Za-z]?|[A-Za-z])(?![A-Za-z])"
# After a comma / "and", a lone panel letter only when the list goes on or closes there,
# so "In Figure 2, B cells grew" keeps its "B cells".
_LIST_PANEL = r"(?:S?\d+[A-Za-z]?(?![A-Za-z])|(?-i:[A-H])(?=\s*(?:[)\],;]|and\b|&)))"
# "Fig. 2", "Figs 2A–C", "Figure S1", "Table 1", "Tables 2 and 3", "Supplementary Fig. S1b"
_ONE_REF = (
    r"(?:(?:Supplementa(?:ry|l)|Suppl\.?|Additional|Extended\s+Data)\s+)?"
    r"(?:Fig(?:ure)?s?\.?|Tables?|Tab\.)\s*S?\d+[A-Za-z]?"
    r"(?:\s*" + _DASH + r"\s*" + _PANEL + r"|\s*(?:,|and|&)\s*" + _LIST_PANEL + r")*"
)
_REF_LIST = _ONE_REF + r"(?:\s*(?:[,;]|and|&)\s*" + _ONE_REF + r")*"
_PAREN_REFS = re.compile(
    r"\s*[(\[]\s*(?:(?:see|cf\.?|e\.g\.,?)\s+)?(?:also\s+)?" + _REF_LIST + r"\s*[)\]]",
    re.IGNORECASE,
)
_BARE_REFS = re.compile(r"(?<![\w-])" + _REF_LIST, re.IGNORECASE)

_CITATION = re.compile(r"\s*\[\s*\d+[a-z]?(?:\s*(?:,|;|" + _DASH + r")\s*\d+[a-z]?)*\s*\]")

_URL = re.compile(
    r"(?:\bhttps?://|\bftp://|\bwww\.|\bdoi\.org/)[^\s<>\"]*[^\s<>\".,;:!?)\]}'’]",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")

# Only real tag names, attributes only as name="value": "a<b and c>d" in text survives.
_INLINE_TAGS = (
    "a|abbr|b|bold|code|em|font|i|italic|sc|small|span|strong|sub|sup|tt|u|underline|xref|"
    "ext-link|inline-formula|monospace|named-content|styled-content|math|mi|mn|mo|ms|mtext|"
    "mrow|msub|msup|msubsup|mfrac|msqrt|mroot|mover|munder|munderover|mfenced|mspace|mstyle|"
    "semantics|annotation|annotation-xml|mtable|mtr|mtd"
)
_BLOCK_TAGS = "br|div|hr|img|li|ol|p|table|tbody|td|th|thead|tr|ul|disp-formula"
_ATTRS = r"""(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>"""
_INLINE_TAG = re.compile(
    r"</?(?:(?:mml|m):[\w.-]+|(?:" + _INLINE_TAGS + r"))" + _ATTRS, re.IGNORECASE
)
_BLOCK_TAG = re.compile(r"</?(?:" + _BLOCK_TAGS + r")" + _ATTRS, re.IGNORECASE)

_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[])\s+")
_EMPTY_PARENS = re.compile(r"\(\s*[,;]?\s*\)|\[\s*[,;]?\s*\]")
_DANGLING_SEP = re.compile(r"\(\s*[,;]\s*|\s*[,;]\s*\)")
_DOUBLE_PUNCT = re.compile(r"([,;])\s*(?=[,;.])")
_LEADING_PUNCT = re.compile(r"^[\s,;:.]+")


def remove_figure_refs(text: str) -> str:
    """Drop figure / table references: whole parentheticals such as ``(Fig. 2A)`` or
    ``(see Figs. 2 and 3)``, and bare ones such as ``Supplementary Fig. S1``."""
    text = _PAREN_REFS.sub("", text)
    return _BARE_REFS.sub("", text)


def remove_citation_markers(text: str) -> str:
    """Drop numeric citation markers: ``[1]``, ``[2,3]``, ``[4–7]``, ``[1, 3-5]``."""
    return _CITATION.sub("", text)


def remove_urls_emails(text: str) -> str:
    """Drop URLs (``http(s)://``, ``ftp://``, ``www.``, ``doi.org/``) and e-mail addresses."""
    return _EMAIL.sub("", _URL.sub("", text))


def remove_markup(text: str) -> str:
    """Drop HTML / JATS / MathML tags (keeping their text) and decode entities. Inline
    tags vanish (``Ca<sup>2+</sup>`` → ``Ca2+``), block tags leave a space."""
    return html.unescape(_INLINE_TAG.sub("", _BLOCK_TAG.sub(" ", text)))


def normalise_whitespace(text: str) -> str:
    """Collapse whitespace, remove spaces before ``,.;:!?)`` and after ``(``, and the
    empty brackets or dangling separators that the other rules can leave."""
    text = _SPACES.sub(" ", text)
    text = _EMPTY_PARENS.sub("", text)
    text = _DANGLING_SEP.sub(lambda m: "(" if "(" in m.group(0) else ")", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub(r"\1", text)
    text = _DOUBLE_PUNCT.sub("", text)
    return _LEADING_PUNCT.sub("", _SPACES.sub(" ", text)).strip()


def clean_text(text: str) -> str:
    """All rules, in order: markup, URLs and e-mails, figure/table references, citation
    markers, whitespace. Pure; the empty string stays empty."""
    if not text:
        return ""
    text = remove_markup(text)
    text = remove_urls_emails(text)
    text = remove_figure_refs(text)
    text = remove_citation_markers(text)
    return normalise_whitespace(text)
