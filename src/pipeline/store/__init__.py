"""The DynamoDB single table, by item kind (docs/data-model.md): each module of this package owns
its items' keys, and nothing outside it builds or parses a PK or SK. `Store` gives the code one
handle with every kind: `store.photos.get(...)`, `store.settings.faces_on(...)`."""

import time
from functools import cached_property

from pipeline.store.access import Counters, OrgKeys
from pipeline.store.core import TableCore
from pipeline.store.corrections import Corrections, Erasures
from pipeline.store.events import Registry, Settings
from pipeline.store.faces import FaceData
from pipeline.store.jobs import Jobs
from pipeline.store.photos import BibIndex, Photos
from pipeline.store.runs import RunNotes


class Store:
    def __init__(self, table, sleep=time.sleep):
        self.core = TableCore(table, sleep)
        self.table = table  # the boto3 Table resource
        self.photos = Photos(self.core)
        self.bibs = BibIndex(self.core)
        self.runs = RunNotes(self.core)
        self.settings = Settings(self.core)
        self.registry = Registry(self.core)
        self.faces = FaceData(self.core)
        self.corrections = Corrections(self.core)
        self.erasures = Erasures(self.core)
        self.org_keys = OrgKeys(self.core)
        self.counters = Counters(self.core)
        self.jobs = Jobs(self.core)

    @cached_property
    def timing(self):
        """Loaded on first use: the timing rules it needs (~20 ms of imports) stay off the cold start
        of the functions that never read timing items (the authorizer, the steps but SaveResults)."""
        from pipeline.store.timing import TimingItems

        return TimingItems(self.core)
