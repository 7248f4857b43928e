"""Do two single-threaded worker processes get through training work sooner than one process with
two threads? Times the same jobs both ways, back to back, on this machine.

    python -m benchmark.workers [--steps 40] [--kind keras_cnn|gan] [--bf16 true|false]

Each job is STEPS training steps of the suite's own step function on random images. "threads"
runs the jobs one after the other in one process with 2 threads; "workers" runs them at once in
two processes with 1 thread each. The ratio is what `smate-bench run --workers` is chosen by.
"""

import argparse
import json
import multiprocessing
import time

import torch

JOBS = 2


_barrier = None


def batch_size(kind):
    from smate.config import build_config

    return build_config(preset="paper-cpu")["gan"]["train"]["batch_size"] if kind == "gan" else 128


def _share_barrier(barrier):
    global _barrier
    _barrier = barrier


def _job(kind, steps, threads, bf16):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    autocast = torch.bfloat16 if bf16 else None
    if kind == "gan":
        from smate.config import build_config
        from smate.gan import LOSSES
        from smate.gan.step import gan_step
        from smate.gan.train import make_gan

        # The CPU presets' GAN (paper-cpu's sngan_cnn, hinge loss, batch 64), as benchmark/test_gan_step.py times it.
        params = build_config(preset="paper-cpu")["gan"]["train"]
        generator, discriminator, opt_g, opt_d = make_gan(params)
        loss = LOSSES[params["loss"]]()
        real = torch.rand(batch_size(kind), 3, 32, 32).mul(2).sub(1).contiguous(memory_format=torch.channels_last)

        def step():
            gan_step(generator, discriminator, opt_g, opt_d, loss, real, autocast)
    else:
        from smate.classify import CLASSIFIERS, train_step

        recipe = CLASSIFIERS["keras_cnn"]({"lr": 1e-3, "dropout": True, "batch_size": batch_size(kind)}, 10)
        x = torch.randn(batch_size(kind), 3, 32, 32).contiguous(memory_format=torch.channels_last)
        labels = torch.randint(0, 10, (batch_size(kind),))
        model = recipe.build(x).to(memory_format=torch.channels_last)
        recipe.configure(model, steps, steps)

        def step():
            train_step(model, recipe, x, labels, None, autocast)
    step()  # the first step allocates and picks kernels
    if _barrier is not None:
        _barrier.wait()  # both workers start timing together, after their imports and warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def one_process(kind, steps, bf16):
    return sum(_job(kind, steps, 2, bf16) for _ in range(JOBS))


def two_workers(kind, steps, bf16):
    context = multiprocessing.get_context("spawn")
    with context.Pool(JOBS, initializer=_share_barrier, initargs=(context.Barrier(JOBS),)) as pool:
        return max(pool.starmap(_job, [(kind, steps, 1, bf16)] * JOBS))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--kind", choices=("keras_cnn", "gan"), default="keras_cnn")
    parser.add_argument("--bf16", choices=("true", "false"), default="true")
    args = parser.parse_args(argv)
    bf16 = args.bf16 == "true"
    threads = one_process(args.kind, args.steps, bf16)
    workers = two_workers(args.kind, args.steps, bf16)
    images = JOBS * args.steps * batch_size(args.kind)
    result = {"kind": args.kind, "bf16": bf16, "steps_per_job": args.steps, "jobs": JOBS,
              "one_process_two_threads_s": round(threads, 2), "two_workers_one_thread_s": round(workers, 2),
              "images_per_s_threads": round(images / threads), "images_per_s_workers": round(images / workers),
              "workers_speedup": round(threads / workers, 2)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
