"""Real-time listeners: the targets of every Listen stream, told about each commit as it happens.

The commit path calls `Watch.committed` with the documents it wrote; the hub routes each one to
the targets watching it (by document name, by collection, or by collection group) without
scanning anything, and each affected target works out what changed for it: a query without a
limit or offset follows each document on its own (matches now or not); one with a limit, an
offset or `find_nearest` runs again when a written document matches it or was in it. The stream
then gets the document changes, deletes and removes, and one global `NO_CHANGE` snapshot at the
commit time carrying a resume token. A stream that resumes from a token (or asks for a
`read_time`) gets only what changed since, computed from the versions the store keeps for an
hour, and an existence filter to check its count; an unknown or too old token resets the target.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import struct
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.cloud.firestore_v1.types import firestore as _fs
from google.rpc import status_pb2

from . import query as q
from .errors import FirestoreError, invalid
from .paths import parse_doc_name, parse_parent
from .storage import Database, Stored
from .values import timestamp_from_us, us_from_timestamp

__all__ = ["ListenStream", "Watch"]

_log = logging.getLogger("stratus.firestore")
ListenResponse: Any = _fs.ListenResponse.pb()
_NO_CHANGE, _ADD, _REMOVE, _CURRENT, _RESET = range(5)
_TOKEN = struct.Struct(">4sq")
_TOKEN_TAG = b"stW1"
MAX_BACKLOG = 50_000  # responses queued for a stream that does not read: it is dropped


def resume_token(at_us: int) -> bytes:
    return _TOKEN.pack(_TOKEN_TAG, at_us)


def token_time(token: bytes) -> int | None:
    if len(token) != _TOKEN.size:
        return None
    tag, at_us = _TOKEN.unpack(token)
    return int(at_us) if tag == _TOKEN_TAG else None


@dataclass(eq=False)
class Target:
    """One target of one stream: what it watches and the documents it holds (name -> version)."""

    id: int
    stream: ListenStream
    names: dict[str, None] | None = None  # a documents target (ordered names)
    plan: q.Plan | None = None  # a query target
    held: dict[str, int] = field(default_factory=dict)

    @property
    def follows_each(self) -> bool:
        """Whether each changed document can be judged on its own (no slice, no nearest)."""
        p = self.plan
        return p is not None and p.limit is None and not p.offset and p.nearest is None

    def covers(self, name: str) -> bool:
        p = self.plan
        if p is None:
            return self.names is not None and name in self.names
        parsed = parse_doc_name(name)
        if not p.all_descendants:
            return parsed.parent == p.parent and parsed.collection == p.collection
        within = name.startswith(p.parent + "/")
        return within and (not p.collection or parsed.collection == p.collection)

    def state(self, db: Database, at: int | None) -> dict[str, Stored]:
        """The documents the target holds at `at` (None: now), in order."""
        if self.plan is not None:
            return {d.name: d for d in q.run(db, self.plan, at)}
        found = (db.get(name, at) for name in self.names or ())
        return {d.name: d for d in found if d is not None}


class Watch:
    """Every open Listen stream's targets, indexed by what they watch."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_name: dict[str, set[Target]] = collections.defaultdict(set)
        self._by_collection: dict[tuple[str, str], set[Target]] = collections.defaultdict(set)
        self._groups: set[Target] = set()
        self.count = 0

    def _keys(self, target: Target) -> list[set[Target]]:
        if target.plan is None:
            return [self._by_name[n] for n in target.names or ()]
        if target.plan.all_descendants:
            return [self._groups]
        return [self._by_collection[(target.plan.parent, target.plan.collection)]]

    def add(self, target: Target) -> None:
        for bucket in self._keys(target):
            bucket.add(target)
        self.count += 1

    def remove(self, target: Target) -> None:
        for bucket in self._keys(target):
            bucket.discard(target)
        if target.plan is None:
            for name in target.names or ():
                if not self._by_name.get(name, True):
                    del self._by_name[name]
        elif not target.plan.all_descendants:
            key = (target.plan.parent, target.plan.collection)
            if not self._by_collection.get(key, True):
                del self._by_collection[key]
        self.count -= 1

    def committed(self, commit_us: int, written: dict[str, Stored | None]) -> None:
        """Tell the targets watching any written document (None: deleted) what changed at
        `commit_us`. A failure here fails the listener's stream, never the commit."""
        if not self.count:
            return
        touched: dict[Target, list[str]] = {}
        for name in written:
            targets = set(self._by_name.get(name, ()))
            parsed = parse_doc_name(name)
            targets |= self._by_collection.get((parsed.parent, parsed.collection), set())
            targets |= {t for t in self._groups if t.covers(name)}
            for target in targets:
                touched.setdefault(target, []).append(name)
        streams: dict[ListenStream, list[Any]] = {}
        for target, names in touched.items():
            responses = streams.setdefault(target.stream, [])
            try:
                if target.follows_each or target.plan is None:
                    changes = {n: written[n] for n in names}
                    responses.extend(_diff_each(target, changes, commit_us))
                elif any(_may_change(target, n, written[n]) for n in names):
                    now = target.state(self.db, None)
                    responses.extend(_diff(target, now, commit_us, self.db))
            except Exception:
                _log.exception("Listen: target %d failed to follow a commit", target.id)
                target.stream.fail(FirestoreError(grpc.StatusCode.INTERNAL, "internal error"))
        for stream, responses in streams.items():
            if responses:
                stream.send([*responses, _global(commit_us)])


