"""One run per run directory (repro/runlock.py): a second run on a locked directory refuses at once in one line
naming the holder's PID, the lock is released when its run ends however it ends (the kernel releases it when the
holder dies), and the stale-temporaries cleanup never touches the files of a live run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SMALL_RUN
from repro.runlock import LOCK_NAME, RunLockedError, holds_lock, run_lock


def refusal(directory: Path, pid: int) -> str:
    return (f"{directory}: another repro run (pid {pid}) is using this directory; wait for it to finish or choose "
            "another --out")


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def lock_record(directory: Path) -> dict:
    try:
        text = (directory / LOCK_NAME).read_text()
        return json.loads(text) if text else {}
    except (FileNotFoundError, ValueError):
        return {}


HOLD = "import sys, time\nfrom repro.runlock import run_lock\nwith run_lock(sys.argv[1]):\n" \
       "    print('locked', flush=True)\n    time.sleep(120)\n"


@pytest.fixture
def holder(tmp_path):
    """Start another process that holds the lock of a directory: ``holder(directory) -> Popen``; killed after."""
    started = []

    def start(directory: Path) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLD, str(directory)], stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout.readline() == "locked\n"
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


# ------------------------------------------------------------------------------------------- run_lock itself

def test_a_held_lock_refuses_a_second_run_naming_the_holder_and_is_released_after(tmp_path):
    d = tmp_path / "run"
    with run_lock(d) as path:
        assert path == d / LOCK_NAME and holds_lock(d)
        record = lock_record(d)
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
        with pytest.raises(RunLockedError) as info:
            with run_lock(d):
                pytest.fail("a second lock was granted")
        assert str(info.value) == refusal(d, os.getpid())
        assert holds_lock(d)  # the refused attempt left the held lock alone
    assert not holds_lock(d) and not (d / LOCK_NAME).exists()
    with run_lock(d):  # free again
        pass
    assert list(d.iterdir()) == []


def test_the_lock_is_released_when_the_run_raises(tmp_path):
    for exc in (ValueError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with run_lock(tmp_path):
                raise exc
        assert not (tmp_path / LOCK_NAME).exists() and not holds_lock(tmp_path)


def test_another_process_holding_the_lock_is_named_and_its_death_frees_the_lock(tmp_path, holder, capsys):
    other = holder(tmp_path)
    with pytest.raises(RunLockedError) as info:
        with run_lock(tmp_path):
            pass
    assert str(info.value) == refusal(tmp_path, other.pid)
    other.send_signal(signal.SIGKILL)  # no cleanup: the file stays, the kernel drops the lock
    other.wait()
    assert lock_record(tmp_path)["pid"] == other.pid
    with run_lock(tmp_path):
        assert lock_record(tmp_path)["pid"] == os.getpid()
    assert capsys.readouterr().err == (f"[repro] note: {tmp_path / LOCK_NAME}: the run that held it (pid {other.pid}) "
                                       "is gone; taking it over\n")


def test_a_lock_file_left_by_a_dead_pid_is_taken_over(tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()  # its PID names no process now
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    with run_lock(tmp_path):
        assert lock_record(tmp_path)["pid"] == os.getpid()
    assert f"(pid {dead.pid}) is gone; taking it over" in one_line(capsys.readouterr().err)
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_holder_on_another_host_is_named_with_its_host(tmp_path, monkeypatch):
    import fcntl

    # the holder's record says another host (a run directory on a shared file system)
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, json.dumps({"pid": 4321, "host": "node7"}).encode())
        with pytest.raises(RunLockedError, match=r"another repro run \(pid 4321 on host node7\) is using"):
            with run_lock(tmp_path):
                pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------- the commands

def test_open_study_never_removes_the_temporaries_of_a_live_run(tmp_path, holder):
    """The cleanup of a hard-killed run's litter runs under the lock: with another run holding it, open_study
    refuses and the other run's temporary file survives; once that run is gone, the litter is removed."""
    import numpy as np

    from repro.config import make_config
    from repro.pipeline import open_study

    class Model:
        num_classes = 3

    class Source:
        ids, labels = ["a", "b"], np.array([0, 1])

    out = tmp_path / "run"
    (out / "chunks").mkdir(parents=True)
    litter = out / "chunks" / ".chunk_00000.csv.abc123.tmp"
    litter.write_text("being written")
    cfg = make_config("embedded", quick=True, num_images=2)
    other = holder(out)
    with pytest.raises(RunLockedError, match=f"pid {other.pid}"):
        open_study(cfg, out, model=Model(), source=Source())
    assert litter.exists()
    other.kill()
    other.wait()
    open_study(cfg, out, model=Model(), source=Source())
    assert not litter.exists() and not (out / LOCK_NAME).exists()


def test_reproduce_and_merge_refuse_a_locked_out_before_any_work(tmp_path, capsys, monkeypatch):
    import repro.pipeline
    from repro.cli import main

    monkeypatch.setattr(repro.pipeline, "open_model", lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr(repro.pipeline, "merge_runs", lambda *a, **k: pytest.fail("work started"))
    out = tmp_path / "run"
    with run_lock(out):
        assert main(["reproduce", *SMALL_RUN, "--out", str(out)]) == 2
        assert one_line(capsys.readouterr().err) == f"repro reproduce: error: {refusal(out, os.getpid())}"
        assert main(["merge", str(tmp_path / "s0"), "--out", str(out), "--no-figures"]) == 2
        assert one_line(capsys.readouterr().err) == f"repro merge: error: {refusal(out, os.getpid())}"
    assert not (out / LOCK_NAME).exists()


@pytest.mark.slow  # two runs in subprocesses: about 20-30 s
def test_a_second_reproduce_on_the_same_out_is_refused_and_the_first_finishes(tmp_path, small_run):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "repro.cli", "reproduce", *SMALL_RUN, "--out", str(out)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    log = tmp_path / "first.err"
    with open(log, "w") as err:
        first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(lambda: lock_record(out).get("pid") == first.pid or first.poll() is not None, 300,
                 f"{out / LOCK_NAME} to name the first run")
        assert first.poll() is None, log.read_text()
        first.send_signal(signal.SIGSTOP)  # holds the lock while stopped: the second run meets it, however slow
        try:
            second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        finally:
            first.send_signal(signal.SIGCONT)
        assert second.returncode == 2, second.stderr
        assert one_line(second.stderr) == f"repro reproduce: error: {refusal(out, first.pid)}"
        first.wait(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, log.read_text()[-2000:]
    assert (out / "results.csv").read_bytes() == (small_run / "results.csv").read_bytes()
    assert not (out / LOCK_NAME).exists()
