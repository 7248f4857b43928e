"""The GAN recipe study end to end at the tiny preset's scale: equal time budgets, scores, grids and a table
that regenerates from its JSON."""

import json

import pytest

from benchmark import gan_recipes

from conftest import FIXTURE


def test_the_recipe_study_trains_each_recipe_for_its_budget_and_tables_the_scores(tmp_path):
    recipes = "paper-cpu,ema-diffaugment-r1,reference,reference-freezed"
    arguments = ["--data", str(FIXTURE), "--out", str(tmp_path), "--recipes", recipes, "--preset", "tiny",
                 "--set", "gan.pretrain.epochs=4", "--set", "gan.transfer.epochs=4",
                 "--pretrain-minutes", "0", "--transfer-minutes", "0", "--workers", "2"]
    gan_recipes.main([*arguments, "--more-seeds", "reference:1"])
    results = json.loads((tmp_path / "recipes.json").read_text())
    assert list(results["recipes"]) == recipes.split(",")
    # Two workers trained the reference's two seeds side by side, each in its own folder of one shared layout.
    assert list(results["recipes"]["reference"]["seeds"]) == ["0", "1"]
    for entry in results["recipes"].values():
        for training in entry["seeds"].values():
            # A budget of no time stops after the first epoch (at 0.001 minutes a one-step epoch ran twice).
            assert training["pretrained"]["epochs"] == training["transferred"]["epochs"] == 1
            assert training["wall"]["cpu"] == results["machine"]["cpu"]
            for stage in ("pretrained", "transferred"):
                assert 0 <= training[stage]["called_truck"] <= 1 and training[stage]["frechet_distance"] > 0
    assert results["recipes"]["ema-diffaugment-r1"]["overrides"][-1] == "gan.train.r1=0.2"
    history = json.loads((tmp_path / "ema-diffaugment-r1" / "gan" / "pretrained" / "seed-0" / "history.json").read_text())
    assert history["ema"] == 0.999 and history["diffaugment"] is True
    # The reference transfers on the real trucks alone (smate_noaug), each seed its own pretraining and transfer.
    for seed in (0, 1):
        assert (tmp_path / "reference" / "gan" / "smate_noaug" / f"seed-{seed}" / "generators" / "truck" / "generator.pt").is_file()
        assert (tmp_path / "reference" / "gan" / "pretrained" / f"seed-{seed}" / "generator.pt").is_file()
    # A transfer-only try copies the reference's pretraining and changes its transfer alone.
    shared = "gan/pretrained/seed-0/generator.pt"
    assert (tmp_path / "reference-freezed" / shared).read_bytes() == (tmp_path / "reference" / shared).read_bytes()
    freezed = results["recipes"]["reference-freezed"]
    assert freezed["pretrained_by"] == "reference" and list(freezed["seeds"]) == ["0"]
    assert freezed["seeds"]["0"]["wall"]["pretrain_minutes"] == results["recipes"]["reference"]["seeds"]["0"]["wall"]["pretrain_minutes"]
    transfer = tmp_path / "reference-freezed" / "gan" / "smate_noaug" / "seed-0" / "generators" / "truck" / "history.json"
    assert json.loads(transfer.read_text())["freeze_d"] == 3
    assert {p.name for p in (tmp_path / "grids").iterdir()} == {
        *(f"{r}-{s}.png" for r in recipes.split(",") for s in ("pretrained", "transferred")),
        "reference-seed-1-pretrained.png", "reference-seed-1-transferred.png"}
    table = (tmp_path / "table.md").read_text()
    assert "| ema-diffaugment-r1 " in table and "| transferred " in table
    assert "against the reference's" in table and "Targets for the transferred generator" in table
    assert "![reference transferred](grids/reference-seed-1-transferred.png)" in table
    assert "; from reference's pretraining" in table
    gan_recipes.main(["--out", str(tmp_path), "--table"])
    assert (tmp_path / "table.md").read_text() == table
    # The real trucks the transfers learn from, scored as the generators are: the scale the FD bound moves with.
    real = results["real_truck"]
    assert real["seed"] == 0 and real["images"] > 0 and real["frechet_distance"] > 0 and 0 <= real["called_truck"] <= 1
    assert f"For scale, the {real['images']} real train trucks" in table and "at this scorer's scale" in table
    # A study scored before the real trucks were: --real scores them into its JSON and writes the same table.
    (tmp_path / "recipes.json").write_text(json.dumps({k: v for k, v in results.items() if k != "real_truck"}))
    gan_recipes.main(["--data", str(FIXTURE), "--out", str(tmp_path), "--real"])
    assert json.loads((tmp_path / "recipes.json").read_text())["real_truck"]["frechet_distance"] == real["frechet_distance"]
    assert (tmp_path / "table.md").read_text() == table
    # Run again, the study trains nothing that finished: the trainings' files stay as they were.
    generator = tmp_path / "reference" / "gan" / "pretrained" / "seed-0" / "generator.pt"
    before = generator.stat().st_mtime_ns
    gan_recipes.main([*arguments, "--more-seeds", "reference:1"])
    assert generator.stat().st_mtime_ns == before


