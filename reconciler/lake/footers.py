"""Parquet footers read with the object's size from the listing: no HEAD request per object."""

from __future__ import annotations

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

__all__ = ["read_footer"]

_FORMAT = ds.ParquetFileFormat()


def read_footer(fs: pafs.FileSystem, path: str, size: int | None) -> pq.FileMetaData:
    """The footer (metadata) of one Parquet object.

    ``open_input_file`` asks the store for the object's size first (a HEAD on S3); a fragment
    made with the size the listing already gave reads only the tail.

    Args:
        fs: The filesystem.
        path: The object's path in it.
        size: The object's size in bytes (None: asked of the store).

    Returns:
        The metadata.

    Raises:
        OSError: If the object cannot be read.
        pyarrow.ArrowException: If it is not Parquet.
    """
    md: pq.FileMetaData
    if not isinstance(fs, pafs.FileSystem):  # a filesystem implemented in Python (tests' fakes)
        with fs.open_input_file(path) as fh:
            md = pq.read_metadata(fh)
        return md
    md = _FORMAT.make_fragment(path, fs, file_size=size).metadata
    return md
