"""The Firestore RPCs over the SQLite documents: protobuf requests in, protobuf responses out.

Everything runs on the server's one event loop, so each RPC sees and leaves a consistent state
without locks. Reads may name a past `read_time` (within the hour the store keeps versions for);
every commit is handed to the `Watch` hub, which tells the Listen streams what changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import grpc
from google.cloud.firestore_v1.types import firestore as _fs
from google.cloud.firestore_v1.types import write as _write
from google.protobuf import empty_pb2
from google.rpc import status_pb2

from . import query as q
from .aggregate import aggregate, aggregated_fields, check_aggregations
from .errors import FirestoreError, failed_precondition, invalid, not_found
from .paths import database_of, parse_doc_name, parse_field_path, parse_parent, path_key
from .storage import Database, Stored
from .transactions import Transaction, Transactions, signature
from .values import timestamp_from_us, us_from_timestamp
from .watch import Watch
from .writes import apply_write, target_of

__all__ = ["Firestore"]

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


class Firestore:
    """google.firestore.v1.Firestore on a `Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.transactions = Transactions(db)
        self.watch = Watch(db)

    # -- consistency ----------------------------------------------------------------------------

    def read_time(self, stamp: Any) -> int:
        """A request's `read_time` in microseconds: not in the future, not before the oldest
        version the store keeps."""
        at = us_from_timestamp(stamp)
        if at > self.db.now():
            raise invalid("The requested 'read_time' cannot be in the future.")
        if at < self.db.horizon:
            raise failed_precondition(
                "The requested 'read_time' is older than the oldest version this emulator keeps "
                "(reads may go back one hour)."
            )
        return at

    def _consistency(self, request: Any, database: str) -> tuple[Transaction | None, bool, int]:
        """The transaction a read runs in (begun now for new_transaction), whether it is new,
        and the time to read at."""
        selector = request.WhichOneof("consistency_selector")
        if selector == "transaction":
            txn = self.transactions.get(database, request.transaction)
            return txn, False, txn.read_time if txn.read_time is not None else self.db.now()
        if selector == "new_transaction":
            txn = self._begin(database, request.new_transaction)
            return txn, True, txn.read_time if txn.read_time is not None else self.db.now()
        if selector == "read_time":
            return None, False, self.read_time(request.read_time)
        return None, False, self.db.now()

    def _begin(self, database: str, options: Any | None) -> Transaction:
        read_time = None
        past = options is not None and options.read_only.HasField("read_time")
        if options is not None and past:
            read_time = self.read_time(options.read_only.read_time)
        return self.transactions.begin(database, options, read_time)

    def begin_transaction(self, request: Any) -> Any:
        database = self._database(request.database)
        options = request.options if request.HasField("options") else None
        txn = self._begin(database, options)
        return _pb["BeginTransactionResponse"](transaction=txn.id)

    def rollback(self, request: Any) -> Any:
        self._database(request.database)
        self.transactions.rollback(request.transaction)
        return empty_pb2.Empty()

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
        txn, new, at = self._consistency(request, database)
        mask = self._mask(request)
        read_time = timestamp_from_us(at)
        responses = []
        for name in request.documents:
            if database_of(parse_doc_name(name).name) != database:
                raise invalid(f"document {name!r} is not in database {database!r}")
            doc = self.db.get(name, at)
            if txn is not None:
                txn.read(name, doc)
            response = _pb["BatchGetDocumentsResponse"](read_time=read_time)
            if doc is None:
                response.missing = name
            else:
                response.found.CopyFrom(q.to_document(doc, mask))
            responses.append(response)
        if new and txn is not None:
            if not responses:
                responses.append(_pb["BatchGetDocumentsResponse"](read_time=read_time))
            responses[0].transaction = txn.id
        return iter(responses)

    def get_document(self, request: Any) -> Any:
        parsed = parse_doc_name(request.name)
        txn, _, at = self._consistency(request, parsed.database)
        doc = self.db.get(request.name, at)
        if txn is not None:
            txn.read(request.name, doc)
        if doc is None:
            raise not_found(f"Document {request.name} not found.")
        return q.to_document(doc, self._mask(request))

    def _query(
        self, request: Any, structured: Any, aggregated: list[tuple[str, ...]]
    ) -> tuple[Transaction | None, bool, int, q.Plan, list[Stored]]:
        database, parent = parse_parent(request.parent)
        # explain_options are accepted and answered without metrics, as Google's emulator does
        txn, new, at = self._consistency(request, database)
        plan = q.plan(parent, structured, aggregated)
        docs = q.run(self.db, plan, at)
        if txn is not None and not txn.read_only:
            txn.queries.append((plan, signature(docs)))
        return txn, new, at, plan, docs

    def run_query(self, request: Any) -> Iterator[Any]:
        txn, new, at, plan, docs = self._query(request, request.structured_query, [])
        read_time = timestamp_from_us(at)
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
        structured = request.structured_aggregation_query
        aggregations = list(structured.aggregations)
        check_aggregations(aggregations, structured.structured_query)
        txn, new, at, _, docs = self._query(
            request, structured.structured_query, aggregated_fields(aggregations)
        )
        response = _pb["RunAggregationQueryResponse"](
            result=aggregate(aggregations, docs), read_time=timestamp_from_us(at)
        )
        if new and txn is not None:
            response.transaction = txn.id
        return iter([response])

    def list_documents(self, request: Any) -> Any:
        database, parent = parse_parent(request.parent)
        txn, _, at = self._consistency(request, database)
        if request.order_by and request.order_by.strip() not in ("__name__", "__name__ asc"):
            raise invalid("list_documents only orders by __name__")
        if request.collection_id:
            docs = {d.name: d for d in self.db.collection(parent, request.collection_id, at)}
            prefix = f"{parent}/{request.collection_id}/"
        else:
            docs = {
                d.name: d
                for d in self.db.descendants(parent, None, at)
                if _depth(d.name, parent) == 2
            }
            prefix = f"{parent}/"
        names = set(docs)
        if request.show_missing:
            for name in self.db.names_below(prefix, at):
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
                txn.read(name, doc)
            if doc is None:
                response.documents.add(name=name)
            else:
                response.documents.append(q.to_document(doc, mask))
        return response

    def list_collection_ids(self, request: Any) -> Any:
        _, parent = parse_parent(request.parent)
        at = self.read_time(request.read_time) if request.HasField("read_time") else None
        prefix = parent + "/"
        ids = sorted({n[len(prefix) :].split("/", 1)[0] for n in self.db.names_below(prefix, at)})
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
            self.db.apply(state, commit_us)
            self.watch.committed(commit_us, state)
        return commit_us, results

    def commit(self, request: Any) -> Any:
        database = self._database(request.database)
        writes = list(request.writes)
        if request.transaction:
            txn = self.transactions.get(database, request.transaction)
            self.transactions.end(txn)
            if txn.read_only and writes:
                raise invalid("a read-only transaction cannot write")
            self.transactions.validate(
                txn, {target_of(w) for w in writes}, lambda plan: q.run(self.db, plan)
            )
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
