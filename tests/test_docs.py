"""The commands in README.md and docs/*.md work as written.

* every ``pubgraph`` command the docs name (fenced blocks and inline code) exists and
  answers ``--help`` (a documented command that does not exist fails the test);
* every fenced ``pubgraph`` command line parses: options exist, required options are there,
  values fit their types and choices (the command itself is not run);
* the README's "A first session, step by step" block runs, command by command, on a tiny
  synthetic corpus against the test Neo4j (its only substitutions: the sample corpus, the
  fast model, no benchmarks).
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGS = {"", "bash", "sh", "shell", "console", "zsh"}
FIRST_SESSION = "## A first session, step by step"


@dataclass(frozen=True)
class DocCommand:
    """One ``pubgraph`` command line found in a document."""

    file: str
    line: int
    argv: tuple[str, ...]  # after "pubgraph"
    fenced: bool

    def where(self) -> str:
        return f"{self.file}:{self.line}: pubgraph {' '.join(self.argv)}"


def _clean_tokens(tokens: list[str]) -> list[str]:
    """Drop doc placeholders that are not arguments: ``...`` and optional-part brackets."""
    out = []
    for tok in tokens:
        if tok in ("...", "[...]") or set(tok) <= {".", "[", "]"}:
            continue
        tok = tok.strip("[]") if not tok.startswith("--") or tok.endswith("]") else tok
        tok = tok.lstrip("[").rstrip("]")
        if tok:
            out.append(tok)
    return out


def _pubgraph_argv(line: str) -> tuple[list[str], list[list[str]]] | None:
    """The arguments after ``pubgraph`` in a shell line (also ``python -m pubgraph``,
    ``torchrun ... -m pubgraph``), and the ``$(pubgraph ...)`` commands inside it."""
    inner: list[list[str]] = []

    def sub(m: re.Match[str]) -> str:
        parsed = _pubgraph_argv(m.group(1))
        if parsed:
            inner.append(parsed[0])
        return " FILE "

    line = re.sub(r"\$\(([^)]*)\)", sub, line)
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        return None
    for i, tok in enumerate(tokens):
        if tok == "pubgraph" and (i == 0 or tokens[i - 1] == "-m" or "=" in tokens[i - 1]):
            if i > 0 and tokens[i - 1] != "-m" and not all("=" in t for t in tokens[:i]):
                return None
            return _clean_tokens(tokens[i + 1 :]), inner
    return ([], inner) if inner else None


def doc_commands() -> list[DocCommand]:
    """Every ``pubgraph`` command line of the docs: fenced shell blocks and inline code."""
    found: list[DocCommand] = []
    for path in DOCS:
        name = str(path.relative_to(REPO))
        lines = path.read_text(encoding="utf-8").splitlines()
        fence: str | None = None
        pending = ""
        start = 0
        for no, raw in enumerate(lines, 1):
            stripped = raw.strip()
            if stripped.startswith("```"):
                fence = None if fence is not None else stripped[3:].strip().lower()
                pending = ""
                continue
            if fence is not None:
                if fence not in SHELL_LANGS:
                    continue
                text = stripped.removeprefix("$ ")
                if not pending:
                    start = no
                if text.endswith("\\"):
                    pending += text[:-1] + " "
                    continue
                text, pending = pending + text, ""
                parsed = _pubgraph_argv(text)
                if parsed is None:
                    continue
                argv, inner = parsed
                for sub in inner:
                    found.append(DocCommand(name, start, tuple(sub), True))
                if argv or "pubgraph" in text.split("#")[0].split("$(")[0]:
                    found.append(DocCommand(name, start, tuple(argv), True))
                continue
            for span in re.findall(r"`(pubgraph [^`]+)`", raw):
                words = span.split(" / ")[0].split("[")[0].split()
                found.append(DocCommand(name, no, tuple(words[1:]), False))
    return found


def _root() -> Any:
    import typer.main

    from pubgraph.cli import app

    return typer.main.get_command(app)


def command_path(argv: tuple[str, ...]) -> tuple[list[str], str | None]:
    """The command words of ``argv`` (global options skipped) and, when a word names no
    command of the group it is in, that word."""
    cmd = _root()
    path: list[str] = []
    words = list(argv)
    while words and words[0] in ("-v", "-vv", "-q", "--verbose", "--quiet"):
        words.pop(0)
    for word in words:
        subs = getattr(cmd, "commands", None)
        if subs is None:
            break
        if word.startswith("-") or not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            break  # an option or an argument (FILE, RUN_DIR, "text", ...), not a command
        if word not in subs:
            return path, word
        path.append(word)
        cmd = subs[word]
    return path, None


def test_the_docs_name_commands() -> None:
    commands = doc_commands()
    fenced = [c for c in commands if c.fenced]
    assert len(fenced) >= 30, "the extractor lost the fenced commands"
    assert any(c.argv[:2] == ("ingest", "pubmed") for c in fenced)
    assert any(c.argv[:1] == ("train",) and "--pairs" in c.argv for c in fenced)


def test_every_documented_command_exists_and_has_help() -> None:
    from typer.testing import CliRunner

    from pubgraph.cli import app

    runner = CliRunner()
    missing = []
    paths: dict[tuple[str, ...], DocCommand] = {}
    for c in doc_commands():
        path, unknown = command_path(c.argv)
        if unknown is not None:
            missing.append(f"{c.where()}: no command '{unknown}' in 'pubgraph {' '.join(path)}'")
        paths.setdefault(tuple(path), c)
    assert missing == [], "documented commands that do not exist:\n" + "\n".join(missing)
    for path, c in sorted(paths.items()):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"{c.where()}: --help failed: {result.output[-300:]}"
        assert "Usage:" in result.output


def test_every_fenced_command_line_parses() -> None:
    """Options exist, required ones are given, values fit (the commands are not run)."""
    # typer vendors click (typer._click): its exceptions, not the click package's.
    from typer._click import exceptions as click_exceptions
    from typer.exceptions import Exit

    def remaining(ctx: Any) -> list[str]:
        protected = getattr(ctx, "protected_args", None) or getattr(ctx, "_protected_args", [])
        return [*protected, *ctx.args]

    problems = []
    for c in doc_commands():
        if not c.fenced or not c.argv or command_path(c.argv)[1] is not None:
            continue
        cmd = _root()
        try:
            ctx = cmd.make_context("pubgraph", list(c.argv), resilient_parsing=False)
            while getattr(cmd, "commands", None) is not None and remaining(ctx):
                name, cmd, rest = cmd.resolve_command(ctx, remaining(ctx))
                ctx = cmd.make_context(name, rest, parent=ctx)
        except Exit:
            continue
        except click_exceptions.ClickException as exc:
            problems.append(f"{c.where()}: {exc.format_message()}")
    assert problems == [], "documented command lines that do not parse:\n" + "\n".join(problems)


# --- the first session, run on a tiny corpus ------------------------------------------------

TOPICS = {
    "diabetes": ("D900001", "C18.452.394", "insulin glucose diabetes pancreas glycemic metformin"),
    "cancer": ("D900002", "C04.588.531", "tumor chemotherapy cancer metastasis oncology carcinoma"),
    "virus": ("D900003", "C01.925.256", "virus vaccine infection antibody viral antigen"),
    "brain": ("D900004", "F02.830.104", "neuron brain cognition cortex synapse memory dementia"),
}
PER_TOPIC = 15


def write_tiny_corpus(folder: Path) -> tuple[Path, Path]:
    """A PubMed XML file of 60 synthetic articles (4 topics, MeSH, citations inside each
    topic) and a MeSH tree-number TSV for their descriptors."""
    import random

    rng = random.Random(13)
    articles = []
    pmid = 9_100_000
    for topic, (ui, _tree, words) in TOPICS.items():
        vocab = words.split()
        pmids: list[int] = []
        for i in range(PER_TOPIC):
            pmid += 1
            cited = rng.sample(pmids, min(3, len(pmids)))
            title = f"{topic.title()} study {i}: " + " ".join(rng.sample(vocab, 3))
            abstract = " ".join(rng.choice(vocab) for _ in range(40)) + "."
            minor = f"D91{pmid % 7:04d}"
            refs = "".join(
                f"<Reference><Citation>Ref {c}.</Citation><ArticleIdList>"
                f'<ArticleId IdType="pubmed">{c}</ArticleId></ArticleIdList></Reference>'
                for c in cited
            )
            articles.append(
                f"<PubmedArticle><MedlineCitation Status=\"MEDLINE\" Owner=\"NLM\">"
                f"<PMID Version=\"1\">{pmid}</PMID><Article><Journal><JournalIssue><PubDate>"
                f"<Year>{2000 + i}</Year></PubDate></JournalIssue><Title>J {topic}</Title>"
                f"</Journal><ArticleTitle>{title}</ArticleTitle><Abstract><AbstractText>"
                f"{abstract}</AbstractText></Abstract><Language>eng</Language></Article>"
                f"<MedlineJournalInfo><NlmUniqueID>99{len(topic)}</NlmUniqueID>"
                f"</MedlineJournalInfo><MeshHeadingList>"
                f"<MeshHeading><DescriptorName UI=\"{ui}\" MajorTopicYN=\"Y\">{topic}"
                f"</DescriptorName></MeshHeading>"
                f"<MeshHeading><DescriptorName UI=\"{minor}\" MajorTopicYN=\"N\">term {minor}"
                f"</DescriptorName></MeshHeading></MeshHeadingList></MedlineCitation>"
                f"<PubmedData><ArticleIdList><ArticleId IdType=\"pubmed\">{pmid}</ArticleId>"
                f"</ArticleIdList><ReferenceList>{refs}</ReferenceList></PubmedData>"
                f"</PubmedArticle>"
            )
            pmids.append(pmid)
    xml = folder / "tiny_pubmed.xml"
    xml.write_text('<?xml version="1.0" encoding="utf-8"?>\n<PubmedArticleSet>'
                   + "\n".join(articles) + "</PubmedArticleSet>\n", encoding="utf-8")
    tsv = folder / "tree-numbers.tsv"
    rows = ["mesh_id\tmesh_name\tmesh_tree_number"]
    rows += [f"{ui}\t{topic}\t{tree}" for topic, (ui, tree, _w) in TOPICS.items()]
    rows += [f"D91{k:04d}\tterm D91{k:04d}\tG01.{k:03d}" for k in range(7)]
    tsv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return xml, tsv


def first_session() -> list[tuple[int, str]]:
    """The README's first-session block: (line, command line)."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(FIRST_SESSION)
    block_start = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    out = []
    for i in range(block_start + 1, len(lines)):
        if lines[i].startswith("```"):
            break
        if lines[i].strip():
            out.append((i + 1, lines[i].strip()))
    return out