# Every committed run of the study: the recipe table and its longer runs of the winner.
COMMITTED = sorted(gan_recipes.REPO_RESULTS.parent.glob(gan_recipes.REPO_RESULTS.name + "*"))


@pytest.mark.parametrize("committed", COMMITTED, ids=lambda path: path.name)
def test_each_committed_recipe_table_regenerates_from_its_json(committed):
    assert gan_recipes.table(json.loads((committed / "recipes.json").read_text())) == (committed / "table.md").read_text()


def test_the_fd_bound_moves_with_the_real_trucks_fd_on_the_scorer():
    assert gan_recipes._targets({}) == gan_recipes.TARGETS
    scaled = dict((name, bound) for name, bound, _ in gan_recipes._targets({"real_truck": {"frechet_distance": 90.2}}))
    assert scaled["frechet_distance"] == pytest.approx(220.0) and scaled["recall"] == 0.10


def test_a_try_that_changes_the_pretraining_cannot_share_one(monkeypatch):
    changed = gan_recipes.Recipe((*gan_recipes.REFERENCE, "gan.train.lr=0.001"), "not a transfer-only try", "smate_noaug",
                                 "reference")
    monkeypatch.setitem(gan_recipes.RECIPES, "changed", changed)
    with pytest.raises(SystemExit, match="changes more than the transfer"):
        gan_recipes.check_shared_pretraining("changed", FIXTURE, "tiny", [])


def test_the_recipe_study_is_committed():
    assert gan_recipes.REPO_RESULTS in COMMITTED


def test_the_minutes_not_the_presets_epochs_end_a_recipes_trainings():
    for recipe in gan_recipes.STUDY:
        gan = gan_recipes.config_of(recipe, "data/cifar10")["gan"]
        assert gan["pretrain"]["epochs"] == gan["transfer"]["epochs"] == 100000, recipe
    # An override for every recipe (--set) still caps them, as the study's test above does at the tiny preset.
    capped = gan_recipes.config_of("reference", "data/cifar10", preset="tiny", extra=["gan.transfer.epochs=4"])
    assert capped["gan"]["transfer"]["epochs"] == 4


def test_a_study_resumed_on_another_machine_names_both_cpus():
    results = json.loads((gan_recipes.REPO_RESULTS / "recipes.json").read_text())
    trainings = [training for entry in results["recipes"].values() for training in gan_recipes._trainings(entry).values()]
    for training in trainings:
        training.setdefault("wall", {})["cpu"] = results["machine"]["cpu"]
    assert "names its CPU" not in gan_recipes.table(results)
    trainings[-1]["wall"]["cpu"] = "Another CPU"
    table = gan_recipes.table(results)
    assert " or a ".join(sorted({results["machine"]["cpu"], "Another CPU"})) in table
    assert "each training names its CPU in recipes.json" in table


def test_a_failed_training_is_named_and_the_others_go_on(tmp_path, capsys):
    job = ("reference", 0, str(FIXTURE), tmp_path / "reference", tmp_path / "no-base", 0, 0, "tiny", [])
    assert gan_recipes._train_job(job) == "reference seed 0"
    assert "gan_recipes: reference seed 0 failed:" in capsys.readouterr().out


def test_a_recipe_means_the_same_whatever_the_presets_transfer_freezes():
    # The CPU presets took the study's winner (freeze 0); the reference it was found against froze 6.
    for preset in ("paper-cpu", "tiny"):
        assert gan_recipes.config_of("reference", "unused", preset=preset)["gan"]["transfer"]["freeze"] == 6
        assert gan_recipes.config_of("reference-freeze-0", "unused", preset=preset)["gan"]["transfer"]["freeze"] == 0
