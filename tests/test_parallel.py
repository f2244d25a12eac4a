"""lecture_utils.parallel: data-parallel training with torch.distributed (gloo) equals large-batch
training."""
import os
import socket
from pathlib import Path

import numpy as np
import pytest
from parallel_faults import failing_data

from lecture_utils import parallel
from lecture_utils.data import load_mnist1d
from lecture_utils.train import flat_params, train_classifier


def _children():
    """Process ids whose parent is this process (workers left behind would show up here)."""
    me, out = os.getpid(), []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me and fields[0] != "Z":
                out.append(int(pid))
    return out


def test_two_workers_equal_one_large_batch():
    """2 workers × 50 examples = batch 100, with an uneven last batch (N = 1001: the last global
    batch holds 1 example, so one worker's shard is empty), warm-up and momentum."""
    d = load_mnist1d().subset(1001, 100)
    r = parallel.data_parallel_train(2, 50, lr=0.2, steps=25, seed=3, data=d, momentum=0.9, warmup_steps=5)
    ref = train_classifier(d, batch_size=100, lr=0.2, seed=3, max_steps=25, momentum=0.9, warmup_steps=5)
    diff = np.abs(flat_params(r.model) - flat_params(ref.model)).max()
    assert diff <= 1e-5
    assert r.steps == 25 and r.status == "max_steps" and r.global_batch == 100 and r.seconds > 0
    assert r.examples_per_second > 0
    assert _children() == []


def test_default_data_is_mnist1d_and_matches_train_classifier():
    r = parallel.data_parallel_train(2, 64, lr=0.1, steps=30, seed=0)
    ref = train_classifier(load_mnist1d(), batch_size=128, lr=0.1, seed=0, max_steps=30)
    assert np.abs(flat_params(r.model) - flat_params(ref.model)).max() <= 1e-5


def test_failing_worker_gives_clear_error_and_no_process_left(monkeypatch):
    """Worker 1 raises after its 3rd update (a fault armed on the test side, tests/parallel_faults.py):
    the caller gets ParallelError quoting that worker's traceback, and no worker is left running."""
    tests_dir = str(Path(__file__).resolve().parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")])))
    d = failing_data(load_mnist1d().subset(400, 50), rank=1, step=3)
    failed = r"worker 1 of 2 failed(.|\n)*failed on purpose at step 3"
    with pytest.raises(parallel.ParallelError, match=failed):
        parallel.data_parallel_train(2, 20, lr=0.1, steps=10, seed=0, data=d)
    assert _children() == []


def test_taken_port_gives_clear_error_and_no_process_left():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert not parallel.port_is_free(port)
        with pytest.raises(parallel.ParallelError, match=f"port {port} on 127.0.0.1 is already in use"):
            parallel.data_parallel_train(2, 20, lr=0.1, steps=5, seed=0, port=port)
    assert _children() == []
    assert parallel.port_is_free(parallel.free_port())


def test_validation():
    with pytest.raises(ValueError, match="world_size"):
        parallel.data_parallel_train(0, 8, lr=0.1, steps=5, seed=0)
    with pytest.raises(ValueError, match="per_worker_batch"):
        parallel.data_parallel_train(2, 3000, lr=0.1, steps=5, seed=0)
    with pytest.raises(ValueError, match="lr"):
        parallel.data_parallel_train(2, 8, lr=-1, steps=5, seed=0)
    with pytest.raises(ValueError, match="data"):
        parallel.data_parallel_train(2, 8, lr=0.1, steps=5, seed=0, data=np.zeros(3))


def test_timeout_stops_every_worker():
    """The same cleanup path as an interrupt (the finally clause): a run cut after 1 s leaves nothing."""
    with pytest.raises(parallel.ParallelError, match="timed out after 1 s"):
        parallel.data_parallel_train(2, 64, lr=0.1, steps=100000, seed=0, timeout=1.0)
    assert _children() == []


def test_interrupt_stops_every_worker():
    """Ctrl-C (a KeyboardInterrupt in the caller, as the Jupyter stop button sends) stops the workers."""
    import _thread
    import signal
    import threading

    # A process started in the background by a non-interactive shell (as CI may be) ignores SIGINT, and
    # then interrupt_main() does nothing: install Python's own handler for the duration of the test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            parallel.data_parallel_train(2, 64, lr=0.1, steps=100000, seed=0, timeout=60)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert _children() == []
