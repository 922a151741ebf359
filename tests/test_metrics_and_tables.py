import math

import pandas as pd
import torch

from sa.metrics import accuracy_per_class, forgetting_scores, mean_entropy
from sa.sampling import evaluation_labels
from sa.tables import build_table1, save_table


def test_entropy_of_uniform_and_certain_predictions():
    assert math.isclose(mean_entropy(torch.full((4, 10), 0.1)), math.log(10), rel_tol=1e-6)
    assert mean_entropy(torch.eye(10)) < 1e-9


def test_forgetting_scores_use_the_conditioned_class():
    probs = torch.tensor([[0.7, 0.3], [0.2, 0.8]])
    scores = forgetting_scores(probs, torch.tensor([0, 1]))
    assert math.isclose(scores["p_forget"], (0.7 + 0.8) / 2, rel_tol=1e-6)
    expected_h = -(0.7 * math.log(0.7) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2) + 0.8 * math.log(0.8)) / 2
    assert math.isclose(scores["entropy"], expected_h, rel_tol=1e-6)


def test_accuracy_per_class():
    probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    assert accuracy_per_class(probs, torch.tensor([0, 1, 1])) == {0: 1.0, 1: 0.5}


def test_evaluation_labels_cover_forgotten_and_remembered_classes():
    forget, remember = evaluation_labels(10, [0, 3], forget_samples=5, samples_per_class=2)
    assert len(forget) == 5 and set(forget.tolist()) == {0, 3}
    assert sorted(set(remember.tolist())) == [1, 2, 4, 5, 6, 7, 8, 9] and len(remember) == 16


def test_table1_puts_the_papers_values_beside_ours(tmp_path):
    paper = {"MNIST": {"Original": {"entropy": 0.103, "p_forget": 0.967}, "λ = 100": {"entropy": 2.19, "p_forget": 0.058}}}
    records = [{"table": "MNIST", "row": "Original", "entropy": 0.1, "p_forget": 0.95, "remembered_accuracy": 0.9},
               {"table": "MNIST", "row": "λ = 100", "entropy": 2.2, "p_forget": 0.05, "remembered_accuracy": 0.88}]
    table = build_table1(records, paper)
    assert list(table.columns) == ["Dataset", "Model", "Paper row", "H(P(y|x_f)) (ours)", "H(P(y|x_f)) (paper)",
                                   "P(y=c_f|x_f) (ours)", "P(y=c_f|x_f) (paper)", "Acc. remembered (ours)"]
    assert table["P(y=c_f|x_f) (paper)"].tolist() == [0.967, 0.058]
    assert table["Paper row"].tolist() == ["MNIST: Original", "MNIST: λ = 100"]

    rescaled = build_table1([{**records[1], "row": "λ = 1", "paper_row": "λ = 100"}], paper)
    assert rescaled["P(y=c_f|x_f) (paper)"].tolist() == [0.058] and rescaled["Model"].tolist() == ["λ = 1"]
    save_table(table, tmp_path / "t.csv", tmp_path / "t.md", caption="Table 1")
    assert pd.read_csv(tmp_path / "t.csv").shape == (2, 8)
    markdown = (tmp_path / "t.md").read_text()
    assert markdown.startswith("Table 1") and "nan" not in markdown
