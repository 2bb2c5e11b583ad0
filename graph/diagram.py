"""Draw the graph model from the live schema (``docs/graph-model.png``).

The labels, relationship types, which labels they connect and the property keys with
their types are read from the database (``db.schema.nodeTypeProperties``,
``db.schema.relTypeProperties``, ``db.schema.visualization``), so the picture shows what
the loaders actually wrote. ``MODEL`` is the model as documented; ``schema_differences``
compares the two (tests use it to keep the document honest).

    python -m graph.diagram --out docs/graph-model.png
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

import neo4j

from pubgraph.graph.db import GraphDB

NODE_PROPERTIES = """
CALL db.schema.nodeTypeProperties()
YIELD nodeLabels, propertyName, propertyTypes
RETURN nodeLabels, propertyName, propertyTypes
"""
REL_PROPERTIES = """
CALL db.schema.relTypeProperties()
YIELD relType, propertyName, propertyTypes
RETURN relType, propertyName, propertyTypes
"""
# Virtual relationships: their end nodes' labels are only readable on the client side.
SCHEMA_VISUALIZATION = (
    "CALL db.schema.visualization() YIELD nodes, relationships RETURN nodes, relationships"
)

#: The documented model: label -> property keys; (start, TYPE, end) -> property keys.
MODEL_NODES: dict[str, set[str]] = {
    "Article": {"pmid", "title", "abstract", "year", "pub_date", "medline_date", "doi", "pmcid",
                "language", "publication_types", "keywords", "journal_id", "source",
                "source_file", "stub", "deleted"},
    "MeshTerm": {"ui", "name", "tree_numbers"},
    "Journal": {"id", "title", "iso_abbreviation", "issn"},
    "Author": {"key", "last_name", "fore_name", "initials", "collective_name"},
}
MODEL_RELS: dict[tuple[str, str, str], set[str]] = {
    ("Article", "CITES", "Article"): {"source"},
    ("Article", "HAS_MESH", "MeshTerm"): {"major", "descriptor_major", "qualifiers",
                                          "major_qualifiers"},
    ("Article", "PUBLISHED_IN", "Journal"): set(),
    ("Article", "AUTHORED_BY", "Author"): {"position"},
    ("MeshTerm", "BROADER", "MeshTerm"): set(),
}


@dataclass
class Schema:
    """Labels with their property types, and relationship types between labels."""

    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    rels: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)


def _type_name(types: list[str] | None) -> str:
    if not types:
        return "?"
    short = {"String": "str", "Long": "int", "Boolean": "bool", "StringArray": "list[str]",
             "Double": "float", "DoubleArray": "list[float]", "FloatArray": "list[float]",
             "LongArray": "list[int]", "DateTime": "datetime"}
    return "|".join(sorted(short.get(t, t) for t in types))


def read_schema(driver: GraphDB) -> Schema:
    """The schema as the database reports it (labels present in the data only)."""
    schema = Schema()
    with driver.session(default_access_mode=neo4j.READ_ACCESS) as s:
        for r in s.run(NODE_PROPERTIES):
            for label in r["nodeLabels"]:
                props = schema.nodes.setdefault(label, {})
                if r["propertyName"]:
                    props[r["propertyName"]] = _type_name(r["propertyTypes"])
        rel_props: dict[str, dict[str, str]] = {}
        for r in s.run(REL_PROPERTIES):
            rel_type = r["relType"].removeprefix(":").strip("`")
            props = rel_props.setdefault(rel_type, {})
            if r["propertyName"]:
                props[r["propertyName"]] = _type_name(r["propertyTypes"])
        for record in s.run(SCHEMA_VISUALIZATION):
            for rel in record["relationships"]:
                start, end = rel.start_node, rel.end_node
                if start is None or end is None:
                    continue
                for a in sorted(start.labels):
                    for b in sorted(end.labels):
                        schema.rels[(a, rel.type, b)] = dict(rel_props.get(rel.type, {}))
    return schema


def schema_differences(schema: Schema) -> list[str]:
    """Where the live schema and the documented ``MODEL_*`` disagree (empty: they match).

    Labels and types the database lacks are not differences (an empty graph has none);
    only things the database has that the model does not describe are.
    """
    out = []
    for label, props in schema.nodes.items():
        if label not in MODEL_NODES:
            out.append(f"label {label} is not in the model")
        else:
            out += [f"{label}.{p} is not in the model" for p in set(props) - MODEL_NODES[label]]
    for key, props in schema.rels.items():
        if key not in MODEL_RELS:
            out.append(f"({key[0]})-[:{key[1]}]->({key[2]}) is not in the model")
        else:
            out += [f"{key[1]}.{p} is not in the model" for p in set(props) - MODEL_RELS[key]]
    return sorted(out)


_POSITIONS = {"Article": (0.0, 0.0), "MeshTerm": (4.4, 0.0), "Journal": (0.0, 3.2),
              "Author": (-4.4, 0.0), "PairRun": (4.4, 3.2)}


def render(schema: Schema, out: Path, title: str = "pubgraph graph model") -> Path:
    """Draw ``schema`` with matplotlib: one box per label listing its properties, one arrow
    per relationship type (self-loops drawn as arcs) labelled with type and properties."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted(schema.nodes)
    others = [lb for lb in labels if lb not in _POSITIONS]
    pos = {lb: _POSITIONS[lb] for lb in labels if lb in _POSITIONS}
    for i, lb in enumerate(others):
        angle = 2 * math.pi * i / max(len(others), 1) - math.pi / 4
        pos[lb] = (3.4 * math.cos(angle), -2.6 + 0.8 * math.sin(angle))
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]

    fig, ax = plt.subplots(figsize=(14, 9))
    ax.set_xlim(min(xs) - 1.6, max(xs) + 1.6)
    ax.set_ylim(min(ys) - 2.6, max(ys) + 1.1)
    ax.axis("off")
    ax.set_title(title, fontsize=14, fontweight="bold")
    colours = {"Article": "#cfe2f3", "MeshTerm": "#d9ead3", "Journal": "#fff2cc",
               "Author": "#f4cccc", "PairRun": "#e6e6e6"}
    boxes = {}
    for lb in labels:
        x, y = pos[lb]
        body = "\n".join(f"{k}: {v}" for k, v in sorted(schema.nodes[lb].items()))
        boxes[lb] = ax.text(
            x, y, f"{lb}\n" + "─" * 16 + f"\n{body}", ha="center", va="center",
            fontsize=7.5, family="monospace", zorder=3,
            bbox={"boxstyle": "round,pad=0.5", "fc": colours.get(lb, "#eeeeee"),
                  "ec": "#444444"})
    fig.canvas.draw()  # lay the boxes out so arrows can be clipped at their edges
    to_data = ax.transData.inverted()

    def extent(lb: str) -> tuple[float, float, float, float]:
        patch = boxes[lb].get_bbox_patch()
        assert patch is not None
        (x0, y0), (x1, y1) = to_data.transform(patch.get_window_extent())
        return x0, y0, x1, y1

    def rel_text(rel_type: str, props: dict[str, str]) -> str:
        return "\n".join([f":{rel_type}", *(f"{k}: {v}" for k, v in sorted(props.items()))])

    style = {"arrowstyle": "-|>", "mutation_scale": 16, "lw": 1.4, "color": "#333333"}
    label_box = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}
    for (start, rel_type, end), props in sorted(schema.rels.items()):
        if start not in boxes or end not in boxes:
            continue
        if start == end:
            # A loop under the box (above it for labels with nothing below).
            x0, y0, x1, y1 = extent(start)
            cx, w = (x0 + x1) / 2, x1 - x0
            below = start == "Article"
            edge = y0 if below else y1
            ax.annotate("", xy=(cx + 0.3 * w, edge), xytext=(cx - 0.3 * w, edge),
                        arrowprops={**style, "connectionstyle":
                                    f"arc3,rad={-1.3 if not below else 1.3}"})
            ax.text(cx, edge + (-0.8 if below else 0.8), rel_text(rel_type, props),
                    ha="center", va="top" if below else "bottom", fontsize=8.5,
                    color="#003366", bbox=label_box)
            continue
        (xa, ya), (xb, yb) = pos[start], pos[end]
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya),
                    arrowprops={**style, "patchA": boxes[start].get_bbox_patch(),
                                "patchB": boxes[end].get_bbox_patch()})
        horizontal = abs(ya - yb) < 0.1  # label above the arrow, else beside it
        ax.text((xa + xb) / 2 + (0.0 if horizontal else 0.15), (ya + yb) / 2 + 0.12,
                rel_text(rel_type, props), ha="center" if horizontal else "left",
                va="bottom", fontsize=8.5, color="#003366", bbox=label_box, zorder=4)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Draw the graph model from the live schema.")
    parser.add_argument("--out", type=Path, default=Path("docs/graph-model.png"))
    args = parser.parse_args(argv)
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect

    settings = get_settings()
    with connect(settings) as driver:
        schema = read_schema(driver)
    for diff in schema_differences(schema):
        print(f"note: {diff}")
    print(render(schema, args.out))


if __name__ == "__main__":
    main()
