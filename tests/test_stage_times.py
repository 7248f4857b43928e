import json

from smate.report.stage_times import stage_seconds, wall_time_lines


def test_each_kind_of_stage_sums_its_instances_and_a_resumed_gan_counts_every_sitting_epoch(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    for name, seconds in (("train@smote-0", 100.0), ("train@smote-1", 300.0), ("pretrain_gan@0", 0.13)):
        (keys / f"{name}.json").write_text(json.dumps({"key": "k", "seconds": seconds}))
    history = tmp_path / "gan" / "pretrained" / "seed-0" / "history.json"
    history.parent.mkdir(parents=True)
    # A pretraining found finished in a later sitting keeps 0.13 s in its key; its epochs say what it took.
    history.write_text(json.dumps({"history": [{"epoch": 1, "seconds": 1000.0}, {"epoch": 2, "seconds": 800.0}]}))
    assert stage_seconds([tmp_path]) == {"pretrain_gan@0": 1800.0, "train@smote-0": 100.0, "train@smote-1": 300.0}
    heading, prose, table = wall_time_lines([tmp_path])
    assert heading == "## Wall time" and "0.61 worker hours in all" in prose
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]] for line in table.splitlines()[2:]}
    assert rows == {"pretrain_gan": ["1", "0.50", "1,800", "1,800 to 1,800"], "train": ["2", "0.11", "200", "100 to 300"]}


def test_a_folder_without_keys_has_no_wall_time_section(tmp_path):
    assert wall_time_lines([tmp_path]) == []
