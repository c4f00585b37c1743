"""Shared helpers for dlcore's microbenchmarks: timing, thread pinning, tables, JSON.

Method (the one of /work/shared/notes/perf-anchors.md, scaled down):
  * A *sample* runs the function back to back for at least `min_time` seconds
    (inner count calibrated once, after `warmup` calls) and gives the mean per
    call.  The reported number is the median over `rounds` samples.
  * `measure_many` interleaves: in every round each (contender, threads) cell
    gives one sample, thread counts alternate in direction from round to round
    and the contender order rotates, so a slow phase of the shared box hits all
    contenders alike and the ratios stay meaningful.
  * Every thread pool is pinned to the same count before a sample: dlcore's
    OpenMP (dlcore.set_num_threads), NumPy's OpenBLAS and any OpenMP runtime
    (threadpoolctl), torch's intra-op pool (torch.set_num_threads).  An unpinned
    OpenBLAS pool spinning beside dlcore's OpenMP team on 2 cores is the
    "thread-pool fight" of perf-anchors.md.
  * Noise check (the box is shared): a sample also records the fraction of its wall time in
    which some runnable task waited for a CPU (Linux PSI, /proc/pressure/cpu; without PSI,
    the cores other processes used, from /proc/stat ticks).  More than 10% means another
    process (or an unpinned pool) competed with ours: the sample is retaken after a quiet
    gate (0.1 s windows until the cores we need are free, at most 15 s per sample and 30 s
    per run), up to `retries` times, and else kept and counted as forced.  A sample that
    runs past max(10 * min_time, 3x its calibration time) is cut short and counts as noisy
    too, so a load spike cannot stretch the run.  Tables mark a cell whose samples were
    mostly forced with '!'.
  * The garbage collector is off while timing (as in timeit).
"""
import contextlib
import gc
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

import dlcore

try:  # optional contender
    import torch  # noqa: F401
except Exception:  # pragma: no cover - torch missing or broken
    torch = None

try:
    import threadpoolctl
except Exception:  # pragma: no cover
    threadpoolctl = None

# ---------------------------------------------------------------------------
# Thread pinning
# ---------------------------------------------------------------------------

_CONTROLLER = [None]
_CURRENT = [None]


def _controller():
    if threadpoolctl is None:
        return None
    if _CONTROLLER[0] is None:  # created after torch/numpy are loaded, so it sees their pools
        _CONTROLLER[0] = threadpoolctl.ThreadpoolController()
    return _CONTROLLER[0]


def set_threads(n):
    """Pins dlcore, NumPy's BLAS (and every OpenMP runtime threadpoolctl finds) and torch to n threads."""
    n = int(n)
    if _CURRENT[0] == n:
        return
    dlcore.set_num_threads(n)
    c = _controller()
    if c is not None:
        c.limit(limits=n)  # user_api None: blas and openmp alike
    if torch is not None:
        torch.set_num_threads(n)
    _CURRENT[0] = n


def current_threads():
    return _CURRENT[0]


@contextlib.contextmanager
def pinned_threads(n):
    """with pinned_threads(2): ... -- every pool at n threads inside, the previous counts after."""
    prev_dl = dlcore.get_num_threads()
    prev_torch = torch.get_num_threads() if torch is not None else None
    prev_cur = _CURRENT[0]
    limiter = None
    c = _controller()
    if c is not None:
        limiter = c.limit(limits=int(n))
    dlcore.set_num_threads(int(n))
    if torch is not None:
        torch.set_num_threads(int(n))
    _CURRENT[0] = int(n)
    try:
        yield
    finally:
        dlcore.set_num_threads(prev_dl)
        if torch is not None:
            torch.set_num_threads(prev_torch)
        if limiter is not None:
            limiter.restore_original_limits()
        _CURRENT[0] = prev_cur


# ---------------------------------------------------------------------------
# Noise check and quiet gate
# ---------------------------------------------------------------------------

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_NCPU = os.cpu_count() or 1
GATE = {"max_wait_s": float(os.environ.get("DLCORE_BENCH_GATE_MAX_WAIT_S", "15")),   # per noisy sample
        "total_max_s": float(os.environ.get("DLCORE_BENCH_GATE_TOTAL_S", "30")),     # per process
        "stall_frac": float(os.environ.get("DLCORE_BENCH_STALL_FRAC", "0.10")),
        "waited_s": 0.0, "noisy_tries": 0, "forced": 0}


def _psi_some_us():
    """Cumulative microseconds in which some runnable task waited for a CPU (PSI), or None."""
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        return None


