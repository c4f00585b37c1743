"""The benchmark harness (bench/): every case checked against NumPy before it is timed, rows for
each contender and thread count on the CPU, CUDA-event timing of dlcore's calls alone on the cuda
device, the regression comparison. Timings themselves are never asserted."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import dlcore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import _timing as T  # noqa: E402


@pytest.fixture
def on_device():
    yield
    T.use_device("cpu")


def add_case(n=1000):
    def build():
        a = np.arange(n, dtype=np.float32)
        da = T.dl(a)
        fns = {"dlcore": lambda: da + da, "numpy": lambda: a + a}
        for c, fn in fns.items():
            np.testing.assert_array_equal(T.as_numpy(fn()), 2 * a, err_msg=c)
        return fns
    return {"name": "add", "shape": str(n), "nbytes": 12 * n, "build": build}


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_cases_run_on_the_chosen_device(device, on_device):
    T.use_device(device)
    rows = T.run_cases([add_case()], [1, 2], min_time=0.001, rounds=2, warmup=1, log=None)
    if device == "cpu":
        assert [r["threads"] for r in rows] == [1, 2]
        assert all(r["dlcore"].median > 0 and r["numpy"].median > 0 for r in rows)
    else:  # one row, dlcore's device time only: the peers' tensors are on the CPU
        assert [r["threads"] for r in rows[:1]] == [1] and rows[0]["device"] == "cuda"
        assert rows[0]["dlcore"].median > 0 and rows[0]["numpy"] is None
        assert len(rows[0]["dlcore"].samples) == 2 * 5  # rounds x samples per round
    T.report(rows, "add")


def test_a_wrong_result_stops_the_case_before_timing():
    def build():
        da = T.dl(np.ones(3, np.float32))
        np.testing.assert_array_equal(T.as_numpy(da + da), np.full(3, 3.0, np.float32))
        return {"dlcore": lambda: da + da}
    with pytest.raises(AssertionError):
        T.run_cases([{"name": "bad", "shape": "3", "build": build}], [1], log=None)


def test_unknown_device_is_refused():
    with pytest.raises(SystemExit, match="cpu or cuda"):
        T.use_device("tpu")


def test_command_line_json_and_compare(tmp_path):
    """python bench machine --quick --device cuda: the device's bandwidth as a table, in the
    markdown report and in the JSON; --compare against a baseline from another device is refused."""
    # The dlcore this test imported (installed, or a source tree's build), first on the child's path.
    here = os.path.dirname(os.path.dirname(os.path.abspath(dlcore.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "run.json"
    report = tmp_path / "report" / "run.md"
    cmd = [sys.executable, os.path.join(ROOT, "bench"), "machine", "--quick", "--device", "cuda",
           "--markdown", str(report), "--json", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "device limits" in proc.stdout
    assert "| 1 | - |" in report.read_text()  # the device's bandwidth; no FMA probe on cuda
    run = json.loads(out.read_text())
    assert run["device"] == "cuda" and run["machine"]["1"]["gbps"] > 0
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"device": "cpu", "families": {}}))
    proc = subprocess.run(cmd[:-2] + ["--compare", str(base)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "measured on cpu" in proc.stderr
