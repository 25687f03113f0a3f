"""The Firestore RPCs over the SQLite documents: protobuf requests in, protobuf responses out.

Everything runs on the server's one event loop, so each RPC sees and leaves a consistent state
without locks. Transactions are optimistic: a read-write transaction records the version of every
document it read (and the result of every query it ran) and its commit is ABORTED when any of
them changed meanwhile, so the client retries. Retries keep their place in line (the client
passes the first attempt's id as `retry_transaction`): a commit that would overwrite a document
that an older, still active transaction has read is aborted instead, so a transaction that keeps
losing a race gets through after a bounded number of attempts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.cloud.firestore_v1.types import aggregation_result as _aggregation
from google.cloud.firestore_v1.types import firestore as _fs
from google.cloud.firestore_v1.types import write as _write
from google.protobuf import empty_pb2
from google.rpc import status_pb2

from . import query as q
from .errors import FirestoreError, aborted, invalid, not_found, unimplemented
from .paths import database_of, parse_doc_name, parse_field_path, parse_parent, path_key
from .storage import Database, Stored
from .values import Value, get_field, timestamp_from_us, us_from_timestamp
from .writes import apply_write, target_of

__all__ = ["Firestore"]

TRANSACTION_TTL = 270.0  # seconds an idle transaction stays valid (Firestore: 270 s)
PRIORITY_WINDOW = 20.0  # an older transaction idle this long no longer holds its place in line

_pb = {
    name: getattr(_fs, name).pb()
    for name in (
        "BatchGetDocumentsResponse",
        "BatchWriteResponse",
        "BeginTransactionResponse",
        "CommitResponse",
        "ListCollectionIdsResponse",
        "ListDocumentsResponse",
        "RunAggregationQueryResponse",
        "RunQueryResponse",
    )
}
_Write: Any = _write.Write.pb()
_AggregationResult: Any = _aggregation.AggregationResult.pb()


@dataclass(slots=True)
class _Transaction:
    id: bytes
    database: str
    read_only: bool
    line: float  # when the first attempt began: the place in line
    active: float = field(default_factory=time.monotonic)
    reads: dict[str, int | None] = field(default_factory=dict)
    queries: list[tuple[q.Plan, list[tuple[str, int]]]] = field(default_factory=list)


def _signature(docs: list[Stored]) -> list[tuple[str, int]]:
    return [(d.name, d.update_us) for d in docs]


class Firestore:
    """google.firestore.v1.Firestore on a `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._transactions: dict[bytes, _Transaction] = {}
        self._lines: dict[bytes, float] = {}

    # -- transactions ---------------------------------------------------------------------------

    def _expire(self) -> None:
        now = time.monotonic()
        for tid in [
            t for t, txn in self._transactions.items() if now - txn.active > TRANSACTION_TTL
        ]:
            del self._transactions[tid]
        if len(self._lines) > 10_000:
            cutoff = time.time() - 600
            self._lines = {t: line for t, line in self._lines.items() if line > cutoff}

    def _begin(self, database: str, options: Any | None) -> _Transaction:
        self._expire()
        read_only = options is not None and options.HasField("read_only")
        if options is not None and read_only and options.read_only.HasField("read_time"):
            self._check_read_time(options.read_only.read_time)
        line = time.time()
        if options is not None and options.HasField("read_write"):
            retry = options.read_write.retry_transaction
            line = self._lines.get(retry, line) if retry else line
        txn = _Transaction(secrets.token_bytes(12), database, read_only, line)
        self._transactions[txn.id] = txn
        self._lines[txn.id] = line
        return txn

    def _transaction(self, database: str, tid: bytes) -> _Transaction:
        txn = self._transactions.get(tid)
        if txn is None or txn.database != database:
            raise invalid("The referenced transaction has expired or is no longer valid.")
        txn.active = time.monotonic()
        return txn

    def _consistency(self, request: Any, database: str) -> tuple[_Transaction | None, bool]:
        """The transaction a read runs in (begun now for new_transaction) and whether it is new."""
        selector = request.WhichOneof("consistency_selector")
        if selector == "transaction":
            return self._transaction(database, request.transaction), False
        if selector == "new_transaction":
            return self._begin(database, request.new_transaction), True
        if selector == "read_time":
            self._check_read_time(request.read_time)
        return None, False

    def _check_read_time(self, stamp: Any) -> None:
        if us_from_timestamp(stamp) < self.db.now() - 1:
            raise unimplemented(
                "reads at a past read_time are not supported by this emulator (it keeps no "
                "document history); read without read_time"
            )

    def begin_transaction(self, request: Any) -> Any:
        database = self._database(request.database)
        options = request.options if request.HasField("options") else None
        txn = self._begin(database, options)
        return _pb["BeginTransactionResponse"](transaction=txn.id)

    def rollback(self, request: Any) -> Any:
        self._database(request.database)
        self._transactions.pop(request.transaction, None)
        return empty_pb2.Empty()

    def _validate(self, txn: _Transaction, written: set[str]) -> None:
        for name, version in txn.reads.items():
            current = self.db.get(name)
            if (current.update_us if current else None) != version:
                raise aborted(f"Transaction lock timeout or conflict: {name} changed since read.")
        for plan, signature in txn.queries:
            if _signature(q.run(self.db, plan)) != signature:
                raise aborted("Transaction conflict: a query's results changed since it ran.")
        now = time.monotonic()
        for other in self._transactions.values():
            if other is txn or other.read_only or other.line >= txn.line:
                continue
            if now - other.active > PRIORITY_WINDOW:
                continue
            for name in written & other.reads.keys():
                current = self.db.get(name)
                if (current.update_us if current else None) == other.reads[name]:
                    raise aborted(
                        f"Transaction conflict: an older transaction holds {name}; retry."
                    )

    # -- reads ----------------------------------------------------------------------------------

    def _database(self, database: str) -> str:
        parse_parent(database + "/documents")
        return database

    def _mask(self, request: Any) -> list[tuple[str, ...]] | None:
        if not request.HasField("mask"):
            return None
        return [parse_field_path(p) for p in request.mask.field_paths]

    def batch_get_documents(self, request: Any) -> Iterator[Any]:
        database = self._database(request.database)
        txn, new = self._consistency(request, database)
        mask = self._mask(request)
        responses = []
        for name in request.documents:
            if database_of(parse_doc_name(name).name) != database:
                raise invalid(f"document {name!r} is not in database {database!r}")
            doc = self.db.get(name)
            if txn is not None:
                txn.reads.setdefault(name, doc.update_us if doc else None)
            response = _pb["BatchGetDocumentsResponse"](read_time=timestamp_from_us(self.db.now()))
            if doc is None:
                response.missing = name
            else:
                response.found.CopyFrom(q.to_document(doc, mask))
            responses.append(response)
        if new and txn is not None:
            if not responses:
                responses.append(
                    _pb["BatchGetDocumentsResponse"](read_time=timestamp_from_us(self.db.now()))
                )
            responses[0].transaction = txn.id
        return iter(responses)

    def get_document(self, request: Any) -> Any:
        parsed = parse_doc_name(request.name)
        txn, _ = self._consistency(request, parsed.database)
        doc = self.db.get(request.name)
        if txn is not None:
            txn.reads.setdefault(request.name, doc.update_us if doc else None)
        if doc is None:
            raise not_found(f"Document {request.name} not found.")
        return q.to_document(doc, self._mask(request))

    def _query(self, request: Any) -> tuple[_Transaction | None, bool, q.Plan, list[Stored]]:
        database, parent = parse_parent(request.parent)
        if request.HasField("explain_options"):
            raise unimplemented("query explain is not supported by this emulator")
        txn, new = self._consistency(request, database)
        structured = (
            request.structured_query
            if request.DESCRIPTOR.name == "RunQueryRequest"
            else request.structured_aggregation_query.structured_query
        )
        plan = q.plan(parent, structured)
        docs = q.run(self.db, plan)
        if txn is not None and not txn.read_only:
            txn.queries.append((plan, _signature(docs)))
        return txn, new, plan, docs

    def run_query(self, request: Any) -> Iterator[Any]:
        txn, new, plan, docs = self._query(request)
        read_time = timestamp_from_us(self.db.now())
        response = _pb["RunQueryResponse"]
        out = [
            response(document=q.to_document(doc, plan.projection), read_time=read_time)
            for doc in docs
        ]
        if not out:
            out.append(response(read_time=read_time))
        if plan.offset:
            out[0].skipped_results = plan.offset
        if new and txn is not None:
            out[0].transaction = txn.id
        out[-1].done = True
        return iter(out)

    def run_aggregation_query(self, request: Any) -> Iterator[Any]:
        txn, new, _, docs = self._query(request)
        result = _AggregationResult()
        for aggregation in request.structured_aggregation_query.aggregations:
            alias = aggregation.alias or f"field_{len(result.aggregate_fields) + 1}"
            result.aggregate_fields[alias].CopyFrom(_aggregate(aggregation, docs))
        response = _pb["RunAggregationQueryResponse"](
            result=result, read_time=timestamp_from_us(self.db.now())
        )
        if new and txn is not None:
            response.transaction = txn.id
        return iter([response])

    def list_documents(self, request: Any) -> Any:
        database, parent = parse_parent(request.parent)
        txn, _ = self._consistency(request, database)
        if request.order_by and request.order_by.strip() not in ("__name__", "__name__ asc"):
            raise invalid("list_documents only orders by __name__")
        if request.collection_id:
            docs = {d.name: d for d in self.db.collection(parent, request.collection_id)}
            prefix = f"{parent}/{request.collection_id}/"
        else:
            docs = {
                d.name: d for d in self.db.descendants(parent, None) if _depth(d.name, parent) == 2
            }
            prefix = f"{parent}/"
        names = set(docs)
        if request.show_missing:
            for name in self.db.names_below(prefix):
                parts = name[len(prefix) :].split("/")
                if request.collection_id and len(parts) > 1:
                    names.add(prefix + parts[0])
                elif not request.collection_id and len(parts) > 2:
                    names.add(prefix + parts[0] + "/" + parts[1])
        ordered = sorted(names, key=path_key)
        if request.page_token:
            ordered = [n for n in ordered if path_key(n) > path_key(request.page_token)]
        size = request.page_size if request.page_size > 0 else len(ordered)
        page, more = ordered[:size], len(ordered) > size
        mask = self._mask(request)
        response = _pb["ListDocumentsResponse"](next_page_token=page[-1] if more and page else "")
        for name in page:
            doc = docs.get(name)
            if txn is not None:
                txn.reads.setdefault(name, doc.update_us if doc else None)
            if doc is None:
                response.documents.add(name=name)
            else:
                response.documents.append(q.to_document(doc, mask))
        return response

    def list_collection_ids(self, request: Any) -> Any:
        _, parent = parse_parent(request.parent)
        prefix = parent + "/"
        ids = sorted({n[len(prefix) :].split("/", 1)[0] for n in self.db.names_below(prefix)})
        if request.page_token:
            ids = [i for i in ids if i > request.page_token]
        size = request.page_size if request.page_size > 0 else len(ids)
        page = ids[:size]
        token = page[-1] if len(ids) > size and page else ""
        return _pb["ListCollectionIdsResponse"](collection_ids=page, next_page_token=token)

    # -- writes ---------------------------------------------------------------------------------

    def _apply(self, database: str, writes: list[Any]) -> tuple[int, list[Any]]:
        """Apply writes in order, all or nothing; return the commit time and write results."""
        commit_us = self.db.next_commit_time()
        state: dict[str, Stored | None] = {}
        results = []
        for write in writes:
            name = target_of(write)
            if database_of(parse_doc_name(name).name) != database:
                raise invalid(f"document {name!r} is not in database {database!r}")
            current = state[name] if name in state else self.db.get(name)
            state[name], result = apply_write(write, current, commit_us)
            results.append(result)
        if state:
            self.db.apply(state)
        return commit_us, results

    def commit(self, request: Any) -> Any:
        database = self._database(request.database)
        writes = list(request.writes)
        if request.transaction:
            txn = self._transaction(database, request.transaction)
            del self._transactions[txn.id]
            if txn.read_only and writes:
                raise invalid("a read-only transaction cannot write")
            self._validate(txn, {target_of(w) for w in writes})
        commit_us, results = self._apply(database, writes)
        return _pb["CommitResponse"](
            write_results=results, commit_time=timestamp_from_us(commit_us)
        )

    def batch_write(self, request: Any) -> Any:
        database = self._database(request.database)
        response = _pb["BatchWriteResponse"]()
        for write in request.writes:
            try:
                _, (result,) = self._apply(database, [write])
                response.write_results.append(result)
                response.status.append(status_pb2.Status(code=0))
            except FirestoreError as error:
                response.write_results.add()
                response.status.append(
                    status_pb2.Status(code=error.code.value[0], message=error.message)
                )
        return response

    def create_document(self, request: Any) -> Any:
        doc_id = request.document_id or _auto_id()
        name = f"{request.parent}/{request.collection_id}/{doc_id}"
        parsed = parse_doc_name(name)
        write = _Write()
        write.update.CopyFrom(request.document)
        write.update.name = name
        write.current_document.exists = False
        self._apply(parsed.database, [write])
        return self._read_back(name, self._mask(request))

    def update_document(self, request: Any) -> Any:
        name = request.document.name
        parsed = parse_doc_name(name)
        write = _Write(update=request.document)
        if request.HasField("update_mask"):
            write.update_mask.CopyFrom(request.update_mask)
        if request.HasField("current_document"):
            write.current_document.CopyFrom(request.current_document)
        self._apply(parsed.database, [write])
        return self._read_back(name, self._mask(request))

    def delete_document(self, request: Any) -> Any:
        parsed = parse_doc_name(request.name)
        write = _Write(delete=request.name)
        if request.HasField("current_document"):
            write.current_document.CopyFrom(request.current_document)
        self._apply(parsed.database, [write])
        return empty_pb2.Empty()

    def _read_back(self, name: str, mask: list[tuple[str, ...]] | None) -> Any:
        doc = self.db.get(name)
        if doc is None:
            raise FirestoreError(grpc.StatusCode.INTERNAL, f"{name} vanished after its write")
        return q.to_document(doc, mask)


def _depth(name: str, parent: str) -> int:
    return name[len(parent) + 1 :].count("/") + 1


_AUTO_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _auto_id() -> str:
    return "".join(secrets.choice(_AUTO_ID_CHARS) for _ in range(20))


def _numbers(docs: list[Stored], field_path: str) -> list[int | float]:
    path = parse_field_path(field_path)
    out: list[int | float] = []
    for doc in docs:
        value = get_field(doc.data.fields, path)
        if value is None:
            continue
        kind = value.WhichOneof("value_type")
        if kind == "integer_value":
            out.append(int(value.integer_value))
        elif kind == "double_value":
            out.append(float(value.double_value))
    return out


def _aggregate(aggregation: Any, docs: list[Stored]) -> Any:
    kind = aggregation.WhichOneof("operator")
    if kind == "count":
        count = len(docs)
        if aggregation.count.HasField("up_to"):
            if aggregation.count.up_to.value <= 0:
                raise invalid("count up_to must be positive")
            count = min(count, aggregation.count.up_to.value)
        return Value(integer_value=count)
    if kind == "sum":
        numbers = _numbers(docs, aggregation.sum.field.field_path)
        total = sum(numbers)
        if all(isinstance(n, int) for n in numbers) and -(2**63) <= total < 2**63:
            return Value(integer_value=int(total))
        return Value(double_value=float(total))
    if kind == "avg":
        numbers = _numbers(docs, aggregation.avg.field.field_path)
        if not numbers:
            return Value(null_value=0)
        return Value(double_value=sum(float(n) for n in numbers) / len(numbers))
    raise invalid("an aggregation needs count, sum or avg")
