"""Poll the plants API: one GET /plants/{id} per id, concurrently, with retries and a deadline.

- at most `http_concurrency` requests in flight; each attempt has its own timeout (the wait
  for a free slot is not counted);
- timeouts, connection errors, 5xx and unreadable bodies are retried with exponential backoff
  (tenacity), up to `http_retries` retries; a 404 (not found, on loan) is never retried;
- after `poll_deadline_s` the poll stops: every plant without a final answer is returned as a
  failure (its last answer, or a timeout), never dropped;
- a body over `MAX_BODY_BYTES` is not read further: a failure with an excerpt.
"""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_exponential_jitter

from ingest.answers import Outcome, classify, failure
from lnhm.joblog import JobFailed


class ApiUnreachable(JobFailed):
    """Every request failed to connect: the API (LNHM_API_URL) is not there."""


@dataclass(frozen=True)
class FetchOptions:
    api_url: str
    timeout_s: float = 5.0
    concurrency: int = 32
    retries: int = 3
    deadline_s: float = 45.0
    # the real API's faults strike single requests: a quick second ask almost always succeeds
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 4.0

    @classmethod
    def from_settings(cls, settings) -> FetchOptions:
        return cls(
            api_url=settings.api_url,
            timeout_s=float(settings.http_timeout_s),
            concurrency=int(settings.http_concurrency),
            retries=int(settings.http_retries),
            deadline_s=float(settings.poll_deadline_s),
        )


# A reading is about 1 KB; a body much larger is a broken or hostile answer, and reading it
# whole would hold it in memory and in the hot store. Over the cap: a failure with an excerpt.
MAX_BODY_BYTES = 1_000_000


def _now() -> datetime:
    return datetime.now(UTC)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or its first `limit` + 1 bytes or so when it is longer (then stop reading)."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


class _Poller:
    def __init__(self, options: FetchOptions, session: aiohttp.ClientSession) -> None:
        self.options = options
        self.session = session
        self.slots = asyncio.Semaphore(max(1, options.concurrency))
        self.base = options.api_url.rstrip("/")
        self.deadline = time.monotonic() + options.deadline_s
        self.attempts: dict[int, int] = {}
        self.last: dict[int, Outcome] = {}

    async def _attempt(self, plant_id: int) -> Outcome:
        async with self.slots:
            remaining = self.deadline - time.monotonic()
            attempts = self.attempts[plant_id] = self.attempts.get(plant_id, 0) + 1
            timeout_s = max(0.05, min(self.options.timeout_s, remaining))
            timeout = aiohttp.ClientTimeout(total=timeout_s)
            url = f"{self.base}/plants/{plant_id}"
            status: int | None = None
            try:
                async with self.session.get(url, timeout=timeout) as response:
                    status = response.status
                    raw = await _read_capped(response, MAX_BODY_BYTES)
                text = raw.decode("utf-8", errors="replace")
                if len(raw) > MAX_BODY_BYTES:
                    message = f"HTTP {status}: body larger than {MAX_BODY_BYTES:,} bytes"
                    outcome = failure(
                        plant_id, "invalid_body", message, _now(), attempts, status, text
                    )
                else:
                    outcome = classify(plant_id, status, text, _now(), attempts)
            except TimeoutError:
                message = f"no answer within {timeout_s:g} s"
                outcome = failure(plant_id, "timeout", message, _now(), attempts, status)
            except aiohttp.ClientPayloadError as exc:  # body cut short by the server
                message = f"HTTP {status}: incomplete body ({exc})"
                outcome = failure(plant_id, "invalid_body", message, _now(), attempts, status)
            except (aiohttp.ClientError, OSError) as exc:
                message = f"{type(exc).__name__}: {exc}"
                outcome = failure(plant_id, "connection_error", message, _now(), attempts, status)
        self.last[plant_id] = outcome
        return outcome

    def _stop(self, retry_state) -> bool:
        """Stop retrying when the next attempt could not finish before the deadline."""
        upcoming = getattr(retry_state, "upcoming_sleep", 0.0) or 0.0
        return time.monotonic() + upcoming >= self.deadline

    async def fetch(self, plant_id: int) -> Outcome:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.options.retries + 1) | self._stop,
            wait=wait_exponential_jitter(
                multiplier=self.options.backoff_initial_s,
                max=self.options.backoff_max_s,
                jitter=self.options.backoff_initial_s,
            ),
            retry=retry_if_result(lambda outcome: outcome.retryable),
            retry_error_callback=lambda state: state.outcome.result(),
        )
        return await retrying(self._attempt, plant_id)

    def unfinished(self, plant_id: int) -> Outcome:
        """The outcome recorded for a plant that had no final answer at the deadline."""
        note = f"poll deadline of {self.options.deadline_s:g} s reached"
        last = self.last.get(plant_id)
        attempts = self.attempts.get(plant_id, 0)
        if last is not None and not last.is_reading:
            message = f"{last.message} ({note})"
            return failure(
                plant_id, last.kind, message, last.fetched_at, attempts, last.http_status, last.body
            )
        return failure(plant_id, "timeout", f"{note} before an answer", _now(), attempts)


async def poll_async(plant_ids, options: FetchOptions) -> list[Outcome]:
    """Fetch every id once; returns one outcome per id, in the order of `plant_ids`."""
    plant_ids = list(dict.fromkeys(plant_ids))
    connector = aiohttp.TCPConnector(limit=max(1, options.concurrency), ttl_dns_cache=300)
    headers = {"Accept": "application/json", "User-Agent": "lnhm-ingest"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        poller = _Poller(options, session)
        tasks = {pid: asyncio.create_task(poller.fetch(pid)) for pid in plant_ids}
        remaining = max(0.0, poller.deadline - time.monotonic())
        if tasks:
            await asyncio.wait(tasks.values(), timeout=remaining)
        outcomes = []
        for pid, task in tasks.items():
            if task.done() and not task.cancelled() and task.exception() is None:
                outcomes.append(task.result())
            else:
                task.cancel()
                outcomes.append(poller.unfinished(pid))
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    return outcomes


def unreachable(outcomes: list[Outcome]) -> bool:
    """True when there were requests and every one of them failed to connect."""
    return bool(outcomes) and all(o.kind == "connection_error" for o in outcomes)


def _allow_open_files(needed: int) -> None:
    """Raise the soft limit on open files to `needed` when the hard limit allows (one socket
    per request in flight; many systems start processes at 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def poll(plant_ids, options: FetchOptions) -> list[Outcome]:
    """Synchronous wrapper around `poll_async`."""
    _allow_open_files(options.concurrency + 256)  # + the files DuckDB and dlt keep open
    return asyncio.run(poll_async(plant_ids, options))
