"""Benchmark of the agreement's chain in machine instructions, which a busy or shared machine does not change:

    .venv/bin/python -m tests.bench.bench_instructions [--agreements 2]
    (or: make bench-instructions; needs valgrind)

CPU time on a shared virtual machine varies by half from one minute to the next (another guest's load),
so a change of a tenth cannot be seen in it. Valgrind's callgrind counts the instructions a process
executes, the same from run to run to a few parts in ten thousand. Each step runs in a process of its
own under ``valgrind --tool=callgrind --instr-atstart=no``: the set-up (the portal, its fonts and
templates, two agreements through the whole chain as a warm-up, the agreements the step needs) is not
counted; counting is switched on (``callgrind_control -i on``) only while the step runs for
``--agreements`` agreements. The steps, as in ``bench_chain``:

* plain pyHanko signing one signature into the sealed agreement (the yardstick of the ratios);
* finalise (render the PDF/A, seal, slots);
* one signature, server side (prepare + finish with the signatory's browser key, the device's own
  signature included: well under a millisecond);
* the closing job (DSS + document time-stamp, the 30-year check, coming into force, the intake
  validation);
* the whole chain (finalise, two signatures, closing) from a ready draft.

Instructions are not time (a cache miss costs more than an addition), but the same code does the same
instructions: a regression or a gain shows as a change in the count. Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

STEPS = {
    "plain": "plain pyHanko: one signature into the sealed agreement",
    "finalise": "finalise (render PDF/A + seal + slots)",
    "sign": "one signature, server side: prepare + finish (browser key)",
    "closing": "closing job (DSS, time-stamp, 30-year check, in force, intake validation)",
    "chain": "whole chain per agreement (finalise, 2 signatures, closing)",
}
_COLLECTED = re.compile(r"Collected : (\d+)")


def _wait_for(path: Path, process: subprocess.Popen[bytes] | None = None) -> None:
    while not path.exists():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the step's process ended early ({process.returncode})")
        time.sleep(0.05)


def run_step(step: str, agreements: int, folder: Path) -> int:
    """``step`` for ``agreements`` agreements in a process of its own under callgrind, counting only
    while the step runs; the instructions it executed."""
    flags = folder / step
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={folder / step}.out",
               sys.executable, "-m", "tests.bench.bench_instructions", "--step", step,
               "--agreements", str(agreements), "--flags", str(flags)]
    with open(folder / f"{step}.log", "wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            try:
                _wait_for(flags.with_suffix(".ready"), process)
            except RuntimeError as error:
                raise RuntimeError(f"{step}: {error}; its log ends:\n{(folder / f'{step}.log').read_text(errors='replace')[-3000:]}") from None
            subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True, capture_output=True)
            flags.with_suffix(".go").touch()
            _wait_for(flags.with_suffix(".done"), process)
            subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True, capture_output=True)
            flags.with_suffix(".exit").touch()
            process.wait()
        finally:
            if process.poll() is None:
                process.kill()
    found = _COLLECTED.findall((folder / f"{step}.log").read_text(errors="replace"))
    if process.returncode != 0 or not found:
        raise RuntimeError(f"{step} failed under valgrind; see its log:\n{(folder / f'{step}.log').read_text()[-2000:]}")
    return int(found[-1])


def step_process(step: str, agreements: int, flags: Path) -> None:
    """The process under callgrind: set up, say ready, run the step when told, say done, end when told."""
    from tests.bench.bench_chain import Chain, _redis_url, plain_pyhanko_signer

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        chain = Chain(folder, _redis_url())
        try:
            plain = plain_pyhanko_signer(chain, folder)
            chain.whole_chain()
            chain.whole_chain()  # warm-up: fonts, templates, devices enrolled, first time-stamps
            gc.freeze()  # as the web server and the worker do after start-up
            drafts = [chain.draft() for _ in range(agreements)]
            for agreement in drafts:
                if step == "closing":
                    chain.finalise_and_sign(agreement)
                elif step in ("plain", "sign"):
                    chain.finalise(agreement)
            sealed = [agreement.document.signed_pdf if agreement.document else b"" for agreement in drafts]
            actions = {
                "plain": lambda index: plain(sealed[index]),
                "finalise": lambda index: chain.finalise(drafts[index]),
                "sign": lambda index: chain.sign(drafts[index], chain.mayor),
                "closing": lambda index: chain.run_closing(drafts[index]),
                "chain": lambda index: chain.run_closing(chain.finalise_and_sign(drafts[index])),
            }
            gc.collect()
            flags.with_suffix(".ready").write_text(str(os.getpid()))
            _wait_for(flags.with_suffix(".go"))
            for index in range(agreements):
                actions[step](index)
            flags.with_suffix(".done").touch()
            _wait_for(flags.with_suffix(".exit"))
        finally:
            chain.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=2, help="agreements each step runs for (default 2)")
    parser.add_argument("--step", choices=list(STEPS), help=argparse.SUPPRESS)  # the process under callgrind
    parser.add_argument("--flags", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.step:
        step_process(options.step, options.agreements, options.flags)
        return
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        sys.exit("bench_instructions needs valgrind (apt-get install valgrind; make bench-instructions installs it)")
    with tempfile.TemporaryDirectory() as name, ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # The steps run side by side, one per core: counting instructions, they do not disturb each other.
        runs = {step: pool.submit(run_step, step, options.agreements, Path(name)) for step in STEPS}
        counts = {step: run.result() / options.agreements for step, run in runs.items()}
    width = max(map(len, STEPS.values()))
    print(f"instructions per agreement (callgrind, {options.agreements} agreements per step, set-up not counted)")
    print(f"{'step':<{width}}  {'millions':>9}  {'× plain pyHanko':>15}")
    for step, label in STEPS.items():
        print(f"{label:<{width}}  {counts[step] / 1e6:9.0f}  {counts[step] / counts['plain']:15.2f}")


if __name__ == "__main__":
    main()
