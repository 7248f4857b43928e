"""The benchmark comparison: a whole machine slowing down passes, one path slowing 2x fails."""

import json

import pytest

from benchmark import compare

NAMES = {"test_reference_kernel": 0.10, "test_gan_train_step": 1.8, "test_build_report": 2.0, "test_tiny": 2e-6}


def _run(seconds, reference=0.1):
    """A pytest-benchmark file's contents: each time with the reference kernel's beside it."""
    return {"benchmarks": [{"name": name, "stats": {"min": value}, "extra_info": {"reference_seconds": reference}}
                           for name, value in seconds.items()],
            "machine_info": {"cpu": {"brand_raw": "test cpu", "count": 2}, "python_version": "3.11"},
            "commit_info": {"id": "abc"}}


@pytest.fixture
def baseline():
    return compare.make_baseline([_run(NAMES)])


def _failed(seconds, baseline):
    return compare.compare(_run(seconds), baseline)[1]


def test_the_same_times_pass(baseline):
    assert _failed(NAMES, baseline) == []


def test_a_machine_slower_in_everything_passes(baseline):
    assert compare.compare(_run({name: value * 1.9 for name, value in NAMES.items()}, reference=0.19), baseline)[1] == []


def test_one_path_twice_as_slow_fails_even_on_a_faster_machine(baseline):
    seconds = {name: value * 0.8 for name, value in NAMES.items()}
    seconds["test_gan_train_step"] *= 2
    assert compare.compare(_run(seconds, reference=0.08), baseline)[1] == ["test_gan_train_step"]


def test_sub_millisecond_times_are_shown_but_not_gated(baseline):
    rows, failed = compare.compare(_run({**NAMES, "test_tiny": 1e-5}), baseline)
    assert failed == []
    assert [row[-1] for row in rows if row[0] == "test_tiny"] == ["under 5 ms: not gated"]


def test_new_and_missing_benchmarks_fail_until_the_baseline_is_rewritten(baseline):
    seconds = {name: value for name, value in NAMES.items() if name != "test_build_report"}
    seconds["test_new"] = 0.5
    assert sorted(_failed(seconds, baseline)) == ["test_build_report", "test_new"]


def test_cli_writes_a_baseline_then_fails_on_a_slowdown(tmp_path, capsys):
    run, path = tmp_path / "run.json", tmp_path / "baseline.json"
    run.write_text(json.dumps(_run(NAMES)))
    assert compare.main([str(run), "--baseline", str(path), "--write-baseline"]) == 0
    assert compare.main([str(run), "--baseline", str(path)]) == 0
    run.write_text(json.dumps(_run({**NAMES, "test_build_report": 4.5})))
    assert compare.main([str(run), "--baseline", str(path)]) == 1
    assert "SLOWER" in capsys.readouterr().out


def test_adding_new_benchmarks_keeps_the_baselines_own_times_and_says_how_the_new_were_measured(tmp_path):
    path, run = tmp_path / "baseline.json", tmp_path / "run.json"
    path.write_text(json.dumps(compare.make_baseline([_run(NAMES)])))
    run.write_text(json.dumps(_run({**{name: 5 * value for name, value in NAMES.items()}, "test_new": 0.3})))
    assert compare.main([str(run), "--baseline", str(path), "--add", "one run on a test cpu"]) == 0
    added = json.loads(path.read_text())
    assert added["seconds"] == {**NAMES, "test_new": 0.3} and added["relative"]["test_new"] == pytest.approx(3.0)
    assert added["added"] == {"test_new": "one run on a test cpu"}
    assert compare.main([str(run), "--baseline", str(path)]) == 1  # the old ones 5x slower still fail


def test_renewing_a_benchmark_replaces_its_entry_alone_and_says_how(tmp_path):
    path, run = tmp_path / "baseline.json", tmp_path / "run.json"
    path.write_text(json.dumps(compare.make_baseline([_run(NAMES)])))
    run.write_text(json.dumps(_run({**NAMES, "test_build_report": 3.0, "test_gan_train_step": 9.0})))
    assert compare.main([str(run), "--baseline", str(path), "--add", "after the forest plot", "--renew",
                         "test_build_report"]) == 0
    renewed = json.loads(path.read_text())
    assert renewed["seconds"] == {**NAMES, "test_build_report": 3.0}
    assert renewed["added"] == {"test_build_report": "after the forest plot"}


