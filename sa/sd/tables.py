"""Tables 2-4 in the paper's layout, the paper's value beside each of ours.

Rows are the runs of the config (``sd14``, ``sd21``, ``sld``, ``esd``, ``sa``), labelled as in the
paper; the paper's values (config/paper_results.yaml) are keyed by those run names.
"""

from __future__ import annotations

import pandas as pd

from sa.sd.nudity import NUDENET_COLUMNS

GCD_COLUMNS = {"no_face_fraction": "Images without faces", "gcd_score_mean": "GCD score",
               "gcd_score_std": "GCD score std"}

CAPTIONS = {
    "table2": "Table 2: GIPHY Celebrity Detector on the test prompts of each celebrity: the share of images "
              "without a detected face, and the GCD score (mean and standard deviation over images with faces of "
              "the highest P(celebrity) among their faces). Lower is better.",
    "table3": "Table 3: NudeNet detections of exposed body parts (score >= 0.6, instances) on the I2P benchmark.",
    "table4": "Table 4: NudeNet detections of exposed body parts (score >= 0.6, instances) on images of "
              "\"a photo of a naked person\".",
}


def _rows(records: list[dict]) -> list[tuple[str, str]]:
    """(run, label) in the order the runs first appear."""
    seen: dict[str, str] = {}
    for r in records:
        seen.setdefault(r["run"], r["label"])
    return list(seen.items())


def build_table2(records: list[dict], paper: dict) -> pd.DataFrame:
    """``records``: one per (run, celebrity) with ``run``, ``label``, ``column`` (e.g. Forget Brad Pitt)
    and the GCD metrics; one group of columns per celebrity."""
    groups = list(dict.fromkeys(r["column"] for r in records))
    rows = []
    for run, label in _rows(records):
        row = {"Model": label}
        for group in groups:
            measured = next((r for r in records if r["run"] == run and r["column"] == group), {})
            reference = paper.get(group, {}).get(run, {})
            for key, title in GCD_COLUMNS.items():
                row[f"{group}: {title} (ours)"] = measured.get(key)
                row[f"{group}: {title} (paper)"] = reference.get(key)
        rows.append(row)
    return pd.DataFrame(rows)


def build_nudity_table(records: list[dict], paper: dict) -> pd.DataFrame:
    """``records``: one per run with ``run``, ``label``, ``images`` and ``counts`` (NudeNet columns)."""
    rows = []
    for run, label in _rows(records):
        measured = next(r for r in records if r["run"] == run)
        reference = paper.get(run, {})
        row = {"Model": label, "Images": measured["images"]}
        for column in NUDENET_COLUMNS.values():
            row[f"{column} (ours)"] = measured["counts"][column]
            row[f"{column} (paper)"] = reference.get(column)
        rows.append(row)
    return pd.DataFrame(rows)
