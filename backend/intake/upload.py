"""Streamed multipart upload straight into the job's storage folder, with a size cap.

The client's filename never becomes a path: only its extension is kept, and only when it is on
the allow-list; the file is written to ``jobs/<id>/input.<ext>`` through ``contract.storage``.
On any error the caller removes the job folder (``backend.intake.creation.discard``): a refused upload leaves
nothing. A full volume (ENOSPC, EDQUOT) on any write of the file is StorageFull (507).
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from backend.errors import InvalidRequest, StorageFull, UnsupportedMedia, UploadTooLarge, is_disk_full
from contract import storage
from contract.catalogue import reason
from contract.probe import ACCEPTED_EXTENSIONS

FILE_FIELD = "file"
#: Form fields other than the file are short options; anything longer is refused.
MAX_FIELD_BYTES = 1024
MAX_FIELDS = 16
#: What a multipart body carries on top of its file at most (boundaries, headers, the option fields).
FORM_OVERHEAD = 1024 * 1024


class ClientGone(InvalidRequest):
    """The client disconnected mid-upload: an everyday event, logged at INFO, not a server error."""

    status_code = 400


def safe_suffix(filename: str) -> str:
    """Lower-case extension of ``filename`` if it is on the allow-list, else UnsupportedMedia."""
    suffix = PurePosixPath(display_name(filename)).suffix.lower()
    if suffix not in ACCEPTED_EXTENSIONS:
        accepted = ", ".join(ACCEPTED_EXTENSIONS)
        if not suffix:
            raise UnsupportedMedia(reason("http.no_extension", accepted=accepted))
        raise UnsupportedMedia(reason("http.extension_refused", suffix=suffix, accepted=accepted))
    return suffix


def display_name(filename: str) -> str:
    """The last path component of a client filename, without control characters, for display only."""
    name = PureWindowsPath(PurePosixPath(filename.replace("\x00", "")).name).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-200:] or "video"


@dataclass
class Upload:
    """A stored upload: where it is and what came with it."""

    job_id: str
    filename: str
    key: str
    path: Path
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _Receiver:
    """Multipart callbacks: the file part goes to disk, other parts into small strings."""

    def __init__(
        self, root: Path, job_id: str, max_bytes: int, reserve: Callable[[int], None] | None = None
    ) -> None:
        self.root, self.job_id, self.max_bytes = root, job_id, max_bytes
        #: Reserves the bytes so far against the owner's storage quota before they are written.
        self.reserve = reserve
        self.upload: Upload | None = None
        self.fields: dict[str, str] = {}
        self.finished = False
        self._headers: dict[bytes, bytes] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._name = ""
        self._value = bytearray()
        self._file: BinaryIO | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers, self._name, self._value = {}, "", bytearray()

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field, self._header_value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        kind, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if kind != b"form-data" or b"name" not in params:
            raise InvalidRequest(reason("http.unnamed_part"))
        self._name = params[b"name"].decode("utf-8", "replace")
        if self._name != FILE_FIELD:
            if len(self.fields) >= MAX_FIELDS:
                raise InvalidRequest(reason("http.too_many_fields", limit=MAX_FIELDS))
            return
        if self.upload is not None:
            raise InvalidRequest(reason("http.one_file"))
        filename = params.get(b"filename", b"").decode("utf-8", "replace")
        suffix = safe_suffix(filename)
        key = storage.input_key(self.job_id, suffix)
        path = storage.resolve(self.root, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.upload = Upload(self.job_id, display_name(filename), key, path)
        self._file = path.open("xb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is None or self.upload is None:
            if len(self._value) + end - start > MAX_FIELD_BYTES:
                raise InvalidRequest(reason("http.field_too_long", field=self._name[:64]))
            self._value.extend(data[start:end])
            return
        self.upload.size += end - start
        if self.upload.size > self.max_bytes:
            raise UploadTooLarge(reason("http.too_large", limit_bytes=self.max_bytes))
        if self.reserve is not None:
            self.reserve(self.upload.size)
        self._file.write(data[start:end])

    def _part_end(self) -> None:
        if self._file is not None:
            self.close()
        elif self._name:
            self.fields[self._name] = self._value.decode("utf-8", "replace").strip()

    def _end(self) -> None:
        self.finished = True

    def close(self) -> None:
        """Close the upload file (its last buffered bytes are written here: a full disk may show here)."""
        file, self._file = self._file, None
        if file is not None:
            file.close()  # closes the descriptor even when the flush fails


async def receive(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    content_length: int | None,
    *,
    root: Path,
    job_id: str,
    max_bytes: int,
    reserve: Callable[[int], None] | None = None,
) -> Upload:
    """Stream a multipart body into storage; on an error the file is closed and the error propagates."""
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise UnsupportedMedia(reason("http.not_multipart"))
    # Far beyond the limit with its form overhead: refused unread.
    if content_length is not None and content_length > max_bytes + FORM_OVERHEAD:
        raise UploadTooLarge(reason("http.too_large", limit_bytes=max_bytes))
    receiver = _Receiver(root, job_id, max_bytes, reserve)
    parser = MultipartParser(params[b"boundary"], receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in chunks:
            if chunk:
                # Callbacks write to disk: keep that off the event loop.
                await run_in_threadpool(parser.write, chunk)
        receiver.close()
        if not receiver.finished:
            raise InvalidRequest(reason("http.upload_cut_short"))
        upload = receiver.upload
        if upload is None:
            raise InvalidRequest(reason("http.no_file"))
    except MultipartParseError as exc:
        raise InvalidRequest(reason("http.malformed_body")) from exc
    except ClientDisconnect as exc:
        raise ClientGone(reason("http.upload_cut_short")) from exc
    except OSError as exc:  # from any write of the file: its folder, the file, a chunk, the last flush
        if is_disk_full(exc):
            raise StorageFull(reason("http.storage_full")) from exc
        raise
    finally:
        with contextlib.suppress(OSError):  # an error is on its way already; the caller removes the file
            receiver.close()
    upload.fields = receiver.fields
    return upload