def _may_change(target: Target, name: str, doc: Stored | None) -> bool:
    """Whether a written document can change what a sliced query target holds: with an offset,
    any (one skipped before the window may have left); else only one it holds or one that
    matches now (one that matches neither was, and stays, beyond the limit)."""
    plan = target.plan
    if plan is None or plan.offset:
        return True
    return name in target.held or (doc is not None and q.selects(plan, doc))


def _target_change(kind: int, ids: list[int], at_us: int | None = None) -> Any:
    response = ListenResponse()
    change = response.target_change
    change.target_change_type = kind
    change.target_ids.extend(ids)
    if at_us is not None:
        change.read_time.CopyFrom(timestamp_from_us(at_us))
        change.resume_token = resume_token(at_us)
    return response


def _global(at_us: int) -> Any:
    return _target_change(_NO_CHANGE, [], at_us)


def _changed(target: Target, doc: Stored) -> Any:
    response = ListenResponse()
    projection = target.plan.projection if target.plan is not None else None
    response.document_change.document.CopyFrom(q.to_document(doc, projection))
    response.document_change.target_ids.append(target.id)
    target.held[doc.name] = doc.update_us
    return response


def _gone(target: Target, name: str, deleted: bool, at_us: int) -> Any:
    response = ListenResponse()
    message = response.document_delete if deleted else response.document_remove
    message.document = name
    message.removed_target_ids.append(target.id)
    message.read_time.CopyFrom(timestamp_from_us(at_us))
    del target.held[name]
    return response


def _diff_each(target: Target, changes: dict[str, Stored | None], at_us: int) -> list[Any]:
    """What changed for a target that judges each document on its own."""
    out = []
    for name, doc in changes.items():
        if target.plan is None and target.names is not None and name not in target.names:
            continue
        keep = doc is not None and (target.plan is None or q.selects(target.plan, doc))
        if doc is not None and keep:
            if target.held.get(name) != doc.update_us:
                out.append(_changed(target, doc))
        elif name in target.held:
            out.append(_gone(target, name, doc is None, at_us))
    return out


def _diff(target: Target, now: dict[str, Stored], at_us: int, db: Database) -> list[Any]:
    """What changed for a target between the documents it holds and `now` (in order)."""
    out = []
    for name in [n for n in target.held if n not in now]:
        out.append(_gone(target, name, db.get(name) is None, at_us))
    for name, doc in now.items():
        if target.held.get(name) != doc.update_us:
            out.append(_changed(target, doc))
    return out


