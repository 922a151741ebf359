"""`snakemake --report`: one HTML page with Table 1 and the figures, each with its caption."""
import base64
import copy
import re

import pytest
import yaml

from tests.workflow import REPO, copy_workflow, snakemake, write_config

pytestmark = pytest.mark.slow
TINY = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())


def embedded(html: str, filename: str) -> bytes:
    """The content of a result file that the report embeds as a data URI."""
    match = re.search(rf'"data:[^";]+(?:;[^";]+)*;filename={re.escape(filename)};base64,([A-Za-z0-9+/=]+)"', html)
    assert match, f"{filename} is not in the report"
    return base64.b64decode(match.group(1))


def test_the_report_holds_the_table_and_the_figures(tmp_path):
    workdir = copy_workflow(tmp_path)
    config = copy.deepcopy(TINY)
    del config["experiments"]["digits_ddpm"]  # the VAE alone: the report's content, not the DDPM, is tested
    configfile = write_config(tmp_path / "vae.yaml", config)
    snakemake(workdir, configfile)

    snakemake(workdir, configfile, "--report", "report.html")

    html = (workdir / "report.html").read_text()
    table = (workdir / "results/tables/table1.csv").read_bytes()
    assert embedded(html, "table1.csv") == table and "λ = 100" in table.decode()
    assert embedded(html, "table1.md") == (workdir / "results/tables/table1.md").read_bytes()
    assert embedded(html, "lambda100.png") == (workdir / "results/figures/digits_vae/lambda100.png").read_bytes()
    assert "P(y=c_f|x_f) on samples of the forgotten class" in html, "the table's caption"
    assert re.search(r"after Selective Amnesia, variant <tt[^>]*>lambda100</tt>", html.replace('\\"', '"')), \
        "the figure's caption, with its wildcards"
    assert "EWC penalty weighted" in html, "the workflow description"
