"""The benchmark runs (quick mode) and reports every section; no timing is asserted."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_benchmark_smoke(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "latest.json").read_text())
    step = report["steps"][0]
    assert {"tinygrad_np", "numpy"} <= set(step["seconds"]) and step["vs_numpy"] > 0
    assert step["gemm_limit_seconds"] > 0 and 0 < step["fraction_of_limit"]["numpy"]
    assert set(report["per_op"]) == {"mul", "add", "relu", "exp"}
    assert report["memory"]["grows"] is False
    safety = report["safety"]
    assert safety["ops_per_step"] == 6 and safety["per_step_us"] > 0  # matmul, add, relu, matmul, add, loss
    assert 0 < safety["fraction_of_step"] < 0.05, "refusing in-place changes should cost a few percent at most"
    table = (tmp_path / "latest.md").read_text()
    assert "| batch | hidden | tinygrad_np |" in table and "Per-op overhead" in table and "Memory" in table
    assert "Refusing in-place changes" in table and "Per node on a long chain" in table
    assert set(report["chain"]) == {"mul", "add", "exp", "tanh"}
    assert all(v["tinygrad_np"] > 0 and v["tinygrad_np jit"] > 0 and v["minimal tape"] > 0
               for v in report["chain"].values())
    assert all("tinygrad_np jit / minimal tape" in v["ratios"] for v in report["chain"].values())
    for row in report.get("steps_one_thread") or ():  # with threadpoolctl, to pin BLAS to one thread
        assert row["vs_numpy"]["tinygrad_np jit"] > 0


def test_reuse_freed_memory_is_accepted_by_glibc_in_a_fresh_process():
    import platform

    code = "import tinygrad_np as tg; print(tg.reuse_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    expected = "True" if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc" else "False"
    assert out == expected
