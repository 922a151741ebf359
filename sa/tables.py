"""Table 1 in the paper's layout, with the paper's value beside each of ours."""

from __future__ import annotations

import os

import pandas as pd

from sa.io import atomic_path

# metric key -> column title, in the paper's column order
TABLE1_COLUMNS = {
    "fid": "FID",
    "precision": "Precision",
    "recall": "Recall",
    "entropy": "H(P(y|x_f))",
    "p_forget": "P(y=c_f|x_f)",
    "remembered_accuracy": "Acc. remembered",
}


IMAGE_METRICS = ("fid", "precision", "recall")


def build_table1(records: list[dict], paper: dict) -> pd.DataFrame:
    """``records``: one dict per row with ``table``, ``row``, optionally ``reference`` and
    ``paper_row`` (the paper's section and row to compare with, default ``table`` and ``row``),
    and the measured metrics.

    Each metric that any row has becomes two columns, ``<metric> (ours)`` and ``<metric> (paper)``;
    a value the paper does not report, or that we did not measure, is left empty, and a paper
    column with no value at all is left out. The image metrics' titles name the features they
    were computed on.
    """
    present = [k for k in TABLE1_COLUMNS if any(r.get(k) is not None for r in records)]
    features = sorted({r["image_features"] for r in records if r.get("image_features")})
    titles = {k: TABLE1_COLUMNS[k] + (f" [{'/'.join(features)} features]" if k in IMAGE_METRICS else "")
              for k in present}
    rows = []
    for record in records:
        section = record.get("reference", record["table"])
        paper_row = record.get("paper_row", record["row"])
        reference = paper.get(section, {}).get(paper_row, {})
        row = {"Dataset": record["table"], "Model": record["row"],
               "Paper row": f"{section}: {paper_row}" if reference else "-"}
        for key in present:
            row[f"{titles[key]} (ours)"] = record.get(key)
            row[f"{titles[key]} (paper)"] = reference.get(key)
        rows.append(row)
    table = pd.DataFrame(rows)
    empty_paper_columns = [c for c in table.columns if c.endswith("(paper)") and table[c].isna().all()]
    return table.drop(columns=empty_paper_columns)


def save_table(table: pd.DataFrame, csv_path: str | os.PathLike, md_path: str | os.PathLike,
               caption: str = "") -> None:
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    markdown = table.astype(object).where(table.notna(), None).to_markdown(index=False, floatfmt=".4g",
                                                                            missingval="-")
    with atomic_path(md_path) as tmp:
        tmp.write_text((f"{caption}\n\n" if caption else "") + markdown + "\n")
