import pytest
from sweep_helpers import TINY, store_rows

from qcgrad.sweep import run
from qcgrad.sweep.executors import Dask, ProcessPool, Serial, make_executor


@pytest.mark.slow
def test_serial_process_pool_and_dask_write_identical_stores(tmp_path):
    pytest.importorskip("dask.distributed")
    stores = {}
    for name, executor in [("serial", Serial()), ("pool", ProcessPool(2)),
                           ("dask", Dask("local", workers=2, processes=False))]:
        stores[name] = tmp_path / f"{name}.sqlite"
        report = run(TINY, store=stores[name], executor=executor)
        assert (report.ran, report.failed) == (6, 0)
    serial = store_rows(stores["serial"])
    assert len(serial) == 6
    assert store_rows(stores["pool"]) == serial  # every column, floats and gradient bytes included
    assert store_rows(stores["dask"]) == serial


def test_serial_yields_in_order():
    assert list(Serial().imap_unordered(lambda x: x * x, [1, 2, 3])) == [(1, 1, None), (2, 4, None), (3, 9, None)]


@pytest.mark.parametrize("make, message", [
    (lambda: ProcessPool(0), "processes=0"),
    (lambda: ProcessPool(1.5), "processes=1.5"),
    (lambda: Dask("localhost:8786"), "dask address 'localhost:8786'"),
    (lambda: Dask("local", workers=0), "workers=0"),
])
def test_bad_executor_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_make_executor_follows_the_cli_options():
    assert isinstance(make_executor(), Serial)
    assert make_executor(processes=3).workers == 3
    dask = make_executor(processes=2, dask="tcp://10.0.0.1:8786")
    assert (dask.address, dask.workers) == ("tcp://10.0.0.1:8786", 2)


def test_items_are_taken_only_as_tasks_finish():
    # Points are claimed when pulled from the iterable, so no more than the window may be pulled ahead.
    import concurrent.futures as cf

    from qcgrad.sweep.executors import _windowed

    pulled, finished = [], []

    def items():
        for i in range(10):
            assert len(pulled) - len(finished) < 3, "pulled beyond the window"
            pulled.append(i)
            yield i

    def first_done(futures):
        return cf.wait(futures, return_when=cf.FIRST_COMPLETED).done

    with cf.ThreadPoolExecutor(2) as pool:
        for item, result, error in _windowed(lambda i: pool.submit(lambda: i * i), first_done, items(), 3):
            finished.append(item)
            assert (result, error) == (item * item, None)
    assert sorted(finished) == list(range(10))
