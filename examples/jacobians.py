"""Forward and reverse mode: the same Jacobian from jvp columns and from vjp rows, what each costs on a wide
function and on a tall one, and a Hessian as forward-over-reverse. docs/forward_and_reverse.md is the lesson.

    python examples/jacobians.py [--quick]

Every result is checked: jacfwd against jacrev, both against central differences, the Hessian against
jacrev(jacrev). Times are this thread's CPU time, medians over repetitions, the two modes taking turns;
the ratios are what to read.
"""
import argparse
import os
import statistics
import time
import tracemalloc

import numpy as np

import tinygrad_np as tg
from tinygrad_np import func


def wide(n, rng):
    """Many inputs, one output: a loss. f(x) = Σ tanh(W x) for x with n elements."""
    W = tg.Tensor(rng.standard_normal((8, n)) / np.sqrt(n))
    return lambda x: (W @ x).tanh().sum()


def tall(m, rng):
    """One input, many outputs: a curve. f(s) = tanh(a s + b) for a scalar s and m outputs."""
    a, b = tg.Tensor(rng.standard_normal(m)), tg.Tensor(rng.standard_normal(m))
    return lambda s: (a * s + b).tanh()


def numeric_jacobian(f, x, eps=1e-6, columns=None):
    """Central differences of f at x for the input elements in ``columns`` (all by default)."""
    columns = range(x.size) if columns is None else columns
    cols = []
    for j in columns:
        step = np.zeros_like(x)
        step.flat[j] = eps
        cols.append((f(tg.Tensor(x + step)).data - f(tg.Tensor(x - step)).data).ravel() / (2 * eps))
    return np.stack(cols, axis=1)


def thread_seconds(fn, repeats):
    """Median thread CPU seconds of fn over ``repeats`` calls."""
    samples = []
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        samples.append(time.thread_time() - start)
    return statistics.median(samples)


def take_turns(candidates, rounds):
    """Median seconds of each candidate, the candidates alternating within every round."""
    samples = {name: [] for name in candidates}
    for r in range(rounds):
        names = list(candidates)[r % 2:] + list(candidates)[:r % 2]
        for name in names:
            samples[name].append(thread_seconds(candidates[name], 1))
    return {name: statistics.median(s) for name, s in samples.items()}


def peak_bytes(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def check(name, ours, expected, atol=1e-6):
    error = float(np.max(np.abs(np.asarray(ours) - expected))) if np.size(expected) else 0.0
    status = "ok" if error <= atol else "FAILED"
    print(f"  {name:<54} max |difference| {error:.1e}  {status}")
    return error <= atol


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repetitions, for CI")
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)  # the examples' common flag; no data is needed
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    n, rounds = (40, 5) if args.quick else (200, 9)
    rng = np.random.default_rng(0)
    ok = True

    print(f"1. The same Jacobian two ways (a wide function, {n} inputs -> 1 output; a tall one, 1 input -> {n})")
    f, g = wide(n, rng), tall(n, rng)
    x, s = rng.standard_normal(n), np.array([0.3])
    for name, fn, point in (("wide", f, x), ("tall", g, s)):
        rows, cols = func.jacrev(fn)(point).data, func.jacfwd(fn)(point).data
        ok &= check(f"{name}: jacfwd (jvp columns) against jacrev (vjp rows)", cols, rows, atol=1e-12)
        sample = list(range(min(point.size, 5)))
        numeric = numeric_jacobian(fn, point, columns=sample)
        ok &= check(f"{name}: jacrev against central differences", rows.reshape(-1, point.size)[:, sample], numeric)

    print("\n2. What each costs (thread CPU time; the ratio is what to read)")
    print(f"  {'function':<32}{'jacrev (rows)':>16}{'jacfwd (columns)':>18}{'jacfwd / jacrev':>17}")
    ratios = {}
    for name, fn, point, passes in ((f"wide: {n} inputs, 1 output", f, x, "1 row vs %d columns" % n),
                                    (f"tall: 1 input, {n} outputs", g, s, "%d rows vs 1 column" % n)):
        times = take_turns({"rev": lambda fn=fn, point=point: func.jacrev(fn)(point),
                            "fwd": lambda fn=fn, point=point: func.jacfwd(fn)(point)}, rounds)
        ratios[name.split(":")[0]] = times["fwd"] / times["rev"]
        print(f"  {name:<32}{times['rev'] * 1e3:>13.2f} ms{times['fwd'] * 1e3:>15.2f} ms"
              f"{times['fwd'] / times['rev']:>16.2f}x   ({passes})")
    print(f"  reverse mode wins on the wide function by {ratios['wide']:.0f}x, forward mode on the tall one by "
          f"{1 / ratios['tall']:.0f}x")

    print("\n3. One jvp against one plain backward pass, on the wide function")
    t = rng.standard_normal(n)

    def plain():
        xt = tg.Tensor(x, requires_grad=True)
        f(xt).backward()

    def forward_mode():
        func.jvp(f, (x,), (t,))

    times = take_turns({"backward": plain, "jvp": forward_mode}, rounds * 3)
    memory = {"backward": peak_bytes(plain), "jvp": peak_bytes(forward_mode)}
    print(f"  jvp takes {times['jvp'] / times['backward']:.1f}x the time of forward + backward, and "
          f"{memory['jvp'] / memory['backward']:.1f}x its peak memory (transpose trick: a forward, a recorded "
          "backward, and a backward through that)")
    _, tangent_out = func.jvp(f, (x,), (t,))
    ok &= check("jvp against the gradient dotted with t", tangent_out.item(), func.grad(f)(x).data @ t, atol=1e-10)

    print("\n4. A Hessian as forward-over-reverse: hessian(f) = jacfwd(jacrev(f))")
    k = 6 if args.quick else 12
    small = wide(k, rng)
    point = rng.standard_normal(k)
    h = func.hessian(small)(point).data
    ok &= check("hessian against jacrev(jacrev(f))", h, func.jacrev(func.jacrev(small))(point).data, atol=1e-12)
    ok &= check("hessian is symmetric", h, h.T, atol=1e-12)
    numeric = numeric_jacobian(lambda p: func.grad(small)(p), point)
    ok &= check("hessian against differences of the gradient", h, numeric, atol=1e-5)

    print("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    from command_line import run_main  # beside this script

    run_main(main)
