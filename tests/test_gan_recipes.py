"""The GAN recipe study end to end at the tiny preset's scale: equal time budgets, scores, grids and a table
that regenerates from its JSON."""

import json

import pytest

from benchmark import gan_recipes

from conftest import FIXTURE


def test_the_recipe_study_trains_each_recipe_for_its_budget_and_tables_the_scores(tmp_path):
    recipes = "paper-cpu,ema-diffaugment-r1"
    gan_recipes.main(["--data", str(FIXTURE), "--out", str(tmp_path), "--recipes", recipes, "--preset", "tiny",
                      "--set", "gan.pretrain.epochs=4", "--set", "gan.transfer.epochs=4",
                      "--pretrain-minutes", "0.001", "--transfer-minutes", "0.001", "--workers", "1"])
    results = json.loads((tmp_path / "recipes.json").read_text())
    assert list(results["recipes"]) == recipes.split(",")
    for entry in results["recipes"].values():
        # A budget shorter than one epoch stops after the first.
        assert entry["pretrained"]["epochs"] == entry["transferred"]["epochs"] == 1
        for stage in ("pretrained", "transferred"):
            assert 0 <= entry[stage]["called_truck"] <= 1 and entry[stage]["frechet_distance"] > 0
    assert results["recipes"]["ema-diffaugment-r1"]["overrides"][-1] == "gan.train.r1=0.2"
    history = json.loads((tmp_path / "ema-diffaugment-r1" / "gan" / "pretrained" / "seed-0" / "history.json").read_text())
    assert history["ema"] == 0.999 and history["diffaugment"] is True
    assert {p.name for p in (tmp_path / "grids").iterdir()} == {
        f"{r}-{s}.png" for r in recipes.split(",") for s in ("pretrained", "transferred")}
    table = (tmp_path / "table.md").read_text()
    assert "| ema-diffaugment-r1 " in table and "| transferred " in table
    gan_recipes.main(["--out", str(tmp_path), "--table"])
    assert (tmp_path / "table.md").read_text() == table


# Every committed run of the study: the recipe table and its longer runs of the winner.
COMMITTED = sorted(gan_recipes.REPO_RESULTS.parent.glob(gan_recipes.REPO_RESULTS.name + "*"))


@pytest.mark.parametrize("committed", COMMITTED, ids=lambda path: path.name)
def test_each_committed_recipe_table_regenerates_from_its_json(committed):
    assert gan_recipes.table(json.loads((committed / "recipes.json").read_text())) == (committed / "table.md").read_text()


def test_the_recipe_study_is_committed():
    assert gan_recipes.REPO_RESULTS in COMMITTED
