"""Uploaded files on disk, addressed by content.

An upload is streamed into `UPLOAD_DIR/.incoming/` while its SHA-256 is computed
and its size counted (413 as soon as it passes the limit, so a large body is never
held in memory); it is checked there, and only a checked file is moved to
`UPLOAD_DIR/ab/cd/<sha256>`. The user's file name never becomes a path.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, request
from flask_babel import gettext

from ..errors import NotFound, TooLarge, ValidationFailed

_CHUNK = 1024 * 1024


@dataclass
class Received:
    path: Path
    size: int
    sha256: str


def sent_file():
    """The upload an API call sent as the multipart field `file` (422 on `file` when there is none)."""
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed({"file": gettext("Send the file as the multipart field `file`.")})
    return upload


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise NotFound(gettext("No such file."))
    return upload_root() / sha256[:2] / sha256[2:4] / sha256


def receive(stream, limit: int | None = None) -> Received:
    """Copy a file-like object to the incoming area, hashing as it goes."""
    if stream is None:
        raise ValidationFailed({"file": gettext("Choose a file to upload.")})
    limit = max_upload_bytes() if limit is None else limit
    incoming = upload_root() / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    target = incoming / uuid.uuid4().hex
    digest = hashlib.sha256()
    size = 0
    try:
        with open(target, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        gettext("The file is larger than the limit of %(size)s MB.", size=limit // (1024 * 1024)),
                        details={"limit_bytes": limit},
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Received(path=target, size=size, sha256=digest.hexdigest())


def keep(received: Received) -> Path:
    """Move a checked file into its content address (a file already there is reused)."""
    final = path_for(received.sha256)
    if final.exists():
        received.path.unlink(missing_ok=True)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(received.path, final)
    return final


def discard(received: Received | None) -> None:
    if received is not None:
        received.path.unlink(missing_ok=True)


def forget(sha256: str, still_used: bool) -> None:
    """Remove a stored file that no row refers to any more (after a failed commit)."""
    if not still_used:
        path_for(sha256).unlink(missing_ok=True)


def accepts_upload(view):
    """Mark a view that takes a file: its body may be up to MAX_UPLOAD_MB (others get MAX_BODY_KB)."""
    view.accepts_upload = True
    return view