class ListenStream:
    """One Listen call: its targets and the responses waiting to be sent."""

    def __init__(self, watch: Watch, database: str) -> None:
        self.watch = watch
        self.database = database
        self.targets: dict[int, Target] = {}
        self._queue: collections.deque[Any] = collections.deque()
        self._ready = asyncio.Event()
        self.error: FirestoreError | None = None

    def send(self, responses: list[Any]) -> None:
        if self.error is not None:
            return
        self._queue.extend(responses)
        if len(self._queue) > MAX_BACKLOG:
            self.fail(
                FirestoreError(grpc.StatusCode.RESOURCE_EXHAUSTED, "listener fell too far behind")
            )
        self._ready.set()

    def fail(self, error: FirestoreError) -> None:
        self.error = error
        self._queue.clear()
        self.close()
        self._ready.set()

    async def next(self) -> list[Any]:
        """The responses to send next (waits for some); raises the stream's error, if any."""
        while not self._queue:
            if self.error is not None:
                raise self.error
            self._ready.clear()
            await self._ready.wait()
        out = list(self._queue)
        self._queue.clear()
        return out

    def close(self) -> None:
        for target in self.targets.values():
            self.watch.remove(target)
        self.targets.clear()

    def handle(self, request: Any) -> None:
        """Apply one ListenRequest: add or remove a target."""
        if request.database and request.database != self.database:
            raise invalid(f"the stream is for database {self.database!r}")
        kind = request.WhichOneof("target_change")
        if kind == "remove_target":
            target = self.targets.pop(request.remove_target, None)
            if target is not None:
                self.watch.remove(target)
                self.send([_target_change(_REMOVE, [target.id])])
        elif kind == "add_target":
            self._add(request.add_target)

    def _add(self, spec: Any) -> None:
        target_id = spec.target_id or max(self.targets, default=0) + 1
        if target_id in self.targets:
            raise invalid(f"target id {target_id} is already in use on this stream")
        target = Target(target_id, self)
        try:
            if spec.WhichOneof("target_type") == "documents":
                target.names = dict.fromkeys(spec.documents.documents)
                for name in target.names:
                    if not name.startswith(self.database + "/documents/"):
                        raise invalid(f"document {name!r} is not in database {self.database!r}")
                    parse_doc_name(name)
            elif spec.WhichOneof("target_type") == "query":
                database, parent = parse_parent(spec.query.parent)
                if database != self.database:
                    raise invalid(f"query parent {parent!r} is not in {self.database!r}")
                target.plan = q.plan(parent, spec.query.structured_query)
            else:
                raise invalid("a target needs documents or a query")
        except FirestoreError as error:
            response = _target_change(_REMOVE, [target_id])
            response.target_change.cause.CopyFrom(
                status_pb2.Status(code=error.code.value[0], message=error.message)
            )
            self.send([response])
            return
        self._start(target, spec)

    def _start(self, target: Target, spec: Any) -> None:
        db = self.watch.db
        now_us = db.now()
        since = None
        if spec.WhichOneof("resume_type") == "resume_token":
            since = token_time(spec.resume_token)
            if since is None or since < db.horizon or since > now_us:
                since = -1  # unknown or too old: start over
        elif spec.WhichOneof("resume_type") == "read_time":
            since = us_from_timestamp(spec.read_time)
            if since < db.horizon or since > now_us:
                since = -1
        out = [_target_change(_ADD, [target.id])]
        if since == -1:
            out.append(_target_change(_RESET, [target.id], now_us))
        elif since is not None:
            target.held = {n: d.update_us for n, d in target.state(db, since).items()}
        current = target.state(db, None)
        out.extend(_diff(target, current, now_us, db))
        if since is not None and since != -1:
            response = ListenResponse()
            response.filter.target_id = target.id
            response.filter.count = len(current)
            out.append(response)
        out.append(_target_change(_CURRENT, [target.id], now_us))
        out.append(_global(now_us))
        self.targets[target.id] = target
        self.watch.add(target)
        if spec.once:
            self.targets.pop(target.id)
            self.watch.remove(target)
            out.append(_target_change(_REMOVE, [target.id]))
        self.send(out)