def _ticks():
    """(busy ticks of the whole machine, ticks of this process), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        with open("/proc/self/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return v[0] + v[1] + v[2] + v[5] + v[6], int(rest[11]) + int(rest[12])
    except (OSError, ValueError, IndexError):
        return None


def _probe():
    return _psi_some_us(), _ticks()


def _contention(p0, p1, wall):
    """(fraction of the wall time some task waited for a CPU, cores used by other processes)."""
    stall = 0.0
    if p0[0] is not None and p1[0] is not None and wall > 0:
        stall = (p1[0] - p0[0]) / 1e6 / wall
    others = 0.0
    if p0[1] is not None and p1[1] is not None and wall > 0:
        others = max(0.0, ((p1[1][0] - p0[1][0]) - (p1[1][1] - p0[1][1])) / _HZ / wall)
    return stall, others


def wait_quiet(threads, max_wait=None):
    """Sleeps in 0.1 s windows until other processes leave `threads` cores free (their load
    < ncpu - threads + 0.25 cores) and nothing waits for a CPU; False if it gave up."""
    max_wait = GATE["max_wait_s"] if max_wait is None else max_wait
    max_wait = min(max_wait, max(0.0, GATE["total_max_s"] - GATE["waited_s"]))
    allowed = max(0, _NCPU - (threads or _NCPU)) + 0.25
    start = time.perf_counter()
    try:
        while True:
            p0 = _probe()
            t0 = time.perf_counter()
            time.sleep(0.1)
            stall, others = _contention(p0, _probe(), time.perf_counter() - t0)
            if others < allowed and stall < GATE["stall_frac"]:
                return True
            if time.perf_counter() - start > max_wait:
                return False
    finally:
        GATE["waited_s"] += time.perf_counter() - start


def _noisy(stall, others, threads):
    """A sample is noisy when tasks waited for a CPU (PSI; other processes or pools competing
    with ours) or, without PSI, others used cores we needed."""
    if _psi_some_us() is not None:
        return stall > GATE["stall_frac"]
    return others > max(0, _NCPU - (threads or _NCPU)) + 0.5


# ---------------------------------------------------------------------------
# The device under test
# ---------------------------------------------------------------------------

DEVICE = ["cpu"]  # where the cases put dlcore's tensors: "cpu", or "cuda" (use_device)
L2_FLUSH_BYTES = 256 << 20  # more than any GPU's L2 (H100: 50 MB)


def use_device(name):
    """Runs the cases on `name` from now on: "cpu", or "cuda" -- a GPU, or the SIMT emulator under
    DLCORE_CUDA=emulate (its times only show that the harness works: emulated kernels run as
    fibers on the CPU). On cuda, dlcore's calls are timed with CUDA events; NumPy and PyTorch CPU
    remain the correctness reference, not contenders."""
    if name not in ("cpu", "cuda"):
        raise SystemExit(f"--device: expected cpu or cuda, got {name!r}")
    if name == "cuda" and not dlcore.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device (DLCORE_CUDA=emulate runs the CUDA kernels on the CPU)")
    DEVICE[0] = name


def on_cuda():
    return DEVICE[0] == "cuda"


def dl(a, **kwargs):
    """A NumPy array (or number) as a dlcore tensor on the device under test."""
    return dlcore.tensor(a, device=DEVICE[0], **kwargs)


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def calibrate(fn, min_time=0.05, warmup=2):
    """Inner-loop count n such that n back-to-back calls take >= min_time (after warm-up).
    Times growing batches until one lasts >= min_time / 5, then extrapolates (with 10% margin)."""
    for _ in range(warmup):
        fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return n
        if dt >= min_time / 5:
            return max(n + 1, int(math.ceil(n * min_time / dt * 1.1)))
        n = max(2 * n, int(math.ceil(n * min_time / 5 / max(dt, 1e-9) * 1.2)))


def _timed_batch(fn, n, max_s):
    """Runs fn n times in chunks; stops early once max_s has passed (a call became much slower
    than when n was calibrated). Returns (seconds, calls done, cut short)."""
    chunk = max(1, n // 8)
    done = 0
    t0 = time.perf_counter()
    while done < n:
        k = min(chunk, n - done)
        for _ in range(k):
            fn()
        done += k
        if done < n and time.perf_counter() - t0 > max_s:
            return time.perf_counter() - t0, done, True
    return time.perf_counter() - t0, done, False


def _sample(fn, n, threads, retries, max_s):
    """One sample: (seconds per call, CPU-stall fraction, noisy tries, kept although noisy).
    A noisy sample (other tasks waited for a CPU, or the batch ran past max_s) is taken again
    after waiting for the box to quieten, up to `retries` times and while the run's waiting
    budget lasts."""
    noisy = 0
    for attempt in range(retries + 1):
        if n >= 4:
            fn()  # re-warm after another contender ran (its pool may still spin); skipped for slow fns
        p0 = _probe()
        wall, done, cut = _timed_batch(fn, n, max_s)
        stall, others = _contention(p0, _probe(), wall)
        if not cut and not _noisy(stall, others, threads):
            return wall / done, stall, noisy, False
        noisy += 1
        GATE["noisy_tries"] += 1
        if attempt == retries or GATE["waited_s"] >= GATE["total_max_s"]:
            break  # out of retries, or of the run's waiting budget: keep it, flagged
        wait_quiet(threads)
    GATE["forced"] += 1
    return wall / done, stall, noisy, True


class Result:
    """Samples (seconds per call) of one cell, with their median and minimum."""
    __slots__ = ("samples", "inner", "noisy", "forced", "stalls", "calib_s")

    def __init__(self, inner):
        self.samples, self.inner, self.noisy, self.forced, self.stalls = [], inner, 0, 0, []
        self.calib_s = 0.0

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def min(self):
        return min(self.samples)

    def to_dict(self):
        return {"median_s": self.median, "min_s": self.min, "samples_s": self.samples, "inner": self.inner,
                "noisy_tries": self.noisy, "forced_noisy_samples": self.forced,
                "cpu_stall_frac": [round(x, 3) for x in self.stalls]}


def measure_many(cells, min_time=0.05, rounds=7, warmup=2, retries=3):
    """cells: {key: (fn, threads)} with threads an int (pinned with set_threads) or None.
    Returns {key: Result}, the cells sampled interleaved round by round."""
    keys = list(cells)
    gc_was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        res = {}
        for k in keys:
            fn, th = cells[k]
            if th is not None:
                set_threads(th)
            t0 = time.perf_counter()
            res[k] = Result(calibrate(fn, min_time, warmup))
            res[k].calib_s = (time.perf_counter() - t0) / max(1, res[k].inner)  # rough per-call bound
        thread_counts = sorted({cells[k][1] for k in keys}, key=lambda t: -1 if t is None else t)
        for r in range(rounds):
            order_t = thread_counts if r % 2 == 0 else thread_counts[::-1]
            for th in order_t:
                group = [k for k in keys if cells[k][1] == th]
                if not group:
                    continue
                shift = r % len(group)
                group = group[shift:] + group[:shift]
                if th is not None:
                    set_threads(th)
                for k in group:
                    fn = cells[k][0]
                    s, stall, noisy, forced = _sample(fn, res[k].inner,
                                                      th if th is not None else current_threads(), retries,
                                                      max(10 * min_time, 3 * res[k].inner * res[k].calib_s))
                    res[k].samples.append(s)
                    res[k].stalls.append(stall)
                    res[k].noisy += noisy
                    res[k].forced += forced
        return res
    finally:
        if gc_was:
            gc.enable()


def measure_cuda(fns, rounds=7, warmup=2, per_round=5):
    """{key: Result} of each fn's device time per call on cuda: CUDA events around one call,
    recorded after a synchronize and an L2 flush (a write of L2_FLUSH_BYTES), so that every call
    starts from cold caches, as a layer of a training step does after the layers before it
    evicted its operands. Rounds interleave the fns, per_round samples each."""
    flush_bytes = L2_FLUSH_BYTES if not dlcore.cuda.is_emulated() else 1 << 20
    flush = dlcore.empty(flush_bytes // 4, device="cuda")
    start, end = dlcore.cuda.Event(), dlcore.cuda.Event()
    keys = list(fns)
    res = {}
    for k in keys:
        for _ in range(warmup):
            fns[k]()
        res[k] = Result(1)
    for r in range(rounds):
        shift = r % len(keys)
        for k in keys[shift:] + keys[:shift]:
            for _ in range(per_round):
                flush.fill_(0)
                dlcore.cuda.synchronize()
                start.record()
                fns[k]()
                end.record()
                res[k].samples.append(start.elapsed_time(end) / 1e3)
                res[k].stalls.append(0.0)
    return res


def measure_contenders(fns, threads, min_time=0.05, rounds=7, warmup=2):
    """{(contender, threads): Result} of fns {contender: fn} at each thread count; on cuda, of
    dlcore's device calls alone (the peers' tensors are on the CPU), keyed by threads[0]."""
    if on_cuda():
        dev = {c: fn for c, fn in fns.items() if c.startswith("dlcore")}
        return {(c, threads[0]): r for c, r in measure_cuda(dev, rounds, warmup).items()}
    return measure_many({(c, t): (fn, t) for c, fn in fns.items() for t in threads}, min_time, rounds, warmup)


def measure(fn, min_time=0.05, rounds=7, warmup=2):
    """Median seconds per call of fn (each of `rounds` samples runs fn for >= min_time),
    at the thread counts currently set."""
    return measure_many({"fn": (fn, None)}, min_time, rounds, warmup)["fn"].median


# ---------------------------------------------------------------------------
# Formatting, tables, JSON
# ---------------------------------------------------------------------------

def fmt_time(s):
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "-"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.3g} us" if s * 1e6 < 100 else f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.3g} ms" if s * 1e3 < 100 else f"{s * 1e3:.0f} ms"
    return f"{s:.3g} s"


def fmt_rate(amount, s, scale=1e9):
    """Bytes or flops per second in G/s (or, with scale 1, items per second)."""
    if s is None or not amount:
        return "-"
    g = amount / s / scale
    return f"{g:.3g}" if g < 100 else f"{g:.0f}"


def fmt_ratio(a, b):
    if a is None or b is None:
        return "-"
    return f"{a / b:.2f}"


def paired_ratio(a, b):
    """The median over rounds of a's time / b's time in the same round (Results of one
    measure_many call, whose rounds sample every cell in turn): a change of the machine's
    speed between rounds -- another tenant's memory traffic -- cancels out of each ratio."""
    if a is None or b is None:
        return None
    return statistics.median(x / y for x, y in zip(a.samples, b.samples))


