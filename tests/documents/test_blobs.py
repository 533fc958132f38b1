"""The local blob store: content addressing, streaming, limits and id validation."""
import hashlib
import io
import time
import tracemalloc

import pytest

from server.documents.blobs import BlobNotFound, InvalidBlobId, LocalBlobStore, StoredBlob, TooLarge


class Zeros(io.RawIOBase):
    """A file-like object of `size` zero bytes that never holds more than one read in memory."""

    def __init__(self, size: int):
        self.left = size

    def readable(self):
        return True

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


class Trickle(io.RawIOBase):
    """Gives its data a few bytes per read, as a slow network stream does."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, n=-1):
        piece, self.data = self.data[:3], self.data[3:]
        return piece


@pytest.fixture
def store(tmp_path):
    return LocalBlobStore(tmp_path / "blobs")


def leftovers(store) -> list:
    return list((store.root / "tmp").iterdir())


def test_a_blob_is_stored_under_its_sha256_and_read_back(store):
    data = "Ansøgning om byggetilladelse".encode()
    sha = hashlib.sha256(data).hexdigest()

    blob = store.put_bytes(data)

    assert blob == StoredBlob(sha, len(data))
    assert store.path(sha) == store.root / sha[:2] / sha[2:4] / sha
    assert store.exists(sha) and store.size(sha) == len(data)
    with store.open(sha) as f:
        assert f.read() == data
    assert leftovers(store) == []


def test_streams_that_give_short_reads_are_stored_whole(store):
    data = bytes(range(256)) * 10
    blob = store.put_stream(Trickle(data))
    assert blob.size == len(data)
    with store.open(blob.sha256) as f:
        assert f.read() == data


def test_storing_the_same_content_twice_keeps_one_file_and_drops_the_temporary(store):
    first = store.put_bytes(b"same")
    mtime = store.path(first.sha256).stat().st_mtime_ns
    second = store.put_stream(io.BytesIO(b"same"))
    assert second == first
    assert store.path(first.sha256).stat().st_mtime_ns == mtime
    assert leftovers(store) == []


def test_a_stream_over_the_limit_raises_and_leaves_nothing_behind(store):
    with pytest.raises(TooLarge) as raised:
        store.put_stream(Zeros(3 * 1024 * 1024), max_bytes=2 * 1024 * 1024)
    assert raised.value.max_bytes == 2 * 1024 * 1024
    assert leftovers(store) == []
    assert not store.exists(hashlib.sha256(bytes(3 * 1024 * 1024)).hexdigest())


def test_a_stream_exactly_at_the_limit_is_accepted(store):
    assert store.put_bytes(b"12345", max_bytes=5).size == 5


def test_a_failing_stream_leaves_nothing_behind(store):
    class Broken(io.RawIOBase):
        def read(self, n=-1):
            raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put_stream(Broken())
    assert leftovers(store) == []


def test_an_existing_blob_survives_a_failed_upload_of_the_same_content(store):
    blob = store.put_bytes(b"x" * 10)
    with pytest.raises(TooLarge):
        store.put_bytes(b"x" * 10, max_bytes=5)
    with store.open(blob.sha256) as f:
        assert f.read() == b"x" * 10


@pytest.mark.parametrize(
    "bad",
    ["../../etc/passwd", "a" * 63, "a" * 65, "g" * 64, "../" + "a" * 61, "a" * 62 + "/.", "", None, 12],
)
def test_ids_that_are_not_sha256_digests_are_refused(store, bad):
    for call in (store.open, store.path, store.exists, store.delete, store.size):
        with pytest.raises(InvalidBlobId):
            call(bad)


def test_upper_case_ids_name_the_same_blob(store):
    blob = store.put_bytes(b"case")
    assert store.exists(blob.sha256.upper())


def test_missing_blobs_raise_not_found_and_delete_is_idempotent(store):
    blob = store.put_bytes(b"to be deleted")
    assert store.delete(blob.sha256) is True
    assert store.delete(blob.sha256) is False
    for call in (store.open, store.path, store.size):
        with pytest.raises(BlobNotFound):
            call(blob.sha256)
    assert store.exists(blob.sha256) is False


def test_a_500_mb_upload_is_streamed_not_held_in_memory(store):
    size = 500 * 1024 * 1024
    tracemalloc.start()
    try:
        started = time.monotonic()
        blob = store.put_stream(Zeros(size))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    expected = hashlib.sha256()
    for _ in range(500):
        expected.update(bytes(1024 * 1024))
    assert blob == StoredBlob(expected.hexdigest(), size)
    assert store.size(blob.sha256) == size
    assert peak < 20 * 1024 * 1024, f"peak Python allocation {peak / 2**20:.0f} MiB"
    assert elapsed < 30, f"storing 500 MB took {elapsed:.1f} s"
    store.delete(blob.sha256)  # pytest keeps recent tmp folders; 500 MB need not linger


def test_a_batch_of_streams_is_stored_with_a_result_each_and_nothing_left_over(store):
    big = 3 * 1024 * 1024
    results = store.put_streams([io.BytesIO(b"first"), Zeros(big), Trickle(b"third one"), io.BytesIO(b"first")],
                                max_bytes=2 * 1024 * 1024)
    first, too_large, third, again = results
    assert isinstance(too_large, TooLarge) and not store.exists(hashlib.sha256(bytes(big)).hexdigest())
    assert first == again == StoredBlob(hashlib.sha256(b"first").hexdigest(), 5)
    assert store.open(third.sha256).read() == b"third one"
    assert leftovers(store) == []


def test_a_batch_whose_stream_fails_leaves_nothing_behind(store):
    class Broken(io.RawIOBase):
        def read(self, n=-1):
            raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put_streams([io.BytesIO(b"fine"), Broken()])
    assert leftovers(store) == []
