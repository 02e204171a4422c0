"""moto at the size of a big event (benchmarks only: bench/big_event.py installs it in its own
process; the local stack stays moto).

moto answers a Query by listing every item of the table, sorting the ones it keeps and sizing each
one it passes (moto.dynamodb.models.table.Table.query), and makes a transaction undoable by deep-
copying the whole table once per item it names (DynamoDBBackend.transact_write_items). On a
100,000-photo event (~500,000 items in one partition) a Query takes ~30 s of moto's time, reading
the whole partition (a purge, a face scrub) hours, and a correction's transaction minutes and
gigabytes. AWS does neither, so the benchmarks would measure moto. `install()` gives moto:

- Queries from sorted keys: a base-table Query on a string sort key finds its first and last
  items by bisection in a sorted list of the partition's sort keys (kept in order as keys come and
  go); a Query of a global secondary index with a string hash and range key, in a sorted list of
  that hash value's (index range key, table keys), built in one pass over the table and dropped
  when a write adds, removes or changes an index key. Both then page, size, project and filter as
  moto does. Anything else (legacy KeyConditions, number keys, several key attributes) is moto's.
- Transactions undone item by item: the items a transaction names are copied before it runs and
  put back if it is cancelled, instead of copies of the whole table.
- Read answers written as they are: the items of a Query, GetItem or BatchGetItem answer are in
  DynamoDB's wire form already; moto walks each value through botocore's shape model to serialise
  it (seconds for a 1 MB page of nested items), this writes them with json.dumps.
- An event's object versions listed without copying the bucket: moto's ListObjectVersions deep-
  copies every version in the bucket for every page it answers (a purge of 100,000 photos lists
  300,000 versions in 300 pages: 90 million copies). Here a page reads the versions it answers,
  each seen through a view that carries its IsLatest. Listings with a delimiter are moto's.
- A deep queue received from its head: moto's ReceiveMessage lists every message of the queue
  and, for each one it hands out, counts them all again to learn the retention period (seconds a
  call with 10,000 messages waiting; a purge of 100,000 photos queues 100,000 deletion events).
  Here the visible messages are found from the head until the call has enough, and the retention
  period is read off the queue.

One difference: after a page that ends at its Limit, moto returns a LastEvaluatedKey when any item
follows in its listing; this returns one when an item the key condition selects follows (AWS "may"
do either). tests/unit/test_big_event.py answers the same Queries and transactions both ways.
"""

import bisect
import copy
import json
import threading

_MAX_CHARACTER = "\U0010ffff"
_TABLE_KEYS = "_snaprace_sorted_keys"  # Table attribute: hash value -> ([sort key text], [DynamoType])
_INDEX_KEYS = "_snaprace_index_keys"  # Table attribute: index name -> {hash text: ([tuple], [keys])}
_installed = threading.Lock()
_originals: dict = {}  # what install() replaced, for uninstall()


def _texts(values: list) -> list[str] | None:
    texts = [value.value for value in values]
    return texts if all(isinstance(text, str) for text in texts) else None


def _window(texts: list[str], comparison: str | None, values: list) -> tuple[int, int] | None:
    """The [first, last) positions of the sorted `texts` a key condition selects; None: not handled."""
    if comparison is None:
        return 0, len(texts)
    bound = _texts(values)
    if not bound:
        return None
    operator = comparison.upper()
    if operator in ("=", "EQ"):
        return bisect.bisect_left(texts, bound[0]), bisect.bisect_right(texts, bound[0])
    if operator in ("<", "LT"):
        return 0, bisect.bisect_left(texts, bound[0])
    if operator in ("<=", "LE"):
        return 0, bisect.bisect_right(texts, bound[0])
    if operator in (">", "GT"):
        return bisect.bisect_right(texts, bound[0]), len(texts)
    if operator in (">=", "GE"):
        return bisect.bisect_left(texts, bound[0]), len(texts)
    if operator == "BEGINS_WITH":
        return bisect.bisect_left(texts, bound[0]), bisect.bisect_left(texts, bound[0] + _MAX_CHARACTER)
    if operator == "BETWEEN" and len(bound) == 2:
        return bisect.bisect_left(texts, bound[0]), bisect.bisect_right(texts, bound[1])
    return None


def _string_attribute(item, name: str) -> str | None:
    value = item.attrs.get(name)
    return value.value if value is not None and value.type == "S" else None


def _index_schema(table, index_name: str) -> tuple[str, str] | None:
    """(hash attribute, range attribute) of a global secondary index keyed by one of each."""
    index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
    if index is None:
        return None
    hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    return (hashes[0], ranges[0]) if len(hashes) == 1 and len(ranges) == 1 else None