def fmt_size(n):
    for unit, v in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= v and n % v == 0:
            return f"{n // v}{unit}"
    return str(n)


def print_table(headers, rows, title=None, align=None, file=None):
    """Aligned text table; align is a string of 'l'/'r' per column (default: first 'l', rest 'r')."""
    file = file or sys.stdout
    rows = [[("-" if c is None else str(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    align = align or "l" * min(2, len(headers)) + "r" * max(0, len(headers) - 2)

    def line(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    if title:
        print(title, file=file)
    print(line(headers), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for row in rows:
        print(line(row), file=file)
    print(file=file)


def env_info():
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "nproc": _NCPU,
        "dlcore": getattr(dlcore, "__version__", "?"),
        "dlcore_cpu": dlcore.cpu_info(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "thp": _read("/sys/kernel/mm/transparent_hugepage/enabled"),
        "loadavg_at_start": _read("/proc/loadavg"),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "OPENBLAS", "MKL_", "DLCORE_", "GOMP"))},
    }
    if threadpoolctl is not None:
        info["threadpools"] = [{k: d.get(k) for k in ("user_api", "internal_api", "version", "filepath")}
                               for d in threadpoolctl.threadpool_info()]
    return info


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def dump_json(path, payload):
    """Writes payload (plus env info under 'env' when absent) as indented JSON."""
    if path is None:
        return
    payload = dict(payload)
    payload.setdefault("env", env_info())
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)
    print(f"[saved {path}]")


def parse_threads(s):
    return [int(t) for t in str(s).split(",") if t.strip()]


# ---------------------------------------------------------------------------
# The runner both scripts share: cases x contenders x thread counts
# ---------------------------------------------------------------------------

CONTENDERS = ("dlcore", "numpy", "torch")


def as_numpy(x):
    """A contender's result as a NumPy array (dlcore and torch tensors share memory with it)."""
    if isinstance(x, dlcore.Tensor) or (torch is not None and isinstance(x, torch.Tensor)):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def available_contenders(rows=()):
    """dlcore, then its other variants found in rows ("dlcore naive", ...), NumPy, torch if importable."""
    variants = sorted({k for r in rows for k in r if k.startswith("dlcore ")})
    if on_cuda():
        return ["dlcore"] + variants
    return ["dlcore"] + variants + [c for c in CONTENDERS[1:] if c != "torch" or torch is not None]


def run_cases(cases, threads, min_time=0.05, rounds=7, warmup=2, log=sys.stderr):
    """cases: iterable of dicts {name, shape, nbytes, build} where build() checks correctness and
    returns {contender: fn}; inputs live only while their case is measured.
    Returns a list of row dicts {name, shape, nbytes, threads, <contender>: Result|None}."""
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        wait_quiet(max(threads), max_wait=3)
        fns = case["build"]()
        res = measure_contenders(fns, threads, min_time, rounds, warmup)
        del fns
        gc.collect()
        for t in threads:
            row = {"name": case["name"], "shape": case["shape"], "nbytes": case.get("nbytes"),
                   "flops": case.get("flops"), "images": case.get("images"), "threads": t, "device": DEVICE[0]}
            for c in CONTENDERS + tuple(sorted({c for c, _ in res} - set(CONTENDERS))):
                row[c] = res.get((c, t))
            rows.append(row)
        if log:
            print(f"  {case['name']:<22} {case['shape']:<12} {time.perf_counter() - t0:5.1f} s", file=log, flush=True)
    return rows


def report(rows, title, json_path=None, extra=None):
    """Prints one table per thread count and optionally dumps everything as JSON."""
    threads = sorted({r["threads"] for r in rows})
    conts = available_contenders(rows)
    # Compute-bound families give their cases flops (GF/s), the others nbytes (GB/s).
    if any(r.get("flops") for r in rows):
        unit, amount, scale = "GF/s", "flops", 1e9
    elif any(r.get("nbytes") for r in rows):
        unit, amount, scale = "GB/s", "nbytes", 1e9
    else:  # whole training steps: images per second
        unit, amount, scale = "img/s", "images", 1.0
    peers = [c for c in ("numpy", "torch") if c in conts]
    headers = ["op", "shape"] + [f"{c} time" for c in conts] + [f"{c} {unit}" for c in conts] + \
              [f"dl/{'np' if c == 'numpy' else c}" for c in peers]
    for t in threads:
        table = []
        for r in rows:
            if r["threads"] != t:
                continue
            med = {c: (r[c].median if r.get(c) is not None else None) for c in conts}
            flag = {c: ("!" if r.get(c) is not None and 2 * r[c].forced > len(r[c].samples) else "")
                    for c in conts}
            table.append([r["name"], r["shape"]] + [fmt_time(med[c]) + flag[c] for c in conts] +
                         [fmt_rate(r.get(amount), med[c], scale) for c in conts] +
                         [fmt_ratio(med["dlcore"], med[c]) for c in peers])
        where = "on cuda, device time after a sync and an L2 flush" if on_cuda() else \
            f"{t} thread{'s' if t > 1 else ''}"
        print_table(headers, table, title=f"{title} -- {where} "
                                          f"(median time per call; dl/x = time ratio, <1: dlcore faster)")
    print(f"noise: {GATE['noisy_tries']} noisy sample tries retaken, {GATE['forced']} kept although noisy "
          f"('!': most samples of a cell), {GATE['waited_s']:.0f} s waited for a quiet box")
    if json_path:
        out = []
        for r in rows:
            d = {k: r[k] for k in ("name", "shape", "nbytes", "flops", "threads")}
            for c in available_contenders([r]):
                d[c] = r[c].to_dict() if r.get(c) is not None else None
            out.append(d)
        payload = {"title": title, "rows": out,
                   "gate": {k: GATE[k] for k in ("noisy_tries", "forced", "waited_s", "stall_frac")}}
        if extra:
            payload.update(extra)
        dump_json(json_path, payload)


def parse_bench_args(doc, argv=None):
    """The command line every bench_<family>.py shares. Returns the arguments with threads (a
    list), min_time and rounds filled in (--quick: 3 rounds of 10 ms samples), after printing
    the settings."""
    import argparse
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--quick", action="store_true", help="fewer/smaller cases, 3 rounds of 10 ms samples (< 30 s)")
    ap.add_argument("--json", default=None, help="also write all samples and the environment here")
    ap.add_argument("--min-time", type=float, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = ap.parse_args(argv)

    use_device(args.device)
    args.threads = parse_threads(args.threads)[:1] if on_cuda() else parse_threads(args.threads)
    args.min_time = args.min_time or (0.01 if args.quick else 0.05)
    args.rounds = args.rounds or (3 if args.quick else 7)
    if args.quick:
        GATE["total_max_s"] = min(GATE["total_max_s"], 8.0)
    print(f"dlcore {dlcore.cpu_info()}, numpy {np.__version__}, torch {torch.__version__ if torch else 'n/a'}; "
          f"device {DEVICE[0]}, threads {args.threads}, {args.rounds} rounds of >= {args.min_time * 1e3:.0f} ms samples", file=sys.stderr)
    return args


def bench_main(doc, title, cases, argv=None):
    """The command line every bench_<family>.py shares: cases(quick) builds the cases."""
    args = parse_bench_args(doc, argv)
    rows = run_cases(cases(args.quick), args.threads, min_time=args.min_time, rounds=args.rounds)
    report(rows, title, args.json, extra={"settings": {"threads": args.threads, "min_time": args.min_time,
                                                       "rounds": args.rounds, "quick": args.quick}})
