"""The embedded object store: a local directory whose relative paths are the lake's keys."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow.fs as pafs

from reconciler.adapters.arrow_errors import store_read_error
from reconciler.errors import LakeError, ReconcilerError
from reconciler.ports import ObjectInfo

__all__ = ["LocalStore"]

_IGNORED_SUFFIXES = (".tmp",)


class LocalStore:
    """A lake in a local directory. Writes are atomic (temp file + rename)."""

    def __init__(self, root: str | Path, *, create: bool = False) -> None:
        """Open a local lake.

        Args:
            root: The lake directory.
            create: Create the directory if missing (sandbox init); otherwise it must exist.

        Raises:
            LakeError: If the directory does not exist and ``create`` is False.
        """
        self.root = Path(root).resolve()
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        elif not self.root.is_dir():
            raise LakeError(f"{self.root}: lake directory does not exist (run `reconcile sandbox init`?)")

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise LakeError(f"{key}: invalid object key")
        return self.root / key

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, recursively, in key order.

        Args:
            prefix: A key prefix; a trailing ``/`` names a directory.

        Yields:
            One :class:`ObjectInfo` per file (temporary files skipped).
        """
        base_dir, _, stem = prefix.rpartition("/")
        start = self.root / base_dir if base_dir else self.root
        if not start.is_dir():
            return
        rel = os.path.relpath(start, self.root)
        out: list[ObjectInfo] = []
        # A walk of directory entries (as os.walk: unreadable directories and links to
        # directories are not entered), keys built by concatenation: one stat per file.
        todo = [(str(start), "" if rel == "." else rel.replace(os.sep, "/") + "/")]
        while todo:
            path, rel_dir = todo.pop()
            try:
                with os.scandir(path) as entries:
                    listed = list(entries)
            except OSError:
                continue
            for entry in listed:
                fn = entry.name
                if entry.is_dir():
                    if not entry.is_symlink():
                        todo.append((entry.path, rel_dir + fn + "/"))
                    continue
                key = rel_dir + fn
                if not key.startswith(prefix) or fn.startswith(".tmp-") or fn.endswith(_IGNORED_SUFFIXES):
                    continue
                st = entry.stat()
                # inode + ns times: a rewrite of the same size within the mtime's resolution
                # still changes it (os.replace gives a new inode and ctime).
                tag = f"{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}"
                out.append(ObjectInfo(key=key, size=st.st_size, mtime=st.st_mtime, etag=tag))
        del stem
        out.sort(key=lambda o: o.key)
        yield from out

    def list_prefixes(self, prefix: str) -> list[str]:
        """Immediate sub-directories of ``prefix``, as keys ending with ``/``.

        Args:
            prefix: A directory key ending with ``/`` (a missing ``/`` is added), or empty for
                the root.

        Returns:
            Sorted child prefixes.
        """
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        d = self._path(prefix.rstrip("/")) if prefix else self.root
        if not d.is_dir():
            return []
        return sorted(f"{prefix}{e.name}/" for e in os.scandir(d) if e.is_dir())

    def get(self, key: str) -> bytes:
        """Read one object.

        Args:
            key: The object key.

        Returns:
            Its bytes.

        Raises:
            LakeError: If it does not exist.
        """
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise LakeError(f"{key}: no such object in {self.root}") from None

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write an object atomically.

        Args:
            key: The object key.
            data: The bytes.
            if_absent: Refuse (return False) if the object already exists.

        Returns:
            True if written.
        """
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError as exc:
            raise LakeError(f"{self.root}: cannot write {key} ({exc.strerror or exc})") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if if_absent:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    return False
                finally:
                    os.unlink(tmp)
            else:
                os.replace(tmp, path)
        except BaseException as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise LakeError(f"{self.root}: cannot write {key} ({exc.strerror or exc})") from None
            raise
        return True

    def check_writable(self) -> None:
        """Check, before any work starts, that apply can write the lake's directories.

        The root and the directories of its layers and tables (two levels down) must be
        writable; deeper partitions are created by apply or checked when written.

        Raises:
            LakeError: Naming the first directory that is not writable.
        """
        dirs = [self.root]
        for top in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            dirs.append(top)
            dirs.extend(sorted(p for p in top.iterdir() if p.is_dir()))
        for d in dirs:
            if not os.access(d, os.W_OK | os.X_OK):
                raise LakeError(
                    f"{d}: lake directory is not writable (permission denied); apply writes raw, bronze and "
                    "silver objects under it"
                )

    def exists(self, key: str) -> bool:
        """Whether the object exists.

        Args:
            key: The object key.

        Returns:
            True if it exists.
        """
        return self._path(key).is_file()

    def delete(self, keys: Sequence[str]) -> int:
        """Delete objects (the executor calls this only after --allow-delete and confirmation).

        Args:
            keys: Object keys.

        Returns:
            How many were deleted.
        """
        n = 0
        for key in keys:
            try:
                self._path(key).unlink()
                n += 1
            except FileNotFoundError:
                pass
        return n

    def arrow(self) -> tuple[pafs.FileSystem, str]:
        """The local filesystem and the lake root, for pyarrow Parquet I/O.

        Returns:
            ``(LocalFileSystem, root)``.
        """
        return pafs.LocalFileSystem(), str(self.root)

    def read_error(self, exc: BaseException, uri: str) -> ReconcilerError | None:
        """The error a failed read of one of this store's objects is, when the store failed it.

        Args:
            exc: What pyarrow raised reading the object.
            uri: The object's location, for the message.

        Returns:
            The store's failure as an error, or None when the bytes themselves are bad (a note).
        """
        return store_read_error(exc, uri)

    def uri(self, key: str) -> str:
        """The absolute path of a key.

        Args:
            key: The object key.

        Returns:
            The path as text.
        """
        return str(self.root / key)