def _index_keys(table, item) -> dict:
    """Index name -> the item's key in it (None: not in it)."""
    found = {}
    for index in table.global_indexes or []:
        names = [k["AttributeName"] for k in index.schema]
        found[index.name] = tuple(item.attrs.get(name) and item.attrs[name].value for name in names)
    return found


def _forget_index_changes(table, before, after) -> None:
    """Drop the sorted lists of every index whose key the write added, removed or changed."""
    cached = table.__dict__.get(_INDEX_KEYS)
    if not cached:
        return
    old = _index_keys(table, before) if before is not None else {}
    new = _index_keys(table, after) if after is not None else {}
    for name in list(cached):
        if old.get(name) != new.get(name):
            cached.pop(name, None)


def _table_keys(table, hash_key) -> tuple[list[str], list]:
    cache = table.__dict__.setdefault(_TABLE_KEYS, {})
    found = cache.get(hash_key)
    if found is None:
        keys = sorted(table.items.get(hash_key, {}), key=lambda key: key.value)
        found = cache[hash_key] = ([key.value for key in keys], keys)
    return found


def _index_entries(table, index_name: str, hash_attribute: str, range_attribute: str) -> dict:
    """Hash text -> ([(range, table hash, table range) texts], [(table hash, table range) keys]),
    sorted as moto sorts an index (index keys, then the table's)."""
    cache = table.__dict__.setdefault(_INDEX_KEYS, {})
    if index_name not in cache:
        groups: dict[str, list] = {}
        for item in table.all_items():
            hashed, ranged = _string_attribute(item, hash_attribute), _string_attribute(item, range_attribute)
            if hashed is None or ranged is None:
                continue
            order = (ranged, item.hash_key.value, item.range_key.value if item.range_key is not None else "")
            groups.setdefault(hashed, []).append((order, (item.hash_key, item.range_key)))
        cache[index_name] = {}
        for hashed, entries in groups.items():
            entries.sort(key=lambda entry: entry[0])
            cache[index_name][hashed] = ([order for order, _ in entries], [key for _, key in entries])
    return cache[index_name]


def _page(table, items, limit, index_name, modelled_results):
    """moto's paging: Limit and 1 MB (sized as moto sizes items), then its handling of the page."""
    from moto.dynamodb.models import table as tables

    results, result_size, last_evaluated_key = [], 0, None
    for item in items:
        if len(results) == limit or result_size + item.size() > tables.RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
            break
        results.append(item)
        result_size += item.size()
    return modelled_results(results), len(results), last_evaluated_key


_READS = ("Items", "Item", "Responses", "LastEvaluatedKey", "UnprocessedKeys")


class _VisibleMessages:
    """A queue's visible messages (moto.sqs.models.Queue.messages), found as they are iterated."""

    def __init__(self, queue):
        self.queue = queue

    def __iter__(self):
        return (m for m in list(self.queue._messages) if m.visible and not m.delayed)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None


class _ListedVersion:
    """An object version as a listing shows it (its IsLatest set here, not on the version)."""

    def __init__(self, version, is_latest: bool):
        self._version, self.is_latest = version, is_latest

    def __getattr__(self, name: str):
        return getattr(self._version, name)


def _versions_listed(original):
    """S3Backend.list_object_versions without a copy of the bucket per page (no delimiter)."""

    def list_object_versions(
        self, bucket_name, delimiter=None, key_marker=None, max_keys=1000, prefix="", version_id_marker=None
    ):
        from moto.core.utils import unix_time_millis
        from moto.s3.models import FakeKey

        if delimiter or max_keys is None or (key_marker is not None and not version_id_marker):
            return original(self, bucket_name, delimiter, key_marker, max_keys, prefix, version_id_marker)
        bucket = self.get_bucket(bucket_name)
        prefix = prefix or ""
        names = sorted(
            name
            for name in list(bucket.keys.keys())
            if name.startswith(prefix) and (key_marker is None or name >= key_marker)
        )
        versions, markers, last, skipping = [], [], None, key_marker is not None
        for name in names:
            newest_first = sorted(bucket.keys.getlist(name), key=lambda v: -unix_time_millis(v.last_modified))
            for position, version in enumerate(newest_first):
                if skipping:  # up to and with the last version the previous page answered
                    skipping = not (name == key_marker and version.version_id == version_id_marker)
                    continue
                if len(versions) + len(markers) >= max_keys:
                    return versions, [], markers, last.name, last.version_id
                listed = _ListedVersion(version, position == 0)
                (versions if isinstance(version, FakeKey) else markers).append(listed)
                last = version
        return versions, [], markers, None, None

    return list_object_versions


