"""The SIMT emulator (cuda/simt/simt.h, through cuda/compat.h).

The programs in tests/simt/*.cu are compiled by g++ against the emulator,
once per session into a temporary directory (plain, AddressSanitizer+UBSan,
and the ucontext fallback), and run as subprocesses: they check warp
operations, atomics, shared memory and a tiled SGEMM against CPU references,
and that the emulator reports kernel bugs (missing or divergent barriers,
deadlocks, bad shuffles, out-of-bounds writes). The same sources are also
compiled by nvcc to prove they are valid CUDA.
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIMT_TESTS = ROOT / "tests" / "simt"
CUDA_DIR = ROOT / "cuda"

GXX = shutil.which("g++")
NVCC = shutil.which("nvcc") or (shutil.which("/usr/local/cuda/bin/nvcc"))
if GXX is None:
    pytest.skip("g++ is not installed: the emulator tests need it", allow_module_level=True)

COMMON = ["-std=c++17", "-fno-strict-aliasing", "-pthread", "-fopenmp", "-Wno-unknown-pragmas",
          "-x", "c++", "-I", str(CUDA_DIR)]
VARIANTS = {
    "plain": ["-O2"],
    # -O0: with UBSan, -O1 compiles four times slower, and these programs are small
    "asan": ["-O0", "-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
             "-fno-sanitize-recover=undefined"],
    "ucontext": ["-O2", "-DSIMT_USE_UCONTEXT"],
}
BUILDS = [(p, "plain") for p in ("warp_ops", "atomics", "shared_mem", "sgemm", "bugs", "bench")]
BUILDS += [(p, "asan") for p in ("warp_ops", "atomics", "shared_mem", "sgemm", "bugs")]
BUILDS += [("sgemm", "ucontext")]

TIMEOUT = 60  # seconds per run: a hang (e.g. an undetected deadlock) fails instead of blocking


class Builder:
    """Compiles every (program, variant) in parallel at the first request."""

    def __init__(self, outdir):
        self.outdir = Path(outdir)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
        self.futures = {key: self.pool.submit(self._compile, *key) for key in BUILDS}

    def _compile(self, program, variant):
        exe = self.outdir / f"{program}_{variant}"
        cmd = [GXX, *COMMON, *VARIANTS[variant], str(SIMT_TESTS / f"{program}.cu"), "-o", str(exe)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        return exe, proc.returncode, " ".join(cmd) + "\n" + proc.stderr

    def exe(self, program, variant="plain"):
        exe, rc, log = self.futures[(program, variant)].result()
        if rc != 0:
            pytest.fail(f"compiling {program} ({variant}) failed:\n{log}")
        return exe


@pytest.fixture(scope="session")
def builder(tmp_path_factory):
    b = Builder(tmp_path_factory.mktemp("simt"))
    yield b
    b.pool.shutdown(wait=True)


def run(exe, *args, schedule="forward", threads=None, env=None, timeout=TIMEOUT):
    e = dict(os.environ)
    e.pop("SIMT_SCHEDULE", None)
    e.pop("SIMT_THREADS", None)
    e["SIMT_SCHEDULE"] = schedule
    if threads is not None:
        e["SIMT_THREADS"] = str(threads)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if env:
        e.update(env)
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, env=e, cwd=ROOT)


def site(name):
    """'tests/simt/bugs.cu:<line>' of the line marked '// SITE:<name>'."""
    for i, line in enumerate((SIMT_TESTS / "bugs.cu").read_text().splitlines(), start=1):
        if f"// SITE:{name}" in line:
            return f"bugs.cu:{i}"
    raise AssertionError(f"no SITE:{name} marker in bugs.cu")


def assert_passed(proc, name):
    assert proc.returncode == 0 and f"PASS {name}" in proc.stdout, proc.stdout + proc.stderr


# ---------------------------------------------------------------------------
# Positive suite
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("schedule", ["forward", "reverse", "random:1"])
def test_warp_operations(builder, schedule):
    assert_passed(run(builder.exe("warp_ops"), schedule=schedule, threads=2), "warp_ops")


@pytest.mark.parametrize("schedule", ["forward", "random:2"])
def test_atomics_across_blocks_and_os_threads(builder, schedule):
    proc = run(builder.exe("atomics"), schedule=schedule, threads=2)
    assert_passed(proc, "atomics")


def test_blocks_run_concurrently_on_two_os_threads(builder):
    assert_passed(run(builder.exe("atomics"), "concurrent", threads=2), "atomics concurrent")


@pytest.mark.parametrize("schedule,threads", [("forward", 1), ("reverse", 2), ("random:3", 2)])
def test_shared_memory_and_launch_semantics(builder, schedule, threads):
    proc = run(builder.exe("shared_mem"), schedule=schedule, threads=threads)
    assert_passed(proc, "shared_mem")
    # every invalid configuration was reported with the launch site
    assert proc.stdout.count("invalid launch configuration") == 6, proc.stdout


@pytest.mark.parametrize("schedule", ["forward", "reverse", "random:1"])
def test_tiled_sgemm_and_reductions(builder, schedule):
    assert_passed(run(builder.exe("sgemm"), schedule=schedule, threads=2), "sgemm")


def test_ucontext_fallback(builder):
    for schedule in ("forward", "random:4"):
        assert_passed(run(builder.exe("sgemm", "ucontext"), schedule=schedule, threads=2), "sgemm")


def test_bench_runs(builder):
    proc = run(builder.exe("bench"), "1", threads=1)
    assert_passed(proc, "bench")
    print(proc.stdout)


def test_invalid_schedule_is_reported(builder):
    proc = run(builder.exe("shared_mem"), schedule="sideways")
    assert proc.returncode == 1
    assert "invalid SIMT_SCHEDULE 'sideways'" in proc.stdout


def test_stack_size_setting(builder):
    # about 1 MiB of locals: fine with SIMT_STACK_KB=2048
    proc = run(builder.exe("bugs"), "stack_overflow", env={"SIMT_STACK_KB": "2048"})
    assert proc.returncode == 0 and "NOERROR" in proc.stdout, proc.stdout + proc.stderr


# ---------------------------------------------------------------------------
# Bugs the emulator must catch
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["bug_load", "bug_compute", "bug_publish"])
@pytest.mark.parametrize("schedule", ["reverse", "random:1", "random:2", "random:3"])
def test_missing_syncthreads_gives_a_mismatch(builder, mode, schedule):
    proc = run(builder.exe("sgemm"), mode, schedule=schedule, threads=2)
    assert proc.returncode == 1 and f"MISMATCH {mode}" in proc.stdout, proc.stdout + proc.stderr


def test_forward_order_hides_a_missing_barrier_after_thread_0_publishes(builder):
    # Why the random schedules exist: in index order thread 0 writes the
    # shared value before anyone reads it, so the bug goes unnoticed.
    proc = run(builder.exe("sgemm"), "bug_publish", schedule="forward")
    assert proc.returncode == 0 and "MATCH bug_publish" in proc.stdout, proc.stdout


def bug(builder, mode, schedule="forward", variant="plain"):
    proc = run(builder.exe("bugs", variant), mode, schedule=schedule, threads=2, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ERROR: simt: kernel '" in proc.stdout, proc.stdout
    return proc.stdout


def test_divergent_syncthreads_reported(builder):
    out = bug(builder, "divergent_sync")
    assert "divergent barriers" in out
    assert site("divergent_a") in out and site("divergent_b") in out


@pytest.mark.parametrize("schedule", ["forward", "reverse", "random:5"])
def test_deadlock_reported_not_hung(builder, schedule):
    out = bug(builder, "deadlock", schedule)
    assert "deadlock" in out
    assert re.search(r"threads 0-15: __syncthreads at \S*" + re.escape(site("deadlock_sync")), out), out
    assert re.search(r"threads 16-31: __shfl_xor_sync \(mask 0xffffffff\) at \S*" + re.escape(site("deadlock_shfl")) +
                     r"; lanes 0-15 of the mask wait elsewhere", out), out


def test_shuffle_reading_an_exited_lane_reported(builder):
    out = bug(builder, "exited_lane")
    assert "lane 15 reads lane 16, which has exited" in out and site("exited_shfl") in out


def test_shuffle_from_lane_outside_mask_reported(builder):
    out = bug(builder, "shfl_outside_mask")
    assert "reads lane 16, which is not in the mask 0x0000ffff" in out and site("outside_shfl") in out
    values = out.split("out:")[1].split()
    assert all(v in ("nan", "-nan") for v in values[:16]) and values[16:] == [str(i) for i in range(16, 32)]


def test_shuffle_from_missing_lane_reported(builder):
    out = bug(builder, "shfl_missing_lane")
    assert "reads lane 16, which does not exist (the block has 48 threads" in out and site("missing_shfl") in out


def test_conflicting_masks_reported(builder):
    out = bug(builder, "mask_conflict", schedule="reverse")
    assert "overlaps the mask" in out and site("conflict_a") in out and site("conflict_b") in out


def test_trap_reported(builder):
    out = bug(builder, "trap")
    assert "block (1,0,0), thread (5,0,0): __trap() at" in out and site("trap") in out


# ---------------------------------------------------------------------------
# AddressSanitizer + UBSan
# ---------------------------------------------------------------------------

def assert_clean(proc, name):
    assert_passed(proc, name)
    assert "AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("program,schedule", [("warp_ops", "random:1"), ("atomics", "forward"),
                                              ("shared_mem", "reverse"), ("sgemm", "random:2")])
def test_positive_suite_clean_under_asan(builder, program, schedule):
    assert_clean(run(builder.exe(program, "asan"), schedule=schedule, threads=2), program)


def test_asan_with_fake_stacks(builder):
    # detect_stack_use_after_return moves frames to fake stacks; the fiber
    # switch annotations must keep them apart.
    proc = run(builder.exe("warp_ops", "asan"), threads=2,
               env={"ASAN_OPTIONS": "detect_stack_use_after_return=1:detect_leaks=1"})
    assert_clean(proc, "warp_ops")


def test_error_paths_clean_under_asan(builder):
    # abandoned fibers (deadlock, trap) leave their stacks reusable
    for mode in ("deadlock", "trap", "exited_lane", "divergent_sync"):
        out = bug(builder, mode, variant="asan")
        assert "ERROR: simt" in out


def test_out_of_bounds_write_caught_by_asan(builder):
    proc = run(builder.exe("bugs", "asan"), "oob_write")
    assert proc.returncode != 0
    assert "AddressSanitizer: heap-buffer-overflow" in proc.stderr, proc.stderr
    assert site("oob") in proc.stderr  # the kernel line, through the fiber's stack


def test_dynamic_shared_overflow_caught_by_asan(builder):
    proc = run(builder.exe("bugs", "asan"), "shared_overflow")
    assert proc.returncode != 0
    assert "AddressSanitizer: use-after-poison" in proc.stderr and site("smem_oob") in proc.stderr, proc.stderr


def test_fiber_stack_overflow_caught_by_asan(builder):
    proc = run(builder.exe("bugs", "asan"), "stack_overflow")
    assert proc.returncode != 0
    assert "AddressSanitizer: stack-overflow" in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------
# The same sources are valid CUDA
# ---------------------------------------------------------------------------

@pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")
def test_sources_compile_with_nvcc(tmp_path):
    sources = sorted(SIMT_TESTS.glob("*.cu"))
    assert sources

    def compile_one(src):
        cmd = [NVCC, "-std=c++17", "-arch=sm_80", "-I", str(CUDA_DIR), "-c", str(src),
               "-o", str(tmp_path / (src.stem + ".o"))]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        return src.name, proc.returncode, proc.stdout + proc.stderr

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(compile_one, sources))
    failed = [f"{name}:\n{log}" for name, rc, log in results if rc != 0]
    assert not failed, "\n".join(failed)
