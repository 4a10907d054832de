"""Where the archive lives: a local folder or ``s3://bucket/prefix``, behind one small interface.

DuckDB writes and reads the Parquet files itself (``duck_url``); this module does the rest:
checks that the target is usable, lists, moves, deletes, and reads/writes ``manifest.json``.
Every error becomes ``StoreError`` with a one-line reason that names the archive URL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from lnhm.joblog import JobFailed


class StoreError(JobFailed):
    """The archive cannot be used; the message is one line."""


class LocalStore:
    """A folder on the local file system (the embedded default)."""

    def __init__(self, url: str):
        self.url = url
        self.root = Path(url).expanduser().resolve()

    def duck_url(self, key: str) -> str:
        return str(self.root / key)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"archive folder {self.root} cannot be created: {exc}") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreError(f"archive folder {self.root} is not writable")

    def prepare(self, key: str) -> None:
        """Make sure DuckDB can write ``key`` (creates parent folders)."""
        (self.root / key).parent.mkdir(parents=True, exist_ok=True)

    def read_bytes(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write atomically: a temporary file in the same folder, fsync, then rename."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def list(self, prefix: str) -> dict[str, int]:
        """Keys (relative to the root) under ``prefix`` with their sizes."""
        base = self.root / prefix
        if not base.exists():
            return {}
        return {
            str(path.relative_to(self.root)): path.stat().st_size
            for path in base.rglob("*")
            if path.is_file()
        }

    def size(self, key: str) -> int:
        return (self.root / key).stat().st_size

    def move(self, src: str, dst: str) -> None:
        target = self.root / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.root / src, target)

    def delete(self, keys) -> None:
        folders = set()
        for key in keys:
            path = self.root / key
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            folders.add(path.parent)
        # Tidy empty partition/staging folders, never the root itself.
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            while folder != self.root and self.root in folder.parents:
                try:
                    folder.rmdir()
                except OSError:
                    break
                folder = folder.parent

    def clear(self, prefix: str) -> None:
        """Remove everything under ``prefix`` (a run's staging area)."""
        shutil.rmtree(self.root / prefix, ignore_errors=True)
        parent = (self.root / prefix).parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


class S3Store:
    """``s3://bucket/prefix`` through boto3 (AWS SDK variables, ``AWS_ENDPOINT_URL`` included)."""

    def __init__(self, url: str, timeout_s: float = 10.0, retries: int = 2):
        import boto3
        from botocore.config import Config

        self.url = url
        rest = url[len("s3://") :]
        self.bucket, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/")
        self.endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        self.timeout_s, self.retries = timeout_s, retries
        # A server that accepts connections and never answers: each attempt gives up after
        # timeout_s (connect, then each read), so one call takes at most about
        # (retries + 1) * timeout_s (LNHM_S3_TIMEOUT, LNHM_S3_RETRIES).
        config = Config(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"total_max_attempts": retries + 1, "mode": "standard"},
            s3={"addressing_style": "path"} if self.endpoint else {},
        )
        self.client = boto3.client("s3", endpoint_url=self.endpoint or None, config=config)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def duck_url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _fail(self, doing: str, exc: Exception) -> StoreError:
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        where = self.endpoint or "AWS S3"
        if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
            return StoreError(
                f"S3 at {where} did not answer while {doing} {self.url}: no answer within "
                f"{self.timeout_s:g} s, {self.retries + 1} attempt(s) (LNHM_S3_TIMEOUT, "
                f"LNHM_S3_RETRIES): {exc}"
            )
        if isinstance(exc, EndpointConnectionError):
            return StoreError(f"S3 unreachable at {where} while {doing} {self.url}: {exc}")
        if isinstance(exc, NoCredentialsError):
            return StoreError(
                f"no AWS credentials for {self.url}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or a profile / role)"
            )
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("404", "NoSuchBucket"):
                return StoreError(f"S3 bucket {self.bucket!r} does not exist ({self.url})")
            if status == 403 or code in (
                "403",
                "AccessDenied",
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
                "ExpiredToken",
                "InvalidToken",
            ):
                return StoreError(
                    f"S3 refused the credentials while {doing} {self.url} ({code or status}): "
                    "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
                )
            return StoreError(f"S3 error while {doing} {self.url}: {code} {exc}".strip())
        return StoreError(f"S3 error while {doing} {self.url}: {type(exc).__name__}: {exc}")

    @contextlib.contextmanager
    def _calls(self, doing: str):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(doing, exc) from None

    def check(self) -> None:
        with self._calls("checking"):
            self.client.head_bucket(Bucket=self.bucket)
            # head_bucket can pass with read-only rights: prove we can write and delete too.
            probe = self._key("_staging/.write-probe")
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"ok")
            self.client.delete_object(Bucket=self.bucket, Key=probe)

    def prepare(self, key: str) -> None:
        """Nothing to do: S3 has no folders."""

    def read_bytes(self, key: str) -> bytes | None:
        with self._calls("reading"):
            try:
                obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except self.client.exceptions.NoSuchKey:
                return None
            return obj["Body"].read()

    def write_bytes(self, key: str, data: bytes) -> None:
        """A single PUT is atomic on S3: readers see the old object or the new one."""
        with self._calls("writing"):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def list(self, prefix: str) -> dict[str, int]:
        out: dict[str, int] = {}
        start = len(self.prefix) + 1 if self.prefix else 0
        with self._calls("listing"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    out[obj["Key"][start:]] = obj["Size"]
        return out

    def size(self, key: str) -> int:
        with self._calls("checking"):
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]

    def move(self, src: str, dst: str) -> None:
        """Server-side copy (multipart for big objects), then delete the source."""
        with self._calls("publishing"):
            self.client.copy(
                {"Bucket": self.bucket, "Key": self._key(src)}, self.bucket, self._key(dst)
            )
            self.client.delete_object(Bucket=self.bucket, Key=self._key(src))

    def clear(self, prefix: str) -> None:
        self.delete(self.list(prefix))

    def delete(self, keys) -> None:
        keys = [self._key(key) for key in keys]
        with self._calls("deleting"):
            for i in range(0, len(keys), 1000):
                chunk = [{"Key": key} for key in keys[i : i + 1000]]
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True}
                )


def open_store(url: str, settings=None) -> LocalStore | S3Store:
    """The store for ``url``; S3 timeouts and retries from ``settings`` (else the defaults)."""
    if not url.startswith("s3://"):
        return LocalStore(url)
    if settings is None:
        return S3Store(url)
    return S3Store(url, settings.s3_timeout_s, settings.s3_retries)