@pytest.mark.neo4j
def test_first_session_runs_on_a_tiny_corpus(
    graph_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pubgraph.cli import app
    from pubgraph.core.settings import get_settings

    xml, tsv = write_tiny_corpus(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(REPO / "configs", work / "configs")
    monkeypatch.chdir(work)
    monkeypatch.setenv("PUBGRAPH_SHARED_DATA", str(tmp_path / "no-shared-data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    substitutions = {
        "$(pubgraph ingest sample --kind pubmed)": str(xml),
        "$(pubgraph ingest sample --kind mesh-tree)": str(tsv),
    }
    runner = CliRunner()
    ran = []
    try:
        for no, line in first_session():
            for old, new in substitutions.items():
                line = line.replace(old, new)
            argv = shlex.split(line, comments=True)
            assert argv[0] == "pubgraph", f"README.md:{no}: not a pubgraph command"
            args = argv[1:]
            if args[:2] == ["neo4j", "start"]:
                continue  # the test server runs already (NEO4J_URI)
            if args[0] == "train":
                args += ["--fast", "--final-eval", "none", "--no-progress"]  # the tiny model
            if args[0] == "embed":
                args += ["--no-progress"]
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (
                f"README.md:{no}: {line}\n{result.output[-2000:]}\n{result.exception!r}"
            )
            ran.append(args[0])
    finally:
        get_settings.cache_clear()
    assert {"ingest", "graph", "pairs", "train", "eval", "embed", "search"} <= set(ran)
    assert (work / "runs" / "pairs" / "pairs.parquet").is_file()
    assert (work / "runs" / "train" / "pubgraph-minilm" / "README.md").is_file()
