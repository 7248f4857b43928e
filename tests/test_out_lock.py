import os
import signal
import subprocess
import sys

from smate.pipeline import out_lock
from smate.cli import main

from conftest import TINY


def test_a_second_run_on_a_busy_folder_stops_with_one_line_naming_the_first(tmp_path, capsys):
    with out_lock.holding(tmp_path):
        assert main(["run", *TINY, "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert f"another smate-bench run (pid {os.getpid()}) is writing to {tmp_path}" in error
    assert "give this one another --out" in error
    assert not (tmp_path / "stages.json").exists()


def test_what_a_killed_run_left_half_written_is_removed_and_nothing_else(tmp_path, capsys):
    runs = tmp_path / "runs" / "smote-0"
    runs.mkdir(parents=True)
    (runs / ".metrics.json.0123456789abcdef.partial").write_text("{")
    (tmp_path / "gan" / ".smate.fedcba9876543210.partial").mkdir(parents=True)
    (tmp_path / "gan" / ".smate.fedcba9876543210.partial" / "generator.pt").write_bytes(b"half")
    kept = [runs / "metrics.json", runs / "notes.partial", tmp_path / "gan" / ".smate.not-hex.partial"]
    for path in kept:
        path.write_text("mine")
    with out_lock.holding(tmp_path):
        pass
    assert "removed 2 partial files or folders that a killed run left" in capsys.readouterr().out
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.name != out_lock.LOCK_NAME) == sorted(kept)


def test_the_folder_is_free_again_once_its_holder_is_killed_outright(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from smate.pipeline import out_lock\n"
                               f"with out_lock.holding({str(tmp_path)!r}):\n print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with out_lock.holding(tmp_path):
        assert (tmp_path / out_lock.LOCK_NAME).read_text() == f"{os.getpid()}\n"
