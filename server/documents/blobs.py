"""The blob store: file contents addressed by their SHA-256, written once and never changed.

Uploads are streamed: a chunk is hashed and written to a temporary file inside the store, so a
500 MB upload never sits in memory, and the finished file is renamed into place in one step. A
reader therefore sees a blob completely or not at all, and a crash leaves at most a temporary file.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 1024 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)


class BlobError(Exception):
    """Base of the blob store's errors; str(error) is safe to show."""


class InvalidBlobId(BlobError, ValueError):
    """The id is not a SHA-256 hex digest (and so could be a path someone tries to inject)."""


class BlobNotFound(BlobError, LookupError):
    """No blob has this id."""


class TooLarge(BlobError):
    """The stream was longer than max_bytes; nothing was stored."""

    def __init__(self, max_bytes: int):
        super().__init__(f"the file is larger than the limit of {max_bytes} bytes")
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobStore(Protocol):
    """Where file contents live. A local folder today; an S3-compatible store can follow."""

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredBlob:
        """Store everything `stream.read()` gives; raises TooLarge (storing nothing) past max_bytes."""

    def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> StoredBlob:
        """Store a small value held in memory; same rules as put_stream."""

    def put_streams(self, streams: list[BinaryIO], *, max_bytes: int | None = None) -> list[StoredBlob | TooLarge]:
        """put_stream of each stream (a batch of uploads), in order; a stream past max_bytes is its
        own TooLarge, with nothing stored for it."""

    def open(self, sha256: str) -> BinaryIO:
        """The blob for reading; raises BlobNotFound."""

    def path(self, sha256: str) -> Path | None:
        """A local file path for tools that need one, or None when the store has no local files."""

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""

    def delete(self, sha256: str) -> bool:
        """Remove the blob; True if it was there. The caller checks no document still uses it."""

    def size(self, sha256: str) -> int:
        """The blob's length in bytes; raises BlobNotFound."""


def check_sha256(sha256: str) -> str:
    """The id in lower case; raises InvalidBlobId unless it is 64 hex digits."""
    normalised = sha256.lower() if isinstance(sha256, str) else ""
    if not _SHA256.fullmatch(normalised):
        raise InvalidBlobId("a blob id must be a SHA-256 digest of 64 hex digits")
    return normalised


class LocalBlobStore:
    """Blobs as files `<root>/<sha[:2]>/<sha[2:4]>/<sha>`; partial uploads live in `<root>/tmp`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        # Inside the root, so the final rename never crosses a file system and stays atomic.
        self._tmp = self.root / "tmp"

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredBlob:
        """Store everything `stream.read()` gives; raises TooLarge (storing nothing) past max_bytes."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size = _copy_hashing(stream, out, max_bytes)
                out.flush()
                os.fsync(out.fileno())
            self._move_into_place(tmp, sha256)
            return StoredBlob(sha256, size)
        finally:
            tmp.unlink(missing_ok=True)  # gone already when it was moved into place

    def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> StoredBlob:
        """Store a small value held in memory; same rules as put_stream."""
        return self.put_stream(io.BytesIO(data), max_bytes=max_bytes)

    def put_streams(self, streams: list[BinaryIO], *, max_bytes: int | None = None) -> list[StoredBlob | TooLarge]:
        """put_stream of each stream, in order, made durable together: the file system is synced
        once when every content is written and once more when each has its name, instead of twice
        per blob. A content gets its name only once it is on disk, as with put_stream."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        written: list[tuple[Path, str]] = []
        results: list[StoredBlob | TooLarge] = []
        try:
            for stream in streams:
                fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="upload-")
                tmp = Path(tmp_name)
                try:
                    with os.fdopen(fd, "wb") as out:
                        sha256, size = _copy_hashing(stream, out, max_bytes)
                except TooLarge as too_large:
                    tmp.unlink()
                    results.append(too_large)
                    continue
                except BaseException:
                    tmp.unlink()
                    raise
                written.append((tmp, sha256))
                results.append(StoredBlob(sha256, size))
            _sync_file_system(self._tmp)
            for tmp, sha256 in written:
                self._move_into_place(tmp, sha256, sync=False)
            _sync_file_system(self.root)
        finally:
            for tmp, _ in written:
                tmp.unlink(missing_ok=True)  # gone already when it was moved into place
        return results

    def open(self, sha256: str) -> BinaryIO:
        """The blob for reading; raises BlobNotFound."""
        try:
            return open(self._blob_path(sha256), "rb")
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {sha256}") from None

    def path(self, sha256: str) -> Path:
        """The blob's file; raises BlobNotFound (a local store always has paths)."""
        path = self._blob_path(sha256)
        if not path.is_file():
            raise BlobNotFound(f"no blob {sha256}")
        return path

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        return self._blob_path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        """Remove the blob; True if it was there. The caller checks no document still uses it."""
        try:
            self._blob_path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def size(self, sha256: str) -> int:
        """The blob's length in bytes; raises BlobNotFound."""
        try:
            return self._blob_path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {sha256}") from None

    def _blob_path(self, sha256: str) -> Path:
        sha256 = check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _move_into_place(self, tmp: Path, sha256: str, *, sync: bool = True) -> None:
        """`sync`: sync the folder now (else the caller syncs the file system after)."""
        target = self._blob_path(sha256)
        if target.exists():
            return  # same content stored before; the caller drops the temporary file
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.chmod(0o440)  # blobs never change after they are stored
        os.replace(tmp, target)
        if sync:
            _fsync_dir(target.parent)  # the rename itself survives a power cut only once the folder is synced


def _copy_hashing(stream: BinaryIO, out: BinaryIO, max_bytes: int | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(max_bytes)
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest(), size


def _sync_file_system(folder: Path) -> None:
    """Flush what was written to the file system that holds `folder` (syncfs(2); sync(2) where the C
    library has no syncfs)."""
    syncfs = getattr(_libc(), "syncfs", None)
    if syncfs is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            raise OSError(ctypes.get_errno(), "syncfs failed")
    finally:
        os.close(fd)


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