def test_a_renamed_benchmark_is_dropped_as_its_new_name_is_added(tmp_path):
    path, run = tmp_path / "baseline.json", tmp_path / "run.json"
    path.write_text(json.dumps(compare.make_baseline([_run(NAMES)])))
    renamed = {**{name: value for name, value in NAMES.items() if name != "test_gan_train_step"}, "test_gan_step_new": 1.1}
    run.write_text(json.dumps(_run(renamed)))
    assert compare.main([str(run), "--baseline", str(path)]) == 1  # one missing, one new
    assert compare.main([str(run), "--baseline", str(path), "--add", "one run", "--drop", "test_gan_train_step"]) == 0
    assert json.loads(path.read_text())["seconds"] == renamed
    assert json.loads(path.read_text())["added"] == {"test_gan_step_new": "one run"}
    assert compare.main([str(run), "--baseline", str(path)]) == 0


@pytest.mark.parametrize("argv, message", [(["--renew", "test_build_report"], "--renew and --drop need --add"),
                                           (["--drop", "test_build_report"], "--renew and --drop need --add"),
                                           (["--add", "x", "--drop", "test_absent"], "test_absent is not in the baseline"),
                                           (["--add", "x", "--renew", "test_absent"], "test_absent is not in every")])
def test_renewing_refuses_without_saying_how_or_without_a_measurement(tmp_path, argv, message):
    path, run = tmp_path / "baseline.json", tmp_path / "run.json"
    path.write_text(json.dumps(compare.make_baseline([_run(NAMES)])))
    run.write_text(json.dumps(_run(NAMES)))
    with pytest.raises(SystemExit, match=message):
        compare.main([str(run), "--baseline", str(path), *argv])


def test_a_run_without_reference_times_is_refused(baseline):
    run = _run(NAMES)
    del run["benchmarks"][1]["extra_info"]["reference_seconds"]
    with pytest.raises(SystemExit, match="test_gan_train_step has no reference time"):
        compare.compare(run, baseline)


def test_a_baseline_of_several_runs_takes_each_benchmarks_median():
    runs = [_run({**NAMES, "test_gan_train_step": seconds}) for seconds in (1.0, 3.0, 1.8)]
    baseline = compare.make_baseline(runs)
    assert baseline["runs"] == 3 and baseline["relative"]["test_gan_train_step"] == pytest.approx(18.0)


def test_a_run_on_another_cpu_is_warned_about(tmp_path, capsys):
    run, path = tmp_path / "run.json", tmp_path / "baseline.json"
    run.write_text(json.dumps(_run(NAMES)))
    assert compare.main([str(run), "--baseline", str(path), "--write-baseline"]) == 0
    other = _run(NAMES)
    other["machine_info"]["cpu"]["brand_raw"] = "another cpu"
    run.write_text(json.dumps(other))
    assert compare.main([str(run), "--baseline", str(path)]) == 0
    assert "another CPU than the baseline's" in capsys.readouterr().out


def test_a_missing_or_broken_run_file_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        compare.main([str(tmp_path / "missing.json")])
    (tmp_path / "cut.json").write_text('{"benchmarks": [')
    with pytest.raises(SystemExit, match="is not JSON"):
        compare.main([str(tmp_path / "cut.json")])


def test_a_benchmark_this_machine_cannot_run_is_shown_not_failed():
    baseline = compare.make_baseline([_run(NAMES)])
    fewer = {name: value for name, value in NAMES.items() if name != "test_gan_train_step"}
    rows, failed = compare.compare(_run(fewer), baseline, cannot_run=lambda name: "no bf16" if "gan" in name else None)
    assert failed == [] and any(row[-1] == "not run: no bf16" for row in rows)
    assert compare.compare(_run(fewer), baseline)[1] == ["test_gan_train_step"]