def _within_retention(self, queue_name: str, message) -> bool:
    """SQSBackend.is_message_valid_based_on_retention_period, the period read off the queue."""
    from moto.core.utils import unix_time

    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > unix_time()


def _answer_as_is(original):
    """DynamoResult.execute_result, with the items of a read answer written by json.dumps."""

    def execute_result(self, context):
        result = self._result
        heavy = {name: result[name] for name in _READS if isinstance(result, dict) and name in result}
        if not heavy:
            return original(self, context)
        self._result = {name: value for name, value in result.items() if name not in heavy}
        try:
            status, headers, body = original(self, context)
        finally:
            self._result = result
        try:
            return status, headers, json.dumps({**json.loads(body), **heavy})
        except TypeError:  # a value JSON cannot hold as it is (a binary attribute): moto's way
            return original(self, context)

    return execute_result


def install() -> None:
    """All of the above, for moto in this process; idempotent."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as tables
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.responses import DynamoResult
    from moto.s3.models import S3Backend
    from moto.sqs.models import Queue, SQSBackend

    from snaprace.local.moto_fixes import _writes as writes

    table_class = tables.Table
    with _installed:
        if _originals:
            return
        _originals.update(
            query=table_class.query,
            put_item=table_class.put_item,
            delete_item=table_class.delete_item,
            update_item=DynamoDBBackend.update_item,
            transact_write_items=DynamoDBBackend.transact_write_items,
            execute_result=DynamoResult.execute_result,
            messages=Queue.messages,
            retention=SQSBackend.is_message_valid_based_on_retention_period,
            list_object_versions=S3Backend.list_object_versions,
        )
    original_query, original_put, original_delete = (
        _originals["query"],
        _originals["put_item"],
        _originals["delete_item"],
    )
    original_update, original_transaction = _originals["update_item"], _originals["transact_write_items"]

    def put_item(self, item_attrs, *args, **kwargs):
        hash_value = DynamoType(item_attrs[self.hash_key_attr]) if self.hash_key_attr in item_attrs else None
        range_attr = self.range_key_attr
        range_value = DynamoType(item_attrs[range_attr]) if range_attr and range_attr in item_attrs else None
        before = self.items.get(hash_value, {}).get(range_value) if range_value is not None else None
        item = original_put(self, item_attrs, *args, **kwargs)
        _forget_index_changes(self, before, item)
        cached = self.__dict__.get(_TABLE_KEYS, {}).get(item.hash_key)
        if cached is not None and item.range_key is not None:
            texts, keys = cached
            position = bisect.bisect_left(texts, item.range_key.value)
            if position == len(texts) or texts[position] != item.range_key.value:  # a new key
                texts.insert(position, item.range_key.value)
                keys.insert(position, item.range_key)
        return item

    def delete_item(self, hash_key, range_key):
        deleted = original_delete(self, hash_key, range_key)
        if deleted is not None:
            _forget_index_changes(self, deleted, None)
        cached = self.__dict__.get(_TABLE_KEYS, {}).get(hash_key)
        if deleted is not None and cached is not None and range_key is not None:
            texts, keys = cached
            position = bisect.bisect_left(texts, range_key.value)
            if position < len(texts) and texts[position] == range_key.value:
                del texts[position], keys[position]
        return deleted

    def update_item(self, table_name, key, *args, **kwargs):
        table = self.get_table(table_name)
        before = None
        if table.__dict__.get(_INDEX_KEYS) and table.hash_key_attr in key:
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            found = table.get_item(DynamoType(key[table.hash_key_attr]), range_key)
            before = copy.copy(found) if found is not None else None
            if before is not None:
                before.attrs = dict(found.attrs)  # the values are replaced, not changed, by an update
        item = original_update(self, table_name, key, *args, **kwargs)
        _forget_index_changes(table, before, item)
        return item

    def transact_write_items(self, transact_items):
        saved = []  # (table, hash, range, the item before, copied)
        for entry in transact_items:
            kind, request = next(iter(entry.items()))
            table = self.tables.get(request.get("TableName"))
            if table is None:
                continue
            key = request["Item"] if kind == "Put" else request.get("Key", {})
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.range_key_attr and range_value is None:
                continue
            saved.append(
                (table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value)))
            )
        table_class.__deepcopy__ = lambda table, memo: table  # moto's whole-table copies: ours instead
        try:
            return original_transaction(self, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(saved):
                partition = table.items[hash_value]
                if before is None:
                    partition.pop(range_value, None)
                else:
                    partition[range_value] = before
                table.__dict__.pop(_TABLE_KEYS, None)
                table.__dict__.pop(_INDEX_KEYS, None)
            raise
        finally:
            del table_class.__deepcopy__

    def query(
        self,
        hash_key,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
        projection_expressions,
        index_name=None,
        consistent_read=False,
        filter_expression=None,
        hash_key_conditions=None,
        range_key_conditions=None,
        **filter_kwargs,
    ):
        def moto():
            return original_query(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions=hash_key_conditions,
                range_key_conditions=range_key_conditions,
                **filter_kwargs,
            )

        def modelled(results):  # what moto does with a page once it has it
            results = copy.deepcopy(results)
            if index_name:
                index = self.get_index(index_name)
                results = [index.project(item) for item in results]
            if filter_expression is not None:
                results = [item for item in results if filter_expression.expr(item)]
            if projection_expressions:
                results = [item.project(projection_expressions) for item in results]
            return results

        def sorted_query():
            forward = scan_index_forward is not False
            if index_name:
                schema = _index_schema(self, index_name)
                if schema is None or consistent_read or not hash_key_conditions:
                    return moto()
                (attribute, hashed), range_attribute = hash_key_conditions[0], schema[1]
                if attribute != schema[0] or hashed.type != "S":
                    return moto()
                if range_key_conditions and range_key_conditions[0][0] != range_attribute:
                    return moto()
                orders, keys = _index_entries(self, index_name, *schema).get(hashed.value, ([], []))
                window = _window([order[0] for order in orders], range_comparison, range_objs)
                if window is None:
                    return moto()
                first, last = window
                if exclusive_start_key:
                    start = tuple(
                        exclusive_start_key.get(name, {}).get("S", "")
                        for name in (range_attribute, self.hash_key_attr, self.range_key_attr)
                    )
                    if forward:
                        first = max(first, bisect.bisect_right(orders, start))
                    else:
                        last = min(last, bisect.bisect_left(orders, start))
                positions = range(first, last) if forward else range(last - 1, first - 1, -1)
                items = (self.items[keys[p][0]][keys[p][1]] for p in positions)
                return _page(self, items, limit, index_name, modelled)
            if hash_key is None or self.range_key_attr is None or self.range_key_type != "S":
                return moto()
            texts, keys = _table_keys(self, hash_key)
            window = _window(texts, range_comparison, range_objs)
            if window is None:
                return moto()
            first, last = window
            if exclusive_start_key:
                start = exclusive_start_key[self.range_key_attr]["S"]
                if forward:
                    first = max(first, bisect.bisect_right(texts, start))
                else:
                    last = min(last, bisect.bisect_left(texts, start))
            partition = self.items[hash_key]
            positions = range(first, last) if forward else range(last - 1, first - 1, -1)
            return _page(self, (partition[keys[p]] for p in positions), limit, None, modelled)

        if filter_kwargs or len(range_key_conditions or ()) > 1 or len(hash_key_conditions or ()) > 1:
            return moto()
        with writes:  # the sorted lists change only between writes (snaprace.local.moto_fixes)
            return sorted_query()

    table_class.query, table_class.put_item, table_class.delete_item = query, put_item, delete_item
    DynamoDBBackend.update_item, DynamoDBBackend.transact_write_items = update_item, transact_write_items
    DynamoResult.execute_result = _answer_as_is(_originals["execute_result"])
    Queue.messages = property(_VisibleMessages)
    SQSBackend.is_message_valid_based_on_retention_period = _within_retention
    S3Backend.list_object_versions = _versions_listed(_originals["list_object_versions"])


def uninstall() -> None:
    """moto's own Query and transactions again (a test that compares the two)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as tables
    from moto.dynamodb.responses import DynamoResult
    from moto.s3.models import S3Backend
    from moto.sqs.models import Queue, SQSBackend

    with _installed:
        if not _originals:
            return
        for name in ("query", "put_item", "delete_item"):
            setattr(tables.Table, name, _originals.pop(name))
        for name in ("update_item", "transact_write_items"):
            setattr(DynamoDBBackend, name, _originals.pop(name))
        DynamoResult.execute_result = _originals.pop("execute_result")
        Queue.messages = _originals.pop("messages")
        SQSBackend.is_message_valid_based_on_retention_period = _originals.pop("retention")
        S3Backend.list_object_versions = _originals.pop("list_object_versions")
